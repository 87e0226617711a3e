package npm

import (
	"bytes"
	"slices"

	"github.com/klauspost/compress/s2"
)

// packBlock is the size of the blocks a packed arena compresses: big
// enough for a good ratio on JSON, small enough that reading one version
// decodes little.
const packBlock = 64 << 10

// packed is an append-only arena of byte strings kept compressed (S2) in
// blocks, for what an upstream packument's versions carry: their
// fragments, tarball URLs and digests, readmes. It holds a packument of
// thousands of versions in a fraction of its size. Once finished it is
// immutable and safe for concurrent readers (each with its own
// packedReader).
type packed struct {
	blocks  [][]byte // compressed
	cur     []byte   // the block being filled
	scratch []byte   // where blocks are compressed
	size    int64    // compressed bytes held
}

// span locates one string in a packed arena; the zero span is "".
type span struct {
	block, off, n uint32
}

// add appends b and returns where it is.
func (p *packed) add(b []byte) span {
	if len(b) == 0 {
		return span{}
	}
	if len(p.cur) > 0 && len(p.cur)+len(b) > packBlock {
		p.seal()
	}
	sp := span{block: uint32(len(p.blocks)), off: uint32(len(p.cur)), n: uint32(len(b))}
	p.cur = append(p.cur, b...)
	if len(p.cur) >= packBlock {
		p.seal()
	}
	return sp
}

// seal compresses the block being filled.
func (p *packed) seal() {
	if len(p.cur) == 0 {
		return
	}
	// Encoded into a scratch buffer (the encoder needs room for the worst
	// case) and kept at its size.
	if n := s2.MaxEncodedLen(len(p.cur)); cap(p.scratch) < n {
		p.scratch = make([]byte, n)
	}
	c := bytes.Clone(s2.EncodeBetter(p.scratch[:cap(p.scratch)], p.cur))
	p.blocks = append(p.blocks, c)
	p.size += int64(len(c))
	if cap(p.cur) > 2*packBlock {
		p.cur, p.scratch = nil, nil // a big string's buffers are not kept
	} else {
		p.cur = p.cur[:0]
	}
}

// finish seals the last block; nothing may be added after.
func (p *packed) finish() {
	p.seal()
	p.cur, p.scratch = nil, nil
	p.blocks = slices.Clip(p.blocks)
}

// packedReader reads a finished arena, keeping the last block it decoded.
type packedReader struct {
	p     *packed
	block int // decoded block + 1; 0: none
	buf   []byte
}

func (p *packed) reader() *packedReader { return &packedReader{p: p} }

// get returns the string at sp, valid until the next get.
func (r *packedReader) get(sp span) ([]byte, error) {
	if sp.n == 0 {
		return nil, nil
	}
	if r.block != int(sp.block)+1 {
		n, err := s2.DecodedLen(r.p.blocks[sp.block])
		if err != nil {
			return nil, err
		}
		if cap(r.buf) < n {
			r.buf = make([]byte, n)
		}
		if r.buf, err = s2.Decode(r.buf[:cap(r.buf)], r.p.blocks[sp.block]); err != nil {
			r.block = 0
			return nil, err
		}
		r.block = int(sp.block) + 1
	}
	return r.buf[sp.off : sp.off+sp.n], nil
}

// text returns the string at sp as a string ("" if it cannot be read).
func (r *packedReader) text(sp span) string {
	b, err := r.get(sp)
	if err != nil {
		return ""
	}
	return string(b)
}

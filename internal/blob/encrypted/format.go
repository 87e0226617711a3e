// Package encrypted stores blobs encrypted at rest with AES-256-GCM, in
// fixed-size segments so that a read at any offset decrypts only the
// segments it covers. A Store wraps another blob.Store with one Key (a
// domain's data key): it is addressed by the plaintext's SHA-256 like any
// blob.Store, reports the plaintext's digests, and keeps each blob in the
// wrapped store under a name derived from the key's ID and the plaintext's
// SHA-256 (ObjectName), so that blobs under different keys never share an
// object and never collide with plaintext blobs.
//
// The stored object:
//
//	header    64 bytes  "COFFENC1", key ID (16), salt (32), segment size
//	                    (uint32, big-endian; 65536), 4 zero bytes
//	segment i           AES-256-GCM of up to 65536 plaintext bytes, 16-byte tag
//	…                   every segment but the last is full; the last holds
//	                    1..65536 bytes (0 only for an empty blob, which is
//	                    one empty segment)
//	trailer   48 bytes  AES-256-GCM of the plaintext's SHA-256
//
// Each blob has its own key, HKDF-SHA256 of the data key with the header's
// random salt, so nonces need only be unique within a blob: segment i's
// nonce is i (uint64, big-endian), its final flag (1 on the last segment)
// and three zero bytes; the trailer's is eight 0xff bytes, 2 and three zero
// bytes. Segment i is authenticated with the header, i and its final flag
// as additional data, so segments cannot be reordered, moved to another
// blob, or dropped from the end, and the header cannot be altered; the
// trailer lets the orphan collector learn which plaintext an object holds.
package encrypted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
)

const (
	// SegmentSize is the plaintext size of a full segment.
	SegmentSize = 64 << 10
	// HeaderSize and TrailerSize are the fixed parts of an object.
	HeaderSize  = 64
	TrailerSize = sha256.Size + tagSize
	tagSize     = 16
	magic       = "COFFENC1"
)

// ErrCorrupt is wrapped by every error about an object that does not
// decrypt: tampered with, truncated, reordered or under another key.
var ErrCorrupt = errors.New("encrypted blob is corrupt or not under this key")

// KeyID names a Key; it is stored in every object's header and is not secret.
type KeyID [16]byte

// String is the ID in hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// ParseKeyID parses String's form.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("encrypted: key id %q is not 32 hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// Key is a data key with its ID.
type Key struct {
	ID     KeyID
	Secret [32]byte
}

// NewKey returns a random key.
func NewKey() Key {
	var k Key
	rand.Read(k.ID[:])
	rand.Read(k.Secret[:])
	return k
}

// ObjectName is the name under which the blob of plaintext SHA-256 sha is
// stored with key id: the SHA-256 of a label, the key ID and the plaintext
// digest. It needs no secret, so tools that copy objects (backup, migrate)
// can find them from the metadata alone.
func ObjectName(id KeyID, sha string) string {
	raw, _ := hex.DecodeString(sha)
	h := sha256.New()
	h.Write([]byte("coffer encrypted blob v1\x00"))
	h.Write(id[:])
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))
}

// EncryptedSize is the size of the object holding n plaintext bytes.
func EncryptedSize(n int64) int64 {
	segs := max(1, (n+SegmentSize-1)/SegmentSize)
	return HeaderSize + n + segs*tagSize + TrailerSize
}

// PlainSize is the plaintext size of an object of size bytes, or an error
// when no plaintext size gives that object size.
func PlainSize(size int64) (int64, error) {
	body := size - HeaderSize - TrailerSize
	if body < tagSize {
		return 0, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, size)
	}
	segs := (body + SegmentSize + tagSize - 1) / (SegmentSize + tagSize)
	n := body - segs*tagSize
	if EncryptedSize(n) != size {
		return 0, fmt.Errorf("%w: no plaintext is %d bytes encrypted", ErrCorrupt, size)
	}
	return n, nil
}

// header is a parsed object header.
type header struct {
	raw  [HeaderSize]byte
	id   KeyID
	salt [32]byte
}

func newHeader(id KeyID) *header {
	h := &header{id: id}
	rand.Read(h.salt[:])
	copy(h.raw[:8], magic)
	copy(h.raw[8:24], id[:])
	copy(h.raw[24:56], h.salt[:])
	binary.BigEndian.PutUint32(h.raw[56:60], SegmentSize)
	return h
}

func parseHeader(b []byte) (*header, error) {
	if len(b) < HeaderSize || string(b[:8]) != magic {
		return nil, fmt.Errorf("%w: no header", ErrCorrupt)
	}
	if binary.BigEndian.Uint32(b[56:60]) != SegmentSize || binary.BigEndian.Uint32(b[60:64]) != 0 {
		return nil, fmt.Errorf("%w: unknown segment size or version", ErrCorrupt)
	}
	h := &header{}
	copy(h.raw[:], b)
	copy(h.id[:], b[8:24])
	copy(h.salt[:], b[24:56])
	return h, nil
}

// blobCipher is the AEAD of one blob.
type blobCipher struct {
	aead cipher.AEAD
	hdr  *header
}

func newBlobCipher(secret *[32]byte, hdr *header) (*blobCipher, error) {
	bk, err := hkdf.Key(sha256.New, secret[:], hdr.salt[:], "coffer blob v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(bk)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &blobCipher{aead: aead, hdr: hdr}, nil
}

// segmentParams returns segment i's nonce and additional data.
func (c *blobCipher) segmentParams(i int64, final bool, nonce *[12]byte, ad *[HeaderSize + 9]byte) {
	binary.BigEndian.PutUint64(nonce[:8], uint64(i))
	nonce[8] = 0
	if final {
		nonce[8] = 1
	}
	copy(ad[:HeaderSize], c.hdr.raw[:])
	binary.BigEndian.PutUint64(ad[HeaderSize:HeaderSize+8], uint64(i))
	ad[HeaderSize+8] = nonce[8]
}

// sealSegment appends segment i's ciphertext to dst.
func (c *blobCipher) sealSegment(dst, plain []byte, i int64, final bool) []byte {
	var nonce [12]byte
	var ad [HeaderSize + 9]byte
	c.segmentParams(i, final, &nonce, &ad)
	return c.aead.Seal(dst, nonce[:], plain, ad[:])
}

// openSegment appends segment i's plaintext to dst.
func (c *blobCipher) openSegment(dst, ct []byte, i int64, final bool) ([]byte, error) {
	var nonce [12]byte
	var ad [HeaderSize + 9]byte
	c.segmentParams(i, final, &nonce, &ad)
	out, err := c.aead.Open(dst, nonce[:], ct, ad[:])
	if err != nil {
		return nil, fmt.Errorf("%w: segment %d does not authenticate", ErrCorrupt, i)
	}
	return out, nil
}

func (c *blobCipher) trailerParams() (nonce [12]byte, ad []byte) {
	for i := range 8 {
		nonce[i] = 0xff
	}
	nonce[8] = 2
	return nonce, append(c.hdr.raw[:], "trailer"...)
}

func (c *blobCipher) sealTrailer(dst []byte, sha [sha256.Size]byte) []byte {
	nonce, ad := c.trailerParams()
	return c.aead.Seal(dst, nonce[:], sha[:], ad)
}

func (c *blobCipher) openTrailer(ct []byte) (string, error) {
	nonce, ad := c.trailerParams()
	sha, err := c.aead.Open(nil, nonce[:], ct, ad)
	if err != nil {
		return "", fmt.Errorf("%w: the trailer does not authenticate", ErrCorrupt)
	}
	return hex.EncodeToString(sha), nil
}

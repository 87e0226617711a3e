package blob

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"sync"
	"sync/atomic"

	"coffer/internal/fault"
)

// The four digests together cost several times more CPU than any one of them,
// so a Hasher runs each in its own goroutine. Written bytes are copied into
// fixed-size chunks; a full chunk is handed to all four goroutines and goes
// back to a shared pool when the last of them is done with it. At most
// maxInFlight chunks per Hasher exist at once, which bounds memory (2 MiB per
// Hasher) and makes Write block when the slowest hash falls behind.
const (
	chunkSize   = 256 << 10
	maxInFlight = 8
	numHashes   = 4 // MD5, SHA-1, SHA-256, SHA-512, in that order
)

type chunk struct {
	buf  []byte
	n    int
	refs atomic.Int32
	// release, for a chunk made by Share, gives the caller's bytes back
	// instead of returning the chunk to the pool.
	release func()
}

var chunkPool = sync.Pool{New: func() any { return &chunk{buf: make([]byte, chunkSize)} }}

var errHasherDone = errors.New("blob: write to a summed or closed Hasher")

// Hasher computes MD5, SHA-1, SHA-256 and SHA-512 of a stream in one pass,
// each on its own goroutine. It is not safe for concurrent use. Call Sum or
// Close when done so that its goroutines exit.
type Hasher struct {
	hashes  [numHashes]hash.Hash
	feeds   [numHashes]chan *chunk
	slots   chan struct{} // one token per chunk in flight
	wg      sync.WaitGroup
	cur     *chunk // chunk being filled, nil if none
	size    int64
	started bool // goroutines running; deferred so small streams never start them
	done    bool
	sum     Digests
}

// NewHasher returns a Hasher ready for writing.
func NewHasher() *Hasher {
	return &Hasher{
		hashes: [numHashes]hash.Hash{md5.New(), sha1.New(), sha256.New(), sha512.New()},
		slots:  make(chan struct{}, maxInFlight),
	}
}

// Write hashes p. It never fails before Sum or Close, and it may block while
// the hash goroutines catch up.
func (h *Hasher) Write(p []byte) (int, error) {
	if h.done {
		return 0, errHasherDone
	}
	n := len(p)
	for len(p) > 0 {
		if h.cur == nil {
			h.slots <- struct{}{}
			h.cur = chunkPool.Get().(*chunk)
		}
		c := copy(h.cur.buf[h.cur.n:], p)
		h.cur.n += c
		p = p[c:]
		if h.cur.n == len(h.cur.buf) {
			h.dispatch()
		}
	}
	h.size += int64(n)
	return n, nil
}

// Share hashes p without copying it: the caller must leave p unchanged
// until release is called, once the last hash goroutine is done with it.
// A caller that reads a big stream into buffers of its own saves a copy of
// every byte this way. Share and Write may be mixed; a short stream is best
// given to Write, which hashes it without starting goroutines.
func (h *Hasher) Share(p []byte, release func()) {
	if h.done {
		release()
		return
	}
	if h.cur != nil {
		if h.cur.n == 0 {
			h.release(h.cur)
		} else {
			h.dispatch() // what Write gathered comes first
		}
		h.cur = nil
	}
	h.slots <- struct{}{}
	h.cur = &chunk{buf: p, n: len(p), release: release}
	h.dispatch()
	h.size += int64(len(p))
}

// dispatch hands the current chunk to every hash goroutine.
func (h *Hasher) dispatch() {
	if !h.started {
		h.start()
	}
	c := h.cur
	h.cur = nil
	c.refs.Store(numHashes)
	for _, f := range h.feeds {
		f <- c // never blocks: a feed's capacity is the number of chunks in flight
	}
}

func (h *Hasher) start() {
	h.started = true
	h.wg.Add(numHashes)
	for i := range h.feeds {
		f := make(chan *chunk, maxInFlight)
		h.feeds[i] = f
		go func(hh hash.Hash) {
			defer h.wg.Done()
			for c := range f {
				hh.Write(c.buf[:c.n])
				if c.refs.Add(-1) == 0 {
					h.release(c)
				}
			}
		}(h.hashes[i])
	}
}

func (h *Hasher) release(c *chunk) {
	if c.release != nil {
		c.release()
	} else {
		c.n = 0
		chunkPool.Put(c)
	}
	<-h.slots
}

// stop waits for the goroutines to drain their feeds and exit.
func (h *Hasher) stop() {
	h.done = true
	if h.started {
		for _, f := range h.feeds {
			close(f)
		}
		h.wg.Wait()
	}
	if h.cur != nil {
		h.release(h.cur)
		h.cur = nil
	}
}

// Sum finishes hashing and returns the digests of everything written. Later
// calls return the same value; Write fails after Sum.
func (h *Hasher) Sum() Digests {
	if h.done {
		return h.sum
	}
	if h.cur != nil && h.cur.n > 0 {
		if h.started {
			h.dispatch()
		} else {
			// A stream shorter than a chunk: hashing inline beats
			// starting goroutines.
			for _, hh := range h.hashes {
				hh.Write(h.cur.buf[:h.cur.n])
			}
		}
	}
	h.stop()
	hexSum := func(i int) string { return hex.EncodeToString(h.hashes[i].Sum(nil)) }
	h.sum = Digests{MD5: hexSum(0), SHA1: hexSum(1), SHA256: hexSum(2), SHA512: hexSum(3), Size: h.size}
	return h.sum
}

// Close stops the Hasher's goroutines without computing digests (for
// abandoned streams). It is safe to call more than once and after Sum.
func (h *Hasher) Close() {
	if !h.done {
		h.stop()
	}
}

// ValidateSHA256 checks that s is a blob name: exactly 64 lower-case hex
// characters. Drivers call it before s reaches a path or key, so that names
// such as "../x" never do. It returns a fault.ErrValidation error otherwise.
func ValidateSHA256(s string) error {
	if len(s) != 2*sha256.Size {
		return fault.Validation("sha256 must be 64 lower-case hexadecimal characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fault.Validation("sha256 must be 64 lower-case hexadecimal characters")
		}
	}
	return nil
}

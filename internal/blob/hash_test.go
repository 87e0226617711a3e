package blob

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"coffer/internal/fault"
)

func stdDigests(b []byte) Digests {
	m, s1, s256, s512 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b), sha512.Sum512(b)
	return Digests{
		MD5:    hex.EncodeToString(m[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]),
		Size:   int64(len(b)),
	}
}

func TestHasherKnownVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want Digests
	}{
		{"empty", nil, Digests{
			MD5:    "d41d8cd98f00b204e9800998ecf8427e",
			SHA1:   "da39a3ee5e6b4b0d3255bfef95601890afd80709",
			SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			SHA512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		}},
		{"abc", []byte("abc"), Digests{
			MD5:    "900150983cd24fb0d6963f7d28e17f72",
			SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
			SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			SHA512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
			Size:   3,
		}},
		// A million 'a' spans several chunks, so it exercises the goroutines.
		{"million-a", bytes.Repeat([]byte("a"), 1_000_000), Digests{
			MD5:    "7707d6ae4e027c70eea2a935c2296f21",
			SHA1:   "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
			SHA256: "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
			SHA512: "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
			Size:   1_000_000,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHasher()
			if _, err := h.Write(tc.in); err != nil {
				t.Fatal(err)
			}
			if got := h.Sum(); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestHasherRandomStream writes random data in random-sized pieces (empty,
// tiny, and larger than a chunk) and compares with the stdlib hashes.
func TestHasherRandomStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, chunkSize - 1, chunkSize, chunkSize + 1, 5*chunkSize + 12345, 40 * chunkSize} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		h := NewHasher()
		for p := data; len(p) > 0; {
			n := min(len(p), rng.IntN(3*chunkSize/2))
			if w, err := h.Write(p[:n]); err != nil || w != n {
				t.Fatalf("Write = %d, %v; want %d", w, err, n)
			}
			p = p[n:]
		}
		if got, want := h.Sum(), stdDigests(data); got != want {
			t.Errorf("size %d: got %+v\nwant %+v", size, got, want)
		}
		if got, want := h.Sum(), stdDigests(data); got != want {
			t.Errorf("size %d: second Sum differs", size)
		}
		h.Close()
	}
}

func TestHasherWriteAfterSum(t *testing.T) {
	h := NewHasher()
	h.Write([]byte("x"))
	h.Sum()
	if _, err := h.Write([]byte("y")); err == nil {
		t.Error("Write after Sum succeeded")
	}
	h.Close()
	h.Close()
}

// TestHasherCloseStopsGoroutines checks that abandoning a stream mid-way
// does not leak the hash goroutines.
func TestHasherCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 10 {
		h := NewHasher()
		h.Write(make([]byte, 3*chunkSize+1))
		h.Close()
		if _, err := h.Write([]byte("y")); err == nil {
			t.Fatal("Write after Close succeeded")
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after Close", before, n)
	}
}

func TestValidateSHA256(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 4)
	if err := ValidateSHA256(good); err != nil {
		t.Errorf("ValidateSHA256(%q) = %v", good, err)
	}
	for _, bad := range []string{
		"", "../etc/passwd", strings.ToUpper(good), good[:63], good + "0",
		good[:63] + "g", good[:62] + "/x", "../" + good[3:], good[:63] + "\x00",
	} {
		if err := ValidateSHA256(bad); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("ValidateSHA256(%q) = %v, want ErrValidation", bad, err)
		}
	}
}

// TestHasherShare: bytes given with Share, mixed with Write, hash as one
// stream; each shared piece is released once, after it was hashed, also
// when the Hasher is closed without a Sum.
func TestHasherShare(t *testing.T) {
	data := make([]byte, 3*chunkSize+12345)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	for _, closeEarly := range []bool{false, true} {
		h := NewHasher()
		released := make(chan int, 64)
		shared := 0
		for off, i := 0, 0; off < len(data); i++ {
			n := min(len(data)-off, []int{100, chunkSize + 7, 3000, chunkSize}[i%4])
			p := data[off : off+n]
			if i%2 == 0 {
				h.Write(p)
			} else {
				id := shared
				shared++
				h.Share(p, func() { released <- id })
			}
			off += n
		}
		if closeEarly {
			h.Close()
		} else if got, want := h.Sum(), stdDigests(data); got != want {
			t.Fatalf("Sum = %+v, want %+v", got, want)
		}
		close(released)
		seen := map[int]bool{}
		for id := range released {
			if seen[id] {
				t.Fatalf("piece %d released twice", id)
			}
			seen[id] = true
		}
		if len(seen) != shared {
			t.Fatalf("closeEarly=%v: %d of %d shared pieces released", closeEarly, len(seen), shared)
		}
	}
}

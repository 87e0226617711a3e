package encrypted_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"coffer/internal/blob"
	"coffer/internal/blob/blobtest"
	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
	"coffer/internal/fault"
)

const seg = encrypted.SegmentSize

func newStores(t *testing.T) (*fs.Store, *encrypted.Store) {
	t.Helper()
	raw, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return raw, encrypted.New(raw, encrypted.NewKey())
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		_, s := newStores(t)
		return s
	})
}

// sizes are the plaintext sizes around segment boundaries.
var sizes = []int{0, 1, 15, 16, 17, seg - 1, seg, seg + 1, 2*seg - 1, 2 * seg, 2*seg + 1, 3*seg + 17}

func put(t *testing.T, s blob.Store, data []byte) string {
	t.Helper()
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	if got, want := st.Digests(), blobtest.Digests(data); got != want {
		t.Fatalf("Digests = %+v, want the plaintext's %+v", got, want)
	}
	if created, err := st.Commit(context.Background()); err != nil || !created {
		t.Fatalf("Commit = %v, %v", created, err)
	}
	return st.Digests().SHA256
}

func TestRoundTripAndRanges(t *testing.T) {
	raw, s := newStores(t)
	ctx := context.Background()
	for i, n := range sizes {
		data := blobtest.RandomBytes(n, uint64(i))
		sha := put(t, s, data)
		fi, err := os.Stat(raw.Path(s.Name(sha)))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != encrypted.EncryptedSize(int64(n)) {
			t.Errorf("size %d: object is %d bytes, want %d", n, fi.Size(), encrypted.EncryptedSize(int64(n)))
		}
		if ok, _ := raw.Exists(ctx, sha); ok {
			t.Errorf("size %d: the plaintext's own name exists in the wrapped store", n)
		}
		obj, err := s.Open(ctx, sha)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Size() != int64(n) {
			t.Errorf("Size = %d, want %d", obj.Size(), n)
		}
		all, err := io.ReadAll(obj)
		if err != nil || !bytes.Equal(all, data) {
			t.Fatalf("size %d: read %d bytes, %v", n, len(all), err)
		}
		// Every range whose ends are near a segment boundary or the ends
		// of the blob, and a sweep of the rest.
		var offs []int
		for _, b := range []int{0, seg, 2 * seg, 3 * seg, n} {
			for d := -2; d <= 2; d++ {
				if o := b + d; o >= 0 && o <= n {
					offs = append(offs, o)
				}
			}
		}
		for o := 0; o < n; o += 7919 {
			offs = append(offs, o)
		}
		for _, from := range offs {
			for _, to := range offs {
				if to < from {
					continue
				}
				if _, err := obj.Seek(int64(from), io.SeekStart); err != nil {
					t.Fatal(err)
				}
				got := make([]byte, to-from)
				if _, err := io.ReadFull(obj, got); err != nil {
					t.Fatalf("size %d: range [%d,%d): %v", n, from, to, err)
				}
				if !bytes.Equal(got, data[from:to]) {
					t.Fatalf("size %d: range [%d,%d) differs", n, from, to)
				}
			}
		}
		if end, _ := obj.Seek(0, io.SeekEnd); end != int64(n) {
			t.Errorf("Seek(0, End) = %d, want %d", end, n)
		}
		if m, err := obj.Read(make([]byte, 1)); m != 0 || err != io.EOF {
			t.Errorf("Read at the end = %d, %v", m, err)
		}
		if _, ok := obj.(blob.Redirector); ok {
			t.Error("an encrypted object offers a redirect to its ciphertext")
		}
		obj.Close()
	}
}

func TestPlainSize(t *testing.T) {
	for n := int64(0); n < 5*seg; n += 997 {
		for _, m := range []int64{n, n/seg*seg + seg, n/seg*seg + seg + 1} {
			got, err := encrypted.PlainSize(encrypted.EncryptedSize(m))
			if err != nil || got != m {
				t.Fatalf("PlainSize(EncryptedSize(%d)) = %d, %v", m, got, err)
			}
		}
	}
	for _, bad := range []int64{0, encrypted.HeaderSize + encrypted.TrailerSize + 15, encrypted.EncryptedSize(seg) + 1, encrypted.EncryptedSize(seg) + 16} {
		if _, err := encrypted.PlainSize(bad); !errors.Is(err, encrypted.ErrCorrupt) {
			t.Errorf("PlainSize(%d) = %v, want ErrCorrupt", bad, err)
		}
	}
}

// readAll opens sha and reads it whole.
func readAll(s blob.Store, sha string) ([]byte, error) {
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

// rewrite replaces the object of sha in raw by edit's result.
func rewrite(t *testing.T, raw *fs.Store, name string, edit func([]byte) []byte) {
	t.Helper()
	p := raw.Path(name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(bytes.Clone(b)), 0o640); err != nil {
		t.Fatal(err)
	}
}

func TestTamperReorderTruncate(t *testing.T) {
	ctx := context.Background()
	n := 3*seg + 100
	data := blobtest.RandomBytes(n, 7)
	segAt := func(i int) int { return encrypted.HeaderSize + i*(seg+16) }
	cases := map[string]func([]byte) []byte{
		"flip a header byte":    func(b []byte) []byte { b[30] ^= 1; return b },
		"flip the segment size": func(b []byte) []byte { b[57] ^= 1; return b },
		"flip in segment 0":     func(b []byte) []byte { b[segAt(0)+5] ^= 0x80; return b },
		"flip in segment 2":     func(b []byte) []byte { b[segAt(2)+seg-1] ^= 1; return b },
		"flip a tag":            func(b []byte) []byte { b[segAt(1)+seg+3] ^= 1; return b },
		"flip in the last":      func(b []byte) []byte { b[segAt(3)+1] ^= 1; return b },
		"swap segments 0 and 1": func(b []byte) []byte {
			s0 := bytes.Clone(b[segAt(0):segAt(1)])
			copy(b[segAt(0):], b[segAt(1):segAt(2)])
			copy(b[segAt(1):], s0)
			return b
		},
		"drop the last segment": func(b []byte) []byte {
			return append(b[:segAt(3)], b[len(b)-encrypted.TrailerSize:]...)
		},
		"drop a middle segment": func(b []byte) []byte { return append(b[:segAt(1)], b[segAt(2):]...) },
		"drop the trailer":      func(b []byte) []byte { return b[:len(b)-encrypted.TrailerSize] },
		"cut in the middle":     func(b []byte) []byte { return b[:segAt(2)+10] },
		"append a byte":         func(b []byte) []byte { return append(b, 0) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			raw, s := newStores(t)
			sha := put(t, s, data)
			rewrite(t, raw, s.Name(sha), edit)
			got, err := readAll(s, sha)
			if err == nil {
				t.Fatalf("read %d bytes (equal: %v) of a damaged object without an error", len(got), bytes.Equal(got, data))
			}
			if !errors.Is(err, encrypted.ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt", err)
			}
		})
	}
	t.Run("segment from another blob", func(t *testing.T) {
		raw, s := newStores(t)
		a := put(t, s, data)
		other := blobtest.RandomBytes(n, 8)
		b := put(t, s, other)
		ob, _ := os.ReadFile(raw.Path(s.Name(b)))
		rewrite(t, raw, s.Name(a), func(x []byte) []byte { copy(x[segAt(1):segAt(2)], ob[segAt(1):segAt(2)]); return x })
		if _, err := readAll(s, a); !errors.Is(err, encrypted.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("object under another key", func(t *testing.T) {
		raw, s := newStores(t)
		sha := put(t, s, data)
		s2 := encrypted.New(raw, encrypted.NewKey())
		if _, err := s2.Open(ctx, sha); !errors.Is(err, fault.ErrNotFound) {
			t.Fatalf("Open under another key = %v, want not found", err)
		}
		b, _ := os.ReadFile(raw.Path(s.Name(sha)))
		st, _ := raw.Stage(ctx, bytes.NewReader(b), 0)
		if _, err := st.(blob.NamedCommitter).CommitAs(ctx, s2.Name(sha)); err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(s2, sha); !errors.Is(err, encrypted.ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
}

func TestNoPlaintextAtRest(t *testing.T) {
	raw, s := newStores(t)
	data := bytes.Repeat([]byte("coffer-plaintext-marker-0123456789abcdef"), 5000)
	sha := put(t, s, data)
	b, err := os.ReadFile(raw.Path(s.Name(sha)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, data[:32]) {
		t.Fatal("the stored object contains the plaintext")
	}
	// Same plaintext, same key: one object, which a second commit keeps.
	st, _ := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if created, err := st.Commit(context.Background()); err != nil || created {
		t.Fatalf("second Commit = %v, %v; want not created", created, err)
	}
	if got, err := readAll(s, sha); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read after a second commit: %v", err)
	}
}

func TestMaxSize(t *testing.T) {
	_, s := newStores(t)
	for _, n := range []int{seg, seg + 1, 2 * seg} {
		_, err := s.Stage(context.Background(), bytes.NewReader(make([]byte, n+1)), int64(n))
		if !errors.Is(err, fault.ErrValidation) {
			t.Errorf("Stage of %d bytes with max %d = %v, want a validation error", n+1, n, err)
		}
		st, err := s.Stage(context.Background(), bytes.NewReader(make([]byte, n)), int64(n))
		if err != nil {
			t.Fatalf("Stage of %d bytes with max %d: %v", n, n, err)
		}
		st.Discard()
	}
}

func TestDescribe(t *testing.T) {
	ctx := context.Background()
	raw, s := newStores(t)
	data := blobtest.RandomBytes(2*seg+3, 9)
	sha := put(t, s, data)
	plainSt, _ := raw.Stage(ctx, bytes.NewReader(data), 0)
	plainSt.Commit(ctx)
	keys := func(id encrypted.KeyID) (encrypted.Key, bool) {
		return encrypted.Key{}, false
	}
	if _, ok, err := encrypted.Describe(ctx, raw, s.Name(sha), keys); ok || err != nil {
		t.Fatalf("Describe without the key = %v, %v", ok, err)
	}
	var got []blob.Info
	for info, err := range s.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info)
	}
	if len(got) != 1 || got[0].SHA256 != sha || got[0].Size != int64(len(data)) {
		t.Fatalf("List = %+v, want only %s", got, sha)
	}
	if _, _, err := encrypted.Describe(ctx, raw, blobtest.Digests([]byte("absent")).SHA256, keys); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("Describe of an absent object = %v", err)
	}
}

// BenchmarkStageOpen measures encrypting and decrypting through the
// filesystem driver.
func BenchmarkStageOpen(b *testing.B) {
	raw, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	s := encrypted.New(raw, encrypted.NewKey())
	data := blobtest.RandomBytes(64<<20, 1)
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		data[0] = byte(i)
		st, err := s.Stage(ctx, bytes.NewReader(data), 0)
		if err != nil {
			b.Fatal(err)
		}
		st.Commit(ctx)
		obj, err := s.Open(ctx, st.Digests().SHA256)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, obj)
		obj.Close()
		s.Delete(ctx, st.Digests().SHA256)
	}
}

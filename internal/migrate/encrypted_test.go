package migrate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"coffer/internal/blob/blobtest"
	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
)

func TestCopyEncrypted(t *testing.T) {
	ctx := context.Background()
	from, _ := fs.New(t.TempDir())
	to, _ := fs.New(t.TempDir())
	key := encrypted.NewKey()
	data := blobtest.RandomBytes(3*encrypted.SegmentSize+5, 1)
	st, err := encrypted.New(from, key).Stage(ctx, bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Commit(ctx)
	want := blobtest.Digests(data)
	name := encrypted.ObjectName(key.ID, want.SHA256)
	if created, err := CopyEncrypted(ctx, from, to, want, key); err != nil || !created {
		t.Fatalf("CopyEncrypted = %v, %v", created, err)
	}
	a, _ := os.ReadFile(from.Path(name))
	b, _ := os.ReadFile(to.Path(name))
	if !bytes.Equal(a, b) {
		t.Fatal("the copy is not the raw object")
	}
	if created, err := CopyEncrypted(ctx, from, to, want, key); err != nil || created {
		t.Fatalf("second CopyEncrypted = %v, %v", created, err)
	}
	if got, err := VerifyEncrypted(ctx, to, want.SHA256, key); err != nil || !Matches(want, got) {
		t.Fatalf("VerifyEncrypted = %+v, %v", got, err)
	}
	// A flipped byte, a wrong key, wrong recorded digests: nothing committed.
	a[encrypted.HeaderSize+encrypted.SegmentSize+20] ^= 1
	os.WriteFile(from.Path(name), a, 0o640)
	to2, _ := fs.New(t.TempDir())
	var corrupt *CorruptBlobError
	if _, err := CopyEncrypted(ctx, from, to2, want, key); !errors.As(err, &corrupt) || !errors.Is(err, encrypted.ErrCorrupt) {
		t.Fatalf("copy of a damaged object = %v", err)
	}
	if ok, _ := to2.Exists(ctx, name); ok {
		t.Fatal("a damaged object was committed")
	}
	if _, err := VerifyEncrypted(ctx, from, want.SHA256, key); !errors.Is(err, encrypted.ErrCorrupt) {
		t.Fatalf("VerifyEncrypted of a damaged object = %v", err)
	}
	other := blobtest.Digests([]byte("x"))
	other.Size = want.Size
	if _, err := CopyEncrypted(ctx, to, to2, other, key); !errors.Is(err, ErrBlobMissing) {
		t.Fatalf("copy of an absent object = %v", err)
	}
	wrong := want
	wrong.MD5 = other.MD5
	if _, err := CopyEncrypted(ctx, to, to2, wrong, key); !errors.As(err, &corrupt) {
		t.Fatalf("copy with other recorded digests = %v", err)
	}
}

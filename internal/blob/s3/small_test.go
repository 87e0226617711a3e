package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/fault"
)

func readAll(t *testing.T, s *Store, sha string) ([]byte, error) {
	t.Helper()
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj.Reader())
}

// A small blob is read from S3 once, then served from memory; a large one
// is read from S3 every time.
func TestSmallBlobsServedFromMemory(t *testing.T) {
	var c requestCounter
	s := newTestStore(t, nil, countRequests(&c))
	small, large := bytes.Repeat([]byte("s"), 10_000), bytes.Repeat([]byte("L"), DefaultSmallBlobSize+1)
	smallSHA, largeSHA := put(t, s, small), put(t, s, large)
	c.take("")
	for i := range 3 {
		if got, err := readAll(t, s, smallSHA); err != nil || !bytes.Equal(got, small) {
			t.Fatalf("small read %d: %d bytes, %v", i, len(got), err)
		}
	}
	if n := c.take("GetObject"); n != 1 {
		t.Fatalf("3 reads of a small blob sent %d GETs, want 1", n)
	}
	for i := range 2 {
		if got, err := readAll(t, s, largeSHA); err != nil || !bytes.Equal(got, large) {
			t.Fatalf("large read %d: %d bytes, %v", i, len(got), err)
		}
	}
	if n := c.take("GetObject"); n != 2 {
		t.Fatalf("2 reads of a large blob sent %d GETs, want 2", n)
	}
	// Deleting through the store forgets it.
	if err := s.Delete(context.Background(), smallSHA); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, s, smallSHA); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("read after Delete: %v, want NotFound", err)
	}
}

// An object that does not hold the content its name says is refused, not
// cached.
func TestSmallBlobCheckedWhenRead(t *testing.T) {
	s := newTestStore(t, nil)
	sha := put(t, s, []byte("the real content"))
	key := s.blobKey(sha)
	if _, err := s.client.PutObject(context.Background(), &awss3.PutObjectInput{Bucket: &s.cfg.Bucket, Key: &key,
		Body: bytes.NewReader([]byte("tampered content"))}); err != nil {
		t.Fatal(err)
	}
	fresh := newTestStore(t, func(c *Config) { c.Prefix = s.cfg.Prefix })
	if got, err := readAll(t, fresh, sha); err == nil || fault.KindOf(err) != fault.KindInternal {
		t.Fatalf("read of a tampered object: %q, %v; want an internal error", got, err)
	}
}

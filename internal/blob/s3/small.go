package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Small blobs (the tarballs, POMs and metadata files that make up most
// downloads) are kept in memory once read, so that serving one again costs
// no request to S3: over a network, a HEAD and a GET per download would
// bound a node's cached GETs by the object store's latency, not its CPU.
// Content under a SHA-256 never changes, so a cached blob is never stale;
// it is dropped when this node deletes or commits it. Only the ModTime of
// an entry may be older than the object's (another node committed the same
// content since): the orphan collector reads it under the blob's
// cluster-wide lock and checks references there, which is what keeps
// referenced blobs, so an older ModTime never loses one.
const (
	// DefaultSmallBlobSize is the largest blob kept in memory.
	DefaultSmallBlobSize = 256 << 10
	// DefaultSmallBlobCache bounds the memory of the kept blobs.
	DefaultSmallBlobCache = 64 << 20
)

// cacheable reports whether a blob of size bytes is kept in memory: small
// enough, and not one that downloads are redirected for (that needs the
// S3 object).
func (s *Store) cacheable(size int64) bool {
	if s.small == nil || size > s.cfg.SmallBlobSize {
		return false
	}
	return s.cfg.PresignLargerThan <= 0 || size <= s.cfg.PresignLargerThan
}

// cached returns the blob from memory, if it is there.
func (s *Store) cached(sha string) (blob.Object, bool) {
	if s.small == nil {
		return nil, false
	}
	b, ok := s.small.Get(sha, 0)
	if !ok {
		return nil, false
	}
	return b.Open(), true
}

// fill reads a small blob whole, checks it against its content's SHA-256
// (its name, unless committed under another with CommitAs) and keeps it
// with the ModTime its HEAD gave.
func (s *Store) fill(ctx context.Context, sha, content, key string, size int64, modTime time.Time) (blob.Object, error) {
	out, err := s.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if isNotFound(err) {
		return nil, notFound(sha)
	}
	if err != nil {
		return nil, failure(ctx, err, "blob store: read a blob from S3")
	}
	defer out.Body.Close()
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err = io.Copy(buf, io.LimitReader(out.Body, size+1)); err != nil {
		return nil, failure(ctx, err, "blob store: read a blob from S3")
	}
	sum := sha256.Sum256(buf.Bytes())
	if int64(buf.Len()) != size || hex.EncodeToString(sum[:]) != content {
		return nil, fault.Internal(nil, "blob store: the object of blob %s in S3 does not hold its content (%d bytes)", sha, buf.Len())
	}
	b := &blob.Bytes{Data: buf.Bytes(), Modified: modTime}
	s.small.Put(sha, 0, b, int64(len(b.Data)))
	return b.Open(), nil
}

// forget drops a blob from memory (this node deleted or committed it).
func (s *Store) forget(sha string) {
	if s.small != nil {
		s.small.Delete(sha)
	}
}

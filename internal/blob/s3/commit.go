package s3

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// staged is a complete object at a staging key. The mutex makes Commit and
// Discard safe to race.
type staged struct {
	s       *Store
	key     string
	digests blob.Digests

	mu        sync.Mutex
	committed bool
	discarded bool
	leftover  bool // committed, but the staging object could not be deleted
}

func (st *staged) Digests() blob.Digests { return st.digests }

// Commit implements blob.Staged. A second Commit reports created=false; a
// Commit after Discard fails. If Commit fails, the caller should Discard.
func (st *staged) Commit(ctx context.Context) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.discarded:
		return false, fault.Internal(nil, "blob store: commit of a discarded staged blob")
	case st.committed:
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	created, err := st.s.place(ctx, st.key, st.digests)
	st.s.forget(st.digests.SHA256) // its ModTime moved
	if err != nil {
		return false, err
	}
	st.committed = true
	// The blob is in place, so the staging object goes even if ctx has
	// just ended; should that fail, Discard retries, and CleanStaging
	// is the last resort.
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := st.s.deleteKey(cctx, st.key); err != nil {
		st.leftover = true
	}
	return created, nil
}

// CommitAs implements blob.NamedCommitter: the staged content is copied to
// the blob key of name, unless an object is there already, which is then
// kept and only copied onto itself for a new LastModified (where the server
// gives it one; see place).
func (st *staged) CommitAs(ctx context.Context, name string) (bool, error) {
	if err := blob.ValidateSHA256(name); err != nil {
		return false, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.discarded:
		return false, fault.Internal(nil, "blob store: commit of a discarded staged blob")
	case st.committed:
		return false, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	created, err := st.s.placeNamed(ctx, st.key, name, st.digests)
	st.s.forget(name)
	if err != nil {
		return false, err
	}
	st.committed = true
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := st.s.deleteKey(cctx, st.key); err != nil {
		st.leftover = true
	}
	return created, nil
}

// contentMeta is the user metadata key of a named blob's content SHA-256
// (CommitAs), which Open checks a small blob against instead of its name.
const contentMeta = "content-sha256"

// placeNamed is place for CommitAs: it never replaces an existing object.
func (s *Store) placeNamed(ctx context.Context, src, name string, dg blob.Digests) (created bool, err error) {
	dst := s.blobKey(name)
	meta := map[string]string{"sha256": name, contentMeta: dg.SHA256}
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &dst})
	if isNotFound(err) {
		err = s.copyWith(ctx, src, dst, dg.Size, meta, true)
		if err == nil {
			return true, nil
		}
		if !isPreconditionFailed(err) {
			return false, failure(ctx, err, "blob store: copy a blob into place in S3")
		}
		head, err = s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &dst})
	}
	if err != nil {
		return false, failure(ctx, err, "blob store: look up a blob in S3")
	}
	keep := map[string]string{}
	for k, v := range head.Metadata {
		keep[k] = v
	}
	keep["refreshed"] = s.now().UTC().Format(time.RFC3339Nano) // a self-copy must change something
	if err := s.copyWith(ctx, dst, dst, aws.ToInt64(head.ContentLength), keep, false); err != nil {
		return false, failure(ctx, err, "blob store: refresh a blob in S3")
	}
	return false, nil
}

// Discard implements blob.Staged. After Commit it only retries deleting the
// staging object if Commit could not, and reports no error either way.
func (st *staged) Discard() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	ctx, cancel := cleanupContext(context.Background())
	defer cancel()
	switch {
	case st.committed:
		if st.leftover && st.s.deleteKey(ctx, st.key) == nil {
			st.leftover = false
		}
		return nil
	case st.discarded:
		return nil
	}
	st.discarded = true
	return st.s.deleteKey(ctx, st.key)
}

// deleteKey deletes an object; an absent one is no error.
func (s *Store) deleteKey(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil && !isNotFound(err) {
		return failure(ctx, err, "blob store: delete from S3")
	}
	return nil
}

// place copies the staging object src to the blob key of dg on the server.
// created is false if the blob was there already; then it is overwritten
// with the staged copy of the same content instead, which gives it a new
// LastModified (blob.Staged.Commit) on every server (a copy of an object
// onto itself would not on some: versitygw only rewrites its metadata),
// recreates it should it have been deleted meanwhile, and costs S3 what a
// copy onto itself would. Readers never see a difference: the content is
// the same and S3 replaces an object atomically.
//
// Two processes may commit the same content at once. Where the server
// supports conditional writes, the blob is created with If-None-Match: *,
// so exactly one creates it and the other, refused, overwrites it as above.
// Where it does not (versitygw ignores the condition on CopyObject), both
// copies succeed and both report created=true. That is harmless: the objects
// are identical, and created only decides whether a caller whose metadata
// transaction fails removes the blob, which it does under the blob's hash
// lock after checking that no asset references it.
func (s *Store) place(ctx context.Context, src string, dg blob.Digests) (created bool, err error) {
	dst := s.blobKey(dg.SHA256)
	_, err = s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &dst})
	switch {
	case err == nil:
	case isNotFound(err):
		if placeHook != nil {
			placeHook(dst)
		}
		err = s.copy(ctx, src, dst, dg, true)
		if err == nil {
			return true, nil
		}
		if !isPreconditionFailed(err) {
			return false, failure(ctx, err, "blob store: copy a blob into place in S3")
		}
		// Created meanwhile by another commit.
	default:
		return false, failure(ctx, err, "blob store: look up a blob in S3")
	}
	if err := s.copy(ctx, src, dst, dg, false); err != nil {
		return false, failure(ctx, err, "blob store: refresh a blob in S3")
	}
	return false, nil
}

// placeHook, when set (by tests), runs in place after the blob was found
// absent and before it is created.
var placeHook func(dst string)

// copy copies src to dst on the server, with the SHA-256 in dst's metadata
// (for people browsing the bucket). exclusive makes it fail with 412 if dst
// exists, where the server supports that.
func (s *Store) copy(ctx context.Context, src, dst string, dg blob.Digests, exclusive bool) error {
	return s.copyWith(ctx, src, dst, dg.Size, map[string]string{"sha256": dg.SHA256}, exclusive)
}

// copyWith is copy of size bytes with the user metadata meta.
func (s *Store) copyWith(ctx context.Context, src, dst string, size int64, meta map[string]string, exclusive bool) error {
	for {
		var ifNoneMatch *string
		if exclusive && !s.noConditional.Load() {
			ifNoneMatch = new("*")
		}
		var err error
		if size <= s.copyLimit {
			_, err = s.client.CopyObject(ctx, &awss3.CopyObjectInput{
				Bucket:            &s.cfg.Bucket,
				Key:               &dst,
				CopySource:        new(s.copySource(src)),
				MetadataDirective: types.MetadataDirectiveReplace,
				Metadata:          meta,
				IfNoneMatch:       ifNoneMatch,
			})
		} else {
			err = s.copyParts(ctx, src, dst, size, meta, ifNoneMatch)
		}
		if ifNoneMatch != nil && isNotImplemented(err) {
			s.noConditional.Store(true) // and copy again without the condition
			continue
		}
		return err
	}
}

var _ blob.NamedCommitter = (*staged)(nil)

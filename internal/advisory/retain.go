package advisory

import (
	"context"
	"fmt"
	"iter"
	"time"

	"coffer/internal/blob"
	"coffer/internal/store"
)

// Retain returns b as the artifact service must see it: List leaves out,
// and Delete keeps (answering nil, as for an absent blob), every blob a
// source row names or an import on this node is committing. The artifact
// service deletes the blobs no asset references (orphan collection, the
// release of a deleted version's content); without this, a source would
// vanish an hour after its import, or with a byte-identical asset.
//
// The optional methods the artifact service looks for on its blob store
// (Bucket, CleanStaging) are passed through; Unwrap returns b.
func (s *Sources) Retain(b blob.Store) blob.Store { return &retaining{Store: b, s: s} }

type retaining struct {
	blob.Store
	s *Sources
}

// retained reads the blobs the source rows name.
func (s *Sources) retained(ctx context.Context) (map[string]bool, error) {
	set := map[string]bool{}
	err := s.cfg.Store.Read(ctx, func(tx store.Tx) error {
		rows, err := listRows(tx)
		for _, r := range rows {
			set[r.SHA256] = true
		}
		return err
	})
	return set, err
}

func (r *retaining) Delete(ctx context.Context, sha256 string) error {
	if r.s.held(sha256) {
		return nil
	}
	set, err := r.s.retained(ctx)
	if err != nil {
		return fmt.Errorf("advisory: could not tell whether blob %s holds an advisory source, so it is kept: %w", sha256, err)
	}
	if set[sha256] || r.s.held(sha256) {
		r.s.log.Debug("blob kept: it holds an advisory source", "sha256", sha256)
		return nil
	}
	return r.Store.Delete(ctx, sha256)
}

func (r *retaining) List(ctx context.Context) iter.Seq2[blob.Info, error] {
	return func(yield func(blob.Info, error) bool) {
		set, err := r.s.retained(ctx)
		if err != nil {
			yield(blob.Info{}, fmt.Errorf("advisory: list the blobs of advisory sources: %w", err))
			return
		}
		for info, err := range r.Store.List(ctx) {
			if err == nil && (set[info.SHA256] || r.s.held(info.SHA256)) {
				continue
			}
			if !yield(info, err) {
				return
			}
		}
	}
}

// Unwrap returns the wrapped store.
func (r *retaining) Unwrap() blob.Store { return r.Store }

// Bucket is the wrapped store's (blob/s3), or "".
func (r *retaining) Bucket() string {
	if b, ok := r.Store.(interface{ Bucket() string }); ok {
		return b.Bucket()
	}
	return ""
}

// CleanStaging is the wrapped store's (blob/s3), or nothing to do.
func (r *retaining) CleanStaging(ctx context.Context, olderThan time.Duration) (int, error) {
	if c, ok := r.Store.(interface {
		CleanStaging(context.Context, time.Duration) (int, error)
	}); ok {
		return c.CleanStaging(ctx, olderThan)
	}
	return 0, nil
}

package backend

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"coffer/internal/blob"
	"coffer/internal/blob/fs"
	"coffer/internal/blob/s3"
	"coffer/internal/store"
	"coffer/internal/store/postgres"
	"coffer/internal/store/sqlite"
)

// OpenMetadata opens (creating and migrating it if needed) the metadata
// store spec names.
func OpenMetadata(ctx context.Context, spec Spec) (store.Store, error) {
	switch spec.Kind {
	case SQLite:
		if err := os.MkdirAll(filepath.Dir(spec.Target), 0o700); err != nil {
			return nil, fmt.Errorf("metadata store: %w", err)
		}
		s, err := sqlite.Open(spec.Target)
		if err != nil {
			return nil, fmt.Errorf("metadata store: %w", err)
		}
		return s, nil
	case Postgres:
		s, err := postgres.Open(ctx, spec.Target, postgres.Options{})
		if err != nil {
			return nil, fmt.Errorf("metadata store %s: %w", spec, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("metadata store: %s is not a metadata driver", spec.Kind)
}

// BlobOptions tune a blob store.
type BlobOptions struct {
	// RedirectSize: objects of at least this many bytes offer clients a
	// presigned URL of the object store (blob.Redirector); 0 = never. Only
	// the S3 driver can.
	RedirectSize int64
}

// OpenBlobs opens the blob store spec names.
func OpenBlobs(ctx context.Context, spec Spec, opts BlobOptions) (blob.Store, error) {
	switch spec.Kind {
	case Files:
		if opts.RedirectSize > 0 {
			return nil, fmt.Errorf("blob-redirect-size: redirects need an object store (s3://…), not %s", spec)
		}
		b, err := fs.New(spec.Target)
		if err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
		return b, nil
	case S3:
		cfg, err := s3.ParseURL(spec.Target)
		if err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
		if opts.RedirectSize > 0 {
			cfg.PresignLargerThan = opts.RedirectSize - 1 // the option is "at least", the driver's "larger than"
		}
		b, err := s3.Open(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("blob store: %w", err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("blob store: %s is not a blob driver", spec.Kind)
}

package s3

import (
	"context"
	"iter"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob"
)

// Exists implements blob.Store with a HeadObject.
func (s *Store) Exists(ctx context.Context, sha256 string) (bool, error) {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return false, err
	}
	key := s.blobKey(sha256)
	_, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, failure(ctx, err, "blob store: look up a blob in S3")
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, sha256 string) error {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return err
	}
	s.forget(sha256)
	return s.deleteKey(ctx, s.blobKey(sha256))
}

// List implements blob.Store with ListObjectsV2 over blobs/, a page (up to
// 1000 keys) at a time. Keys that are not a SHA-256 filed under its own
// first two digits are not blobs and are skipped. ListObjectsV2 walks keys
// in order from a continuation token, so deletions meanwhile, of yielded
// blobs or others, neither repeat nor hide anything else.
func (s *Store) List(ctx context.Context) iter.Seq2[blob.Info, error] {
	return func(yield func(blob.Info, error) bool) {
		pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{
			Bucket: &s.cfg.Bucket,
			Prefix: new(s.blobsRoot()),
		})
		for pages.HasMorePages() {
			if err := ctx.Err(); err != nil {
				yield(blob.Info{}, err)
				return
			}
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(blob.Info{}, failure(ctx, err, "blob store: list blobs in S3"))
				return
			}
			for _, o := range page.Contents {
				name, ok := s.parseBlobKey(aws.ToString(o.Key))
				if !ok {
					continue
				}
				if !yield(blob.Info{SHA256: name, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)}, nil) {
					return
				}
			}
		}
	}
}

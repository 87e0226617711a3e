package s3

import (
	"cmp"
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// CleanStaging removes what processes killed mid-upload left under staging/:
// objects staged and never committed or discarded, and multipart uploads
// never completed nor aborted, when older than olderThan. It returns how
// many it removed. The bucket may be shared by several coffer processes, so
// olderThan must exceed the longest an upload takes between its start and
// its Commit: a staging object's LastModified is, for a multipart upload,
// when the upload began. A multipart upload still receiving parts is never
// aborted, however old. A failure to remove one item does not stop the
// pass; the first error is returned.
func (s *Store) CleanStaging(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	cutoff := s.now().Add(-olderThan)
	root := s.stagingRoot()

	objects := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &root})
	for objects.HasMorePages() {
		page, lerr := objects.NextPage(ctx)
		if lerr != nil {
			return removed, cmp.Or(err, failure(ctx, lerr, "blob store: list staging objects in S3"))
		}
		for _, o := range page.Contents {
			if !aws.ToTime(o.LastModified).Before(cutoff) {
				continue
			}
			if derr := s.deleteKey(ctx, aws.ToString(o.Key)); derr != nil {
				err = cmp.Or(err, derr)
				continue
			}
			removed++
		}
	}

	uploads := awss3.NewListMultipartUploadsPaginator(s.client, &awss3.ListMultipartUploadsInput{Bucket: &s.cfg.Bucket, Prefix: &root})
	for uploads.HasMorePages() {
		page, lerr := uploads.NextPage(ctx)
		if lerr != nil {
			return removed, cmp.Or(err, failure(ctx, lerr, "blob store: list multipart uploads in S3"))
		}
		for _, up := range page.Uploads {
			if !aws.ToTime(up.Initiated).Before(cutoff) {
				continue
			}
			stale, serr := s.idleSince(ctx, up, cutoff)
			if serr == nil && stale {
				_, serr = s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: up.Key, UploadId: up.UploadId})
				if serr == nil || isNotFound(serr) {
					removed++
					continue
				}
			}
			if serr != nil && !isNotFound(serr) { // NoSuchUpload: completed or aborted meanwhile
				err = cmp.Or(err, failure(ctx, serr, "blob store: abort a multipart upload in S3"))
			}
		}
	}
	return removed, err
}

// idleSince reports whether the multipart upload has received no part since
// cutoff: an old upload of a large blob over a slow link is still alive.
func (s *Store) idleSince(ctx context.Context, up types.MultipartUpload, cutoff time.Time) (bool, error) {
	parts := awss3.NewListPartsPaginator(s.client, &awss3.ListPartsInput{Bucket: &s.cfg.Bucket, Key: up.Key, UploadId: up.UploadId})
	for parts.HasMorePages() {
		page, err := parts.NextPage(ctx)
		if err != nil {
			return false, err
		}
		for _, p := range page.Parts {
			if !aws.ToTime(p.LastModified).Before(cutoff) {
				return false, nil
			}
		}
	}
	return true, nil
}

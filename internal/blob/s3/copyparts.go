package s3

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// copyConcurrency is how many parts of a large copy run at once; the copying
// is the server's, so this costs no memory here.
const copyConcurrency = 4

// copySource is the x-amz-copy-source of key: bucket/key, URL-encoded.
func (s *Store) copySource(key string) string {
	return (&url.URL{Path: s.cfg.Bucket + "/" + key}).EscapedPath()
}

// copyParts copies src to dst on the server as a multipart upload of
// UploadPartCopy ranges, for objects larger than CopyObject takes. The
// object appears at dst only when CompleteMultipartUpload succeeds, which is
// also where ifNoneMatch applies.
func (s *Store) copyParts(ctx context.Context, src, dst string, size int64, meta map[string]string, ifNoneMatch *string) (err error) {
	partSize := max(s.copyPartSize, (size+maxParts-1)/maxParts)
	created, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &dst, Metadata: meta})
	if err != nil {
		return err
	}
	id := created.UploadId
	defer func() {
		if err != nil {
			cctx, cancel := cleanupContext(ctx)
			defer cancel()
			s.client.AbortMultipartUpload(cctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &dst, UploadId: id})
		}
	}()
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(copyConcurrency)
	source := s.copySource(src)
	for i := range n {
		first := int64(i) * partSize
		last := min(first+partSize, size) - 1
		g.Go(func() error {
			out, err := s.client.UploadPartCopy(gctx, &awss3.UploadPartCopyInput{
				Bucket:          &s.cfg.Bucket,
				Key:             &dst,
				UploadId:        id,
				PartNumber:      aws.Int32(int32(i + 1)),
				CopySource:      &source,
				CopySourceRange: new(fmt.Sprintf("bytes=%d-%d", first, last)),
			})
			if err != nil {
				return err
			}
			if out.CopyPartResult == nil {
				return fmt.Errorf("UploadPartCopy of part %d answered no ETag", i+1)
			}
			parts[i] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i + 1))}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          &s.cfg.Bucket,
		Key:             &dst,
		UploadId:        id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     ifNoneMatch,
	})
	return err
}

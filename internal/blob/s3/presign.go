package s3

import (
	"context"
	"time"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

const (
	// MaxPresignTTL is the longest validity SigV4 allows a presigned URL.
	MaxPresignTTL = 7 * 24 * time.Hour
	// RedirectTTL is the validity of the URLs of RedirectURL: enough to
	// follow a redirect (S3 checks it when a GET starts, not as it runs).
	RedirectTTL = 15 * time.Minute
)

var _ blob.Redirector = (*object)(nil)

// PresignGet returns a URL from which anyone may GET the blob's content
// directly from S3 for ttl, so that large downloads need not pass through
// coffer. It is computed locally, without a request: the caller checks that
// the blob exists (its metadata says so). Credentials that expire sooner
// (a role's session) end the URL's validity with them.
func (s *Store) PresignGet(ctx context.Context, sha256 string, ttl time.Duration) (string, error) {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > MaxPresignTTL {
		return "", fault.Validation("presigned URL validity must be between 0 and %s", MaxPresignTTL)
	}
	req, err := s.presign.PresignGetObject(ctx, &awss3.GetObjectInput{
		Bucket: &s.cfg.Bucket,
		Key:    new(s.blobKey(sha256)),
	}, awss3.WithPresignExpires(ttl))
	if err != nil {
		return "", failure(ctx, err, "blob store: presign a download from S3")
	}
	return req.URL, nil
}

// RedirectURL implements blob.Redirector: a blob larger than the Config's
// PresignLargerThan (when that is set) is offered as a presigned URL valid
// for RedirectTTL.
func (o *object) RedirectURL(ctx context.Context) (string, bool, error) {
	if limit := o.s.cfg.PresignLargerThan; limit <= 0 || o.size <= limit {
		return "", false, nil
	}
	u, err := o.s.PresignGet(ctx, o.sha256, RedirectTTL)
	return u, err == nil, err
}

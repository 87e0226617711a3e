// Package s3 is the blob driver for Amazon S3 and S3-compatible servers.
// Under the configured prefix of its bucket:
//
//	<prefix>blobs/ab/abcd…   a blob, named by its full 64-digit SHA-256
//	<prefix>staging/<id>     content staged and not (yet) committed
//
// Stage streams the content through blob's one-pass hasher into a multipart
// upload of a fresh staging key, part by part, with at most two parts in
// memory (one being read, one being sent); content smaller than a part is a
// single PutObject. Commit copies the staging object to its blob key on the
// server and deletes it. The SHA-256 naming the blob is the one coffer
// computed over the very bytes it sent; S3 never names anything, but it
// checks each request's body against the SHA-256 that the request's SigV4
// signature covers (x-amz-content-sha256), so it stores exactly those bytes.
//
// Why no partial or unverified object is ever a blob: only Commit writes
// under blobs/, and only by copying a staging object whose upload completed
// and whose digests the caller has checked; S3 makes an object visible only
// once its PutObject, CopyObject or CompleteMultipartUpload has succeeded,
// never half-written. A process killed mid-Stage leaves a multipart upload
// or a staging object, which CleanStaging removes; one killed between
// Commit and the metadata transaction leaves an orphan blob, which the
// artifact service's collector finds with List.
//
// Besides blob.Store, a *Store implements
//
//	interface {
//		CleanStaging(ctx context.Context, olderThan time.Duration) (removed int, err error)
//	}
//
// for the orphan collector, plus Ping (for readiness checks) and PresignGet.
// Its Objects implement blob.Redirector: those of blobs larger than
// Config.PresignLargerThan offer a presigned URL, so that clients download
// large blobs from S3 directly.
//
// The credentials need s3:ListBucket (without it S3 answers 403, not 404,
// for a missing key), s3:GetObject, s3:PutObject, s3:DeleteObject,
// s3:AbortMultipartUpload, s3:ListBucketMultipartUploads and
// s3:ListMultipartUploadParts on the bucket and its prefix.
package s3

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/lru"
)

// cleanupTimeout bounds the calls that undo a failed or abandoned write;
// they run even when the caller's context has ended.
const cleanupTimeout = time.Minute

// Store is a blob.Store in an S3 bucket. It is safe for concurrent use.
type Store struct {
	cfg     Config
	client  *awss3.Client
	presign *awss3.PresignClient
	where   string // the bucket and endpoint, for Open's and Ping's messages

	parts sync.Pool // *[]byte of cfg.PartSize

	// copyLimit is the largest object copied with one CopyObject (S3's
	// limit is 5 GiB); larger ones are copied part by part, copyPartSize
	// at a time. Fields so that tests can exercise the multipart copy.
	copyLimit, copyPartSize int64

	// noConditional is set once the server has refused a conditional
	// write (If-None-Match: *) as not implemented.
	noConditional atomic.Bool

	now func() time.Time // time.Now; tests move it

	small *lru.Cache[*blob.Bytes] // small blobs once read; nil: none kept
}

var (
	_ blob.Store = (*Store)(nil)
	_ interface {
		CleanStaging(context.Context, time.Duration) (int, error)
	} = (*Store)(nil)
)

// Open connects to the bucket of cfg with credentials from the standard AWS
// chain (environment, shared credentials and config files, web identity,
// container or instance role) and checks that the bucket answers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg)
}

// open is Open with options for the S3 client (tests wrap its HTTP client).
func open(ctx context.Context, cfg Config, optFns ...func(*awss3.Options)) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	var loadOpts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: load the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf("s3 blob store: no region for bucket %q: give region= in the URL or set AWS_REGION", cfg.Bucket)
		}
		awsCfg.Region = "us-east-1" // what S3-compatible servers expect unless told otherwise
	}
	client := awss3.NewFromConfig(awsCfg, append([]func(*awss3.Options){func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Integrity of what is sent is covered by the signed payload
		// hash (SigV4) or TLS; the newer default CRC checksums are not
		// understood by every S3-compatible server.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}}, optFns...)...)
	where := "AWS S3 (" + awsCfg.Region + ")"
	if cfg.Endpoint != "" {
		where = cfg.Endpoint
	}
	s := &Store{
		cfg:          cfg,
		client:       client,
		presign:      awss3.NewPresignClient(client),
		where:        fmt.Sprintf("bucket %q at %s", cfg.Bucket, where),
		copyLimit:    5 << 30,
		copyPartSize: 512 << 20,
		now:          time.Now,
	}
	s.parts.New = func() any { b := make([]byte, cfg.PartSize); return &b }
	s.cfg.SmallBlobSize = cmp.Or(cfg.SmallBlobSize, DefaultSmallBlobSize)
	if size := cmp.Or(cfg.SmallBlobCache, DefaultSmallBlobCache); size > 0 {
		s.small = lru.New[*blob.Bytes](size)
	}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the configuration the Store was opened with, normalised
// (for the HTTP layer's PresignLargerThan).
func (s *Store) Config() Config { return s.cfg }

// Bucket names the bucket (the artifact service reports it as a domain's
// s3BucketArn).
func (s *Store) Bucket() string { return s.cfg.Bucket }

// Ping checks that the bucket exists and the credentials may use it
// (HeadBucket), for readiness checks. It fails with fault.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &s.cfg.Bucket})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	why := "is not reachable"
	switch httpStatus(err) {
	case 404:
		why = "does not exist"
	case 301, 400:
		why = "is not reachable (wrong region or endpoint?)"
	case 401, 403:
		why = "refused the credentials"
	}
	return fault.Unavailable(err, "s3 blob store: %s %s", s.where, why)
}

// blobKey is where the blob named sha256 lives; sha256 must be valid.
func (s *Store) blobKey(sha256 string) string {
	return s.cfg.Prefix + "blobs/" + sha256[:2] + "/" + sha256
}

// blobsRoot and stagingRoot are the prefixes of the two key spaces.
func (s *Store) blobsRoot() string   { return s.cfg.Prefix + "blobs/" }
func (s *Store) stagingRoot() string { return s.cfg.Prefix + "staging/" }

// newStagingKey returns a staging key no other Stage uses.
func (s *Store) newStagingKey() string {
	var b [16]byte
	rand.Read(b[:])
	return s.stagingRoot() + hex.EncodeToString(b[:])
}

// parseBlobKey returns the blob name of key if key is a well-formed blob
// key: a SHA-256 filed under its own first two digits.
func (s *Store) parseBlobKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.blobsRoot())
	if !ok || len(rest) != 3+64 || rest[2] != '/' {
		return "", false
	}
	name := rest[3:]
	if blob.ValidateSHA256(name) != nil || name[:2] != rest[:2] {
		return "", false
	}
	return name, true
}

// getPart and putPart lend out part buffers.
func (s *Store) getPart() *[]byte  { return s.parts.Get().(*[]byte) }
func (s *Store) putPart(b *[]byte) { s.parts.Put(b) }

// cleanupContext is for undoing a write after ctx may have ended.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

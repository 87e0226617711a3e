package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Open implements blob.Store. A small blob comes from memory once read (see
// small.go). Otherwise Size and ModTime come from HeadObject; nothing is
// downloaded until the first Read, and every GET the Object makes runs
// under ctx, which must outlive the reading.
func (s *Store) Open(ctx context.Context, sha256 string) (blob.Object, error) {
	if err := blob.ValidateSHA256(sha256); err != nil {
		return nil, err
	}
	if obj, ok := s.cached(sha256); ok {
		return obj, nil
	}
	key := s.blobKey(sha256)
	head, err := s.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if isNotFound(err) {
		return nil, notFound(sha256)
	}
	if err != nil {
		return nil, failure(ctx, err, "blob store: look up a blob in S3")
	}
	if size := aws.ToInt64(head.ContentLength); s.cacheable(size) {
		content := sha256 // a named blob's content has its own (CommitAs)
		if c := head.Metadata[contentMeta]; c != "" {
			content = c
		}
		return s.fill(ctx, sha256, content, key, size, aws.ToTime(head.LastModified))
	}
	return &object{
		s: s, ctx: ctx, key: key, sha256: sha256,
		size: aws.ToInt64(head.ContentLength), modTime: aws.ToTime(head.LastModified),
	}, nil
}

// object reads a blob with ranged GETs. Seek only records the offset; the
// first Read after it issues one GetObject for the rest of the blob from
// there, and later Reads stream from that response. http.ServeContent's
// range requests thus cost one GET per range, and memory stays bounded
// whatever the size. It is not safe for concurrent use.
type object struct {
	s       *Store
	ctx     context.Context
	key     string
	sha256  string
	size    int64
	modTime time.Time

	off    int64         // of the next byte Read returns
	body   io.ReadCloser // a GET's body positioned at off, nil if none
	closed bool
}

func (o *object) Size() int64           { return o.size }
func (o *object) ModTime() time.Time    { return o.modTime }
func (o *object) Reader() io.ReadSeeker { return o }

var errWhence = errors.New("blob store: invalid seek")

// Seek implements io.Seeker without any request.
func (o *object) Seek(offset int64, whence int) (int64, error) {
	if o.closed {
		return 0, os.ErrClosed
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.off
	case io.SeekEnd:
		offset += o.size
	default:
		return 0, errWhence
	}
	if offset < 0 {
		return 0, errWhence
	}
	if offset != o.off {
		o.dropBody()
		o.off = offset
	}
	return offset, nil
}

// Read implements io.Reader, opening a GET at the offset when none is open.
func (o *object) Read(p []byte) (int, error) {
	switch {
	case o.closed:
		return 0, os.ErrClosed
	case o.off >= o.size:
		return 0, io.EOF // also spares a GET that S3 would refuse (416)
	case len(p) == 0:
		return 0, nil
	}
	if o.body == nil {
		if err := o.get(); err != nil {
			return 0, err
		}
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	switch {
	case err == io.EOF && o.off == o.size:
		o.dropBody()
		return n, io.EOF
	case err == io.EOF || o.off > o.size:
		o.dropBody()
		return n, fault.Unavailable(io.ErrUnexpectedEOF, "blob store: S3 sent %d bytes of a %d-byte blob", o.off, o.size)
	case err != nil:
		o.dropBody()
		return n, failure(o.ctx, err, "blob store: read a blob from S3")
	}
	return n, nil
}

// get opens a GET of the blob from off to its end.
func (o *object) get() error {
	in := &awss3.GetObjectInput{Bucket: &o.s.cfg.Bucket, Key: &o.key}
	if o.off > 0 {
		in.Range = new(fmt.Sprintf("bytes=%d-", o.off))
	}
	out, err := o.s.client.GetObject(o.ctx, in)
	if isNotFound(err) {
		return notFound(o.sha256) // deleted since Open
	}
	if err != nil {
		return failure(o.ctx, err, "blob store: read a blob from S3")
	}
	// A server that ignored the range would send the wrong bytes.
	want := o.size - o.off
	if (out.ContentLength != nil && *out.ContentLength != want) ||
		(o.off > 0 && !strings.HasPrefix(aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-", o.off))) {
		out.Body.Close()
		return fault.Internal(nil, "blob store: S3 did not answer the range from byte %d of a %d-byte blob", o.off, o.size)
	}
	o.body = out.Body
	return nil
}

func (o *object) dropBody() {
	if o.body != nil {
		o.body.Close() // unread, this closes the connection rather than draining it
		o.body = nil
	}
}

// Close implements io.Closer; it is safe to call more than once.
func (o *object) Close() error {
	o.dropBody()
	o.closed = true
	return nil
}

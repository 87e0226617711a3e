package s3

import (
	"bytes"
	"context"
	"io"
	"math"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Most assets are small: Stage first reads into a buffer of this size and
// takes a part buffer only when the content does not fit.
const smallSize = 1 << 20

var smallPool = sync.Pool{New: func() any { b := make([]byte, smallSize); return &b }}

// Stage implements blob.Store. Cancelling ctx stops it between reads; a Read
// that blocks forever is the caller's to unblock. Whatever fails, the
// multipart upload is aborted or the object deleted (should that fail too,
// CleanStaging removes it later). The reader's errors are returned as they
// are, an exceeded maxSize as fault.ErrValidation, S3's as errors.go says.
func (s *Store) Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if maxSize > 0 && maxSize < math.MaxInt64 {
		// One byte more than allowed is enough to know the limit is
		// exceeded; no need to read further from the client.
		r = io.LimitReader(r, maxSize+1)
	}
	h := blob.NewHasher()
	defer h.Close()
	u := &upload{s: s, key: s.newStagingKey(), src: r, h: h, maxSize: maxSize}
	if err := u.run(ctx); err != nil {
		return nil, err
	}
	return &staged{s: s, key: u.key, digests: h.Sum()}, nil
}

// upload is one Stage's transfer of its content to a staging key.
type upload struct {
	s       *Store
	key     string
	src     io.Reader
	h       *blob.Hasher
	maxSize int64
	size    int64  // bytes read so far
	id      string // of the multipart upload, "" until created
	parts   []types.CompletedPart
}

// read fills buf from the source, hashing what it reads, and reports whether
// the source ended; buf is full unless it did. The hasher sees exactly the
// bytes that are then sent.
func (u *upload) read(ctx context.Context, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if ctx.Err() != nil {
			return n, false, context.Cause(ctx) // a failed part, or the caller's cancellation
		}
		m, rerr := u.src.Read(buf[n:])
		if m > 0 {
			u.h.Write(buf[n : n+m])
			n += m
			u.size += int64(m)
			if u.maxSize > 0 && u.size > u.maxSize {
				return n, false, fault.Validation("asset exceeds the size limit of %d bytes", u.maxSize)
			}
		}
		if rerr == io.EOF {
			return n, true, nil
		}
		if rerr != nil {
			return n, false, rerr
		}
	}
	return n, false, nil
}

// run transfers the whole source: a single PutObject when it fits in one
// part, else a multipart upload that reads the next part while the last one
// is sent. On failure nothing is left at the staging key.
func (u *upload) run(ctx context.Context) (err error) {
	small := smallPool.Get().(*[]byte)
	n, eof, err := u.read(ctx, *small)
	if err != nil || eof {
		if err == nil {
			err = u.put(ctx, (*small)[:n])
		}
		smallPool.Put(small)
		return err
	}
	cur := u.s.getPart()
	copy(*cur, (*small)[:n])
	smallPool.Put(small)
	m, eof, err := u.read(ctx, (*cur)[n:])
	n += m
	if err != nil || eof {
		if err == nil {
			err = u.put(ctx, (*cur)[:n])
		}
		u.s.putPart(cur)
		return err
	}

	if err := u.create(ctx); err != nil {
		u.s.putPart(cur)
		return err
	}
	defer func() {
		if err != nil {
			u.abort(ctx)
		}
	}()
	// A failed part cancels partCtx, which stops the reading of the next.
	partCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var pending chan partResult // the part being sent, nil if none
	wait := func() error {
		if pending == nil {
			return nil
		}
		r := <-pending
		pending = nil
		if r.err != nil {
			return r.err
		}
		u.parts = append(u.parts, r.part)
		return nil
	}
	// Two part buffers, used in turn: one is sent while the next part is
	// read into the other. Both go back to the pool once no part is in
	// flight (this runs before the abort above).
	bufs := [2]*[]byte{cur, nil}
	defer func() {
		wait()
		for _, b := range bufs {
			if b != nil {
				u.s.putPart(b)
			}
		}
	}()
	for i := 0; ; i = 1 - i {
		// bufs[i] holds n bytes: a full part, or the last one if eof.
		if err := wait(); err != nil {
			return err
		}
		num := len(u.parts) + 1
		if num > maxParts {
			return fault.Validation("asset exceeds the largest object this blob store can hold (%d parts of %d bytes)", maxParts, u.s.cfg.PartSize)
		}
		pending = u.send(partCtx, cancel, int32(num), (*bufs[i])[:n])
		if eof {
			break
		}
		if bufs[1-i] == nil {
			bufs[1-i] = u.s.getPart()
		}
		n, eof, err = u.read(partCtx, *bufs[1-i])
		if err != nil {
			// A part failure that stopped the reading is err itself
			// (the cause of partCtx).
			return err
		}
		if n == 0 && eof {
			break // the part just sent was the last
		}
	}
	if err := wait(); err != nil {
		return err
	}
	return u.complete(ctx)
}

type partResult struct {
	part types.CompletedPart
	err  error
}

// send uploads part num from b in the background; a failure cancels ctx with
// its error.
func (u *upload) send(ctx context.Context, cancel context.CancelCauseFunc, num int32, b []byte) chan partResult {
	done := make(chan partResult, 1)
	go func() {
		out, err := u.s.client.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket:        &u.s.cfg.Bucket,
			Key:           &u.key,
			UploadId:      &u.id,
			PartNumber:    aws.Int32(num),
			Body:          bytes.NewReader(b),
			ContentLength: aws.Int64(int64(len(b))),
		})
		if err != nil {
			err = failure(ctx, err, "blob store: upload a part to S3")
			cancel(err)
			done <- partResult{err: err}
			return
		}
		done <- partResult{part: types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)}}
	}()
	return done
}

// put stores content that fits in one part.
func (u *upload) put(ctx context.Context, b []byte) error {
	_, err := u.s.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        &u.s.cfg.Bucket,
		Key:           &u.key,
		Body:          bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		// The object may exist all the same (a response lost after
		// the server stored it).
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		u.s.client.DeleteObject(cctx, &awss3.DeleteObjectInput{Bucket: &u.s.cfg.Bucket, Key: &u.key})
		return failure(ctx, err, "blob store: upload to S3")
	}
	return nil
}

func (u *upload) create(ctx context.Context) error {
	out, err := u.s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &u.s.cfg.Bucket, Key: &u.key})
	if err != nil {
		return failure(ctx, err, "blob store: start a multipart upload to S3")
	}
	u.id = aws.ToString(out.UploadId)
	return nil
}

func (u *upload) complete(ctx context.Context) error {
	_, err := u.s.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          &u.s.cfg.Bucket,
		Key:             &u.key,
		UploadId:        &u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return failure(ctx, err, "blob store: complete a multipart upload to S3")
	}
	return nil
}

// abort gives up the multipart upload, freeing its parts, and deletes the
// object in case the completion succeeded after all. A failure leaves the
// upload to CleanStaging.
func (u *upload) abort(ctx context.Context) {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	u.s.client.AbortMultipartUpload(cctx, &awss3.AbortMultipartUploadInput{Bucket: &u.s.cfg.Bucket, Key: &u.key, UploadId: &u.id})
	u.s.client.DeleteObject(cctx, &awss3.DeleteObjectInput{Bucket: &u.s.cfg.Bucket, Key: &u.key})
}

package s3

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"coffer/internal/blob/blobtest"
)

// CleanStaging removes a staged object never committed and an abandoned
// multipart upload once they are older than the cutoff, and nothing else.
func TestCleanStaging(t *testing.T) {
	s := newTestStore(t, nil)
	ctx := context.Background()
	kept := put(t, s, []byte("a committed blob"))
	pending := stage(t, s, []byte("staged, never committed")) // as if the process died here

	key := s.newStagingKey() // a Stage killed mid-upload
	up, err := s.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	part := blobtest.RandomBytes(1000, 1)
	if _, err := s.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &s.cfg.Bucket, Key: &key, UploadId: up.UploadId, PartNumber: aws.Int32(1),
		Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))),
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(listUploads(t, s, s.stagingRoot())); n != 1 {
		t.Fatalf("%d multipart uploads listed, want 1 (does the server list them?)", n)
	}

	// All of it is young.
	if removed, err := s.CleanStaging(ctx, time.Hour); err != nil || removed != 0 {
		t.Errorf("CleanStaging of fresh items = %d, %v; want 0, nil", removed, err)
	}
	if keys := listKeys(t, s, s.stagingRoot()); len(keys) != 1 {
		t.Errorf("staging objects after a no-op pass: %v", keys)
	}

	// Two hours later.
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if removed, err := s.CleanStaging(ctx, time.Hour); err != nil || removed != 2 {
		t.Errorf("CleanStaging = %d, %v; want 2, nil", removed, err)
	}
	checkNoStaging(t, s)
	if ok, err := s.Exists(ctx, kept); err != nil || !ok {
		t.Errorf("committed blob: Exists = %v, %v", ok, err)
	}
	if _, err := pending.Commit(ctx); err == nil {
		t.Error("Commit of a cleaned staged blob succeeded")
	}
	if removed, err := s.CleanStaging(ctx, time.Hour); err != nil || removed != 0 {
		t.Errorf("second CleanStaging = %d, %v; want 0, nil", removed, err)
	}
}

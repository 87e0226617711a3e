package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// testConfig is the server of COFFER_TEST_S3 with a prefix of its own, so
// that tests share the bucket without seeing each other's blobs.
func testConfig(t testing.TB) Config {
	t.Helper()
	raw := os.Getenv("COFFER_TEST_S3")
	if raw == "" {
		if strings.Contains(os.Getenv("COFFER_TEST_SKIP"), "s3") {
			t.Skip("COFFER_TEST_S3 is not set and COFFER_TEST_SKIP contains s3")
		}
		t.Fatal("COFFER_TEST_S3 is not set: run scripts/test.sh, or start a server with " +
			"`scripts/s3server.sh start DIR` and export the lines it prints " +
			"(COFFER_TEST_SKIP=s3 skips these tests)")
	}
	cfg, err := ParseURL(raw)
	if err != nil {
		t.Fatalf("COFFER_TEST_S3: %v", err)
	}
	var id [8]byte
	rand.Read(id[:])
	cfg.Prefix += "test-" + hex.EncodeToString(id[:]) + "/"
	return cfg
}

// newTestStore opens a Store on an empty prefix of the test bucket, which
// is emptied again when the test ends. edit, if not nil, changes the Config.
func newTestStore(t testing.TB, edit func(*Config), optFns ...func(*awss3.Options)) *Store {
	t.Helper()
	cfg := testConfig(t)
	if edit != nil {
		edit(&cfg)
	}
	s, err := open(context.Background(), cfg, optFns...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { emptyPrefix(t, s) })
	return s
}

// emptyPrefix deletes every object and multipart upload under the Store's
// prefix.
func emptyPrefix(t testing.TB, s *Store) {
	ctx := context.Background()
	for _, key := range listKeys(t, s, s.cfg.Prefix) {
		if _, err := s.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for _, up := range listUploads(t, s, s.cfg.Prefix) {
		if _, err := s.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: up.Key, UploadId: up.UploadId}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// listKeys returns the keys under prefix.
func listKeys(t testing.TB, s *Store, prefix string) []string {
	t.Helper()
	var keys []string
	pages := awss3.NewListObjectsV2Paginator(s.client, &awss3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

type upload1 struct{ Key, UploadId *string }

// listUploads returns the multipart uploads in progress under prefix.
func listUploads(t testing.TB, s *Store, prefix string) []upload1 {
	t.Helper()
	var ups []upload1
	pages := awss3.NewListMultipartUploadsPaginator(s.client, &awss3.ListMultipartUploadsInput{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		for _, u := range page.Uploads {
			ups = append(ups, upload1{u.Key, u.UploadId})
		}
	}
	return ups
}

// checkNoStaging fails the test if anything is left under staging/.
func checkNoStaging(t *testing.T, s *Store) {
	t.Helper()
	if keys := listKeys(t, s, s.stagingRoot()); len(keys) > 0 {
		t.Errorf("staging objects left: %v", keys)
	}
	if ups := listUploads(t, s, s.stagingRoot()); len(ups) > 0 {
		t.Errorf("%d multipart uploads left under staging/", len(ups))
	}
}

// put stages and commits data and returns its SHA-256.
func put(t testing.TB, s *Store, data []byte) string {
	t.Helper()
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return st.Digests().SHA256
}

// requestCounter counts the S3 operations a Store sends, by the x-id the
// SDK puts in each request's query ("GetObject", "PutObject"…; HeadObject
// has none and counts as "").
type requestCounter struct {
	inner awss3.HTTPClient
	mu    sync.Mutex
	ops   map[string]int
}

func (c *requestCounter) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.ops[r.URL.Query().Get("x-id")]++
	c.mu.Unlock()
	return c.inner.Do(r)
}

// take returns the count of op and resets all counts.
func (c *requestCounter) take(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.ops[op]
	c.ops = map[string]int{}
	return n
}

// countRequests is an option of newTestStore that counts into c.
func countRequests(c *requestCounter) func(*awss3.Options) {
	return func(o *awss3.Options) {
		c.inner, c.ops = o.HTTPClient, map[string]int{}
		o.HTTPClient = c
	}
}

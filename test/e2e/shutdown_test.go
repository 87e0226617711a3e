package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// rootCreds reads the root key from the credentials file coffer wrote.
func rootCreds(t *testing.T, dataDir string) aws.Credentials {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id = (\S+)`).FindStringSubmatch(string(b))
	return aws.Credentials{AccessKeyID: id[1], SecretAccessKey: secretOf(t, dataDir)}
}

// publishRequest builds a signed PublishPackageVersion request whose body is
// read from body, signed the way botocore signs it (the asset's SHA-256 as
// the payload hash).
func publishRequest(t *testing.T, c *coffer, pkg string, body io.Reader, sum string) *http.Request {
	t.Helper()
	q := url.Values{"domain": {"shut"}, "repository": {"repo"}, "format": {"generic"}, "namespace": {"ns"},
		"package": {pkg}, "version": {"1.0.0"}, "asset": {"big.bin"}}
	req, err := http.NewRequest(http.MethodPost, c.URL+"/v1/package/version/publish?"+q.Encode(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-amz-content-sha256", sum)
	if err := v4.NewSigner().SignHTTP(context.Background(), rootCreds(t, c.DataDir), req, sum, "codeartifact", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestGracefulShutdownFinishesUploads sends SIGTERM while an upload is half
// way: the upload completes and is durable, then the process exits cleanly.
// An upload whose client goes away leaves nothing behind.
func TestGracefulShutdownFinishesUploads(t *testing.T) {
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	cli := newAWSCLI(t, c)
	cli.ok("", "create-domain", "--domain", "shut")
	cli.ok("", "create-repository", "--domain", "shut", "--repository", "repo")

	for _, path := range []string{"/healthz", "/metrics"} {
		resp, err := http.Get(c.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || (path == "/metrics" && !strings.Contains(string(b), `coffer_http_requests_total{code="200",method="POST",surface="control"}`)) {
			t.Fatalf("%s: %d\n%.500s", path, resp.StatusCode, b)
		}
	}

	// An aborted upload: half the body, then the client gives up.
	content := make([]byte, 8<<20)
	_, _ = rand.Read(content)
	s := sha256.Sum256(content)
	sum := hex.EncodeToString(s[:])
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	// Requests are built on the test goroutine (they may t.Fatal) and sent
	// on connections of their own.
	uploads := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	abortReq := publishRequest(t, c, "aborted", pr, sum).WithContext(ctx)
	go func() {
		resp, err := uploads.Do(abortReq)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			err = fmt.Errorf("answered %d before the body was sent: %s", resp.StatusCode, b)
			pr.CloseWithError(err) // unblock the writer below
			errc <- err
			return
		}
		pr.CloseWithError(err)
		errc <- err
	}()
	if _, err := pw.Write(content[:4<<20]); err != nil {
		t.Fatalf("sending the first half of the upload: %v", err)
	}
	// The client gives up: cancel the request and end its body (the
	// transport waits for a blocked body read before Do returns).
	cancel()
	pw.CloseWithError(context.Canceled)
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("the aborted upload succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the aborted upload's request did not return 30 s after it was cancelled")
	}
	cli.fails("ResourceNotFoundException", "describe-package", "--domain", "shut", "--repository", "repo", "--format", "generic", "--namespace", "ns", "--package", "aborted")
	// The server notices the broken body shortly after the client leaves;
	// wait for its staging file to be removed.
	deadline := time.Now().Add(10 * time.Second)
	for countFilesIn(t, filepath.Join(dataDir, "blobs")) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("an aborted upload left %d files under blobs/", countFilesIn(t, filepath.Join(dataDir, "blobs")))
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, not synchronising on time
	}

	// SIGTERM during an upload.
	pr, pw = io.Pipe()
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	inflightReq := publishRequest(t, c, "inflight", pr, sum)
	go func() {
		resp, err := uploads.Do(inflightReq)
		if err != nil {
			pr.CloseWithError(err)
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// An early answer must not leave the writer below blocked.
		pr.CloseWithError(fmt.Errorf("answered %d: %s", resp.StatusCode, b))
		done <- result{status: resp.StatusCode, body: b}
	}()
	if _, err := pw.Write(content[:4<<20]); err != nil {
		t.Fatalf("sending the first half of the upload: %v", err)
	}
	// The written half may still sit in socket buffers, the connection not
	// yet accepted; the signal must find the request inside its handler,
	// which the upload's staging file shows.
	deadline = time.Now().Add(10 * time.Second)
	for countFilesIn(t, filepath.Join(dataDir, "blobs")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the in-flight upload has no staging file 10 s after half its body was sent")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	if err := c.Cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The listener closes while the upload is still running...
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(c.URL + "/healthz")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("coffer still accepts connections after SIGINT")
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
	// ...and the upload still completes.
	if _, err := io.Copy(pw, bytes.NewReader(content[4<<20:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the in-flight upload got no answer within 60 s")
	}
	if res.err != nil || res.status != 200 {
		t.Fatalf("in-flight upload: %v %d %s", res.err, res.status, res.body)
	}
	var out map[string]any
	if err := json.Unmarshal(res.body, &out); err != nil || out["status"] != "Published" {
		t.Fatalf("in-flight upload answer: %s", res.body)
	}
	select {
	case err := <-c.Done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("coffer did not exit after the upload finished")
	}

	c2 := startCoffer(t, dataDir)
	cli2 := newAWSCLI(t, c2)
	dir := t.TempDir()
	cli2.ok(dir, "get-package-version-asset", "--domain", "shut", "--repository", "repo", "--format", "generic", "--namespace", "ns",
		"--package", "inflight", "--package-version", "1.0.0", "--asset", "big.bin", "out.bin")
	got, err := os.ReadFile(filepath.Join(dir, "out.bin"))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("the upload finished during shutdown is not intact after restart (%v)", err)
	}
}

func countFilesIn(t *testing.T, root string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

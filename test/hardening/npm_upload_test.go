package hardening

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	catypes "github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// npmReadOnlyPolicy lets a user get a token and read the repositories, nothing
// else: no codeartifact:PublishPackageVersion.
const npmReadOnlyPolicy = `{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken","codeartifact:GetRepositoryEndpoint",
    "codeartifact:ReadFromRepository"],"Resource":"*"},
  {"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*",
   "Condition":{"StringEquals":{"sts:AWSServiceName":"codeartifact.amazonaws.com"}}}]}`

const (
	npmMiB = 1 << 20
	// npmEarly is how much of a refused body a client may have handed
	// to its connection when the refusal arrives: loopback socket buffers
	// (a few MiB with autotuning) plus what the server discards after an
	// early answer (256 KiB). A body the server reads to its end is many
	// times this.
	npmEarly = 12 * npmMiB
)

// TestNPMUploadsRefusedEarly: with --max-asset-size 1 MiB, npm publishes
// and audits that are too big or not allowed are refused before the
// server has read them — nothing reaches the spool or the blob store — and
// a publish with a malformed base64 attachment is a 400, not a 500.
func TestNPMUploadsRefusedEarly(t *testing.T) {
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--max-asset-size", "1048576")
	ctx := context.Background()
	rootCr := rootCreds(t, dataDir)
	root := caClient(t, c.URL, rootCr)
	if _, err := root.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("hard")}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("hard"), Repository: aws.String("repo")}); err != nil {
		t.Fatal(err)
	}
	endpoint := aws.ToString(npmMust(root.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String("hard"),
		Repository: aws.String("repo"), Format: catypes.PackageFormatNpm}))(t).RepositoryEndpoint)
	rootToken := aws.ToString(npmMust(root.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("hard")}))(t).AuthorizationToken)

	ic := iamClient(t, c.URL, rootCr)
	npmMust(ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}))(t)
	npmMust(ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read-only"),
		PolicyDocument: aws.String(npmReadOnlyPolicy)}))(t)
	key := npmMust(ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")}))(t).AccessKey
	reader := caClient(t, c.URL, aws.Credentials{AccessKeyID: aws.ToString(key.AccessKeyId), SecretAccessKey: aws.ToString(key.SecretAccessKey)})
	readerToken := aws.ToString(npmMust(reader.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("hard")}))(t).AuthorizationToken)

	spool := filepath.Join(dataDir, "spool")
	staging := filepath.Join(dataDir, "blobs", "tmp")
	checkEmpty := func(t *testing.T) {
		t.Helper()
		for _, dir := range []string{spool, staging} {
			if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
				t.Errorf("%s holds %v (%v)", dir, left, err)
			}
		}
	}
	// A 48 MiB publish: a version document whose readme is 16 MiB, then a
	// tarball of 24 MiB (32 MiB of base64).
	const readme, tarball = 16 * npmMiB, 24 * npmMiB
	bigPublish := func(name string) func(io.Writer) error {
		return func(w io.Writer) error { return npmWritePublish(w, name, "1.0.0", readme, tarball) }
	}

	t.Run("read-only user", func(t *testing.T) {
		for _, declared := range []bool{false, true} {
			size := int64(-1)
			if declared {
				size = npmPublishSize(t, "fx-denied", "1.0.0", readme, tarball)
			}
			r := npmSend(t, http.MethodPut, endpoint+"fx-denied", readerToken, size, bigPublish("fx-denied"), spool, staging)
			t.Logf("declared length %v: %d after %d bytes: %s", declared, r.status, r.written, r.body)
			if r.staged != "" {
				t.Errorf("%s appeared while the body was sent", r.staged)
			}
			if r.status != http.StatusForbidden || !strings.Contains(r.errorMessage(t), "PublishPackageVersion") {
				t.Fatalf("read-only publish: %d %s", r.status, r.body)
			}
			if r.written > npmEarly {
				t.Errorf("the 403 came after the client had sent %d bytes", r.written)
			}
			checkEmpty(t)
		}
	})

	t.Run("over the limit", func(t *testing.T) {
		// The tarball first: its 32 MiB of base64 come before anything else.
		first := func(w io.Writer) error { return npmWritePublishAttachmentFirst(w, "fx-big", "1.0.0", 32*npmMiB) }
		for _, declared := range []bool{false, true} {
			size := int64(-1)
			if declared {
				var cw npmCountWriter
				_ = first(&cw)
				size = cw.n
			}
			r := npmSend(t, http.MethodPut, endpoint+"fx-big", rootToken, size, first)
			t.Logf("declared length %v: %d after %d bytes: %s", declared, r.status, r.written, r.body)
			if r.status != http.StatusRequestEntityTooLarge || r.errorMessage(t) == "" {
				t.Fatalf("over-limit publish: %d %s", r.status, r.body)
			}
			if r.written > npmEarly {
				t.Errorf("the 413 came after the client had sent %d bytes", r.written)
			}
			checkEmpty(t)
		}
		// A Content-Length over what any allowed publish can weigh (the
		// base64 of 1 MiB and 64 MiB of JSON) is refused before a byte is
		// read, whatever comes first.
		r := npmSend(t, http.MethodPut, endpoint+"fx-big", rootToken, npmPublishSize(t, "fx-big", "1.0.0", 40*npmMiB, 48*npmMiB), func(w io.Writer) error {
			return npmWritePublish(w, "fx-big", "1.0.0", 40*npmMiB, 48*npmMiB)
		})
		t.Logf("declared 104 MiB: %d after %d bytes: %s", r.status, r.written, r.body)
		if r.status != http.StatusRequestEntityTooLarge || r.written > npmEarly {
			t.Fatalf("declared 104 MiB: %d after %d bytes: %s", r.status, r.written, r.body)
		}
		_, err := root.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: aws.String("hard"), Repository: aws.String("repo"),
			Format: catypes.PackageFormatNpm, Package: aws.String("fx-big")})
		var nf *catypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("the refused package exists: %v", err)
		}
		checkEmpty(t)
	})

	t.Run("malformed base64", func(t *testing.T) {
		for name, data := range map[string]string{"unpadded": "aGk", "truncated": "aGVsbG8gd29ybG"} {
			body := npmSmallPublish("fx-b64", "1.0.0", data)
			r := npmSend(t, http.MethodPut, endpoint+"fx-b64", rootToken, int64(len(body)), func(w io.Writer) error { _, err := w.Write(body); return err })
			if r.status != http.StatusBadRequest || !strings.Contains(r.errorMessage(t), "base64") {
				t.Errorf("%s base64: %d %s", name, r.status, r.body)
			}
		}
		checkEmpty(t)
	})

	t.Run("audit", func(t *testing.T) {
		gen := func(w io.Writer) error {
			if _, err := io.WriteString(w, `{"name":"x","version":"1.0.0","requires":{},"dependencies":{`); err != nil {
				return err
			}
			entry := []byte(`"` + strings.Repeat("d", 40) + `%07d":{"version":"1.0.0","integrity":"sha512-` + strings.Repeat("A", 86) + `=="},`)
			for i := 0; i*len(entry) < 18*npmMiB; i++ {
				if _, err := fmt.Fprintf(w, string(entry), i); err != nil {
					return err
				}
			}
			_, err := io.WriteString(w, `"last":{"version":"1.0.0"}}}`)
			return err
		}
		var cw npmCountWriter
		_ = gen(&cw)
		for _, size := range []int64{-1, cw.n} {
			r := npmSend(t, http.MethodPost, endpoint+"-/npm/v1/security/audits/quick", readerToken, size, gen)
			t.Logf("declared length %d: %d after %d bytes: %s", size, r.status, r.written, r.body)
			if r.status != http.StatusRequestEntityTooLarge || r.errorMessage(t) == "" {
				t.Fatalf("18 MiB audit: %d %s", r.status, r.body)
			}
			if r.written > npmEarly {
				t.Errorf("the 413 came after the client had sent %d bytes", r.written)
			}
		}
	})
}

// TestNPMPublishCeiling: npm keeps its own 2 GiB ceiling when
// --max-asset-size is larger (the default is 5 GiB): a publish declaring
// 3 GiB is refused before its body is read.
func TestNPMPublishCeiling(t *testing.T) {
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	ctx := context.Background()
	rootCr := rootCreds(t, dataDir)
	root := caClient(t, c.URL, rootCr)
	npmMust(root.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("hard")}))(t)
	npmMust(root.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("hard"), Repository: aws.String("repo")}))(t)
	endpoint := aws.ToString(npmMust(root.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String("hard"),
		Repository: aws.String("repo"), Format: catypes.PackageFormatNpm}))(t).RepositoryEndpoint)
	token := aws.ToString(npmMust(root.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("hard")}))(t).AuthorizationToken)

	const tarball = 3 << 30 / 4 * 3 // 2.25 GiB: 3 GiB of base64
	r := npmSend(t, http.MethodPut, endpoint+"fx-huge", token, npmPublishSize(t, "fx-huge", "1.0.0", 0, tarball), func(w io.Writer) error {
		return npmWritePublish(w, "fx-huge", "1.0.0", 0, tarball)
	})
	t.Logf("%d after %d bytes: %s", r.status, r.written, r.body)
	if r.status != http.StatusRequestEntityTooLarge || r.written > npmEarly {
		t.Fatalf("declared 3 GiB: %d after %d bytes: %s", r.status, r.written, r.body)
	}
	if left, err := os.ReadDir(filepath.Join(dataDir, "spool")); err != nil || len(left) != 0 {
		t.Fatalf("spool: %v %v", left, err)
	}
}

// npmSent is the outcome of npmSend.
type npmSent struct {
	status int
	body   []byte
	// written is how many body bytes the client had handed to its
	// connection when the answer arrived.
	written int64
	// staged is a file seen in a watched directory while sending.
	staged string
}

func (r npmSent) errorMessage(t *testing.T) string {
	t.Helper()
	var m struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not npm's error shape: %d %s", r.status, r.body)
	}
	return m.Error
}

// npmMaxSent is where npmSend gives up on a server that reads on without
// answering.
const npmMaxSent = 64 * npmMiB

// npmSend sends a request whose body gen writes (declaring size as
// Content-Length, or chunked when size < 0) on a connection of its own,
// reading the answer while the body is still going out, and returns the
// answer and how many body bytes had gone out when it arrived. (Go's
// http.Client may report the write error of a connection the server
// closes after an early answer instead of the answer.) It fails the test
// when the server reads more than npmMaxSent bytes without answering.
// While sending, the directories in watch are looked at after every MiB.
func npmSend(t *testing.T, method, rawURL, token string, size int64, gen func(io.Writer) error, watch ...string) npmSent {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := method + " " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/json\r\nConnection: close\r\n"
	if size >= 0 {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", size)
	} else {
		head += "Transfer-Encoding: chunked\r\n\r\n"
	}
	cw := &npmCountingWriter{w: conn, chunked: size < 0, watch: watch}
	done := make(chan error, 1)
	go func() {
		if _, err := io.WriteString(conn, head); err != nil {
			done <- err
			return
		}
		err := gen(cw)
		if err == nil && size < 0 {
			_, err = io.WriteString(conn, "0\r\n\r\n")
		}
		done <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	n := cw.n.Load()
	if err != nil {
		t.Fatalf("%s %s: no answer after %d bytes: %v (sending: %v)", method, rawURL, n, err, <-done)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	conn.Close() // stops the sender
	<-done
	return npmSent{status: resp.StatusCode, body: b, written: n, staged: cw.loadStaged()}
}

// npmCountingWriter writes the body to the connection (in chunks when
// chunked), counts it, refuses to go past npmMaxSent, and looks into the
// watched directories after every MiB.
type npmCountingWriter struct {
	w         io.Writer
	chunked   bool
	n         atomic.Int64
	watch     []string
	sinceLook int64
	mu        sync.Mutex
	staged    string // the first file seen in a watched directory
}

func (c *npmCountingWriter) Write(p []byte) (int, error) {
	if c.n.Load() > npmMaxSent {
		return 0, fmt.Errorf("the server read %d bytes without answering", c.n.Load())
	}
	if c.chunked {
		if _, err := fmt.Fprintf(c.w, "%x\r\n", len(p)); err != nil {
			return 0, err
		}
	}
	n, err := c.w.Write(p)
	if err == nil && c.chunked {
		_, err = io.WriteString(c.w, "\r\n")
	}
	c.n.Add(int64(n))
	if c.sinceLook += int64(n); c.sinceLook >= npmMiB {
		c.sinceLook = 0
		for _, d := range c.watch {
			if left, _ := os.ReadDir(d); len(left) > 0 {
				c.mu.Lock()
				if c.staged == "" {
					c.staged = filepath.Join(d, left[0].Name())
				}
				c.mu.Unlock()
			}
		}
	}
	return n, err
}

func (c *npmCountingWriter) loadStaged() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.staged
}

type npmCountWriter struct{ n int64 }

func (c *npmCountWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// npmPublishSize is how many bytes npmWritePublish writes.
func npmPublishSize(t *testing.T, name, version string, readme, tarball int) int64 {
	t.Helper()
	var cw npmCountWriter
	if err := npmWritePublish(&cw, name, version, readme, tarball); err != nil {
		t.Fatal(err)
	}
	return cw.n
}

// npmFakeIntegrity is a well-formed dist.integrity (the bodies here are
// refused before it is checked).
var npmFakeIntegrity = func() string { s := sha512.Sum512(nil); return "sha512-" + base64.StdEncoding.EncodeToString(s[:]) }()

// npmVersionDoc is the version document npm publish sends, with a readme of
// the given size.
func npmVersionDoc(name, version string, readme int) string {
	return `{"name":"` + name + `","version":"` + version + `","description":"hostile","main":"index.js","readme":"` + strings.Repeat("r", readme) +
		`","_id":"` + name + "@" + version + `","dist":{"integrity":"` + npmFakeIntegrity + `","tarball":"http://localhost/` + name + `/-/` + name + "-" + version + `.tgz"}}`
}

// npmWritePublish writes an npm publish body in npm's order (the version
// document, then the attachment) whose tarball has the given size, its
// base64 written as it goes.
func npmWritePublish(w io.Writer, name, version string, readme, tarball int) error {
	head := `{"_id":"` + name + `","name":"` + name + `","description":"hostile","dist-tags":{"latest":"` + version + `"},"versions":{"` + version + `":` +
		npmVersionDoc(name, version, readme) + `},"access":null,"_attachments":{"` + name + "-" + version + `.tgz":{"content_type":"application/octet-stream","data":"`
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	if err := npmWriteBase64(w, tarball); err != nil {
		return err
	}
	_, err := io.WriteString(w, `","length":`+fmt.Sprint(tarball)+`}}}`)
	return err
}

// npmWritePublishAttachmentFirst writes a publish whose attachment comes
// before the version document.
func npmWritePublishAttachmentFirst(w io.Writer, name, version string, tarball int) error {
	if _, err := io.WriteString(w, `{"_attachments":{"`+name+"-"+version+`.tgz":{"content_type":"application/octet-stream","data":"`); err != nil {
		return err
	}
	if err := npmWriteBase64(w, tarball); err != nil {
		return err
	}
	_, err := io.WriteString(w, `","length":`+fmt.Sprint(tarball)+`}},"_id":"`+name+`","name":"`+name+`","dist-tags":{"latest":"`+version+
		`"},"versions":{"`+version+`":`+npmVersionDoc(name, version, 0)+`}}`)
	return err
}

// npmWriteBase64 writes the base64 of size bytes of a repeating pattern, in
// 48 KiB steps.
func npmWriteBase64(w io.Writer, size int) error {
	chunk := bytes.Repeat([]byte("coffer tarball\n"), 48<<10/16) // 48 KiB, a multiple of 3
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(chunk)))
	base64.StdEncoding.Encode(enc, chunk)
	for size > 0 {
		n := min(size, len(chunk))
		out := enc
		if n < len(chunk) {
			out = make([]byte, base64.StdEncoding.EncodedLen(n))
			base64.StdEncoding.Encode(out, chunk[:n])
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// npmSmallPublish is an npm publish body whose attachment data is given as is.
func npmSmallPublish(name, version, data string) []byte {
	return []byte(`{"_id":"` + name + `","name":"` + name + `","dist-tags":{"latest":"` + version + `"},"versions":{"` + version + `":` +
		npmVersionDoc(name, version, 0) + `},"_attachments":{"` + name + "-" + version + `.tgz":{"content_type":"application/octet-stream","data":"` +
		data + `","length":11}}}`)
}

// npmMust returns v after failing the test on err: npmMust(call())(t).
func npmMust[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

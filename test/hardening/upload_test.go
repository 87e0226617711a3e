package hardening

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"coffer/internal/testproc"
)

// Fault class: uploads received past the size limit and before
// authorization. With --max-asset-size 1 MiB, a 48 MiB PyPI upload was
// spooled whole before it was refused, for a read-only user too. Now a
// publish that cannot be allowed is answered before its body is read, and
// one over the limit as soon as the limit is crossed; nothing stays in the
// spool or the blob staging directory.

const (
	uploadLimit = 1 << 20  // --max-asset-size
	uploadSize  = 48 << 20 // what the attacker sends
	// readEarly bounds the body bytes the client has handed to its socket
	// when the refusal arrives: the limit, the socket buffers (the
	// server's receive buffer grows to a few MiB on loopback) and what
	// net/http drains (256 KiB) before it closes the connection. A server
	// that reads the whole body is far beyond it.
	readEarly = 8 << 20
)

// publishDeniedPolicy is what a build machine that only installs gets.
const publishDeniedPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":["codeartifact:GetAuthorizationToken","codeartifact:GetRepositoryEndpoint","codeartifact:ReadFromRepository"],"Resource":"*"},
 {"Effect":"Allow","Action":"sts:GetServiceBearerToken","Resource":"*"}]}`

var ulCtx = context.Background()

// uploadEnv is a coffer with a domain "up", a repository "repo", and
// authorization tokens of root and of a read-only IAM user.
type uploadEnv struct {
	c         *testproc.Coffer
	root      *codeartifact.Client
	account   string
	rootToken string
	readToken string
}

func newUploadEnv(t *testing.T, dataDir string, extraArgs ...string) *uploadEnv {
	t.Helper()
	c := startCoffer(t, dataDir, extraArgs...)
	rootCr := rootCreds(t, dataDir)
	root := caClient(t, c.URL, rootCr)
	d, err := root.CreateDomain(ulCtx, &codeartifact.CreateDomainInput{Domain: aws.String("up")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateRepository(ulCtx, &codeartifact.CreateRepositoryInput{Domain: aws.String("up"), Repository: aws.String("repo")}); err != nil {
		t.Fatal(err)
	}
	ic := iamClient(t, c.URL, rootCr)
	if _, err := ic.CreateUser(ulCtx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.PutUserPolicy(ulCtx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(publishDeniedPolicy)}); err != nil {
		t.Fatal(err)
	}
	k, err := ic.CreateAccessKey(ulCtx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := caClient(t, c.URL, aws.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)})
	token := func(cl *codeartifact.Client) string {
		t.Helper()
		out, err := cl.GetAuthorizationToken(ulCtx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("up")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.AuthorizationToken)
	}
	return &uploadEnv{c: c, root: root, account: aws.ToString(d.Domain.Owner), rootToken: token(root), readToken: token(reader)}
}

func (e *uploadEnv) endpoint(format string) string {
	return e.c.URL + "/" + format + "/d/up-" + e.account + "/repo/"
}

// filesUnder lists the files under dir (recursively).
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// streamAnswer is what streamBody observed.
type streamAnswer struct {
	status int
	body   string
	// sent is how many body bytes the client had handed to the transport
	// when the answer arrived.
	sent int64
	// staged is set when a file was seen in a watched directory while
	// the body was being sent.
	staged string
}

// streamBody sends head, then filler bytes, then tail (total bytes in all)
// through an io.Pipe, as a client that never stops would, and returns the
// answer and how much of the body had gone out when it arrived. With
// declare, the request carries its Content-Length, else it is chunked.
// While sending, the directories in watch are checked after every MiB.
//
// The request goes over a plain TCP connection whose answer is read while
// the body is still being written: net/http's Transport reports the
// write error (the server closes a connection whose body it refused)
// rather than the answer that came before it, whichever it sees first.
func streamBody(t *testing.T, method, url, token, contentType string, head []byte, total int64, tail []byte, declare bool, watch ...string) streamAnswer {
	t.Helper()
	return streamRequest(t, func(body io.Reader) *http.Request {
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		if declare {
			req.ContentLength = total
		}
		req.SetBasicAuth("aws", token)
		req.Header.Set("Content-Type", contentType)
		return req
	}, head, total, tail, 0, watch...)
}

// streamRequest is streamBody for the request that build makes around
// the body, with fill as the filler byte.
func streamRequest(t *testing.T, build func(body io.Reader) *http.Request, head []byte, total int64, tail []byte, fill byte, watch ...string) streamAnswer {
	t.Helper()
	pr, pw := io.Pipe()
	var sent atomic.Int64
	var staged atomic.Value
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		write := func(b []byte) bool {
			n, err := pw.Write(b)
			sent.Add(int64(n))
			return err == nil
		}
		if !write(head) {
			return
		}
		chunk := bytes.Repeat([]byte{fill}, 64<<10)
		var sinceCheck int64
		for left := total - int64(len(head)) - int64(len(tail)); left > 0; {
			n := min(left, int64(len(chunk)))
			if !write(chunk[:n]) {
				return
			}
			left -= n
			if sinceCheck += n; sinceCheck >= 1<<20 {
				sinceCheck = 0
				for _, d := range watch {
					if f := filesUnder(t, d); len(f) > 0 && staged.Load() == nil {
						staged.Store(f[0])
					}
				}
			}
		}
		if write(tail) {
			pw.Close()
		}
	}()
	req := build(pr)
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	// A small send buffer, so that what was sent is close to what the
	// server took (its own receive buffer still holds some).
	if err := conn.(*net.TCPConn).SetWriteBuffer(128 << 10); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute)) // a server that never answers fails the test
	wrote := make(chan error, 1)
	go func() { wrote <- req.Write(conn) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	at := sent.Load()
	var body []byte
	if err == nil {
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	conn.Close()                                            // stops req.Write
	pr.CloseWithError(errors.New("the answer has arrived")) // stops the feeder
	<-fed
	werr := <-wrote
	if err != nil {
		t.Fatalf("%s %s: no answer after %d bytes: %v (writing: %v)", req.Method, req.URL, at, err, werr)
	}
	s, _ := staged.Load().(string)
	return streamAnswer{status: resp.StatusCode, body: string(body), sent: at, staged: s}
}

// publishRequest returns a builder of a PublishPackageVersion request of
// size zero bytes as generic package ns/pkg 1.0.0, signed by root as
// botocore signs it (the asset's SHA-256 as the payload hash).
func (e *uploadEnv) publishRequest(t *testing.T, pkg string, size int64) func(io.Reader) *http.Request {
	t.Helper()
	h := sha256.New()
	if _, err := io.CopyN(h, zeroBytes{}, size); err != nil {
		t.Fatal(err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	rootCr := rootCreds(t, e.c.DataDir)
	return func(body io.Reader) *http.Request {
		q := url.Values{"domain": {"up"}, "repository": {"repo"}, "format": {"generic"}, "namespace": {"ns"},
			"package": {pkg}, "version": {"1.0.0"}, "asset": {pkg + ".bin"}}
		req, err := http.NewRequest(http.MethodPost, e.c.URL+"/v1/package/version/publish?"+q.Encode(), body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		req.Header.Set("x-amz-content-sha256", sum)
		req.Header.Set("x-amz-asset-sha256", sum)
		req.Header.Set("Content-Type", "application/octet-stream")
		if err := v4.NewSigner().SignHTTP(ulCtx, rootCr, req, sum, "codeartifact", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
}

// zeroBytes is an endless run of zero bytes (what streamBody sends as a
// file).
type zeroBytes struct{}

func (zeroBytes) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// twineForm is a legacy upload as twine 4 sends it (repository.py
// _upload: metadata_dictionary() fields, then :action and
// protocol_version, then the content part last), split around the file's
// bytes.
func twineForm(t *testing.T, project, version, filename string) (contentType string, head, tail []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"name", project}, {"version", version}, {"filetype", "sdist"}, {"pyversion", "source"},
		{"metadata_version", "2.1"}, {"summary", "big"}, {"description", strings.Repeat("A long README. ", 200)},
		{"sha256_digest", strings.Repeat("0", 64)}, {":action", "file_upload"}, {"protocol_version", "1"}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mw.CreateFormFile("content", filename); err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	mw.Close()
	b := buf.Bytes()
	return mw.FormDataContentType(), append([]byte(nil), b[:n]...), append([]byte(nil), b[n:]...)
}

// contentFirstForm is a legacy upload whose file part comes before the
// fields that name the project, split around the file's bytes.
func contentFirstForm(t *testing.T, project, version, filename string) (contentType string, head, tail []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if _, err := mw.CreateFormFile("content", filename); err != nil {
		t.Fatal(err)
	}
	head = append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	for _, f := range [][2]string{{"name", project}, {"version", version}, {"filetype", "sdist"},
		{"sha256_digest", strings.Repeat("0", 64)}, {":action", "file_upload"}, {"protocol_version", "1"}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return mw.FormDataContentType(), head, append([]byte(nil), buf.Bytes()...)
}

// TestOversizedAndUnauthorizedUploadsAreRefusedEarly streams 48 MiB
// uploads at a coffer whose limit is 1 MiB: PyPI (twine's form) and Maven
// (PUT of a jar), as a read-only user (403) and as root (413), streamAnswer
// and with a declared Content-Length. Each answer arrives before more
// than a few MiB went out, and neither the spool nor the blob staging
// directory keeps anything.
func TestOversizedAndUnauthorizedUploadsAreRefusedEarly(t *testing.T) {
	dataDir := t.TempDir()
	e := newUploadEnv(t, dataDir, "--max-asset-size", "1048576")
	spool, staging := filepath.Join(dataDir, "spool"), filepath.Join(dataDir, "blobs", "tmp")
	ct, head, tail := twineForm(t, "big-project", "1.0", "big_project-1.0.tar.gz")
	ctFirst, headFirst, tailFirst := contentFirstForm(t, "big-project", "1.0", "big_project-1.0.tar.gz")
	jar := e.endpoint("maven") + "com/example/big/1.0/big-1.0.jar"

	cases := []struct {
		name         string
		format       string
		token        string
		declare      bool
		status       int
		neverStaged  bool // nothing may appear in spool/ or blobs/tmp/ at any time
		bodyContains string
	}{
		{"pypi read-only streamed", "pypi", e.readToken, false, http.StatusForbidden, true, "PublishPackageVersion"},
		{"pypi read-only with length", "pypi", e.readToken, true, http.StatusRequestEntityTooLarge, true, "larger than"},
		{"pypi root streamed", "pypi", e.rootToken, false, http.StatusRequestEntityTooLarge, false, "larger than"},
		{"pypi root with length", "pypi", e.rootToken, true, http.StatusRequestEntityTooLarge, true, "larger than"},
		// A form whose file comes before the project name cannot be
		// authorized before the file is read: refused, not spooled.
		{"pypi content first", "pypi-content-first", e.rootToken, false, http.StatusBadRequest, true, "before"},
		{"maven read-only streamed", "maven", e.readToken, false, http.StatusForbidden, true, "PublishPackageVersion"},
		{"maven read-only with length", "maven", e.readToken, true, http.StatusRequestEntityTooLarge, true, "larger than"},
		{"maven root streamed", "maven", e.rootToken, false, http.StatusRequestEntityTooLarge, false, "larger than"},
		{"maven root with length", "maven", e.rootToken, true, http.StatusRequestEntityTooLarge, true, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var watch []string
			if tc.neverStaged {
				watch = []string{spool, staging}
			}
			var got streamAnswer
			switch tc.format {
			case "pypi":
				got = streamBody(t, http.MethodPost, e.endpoint("pypi"), tc.token, ct, head, uploadSize, tail, tc.declare, watch...)
			case "pypi-content-first":
				got = streamBody(t, http.MethodPost, e.endpoint("pypi"), tc.token, ctFirst, headFirst, uploadSize, tailFirst, tc.declare, watch...)
			default:
				got = streamBody(t, http.MethodPut, jar, tc.token, "application/java-archive", nil, uploadSize, nil, tc.declare, watch...)
			}
			t.Logf("%s: %d after %d bytes sent: %.200s", tc.name, got.status, got.sent, got.body)
			if got.status != tc.status || !strings.Contains(got.body, tc.bodyContains) {
				t.Errorf("answer %d %q, want %d with %q", got.status, got.body, tc.status, tc.bodyContains)
			}
			if got.sent > readEarly {
				t.Errorf("the answer came after %d bytes of the body were sent; want at most %d", got.sent, readEarly)
			}
			if got.staged != "" {
				t.Errorf("%s was written while the refused upload was sent", got.staged)
			}
			for _, d := range []string{spool, staging} {
				if f := filesUnder(t, d); len(f) > 0 {
					t.Errorf("left behind after the answer: %v", f)
				}
			}
		})
	}
	// PublishPackageVersion reads up to the limit (the engine's Stage
	// bound) and answers with a ValidationException, a clean 400.
	got := streamRequest(t, e.publishRequest(t, "big", uploadSize), nil, uploadSize, nil, 0)
	t.Logf("PublishPackageVersion: %d after %d bytes sent: %.200s", got.status, got.sent, got.body)
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, `"__type":"ValidationException"`) || got.sent > readEarly {
		t.Errorf("PublishPackageVersion over the limit: %d after %d bytes: %q, want 400 ValidationException early", got.status, got.sent, got.body)
	}
	if f := filesUnder(t, staging); len(f) > 0 {
		t.Errorf("left behind after PublishPackageVersion: %v", f)
	}

	// Nothing of it was stored.
	out, err := e.root.ListPackages(ulCtx, &codeartifact.ListPackagesInput{Domain: aws.String("up"), Repository: aws.String("repo")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Packages) != 0 {
		t.Fatalf("refused uploads created packages: %+v", out.Packages)
	}
}

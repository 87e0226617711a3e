package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
)

// recorder is an http.RoundTripper that keeps the 429 answers the client
// sees on the wire.
type recorder struct {
	mu        sync.Mutex
	throttled []http.Header
	all       atomic.Int64
}

func (rec *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	rec.all.Add(1)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		rec.mu.Lock()
		rec.throttled = append(rec.throttled, resp.Header.Clone())
		rec.mu.Unlock()
	}
	return resp, err
}

// sdkClient is a CodeArtifact client with the root key and the standard
// retry mode as a CI job sets it up for a burst: more attempts than the
// default 3. The client-side retry quota (500 tokens, 5 per throttling
// retry, given back when the retried call succeeds) is left as it is:
// with w workers at most w retries are outstanding at once, so 32 workers
// never hold more than 160 tokens of it.
func sdkClient(t *testing.T, c *coffer, rec *recorder) *codeartifact.Client {
	creds := rootCreds(t, c.DataDir)
	return codeartifact.New(codeartifact.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(c.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: rec},
		Retryer:      retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10 }),
	})
}

// throttledCount reads coffer_throttled_requests_total for a surface and
// operation from /metrics.
func throttledCount(t *testing.T, c *coffer, surface, op string) int {
	t.Helper()
	resp, err := http.Get(c.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^coffer_throttled_requests_total\{operation="` + op + `",surface="` + surface + `"\} (\d+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestAuthorizationTokenBurstIsThrottled: with the default quotas (40
// GetAuthorizationToken calls per second per principal, a bucket of 400),
// a burst of 500 calls from one principal is answered in part with 429
// ThrottlingException and Retry-After, and the SDK's standard retry mode
// completes every call. The data plane has no limit by default.
func TestAuthorizationTokenBurstIsThrottled(t *testing.T) {
	c := startCoffer(t, t.TempDir())
	ctx := context.Background()
	rec := &recorder{}
	ca := sdkClient(t, c, rec)
	dom, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("burst")})
	if err != nil {
		t.Fatal(err)
	}

	const calls, workers = 500, 32
	var (
		next   atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
		mu     sync.Mutex
		first  error
		token  string
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= calls {
				out, err := ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("burst")})
				mu.Lock()
				if err != nil {
					failed.Add(1)
					if first == nil {
						first = err
					}
				} else {
					token = aws.ToString(out.AuthorizationToken)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	rec.mu.Lock()
	throttled := rec.throttled
	rec.mu.Unlock()
	t.Logf("%d calls in %v: %d requests sent, %d answered 429", calls, elapsed.Round(time.Millisecond), rec.all.Load(), len(throttled))
	if failed.Load() > 0 {
		t.Fatalf("%d of %d calls failed despite retries; first: %v", failed.Load(), calls, first)
	}
	if len(throttled) == 0 {
		t.Fatalf("no call was throttled: %d calls in %v", calls, elapsed)
	}
	for _, h := range throttled {
		if h.Get("x-amzn-ErrorType") != "ThrottlingException" || h.Get("Retry-After") == "" || h.Get("x-amz-retry-after") == "" {
			t.Fatalf("a 429 without ThrottlingException and Retry-After: %v", h)
		}
	}
	// 500 calls over a bucket of 400 refilled at 40/s take at least 2.5 s.
	if elapsed < 2*time.Second {
		t.Errorf("the burst took %v: the limit let more through than its rate", elapsed)
	}
	if n := throttledCount(t, c, "control", "GetAuthorizationToken"); n != len(throttled) {
		t.Errorf("coffer_throttled_requests_total says %d, the client saw %d", n, len(throttled))
	}

	// A raw 429: the body is the model's ThrottlingException. The bucket
	// refilled while the last retries waited; it holds at most 400.
	empty := sha256.Sum256(nil)
	var resp *http.Response
	for range 1000 {
		req, _ := http.NewRequest(http.MethodPost, c.URL+"/v1/authorization-token?domain=burst", nil)
		if err := v4.NewSigner().SignHTTP(ctx, rootCreds(t, c.DataDir), req, hex.EncodeToString(empty[:]), "codeartifact", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode == http.StatusTooManyRequests {
			resp = r
			break
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if resp == nil {
		t.Fatal("1000 more raw calls in a row were not throttled")
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if body["__type"] != "ThrottlingException" || !strings.Contains(body["message"].(string), "Rate exceeded") {
		t.Fatalf("429 body: %v", body)
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
		t.Fatalf("Retry-After %q, want a second or two", resp.Header.Get("Retry-After"))
	}

	// The data plane has no limit by default: 300 reads in a row.
	url := c.URL + "/npm/d/burst-" + aws.ToString(dom.Domain.Owner) + "/none/left-pad"
	for i := range 300 {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("data-plane request %d throttled without a data-plane limit", i)
		}
	}
}

// TestCLIRetriesThrottledCalls: the aws CLI in standard retry mode gets
// through a quota far below what several CLI processes at once ask for.
func TestCLIRetriesThrottledCalls(t *testing.T) {
	c := startCoffer(t, t.TempDir(), "--api-rate", "GetAuthorizationToken=2/1")
	cli := newAWSCLI(t, c)
	cli.ok("", "create-domain", "--domain", "slow")
	// Empty the bucket, so that every process finds it empty or nearly.
	ca := sdkClient(t, c, &recorder{})
	if _, err := ca.GetAuthorizationToken(context.Background(), &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	env := append(append([]string{}, cli.env...), "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=20")
	const procs = 6
	errs := make(chan string, procs)
	var wg sync.WaitGroup
	start := time.Now()
	for range procs {
		wg.Go(func() {
			out, errOut, code := runAWS(t, env, "", "codeartifact", "get-authorization-token", "--domain", "slow",
				"--endpoint-url", c.URL, "--output", "json")
			if code != 0 || !strings.Contains(out, "authorizationToken") {
				errs <- "exit " + strconv.Itoa(code) + ": " + errOut
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("aws codeartifact get-authorization-token: %s", e)
	}
	n := throttledCount(t, c, "control", "GetAuthorizationToken")
	t.Logf("%d CLI processes in %v, %d requests throttled", procs, time.Since(start).Round(time.Millisecond), n)
	if n == 0 {
		t.Fatal("no CLI request was throttled: the test proves nothing")
	}
}

// TestDataPlaneRateLimitFlag: --data-plane-rate limits native requests per
// principal; the answer over it is 429 with Retry-After in the format's own
// shape (npm's JSON error, generic's plain text). --max-domains is a count
// quota the CLI reports as ServiceQuotaExceededException.
func TestDataPlaneRateLimitFlag(t *testing.T) {
	c := startCoffer(t, t.TempDir(), "--data-plane-rate", "0.5/3", "--max-domains", "1")
	cli := newAWSCLI(t, c)
	owner := str(cli.ok("", "create-domain", "--domain", "dp"), "domain", "owner")
	awsFails(t, cli.env, "", "ServiceQuotaExceededException", "codeartifact", "create-domain", "--domain", "dp2", "--endpoint-url", c.URL)
	cli.ok("", "create-repository", "--domain", "dp", "--repository", "repo")
	token := str(cli.ok("", "get-authorization-token", "--domain", "dp"), "authorizationToken")
	get := func(path string) (int, http.Header, string) {
		req, _ := http.NewRequest(http.MethodGet, c.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, r.Header, string(b)
	}
	npm := "/npm/d/dp-" + owner + "/repo/left-pad"
	for i := range 3 {
		if code, _, body := get(npm); code == http.StatusTooManyRequests {
			t.Fatalf("request %d within the burst of 3: 429 %s", i, body)
		}
	}
	code, h, body := get(npm)
	var doc map[string]string
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || json.Unmarshal([]byte(body), &doc) != nil || !strings.Contains(doc["error"], "Rate exceeded") {
		t.Fatalf("npm over the rate: %d Retry-After %q %q; want 429 with npm's JSON error", code, h.Get("Retry-After"), body)
	}
	code, h, body = get("/generic/d/dp-" + owner + "/repo/ns/pkg/1.0.0/a.txt")
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "Rate exceeded") {
		t.Fatalf("generic over the rate: %d %v %q; want 429 with a plain-text reason", code, h, body)
	}
	if n := throttledCount(t, c, "data", "npm"); n != 1 {
		t.Errorf("throttled npm requests in /metrics: %d, want 1", n)
	}
	// The control plane keeps its own limits: the CLI still works.
	cli.ok("", "describe-domain", "--domain", "dp")
}

// TestCLIRetryModeCompletesBurst: 500 GetAuthorizationToken calls from one
// principal at AWS's rate (40/s), made by botocore — the library the aws
// CLI is built on — configured the way a CI job configures the CLI
// (AWS_RETRY_MODE=standard, AWS_MAX_ATTEMPTS=10, read from the environment
// by the same code). One Python process stands in for 500 CLI processes,
// which would take minutes to start on their own; the retry logic is the
// CLI's own. The bucket holds one second of the rate rather than the
// default ten, so that the burst outruns it however fast this machine
// runs Python: part of it is throttled and every call completes.
func TestCLIRetryModeCompletesBurst(t *testing.T) {
	py := need(t, "python3")
	c := startCoffer(t, t.TempDir(), "--api-rate", "GetAuthorizationToken=40/40")
	cli := newAWSCLI(t, c)
	cli.ok("", "create-domain", "--domain", "ci")
	before := throttledCount(t, c, "control", "GetAuthorizationToken")
	cmd := exec.Command(py, "testdata/burst_botocore.py", c.URL, "ci", "500", "16")
	cmd.Env = append(append([]string{}, cli.env...), "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=10")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "burst: ok 500 ") {
		t.Fatalf("botocore burst: %v\n%s", err, out)
	}
	var ok, retried int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "burst: ok %d %d", &ok, &retried); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	n := throttledCount(t, c, "control", "GetAuthorizationToken") - before
	t.Logf("500 calls: %d answered 429 and retried by botocore's standard mode", n)
	if n == 0 || retried != n {
		t.Fatalf("throttled requests: coffer counted %d, botocore retried %d; want the same, more than 0", n, retried)
	}
}

package cluster_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/smithy-go"
)

// sdk is a CodeArtifact client of root at url that never retries: a test
// must see every refusal.
func (c *cluster) sdk(url string) *codeartifact.Client {
	c.t.Helper()
	b, err := os.ReadFile(c.credentials())
	if err != nil {
		c.t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id\s*=\s*(\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key\s*=\s*(\S+)`).FindSubmatch(b)
	if id == nil || secret == nil {
		c.t.Fatal("root-credentials has no key pair")
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: string(id[1]), SecretAccessKey: string(secret[1])}}),
		awsconfig.WithRetryMaxAttempts(1), awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		c.t.Fatal(err)
	}
	return codeartifact.NewFromConfig(cfg, func(o *codeartifact.Options) {
		o.BaseEndpoint = aws.String(url)
		o.HTTPClient = &http.Client{Timeout: 2 * time.Minute}
	})
}

// seedContent is the asset of the outage tests: larger than what a node
// keeps of S3 in memory (blob/s3's small blobs), so that reading it needs
// the object store.
var seedContent = bytes.Repeat([]byte("the asset the outage tests download\n"), 30_000) // ~1 MB

// content is the distinct asset of publish i.
func content(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "asset %04d of the kill test\n", i), 8_000) // ~220 KB
}

func publish(ctx context.Context, ca *codeartifact.Client, repo, pkg, version string, body []byte) error {
	sum := sha256.Sum256(body)
	_, err := ca.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("acme"), Repository: aws.String(repo),
		Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String(pkg), PackageVersion: aws.String(version),
		AssetName: aws.String("a.bin"), AssetSHA256: aws.String(hex.EncodeToString(sum[:])), AssetContent: bytes.NewReader(body)})
	return err
}

func download(ctx context.Context, ca *codeartifact.Client, repo, pkg, version string) ([]byte, error) {
	out, err := ca.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("acme"), Repository: aws.String(repo),
		Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String(pkg), PackageVersion: aws.String(version), Asset: aws.String("a.bin")})
	if err != nil {
		return nil, err
	}
	defer out.Asset.Close()
	return io.ReadAll(out.Asset)
}

// httpStatus is the HTTP status of a failed SDK call (0 when none came).
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestClusterKillNodeDuringPublishes: kill -9 of one node while 200
// publishes run through the balancer. Every acknowledged publish is there,
// byte-identical; every other one is absent or complete (its answer was
// lost), and publishing it again works; nothing Unfinished is visible.
func TestClusterKillNodeDuringPublishes(t *testing.T) {
	c := newCluster(t, 3)
	ctx := context.Background()
	ca := c.sdk(c.URL)
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("acme"), Repository: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	errs := make([]error, n)
	var acked atomic.Int32
	killed, done := make(chan struct{}), make(chan struct{})
	var didKill atomic.Bool
	go func() { // no t.Fatal here: not the test's goroutine; the publishes end either way
		defer close(killed)
		for acked.Load() < 50 {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond): // poll interval
			}
		}
		_ = c.nodes[1].Cmd.Process.Kill() // SIGKILL: no shutdown, requests cut mid-way
		didKill.Store(true)
	}()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = publish(ctx, ca, "main", fmt.Sprintf("p%03d", i), "1.0.0", content(i))
			if errs[i] == nil {
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	close(done)
	<-killed
	if !didKill.Load() {
		t.Fatalf("the publishes ended (%d acknowledged) before node 1 was killed", acked.Load())
	}
	failed, lost := 0, 0
	for i := range n {
		pkg := fmt.Sprintf("p%03d", i)
		if errs[i] != nil {
			failed++
			t.Logf("publish %d failed: HTTP %d %s", i, httpStatus(errs[i]), errorCode(errs[i]))
			if got, err := download(ctx, ca, "main", pkg, "1.0.0"); err == nil && !bytes.Equal(got, content(i)) {
				t.Fatalf("unacknowledged publish %d left other bytes (%d)", i, len(got))
			} else if err == nil {
				lost++
				continue // stored, only the answer was lost
			}
			if err := publish(ctx, ca, "main", pkg, "1.0.0", content(i)); err != nil {
				t.Fatalf("publish %d again: %v", i, err)
			}
		}
		got, err := download(ctx, ca, "main", pkg, "1.0.0")
		if err != nil || !bytes.Equal(got, content(i)) {
			t.Fatalf("publish %d: download %d bytes, %v", i, len(got), err)
		}
	}
	t.Logf("%d of %d publishes acknowledged; %d failed while node 1 died: %d of them stored (the answer was lost), the others absent and published again",
		n-failed, n, failed, lost)
	// Nothing Unfinished anywhere, and every package has its one version.
	for i := range n {
		out, err := ca.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: aws.String("acme"), Repository: aws.String("main"),
			Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String(fmt.Sprintf("p%03d", i))})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Versions) != 1 || out.Versions[0].Status != types.PackageVersionStatusPublished {
			t.Fatalf("package %d: versions %+v", i, out.Versions)
		}
	}
}

// TestClusterOutage stops PostgreSQL, then (in another cluster) the S3
// server, under a download load through the balancer, and starts it again.
// While it is down the nodes answer 503 — readiness, downloads, publishes —
// and never a wrong answer; a publish refused then leaves no version behind;
// once the server is back the nodes serve again without a restart.
func TestClusterOutage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server func(c *cluster) *service
	}{
		{"PostgreSQL", func(c *cluster) *service { return c.pg }},
		{"S3", func(c *cluster) *service { return c.s3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 2)
			ctx := context.Background()
			ca := c.sdk(c.URL)
			seedOne(t, c, ca)
			load := startLoad(c)
			waitFor(t, "downloads under load", func() bool { return load.count(http.StatusOK) >= 50 })
			tc.server(c).stop()
			waitFor(t, "503s under load", func() bool { return load.count(http.StatusServiceUnavailable) >= 20 })
			for i, node := range c.nodes {
				waitFor(t, "readyz 503 on a node", func() bool { return status(node.URL+"/readyz") == http.StatusServiceUnavailable })
				_, err := download(ctx, c.sdk(node.URL), "main", "p", "1.0.0")
				if httpStatus(err) != http.StatusServiceUnavailable {
					t.Fatalf("node %d: download while %s is down: HTTP %d, %v", i, tc.name, httpStatus(err), err)
				}
				err = publish(ctx, c.sdk(node.URL), "main", "q", "1.0.0", content(1))
				if httpStatus(err) != http.StatusServiceUnavailable {
					t.Fatalf("node %d: publish while %s is down: HTTP %d, %v", i, tc.name, httpStatus(err), err)
				}
			}
			tc.server(c).start()
			for _, node := range c.nodes {
				waitFor(t, "readyz 200 after the server is back", func() bool { return status(node.URL+"/readyz") == http.StatusOK })
			}
			served := load.count(http.StatusOK)
			waitFor(t, "downloads under load after the server is back", func() bool { return load.count(http.StatusOK) >= served+50 })
			load.finish(t)
			// The refused publishes left no version behind.
			_, err := ca.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: aws.String("acme"), Repository: aws.String("main"),
				Format: types.PackageFormatGeneric, Namespace: aws.String("ns"), Package: aws.String("q")})
			if errorCode(err) != "ResourceNotFoundException" {
				t.Fatalf("package of the refused publishes: %v", err)
			}
			for i := range 4 { // through the balancer: both nodes
				if got, err := download(ctx, ca, "main", "p", "1.0.0"); err != nil || !bytes.Equal(got, seedContent) {
					t.Fatalf("download %d after the outage: %d bytes, %v", i, len(got), err)
				}
			}
			if err := publish(ctx, ca, "main", "q", "1.0.0", content(1)); err != nil {
				t.Fatalf("publish after the outage: %v", err)
			}
			if got, err := download(ctx, ca, "main", "q", "1.0.0"); err != nil || !bytes.Equal(got, content(1)) {
				t.Fatalf("download of the new publish: %d bytes, %v", len(got), err)
			}
		})
	}
}

// loader downloads p 1.0.0 through the balancer from 8 clients until
// stopped, and tallies the answers: during an outage each is the asset,
// byte-identical, a 503 (502 from nginx for a node that is gone), or a
// body cut short of its Content-Length when the outage began mid-download
// — never another error, never other bytes.
type loader struct {
	stop    chan struct{}
	done    sync.WaitGroup
	mu      sync.Mutex
	answers map[int]int // HTTP status → count (200 only with the right bytes; -1: cut mid-body)
	bad     []string
}

func startLoad(c *cluster) *loader {
	l := &loader{stop: make(chan struct{}), answers: map[int]int{}}
	ca := c.sdk(c.URL)
	for range 8 {
		l.done.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				got, err := download(context.Background(), ca, "main", "p", "1.0.0")
				code := http.StatusOK
				switch {
				case errors.Is(err, io.ErrUnexpectedEOF):
					code = -1 // a download cut mid-body when the store went away: the client knows
				case err != nil:
					code = httpStatus(err)
				}
				l.mu.Lock()
				l.answers[code]++
				switch {
				case err == nil && !bytes.Equal(got, seedContent):
					l.bad = append(l.bad, fmt.Sprintf("%d bytes that are not the asset", len(got)))
				case code >= 0 && err != nil && code != http.StatusServiceUnavailable && code != http.StatusBadGateway:
					l.bad = append(l.bad, fmt.Sprintf("HTTP %d %s: %v", code, errorCode(err), err))
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// count is how many answers of code the load has had so far.
func (l *loader) count(code int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.answers[code]
}

// finish stops the load and fails the test on any wrong answer.
func (l *loader) finish(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.done.Wait()
	t.Logf("answers under load: %v", l.answers)
	if len(l.bad) > 0 {
		t.Fatalf("%d wrong answers under load, first: %s", len(l.bad), l.bad[0])
	}
}

// seedOne creates domain acme, repository main and package p 1.0.0.
func seedOne(t *testing.T, c *cluster, ca *codeartifact.Client) {
	t.Helper()
	ctx := context.Background()
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("acme"), Repository: aws.String("main")}); err != nil {
		t.Fatal(err)
	}
	if err := publish(ctx, ca, "main", "p", "1.0.0", seedContent); err != nil {
		t.Fatal(err)
	}
}

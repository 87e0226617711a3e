// cofferbench: client side of coffer's core benchmark (bench/core.sh).
//
//	cofferbench freeport                       print a free TCP port on 127.0.0.1
//	cofferbench waitready -url U -t0 NS        poll U (/readyz) until 200; print ms since t0 (Unix ns)
//	cofferbench setup     [common]             create domain and repository "bench" (ConflictException ignored)
//	cofferbench npmsetup  [common] [-repository npm]
//	                                           also create repository npm in domain "bench"; print its npm
//	                                           endpoint and a 12 h authorization token, on one line
//	cofferbench publish   [common] -file F -version V
//	                                           publish F as generic asset bench/big/V/big.bin; JSON line with MB/s
//	cofferbench presign   [common] [-version V] print a presigned (SigV4 query string, 1 h) GetPackageVersionAsset URL
//	cofferbench seed      [common] -n N -workers 8
//	                                           create N version-less packages with PutPackageOriginConfiguration
//	cofferbench list      [common] -samples S  ListPackages latency, p50/p99 per scenario (JSON lines)
//	cofferbench table                          JSON lines on stdin -> markdown tables, median [min–max]
//
// common flags: -endpoint http://127.0.0.1:PORT -creds DATA_DIR/root-credentials [-profile coffer]
//
// Output lines are JSON objects {"test": NAME, METRIC: number, ...}; keys starting with "_" are
// details left out of the tables, "_s" names the table a line belongs to. 1 MB = 10^6 bytes.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"
	"github.com/aws/smithy-go/middleware"
)

const (
	region    = "us-east-1"
	service   = "codeartifact"
	domain    = "bench"
	repo      = "bench"
	namespace = "bench"
	pkgName   = "big"
	assetName = "big.bin"
	emptySHA  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("cofferbench: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: cofferbench freeport|waitready|setup|npmsetup|publish|presign|seed|list|table [flags]")
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "freeport":
		err = freeport()
	case "waitready":
		err = waitready(args)
	case "setup":
		err = setup(args)
	case "npmsetup":
		err = npmsetup(args)
	case "publish":
		err = publish(args)
	case "presign":
		err = presign(args)
	case "seed":
		err = seed(args)
	case "list":
		err = list(args)
	case "table":
		err = table(os.Stdin, os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// emit prints one JSON result line.
func emit(section, test string, kv ...any) {
	m := map[string]any{"test": test, "_s": section}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(b))
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ---------------------------------------------------------------- client plumbing

type env struct {
	endpoint string
	creds    aws.Credentials
	http     *http.Client
	ca       *codeartifact.Client
}

// flags adds the common flags to fs and returns a function that builds the env after Parse.
func flags(fs *flag.FlagSet) func() (*env, error) {
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "coffer base URL")
	credsFile := fs.String("creds", "", "root-credentials file (AWS shared-credentials format)")
	profile := fs.String("profile", "coffer", "profile in the credentials file")
	return func() (*env, error) {
		if *credsFile == "" {
			return nil, errors.New("-creds is required")
		}
		c, err := loadCreds(*credsFile, *profile)
		if err != nil {
			return nil, err
		}
		hc := &http.Client{Transport: &http.Transport{
			Proxy:               nil, // loopback only, whatever the environment says
			MaxIdleConnsPerHost: 32,
			DisableCompression:  true,
			WriteBufferSize:     256 << 10,
			ReadBufferSize:      256 << 10,
		}}
		e := &env{endpoint: strings.TrimRight(*endpoint, "/"), creds: c, http: hc}
		e.ca = codeartifact.New(codeartifact.Options{
			Region:       region,
			Credentials:  credentials.StaticCredentialsProvider{Value: c},
			BaseEndpoint: aws.String(e.endpoint),
			HTTPClient:   hc,
		})
		return e, nil
	}
}

// loadCreds reads aws_access_key_id / aws_secret_access_key of [profile] from an INI file.
func loadCreds(path, profile string) (aws.Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer f.Close()
	var c aws.Credentials
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			in = strings.TrimSpace(strings.Trim(line, "[]")) == profile
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		case "aws_session_token":
			c.SessionToken = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("%s: no keys in profile [%s]", path, profile)
	}
	c.Source = "cofferbench:" + path
	return c, nil
}

// ---------------------------------------------------------------- freeport, waitready

func freeport() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	return nil
}

// waitready polls URL every 2 ms until it answers 200 and prints the milliseconds since t0.
func waitready(args []string) error {
	fs := flag.NewFlagSet("waitready", flag.ExitOnError)
	u := fs.String("url", "", "readiness URL")
	t0 := fs.Int64("t0", 0, "start time, Unix nanoseconds (default: now)")
	timeout := fs.Duration("timeout", 120*time.Second, "give up after")
	fs.Parse(args)
	start := time.Now()
	if *t0 != 0 {
		start = time.Unix(0, *t0)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(*timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		resp, err := hc.Get(*u)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				fmt.Printf("%.1f\n", float64(time.Since(start))/1e6)
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s (last: %s)", *u, *timeout, last)
}

// ---------------------------------------------------------------- setup

func setup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	mk := flags(fs)
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	return e.createRepository(context.Background(), repo)
}

// createRepository creates domain "bench" and repository name in it; a
// ConflictException (already there) is no error.
func (e *env) createRepository(ctx context.Context, name string) error {
	var conflict *types.ConflictException
	if _, err := e.ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String(domain)}); err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("CreateDomain: %w", err)
	}
	if _, err := e.ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{
		Domain: aws.String(domain), Repository: aws.String(name),
	}); err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("CreateRepository: %w", err)
	}
	return nil
}

// npmsetup creates domain "bench" and an npm-facing repository in it (ConflictException
// ignored) and prints "ENDPOINT TOKEN": GetRepositoryEndpoint (format npm) and
// GetAuthorizationToken (12 h), what bench/run.sh hands to ../shared/bench/fixtures.py.
func npmsetup(args []string) error {
	fs := flag.NewFlagSet("npmsetup", flag.ExitOnError)
	mk := flags(fs)
	name := fs.String("repository", "npm", "repository name")
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := e.createRepository(ctx, *name); err != nil {
		return err
	}
	ep, err := e.ca.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{
		Domain: aws.String(domain), Repository: aws.String(*name), Format: types.PackageFormatNpm,
	})
	if err != nil {
		return fmt.Errorf("GetRepositoryEndpoint: %w", err)
	}
	tok, err := e.ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{
		Domain: aws.String(domain), DurationSeconds: aws.Int64(43200),
	})
	if err != nil {
		return fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	fmt.Println(aws.ToString(ep.RepositoryEndpoint), aws.ToString(tok.AuthorizationToken))
	return nil
}

// ---------------------------------------------------------------- publish

// presetPayloadHash puts the asset's SHA-256 (known beforehand) in the context as the SigV4
// payload hash, so that the SDK's ComputePayloadSHA256 middleware does not read the whole file a
// second time before sending it (the value is the same: the SDK sends assetSHA256 as
// x-amz-content-sha256).
func presetPayloadHash(sum string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("cofferbenchPresetPayloadHash",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
				middleware.FinalizeOutput, middleware.Metadata, error,
			) {
				return next.HandleFinalize(v4.SetPayloadHash(ctx, sum), in)
			}), middleware.Before)
	}
}

func publish(args []string) error {
	fs := flag.NewFlagSet("publish", flag.ExitOnError)
	mk := flags(fs)
	file := fs.String("file", "", "file to publish")
	version := fs.String("version", "1.0.0", "package version")
	test := fs.String("test", "", "test name in the JSON line")
	sdkHash := fs.Bool("sdk-hash", false, "let the SDK hash the body for SigV4 before sending (its default: one more client-side read)")
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	opts := func(o *codeartifact.Options) {
		o.RetryMaxAttempts = 1 // a retry would hide a failure inside the timing
		if !*sdkHash {
			o.APIOptions = append(o.APIOptions, presetPayloadHash(sum))
		}
	}
	start := time.Now()
	out, err := e.ca.PublishPackageVersion(context.Background(), &codeartifact.PublishPackageVersionInput{
		Domain:         aws.String(domain),
		Repository:     aws.String(repo),
		Format:         types.PackageFormatGeneric,
		Namespace:      aws.String(namespace),
		Package:        aws.String(pkgName),
		PackageVersion: aws.String(*version),
		AssetName:      aws.String(assetName),
		AssetSHA256:    aws.String(sum),
		AssetContent:   f, // *os.File: streamed, Content-Length from Seek
	}, opts)
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("PublishPackageVersion: %w", err)
	}
	if out.Asset == nil || out.Asset.Size == nil || *out.Asset.Size != st.Size() || out.Asset.Hashes["SHA-256"] != sum {
		b, _ := json.Marshal(out.Asset)
		return fmt.Errorf("publish answered an unexpected asset summary: %s (want size %d, SHA-256 %s)", b, st.Size(), sum)
	}
	name := *test
	if name == "" {
		name = fmt.Sprintf("publish %d MiB generic asset (SDK, streamed)", st.Size()>>20)
	}
	emit("throughput", name, "MB/s", round(float64(st.Size())/elapsed.Seconds()/1e6, 1),
		"_s_elapsed", round(elapsed.Seconds(), 3), "_version", *version, "_status", string(out.Status), "_sha256", sum)
	return nil
}

// ---------------------------------------------------------------- presign

func presign(args []string) error {
	fs := flag.NewFlagSet("presign", flag.ExitOnError)
	mk := flags(fs)
	version := fs.String("version", "1.0.0", "package version")
	expires := fs.Duration("expires", time.Hour, "validity")
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range map[string]string{"domain": domain, "repository": repo, "format": "generic",
		"namespace": namespace, "package": pkgName, "version": *version, "asset": assetName} {
		q.Set(k, v)
	}
	q.Set("X-Amz-Expires", strconv.Itoa(int(expires.Seconds())))
	req, err := http.NewRequest(http.MethodGet, e.endpoint+"/v1/package/version/asset?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), e.creds, req, "UNSIGNED-PAYLOAD", service, region, time.Now())
	if err != nil {
		return err
	}
	fmt.Println(signed)
	return nil
}

// ---------------------------------------------------------------- seed

func seedName(i int) (ns, name string) {
	return fmt.Sprintf("ns-%d", i%10), fmt.Sprintf("pkg-%06d", i)
}

func seed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	mk := flags(fs)
	n := fs.Int("n", 100000, "number of packages")
	workers := fs.Int("workers", 8, "concurrent requests")
	maxErrors := fs.Int("max-errors", 20, "stop after this many failed requests")
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// What is already there (a rerun skips it).
	t0 := time.Now()
	have := map[string]bool{}
	var token *string
	for pages := 0; pages < *n/1000+1000; pages++ {
		out, err := e.ca.ListPackages(ctx, &codeartifact.ListPackagesInput{
			Domain: aws.String(domain), Repository: aws.String(repo), Format: types.PackageFormatGeneric,
			Namespace: aws.String("ns-"), MaxResults: aws.Int32(1000), NextToken: token,
		})
		if err != nil {
			return fmt.Errorf("ListPackages (existing packages): %w", err)
		}
		for _, p := range out.Packages {
			have[aws.ToString(p.Namespace)+"/"+aws.ToString(p.Package)] = true
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	listed := time.Since(t0)
	var todo []int
	for i := 0; i < *n; i++ {
		ns, name := seedName(i)
		if !have[ns+"/"+name] {
			todo = append(todo, i)
		}
	}
	log.Printf("seed: %d packages present (listed in %s), %d to create with %d workers", len(have), listed.Round(time.Millisecond), len(todo), *workers)

	jobs := make(chan int)
	var done, failed atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	start := time.Now()
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				ns, name := seedName(i)
				_, err := e.ca.PutPackageOriginConfiguration(ctx, &codeartifact.PutPackageOriginConfigurationInput{
					Domain: aws.String(domain), Repository: aws.String(repo), Format: types.PackageFormatGeneric,
					Namespace: aws.String(ns), Package: aws.String(name),
					Restrictions: &types.PackageOriginRestrictions{Publish: types.AllowPublishAllow, Upstream: types.AllowUpstreamAllow},
				})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("PutPackageOriginConfiguration %s/%s: %w", ns, name, err)
					}
					mu.Unlock()
					if failed.Add(1) >= int64(*maxErrors) {
						cancel()
					}
					continue
				}
				if d := done.Add(1); d%10000 == 0 {
					log.Printf("seed: %d/%d in %s", d, len(todo), time.Since(start).Round(time.Second))
				}
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		return fmt.Errorf("%d requests failed; first: %w", failed.Load(), firstErr)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done.Load()) / elapsed.Seconds()
	}
	emit("seed", fmt.Sprintf("seed %d packages, PutPackageOriginConfiguration, %d workers", *n, *workers),
		"s", round(elapsed.Seconds(), 1), "req/s", round(rate, 0),
		"_created", done.Load(), "_skipped", len(have), "_list_existing_s", round(listed.Seconds(), 2))
	return nil
}

// ---------------------------------------------------------------- list

type listPage struct {
	Packages  []json.RawMessage `json:"packages"`
	NextToken string            `json:"nextToken"`
}

// listOnce sends one signed ListPackages request and times it from sending to the last body byte
// (signing and JSON decoding are outside the timing).
func (e *env) listOnce(q url.Values) (time.Duration, int, listPage, error) {
	var page listPage
	req, err := http.NewRequest(http.MethodPost, e.endpoint+"/v1/packages?"+q.Encode(), nil)
	if err != nil {
		return 0, 0, page, err
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), e.creds, req, emptySHA, service, region, time.Now()); err != nil {
		return 0, 0, page, err
	}
	start := time.Now()
	resp, err := e.http.Do(req)
	if err != nil {
		return 0, 0, page, err
	}
	body, err := io.ReadAll(resp.Body)
	d := time.Since(start)
	resp.Body.Close()
	if err != nil {
		return 0, 0, page, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, page, fmt.Errorf("POST /v1/packages?%s: %s: %.500s", q.Encode(), resp.Status, body)
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return 0, 0, page, fmt.Errorf("POST /v1/packages?%s: %w", q.Encode(), err)
	}
	return d, len(body), page, nil
}

func baseQuery(size int) url.Values {
	q := url.Values{}
	q.Set("domain", domain)
	q.Set("repository", repo)
	q.Set("max-results", strconv.Itoa(size))
	return q
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return round(float64(d)/1e6, 2) }

func list(args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	mk := flags(fs)
	samples := fs.Int("samples", 300, "requests per scenario")
	warmup := fs.Int("warmup", 20, "untimed requests per scenario")
	n := fs.Int("n", 100000, "packages seeded (names pkg-000000 … in ns-0 … ns-9)")
	seedv := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	e, err := mk()
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seedv, 42))

	// Walk the whole listing twice (maxResults 1000 and 100): the time of a full walk, and the
	// nextTokens of every 100th position for the random-page scenarios.
	var tokens []string
	for _, size := range []int{1000, 100} {
		var total time.Duration
		items, pages := 0, 0
		tok := ""
		for ; pages < *n/size+100; pages++ {
			q := baseQuery(size)
			if tok != "" {
				q.Set("next-token", tok)
			}
			d, _, page, err := e.listOnce(q)
			if err != nil {
				return err
			}
			total += d
			items += len(page.Packages)
			if tok = page.NextToken; tok == "" {
				pages++
				break
			}
			if size == 100 {
				tokens = append(tokens, tok)
			}
		}
		if items < *n {
			log.Printf("list: WARNING: the full walk with maxResults %d returned %d packages in %d pages, want ≥ %d", size, items, pages, *n)
		}
		emit("walk", fmt.Sprintf("ListPackages full walk, maxResults %d", size), "s", round(total.Seconds(), 3),
			"pages", pages, "packages", items)
	}
	if len(tokens) == 0 {
		return errors.New("list: the listing returned no nextToken; is the repository seeded?")
	}

	type scenario struct {
		name  string
		query func() url.Values
		want  int // items expected per page, 0: do not check
	}
	first := func(size int) func() url.Values { return func() url.Values { return baseQuery(size) } }
	random := func(size int) func() url.Values {
		return func() url.Values {
			q := baseQuery(size)
			q.Set("next-token", tokens[rng.IntN(len(tokens))])
			return q
		}
	}
	// pkg-0XYZ: names pkg-0XYZ00 … pkg-0XYZ99, 100 packages spread over the 10 namespaces.
	narrow := func(size int) func() url.Values {
		return func() url.Values {
			q := baseQuery(size)
			q.Set("package-prefix", fmt.Sprintf("pkg-%04d", rng.IntN(max(1, *n/100))))
			return q
		}
	}
	// pkg-0X: 10,000 packages.
	broad := func(size int) func() url.Values {
		return func() url.Values {
			q := baseQuery(size)
			q.Set("package-prefix", fmt.Sprintf("pkg-%02d", rng.IntN(max(1, *n/10000))))
			return q
		}
	}
	// namespace ns-X plus pkg-0XY: 100 packages in one namespace.
	both := func(size int) func() url.Values {
		return func() url.Values {
			q := baseQuery(size)
			x := rng.IntN(10)
			q.Set("namespace", fmt.Sprintf("ns-%d", x))
			q.Set("package-prefix", fmt.Sprintf("pkg-%03d", rng.IntN(max(1, *n/1000))))
			return q
		}
	}
	scenarios := []scenario{
		{"first page, maxResults 100", first(100), 100},
		{"first page, maxResults 1000", first(1000), 1000},
		{"random nextToken, maxResults 100", random(100), 0},
		{"random nextToken, maxResults 1000", random(1000), 0},
		{"package-prefix pkg-0XYZ (100 match), maxResults 100", narrow(100), 100},
		{"package-prefix pkg-0XYZ (100 match), maxResults 1000", narrow(1000), 100},
		{"package-prefix pkg-0X (10,000 match), maxResults 1000", broad(1000), 1000},
		{"namespace ns-X + package-prefix pkg-0XY (100 match), maxResults 100", both(100), 100},
	}
	for _, s := range scenarios {
		ds := make([]time.Duration, 0, *samples)
		var bytes, items int
		for i := 0; i < *warmup+*samples; i++ {
			d, nb, page, err := e.listOnce(s.query())
			if err != nil {
				return err
			}
			if s.want > 0 && len(page.Packages) != s.want {
				log.Printf("list: WARNING: %s: a page held %d packages, want %d", s.name, len(page.Packages), s.want)
			}
			if i >= *warmup {
				ds = append(ds, d)
				bytes += nb
				items += len(page.Packages)
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		emit("list", "ListPackages "+s.name, "p50 ms", ms(percentile(ds, 0.50)), "p99 ms", ms(percentile(ds, 0.99)),
			"max ms", ms(ds[len(ds)-1]), "_mean_ms", ms(sum/time.Duration(len(ds))),
			"_items_per_page", round(float64(items)/float64(len(ds)), 1), "_bytes_per_page", bytes/len(ds), "_samples", len(ds))
	}
	return nil
}

// ---------------------------------------------------------------- table

// table groups JSON lines by "_s" (one markdown table each, in order of appearance) and by
// "test" (one row each): median [min–max] of every metric over the repetitions.
func table(r io.Reader, w io.Writer) error {
	type row struct {
		test string
		runs []map[string]float64
	}
	type section struct {
		name string
		cols []string
		rows []*row
	}
	var sections []*section
	secByName := map[string]*section{}
	rowByKey := map[string]*row{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "JSON ")
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return fmt.Errorf("%v: %s", err, line)
		}
		sname, _ := m["_s"].(string)
		test, _ := m["test"].(string)
		s := secByName[sname]
		if s == nil {
			s = &section{name: sname}
			secByName[sname] = s
			sections = append(sections, s)
		}
		rw := rowByKey[sname+"\x00"+test]
		if rw == nil {
			rw = &row{test: test}
			rowByKey[sname+"\x00"+test] = rw
			s.rows = append(s.rows, rw)
		}
		run := map[string]float64{}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, ok := m[k].(float64)
			if !ok || k == "test" || strings.HasPrefix(k, "_") {
				continue
			}
			run[k] = v
			found := false
			for _, c := range s.cols {
				found = found || c == k
			}
			if !found {
				s.cols = append(s.cols, k)
			}
		}
		rw.runs = append(rw.runs, run)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	order := map[string]int{"throughput": 1, "noise": 2, "cpu": 3, "memory": 4, "startup": 5, "seed": 6, "disk": 7, "list": 8, "walk": 9}
	sort.SliceStable(sections, func(i, j int) bool {
		oi, oj := order[sections[i].name], order[sections[j].name]
		if oi == 0 {
			oi = len(order) + 1
		}
		if oj == 0 {
			oj = len(order) + 1
		}
		return oi < oj
	})
	for _, s := range sections {
		cols := orderCols(s.cols)
		fmt.Fprintf(w, "\n%s\n\n| test | runs | %s |\n|---|---|%s\n", s.name, strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		for _, rw := range s.rows {
			cells := make([]string, len(cols))
			for i, c := range cols {
				var v []float64
				for _, run := range rw.runs {
					if x, ok := run[c]; ok {
						v = append(v, x)
					}
				}
				if len(v) == 0 {
					continue
				}
				sort.Float64s(v)
				cells[i] = fmtNum(median(v))
				if len(v) > 1 {
					cells[i] += " [" + fmtNum(v[0]) + "–" + fmtNum(v[len(v)-1]) + "]"
				}
			}
			fmt.Fprintf(w, "| %s | %d | %s |\n", rw.test, len(rw.runs), strings.Join(cells, " | "))
		}
	}
	return nil
}

// orderCols puts the usual metrics first in a fixed order, then the rest alphabetically.
func orderCols(cols []string) []string {
	pref := []string{"MB/s", "MiB", "ms", "s", "req/s", "p50 ms", "p99 ms", "max ms", "pages", "packages"}
	var out []string
	seen := map[string]bool{}
	for _, p := range pref {
		for _, c := range cols {
			if c == p {
				out = append(out, c)
				seen[c] = true
			}
		}
	}
	var rest []string
	for _, c := range cols {
		if !seen[c] {
			rest = append(rest, c)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func fmtNum(x float64) string {
	if math.Abs(x) >= 100 {
		return commas(int64(math.Round(x)))
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

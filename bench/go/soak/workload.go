package main

// The well-formed workload: what 200 ordinary clients do, against
// repository "work" of domain "soak" (which has npm-store and pypi-store,
// holding the hostile external connections, as upstreams). Every request
// here names only what the soak itself published, so any 5xx is coffer's
// fault.

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/format/npm/npmtest"
	"coffer/internal/format/pypi/pypitest"
)

const (
	domain    = "soak"
	workRepo  = "work"
	npmStore  = "npm-store"
	pypiStore = "pypi-store"
	genNS     = "soak"
	genAsset  = "a.bin"
	mvnGroup  = "com.soak"
)

type env struct {
	base    string // http://127.0.0.1:PORT
	creds   aws.Credentials
	hc      *http.Client // data plane and SDK, shared by the 200 clients
	ca      *codeartifact.Client
	token   string
	ep      map[string]string // format -> work's endpoint, ending in "/"
	timeout time.Duration     // per well-formed request

	known known
}

// known is what the soak published and may read: append-only lists.
type known struct {
	mu      sync.RWMutex
	generic []genRef
	npm     []npmRef
	pypi    []string // project names
	pyFiles []string // absolute file URLs
	maven   []mvnRef
}

type genRef struct{ pkg, version string }
type npmRef struct{ name, version string }
type mvnRef struct{ artifact, version string }

func pick[T any](k *known, s *[]T) (T, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var zero T
	if len(*s) == 0 {
		return zero, false
	}
	return (*s)[rand.IntN(len(*s))], true
}

func add[T any](k *known, s *[]T, v T) {
	k.mu.Lock()
	*s = append(*s, v)
	k.mu.Unlock()
}

func newEnv(base string, creds aws.Credentials, timeout time.Duration) *env {
	hc := &http.Client{Transport: &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	e := &env{base: base, creds: creds, hc: hc, timeout: timeout, ep: map[string]string{}}
	e.ca = codeartifact.New(codeartifact.Options{
		Region:       "us-east-1",
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(base),
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{}, // a retry would hide a 5xx
	})
	return e
}

func (e *env) closeIdle() { e.hc.CloseIdleConnections() }

// ---------------------------------------------------------------- setup

func (e *env) setup(ctx context.Context) error {
	var conflict *types.ConflictException
	if _, err := e.ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String(domain)}); err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("CreateDomain: %w", err)
	}
	for _, r := range []struct{ repo, conn string }{{npmStore, "public:npmjs"}, {pypiStore, "public:pypi"}} {
		if _, err := e.ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String(domain), Repository: aws.String(r.repo)}); err != nil {
			return fmt.Errorf("CreateRepository %s: %w", r.repo, err)
		}
		if _, err := e.ca.AssociateExternalConnection(ctx, &codeartifact.AssociateExternalConnectionInput{Domain: aws.String(domain),
			Repository: aws.String(r.repo), ExternalConnection: aws.String(r.conn)}); err != nil {
			return fmt.Errorf("AssociateExternalConnection %s: %w", r.conn, err)
		}
	}
	if _, err := e.ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String(domain), Repository: aws.String(workRepo),
		Upstreams: []types.UpstreamRepository{{RepositoryName: aws.String(npmStore)}, {RepositoryName: aws.String(pypiStore)}}}); err != nil {
		return fmt.Errorf("CreateRepository %s: %w", workRepo, err)
	}
	for _, f := range []types.PackageFormat{types.PackageFormatNpm, types.PackageFormatPypi, types.PackageFormatMaven, types.PackageFormatGeneric} {
		out, err := e.ca.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String(domain),
			Repository: aws.String(workRepo), Format: f})
		if err != nil {
			return fmt.Errorf("GetRepositoryEndpoint %s: %w", f, err)
		}
		ep := aws.ToString(out.RepositoryEndpoint)
		if !strings.HasSuffix(ep, "/") {
			ep += "/"
		}
		e.ep[string(f)] = ep
	}
	tok, err := e.ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String(domain)})
	if err != nil {
		return fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	e.token = aws.ToString(tok.AuthorizationToken)
	return nil
}

// seed publishes what the readers read: generic versions, npm packages,
// PyPI projects and Maven artifacts, 8 at a time. Every request is
// recorded (in classes of its own kind) and must succeed.
func (e *env) seed(ctx context.Context) error {
	type job func(ctx context.Context) error
	var jobs []job
	for i := range 32 {
		jobs = append(jobs, func(ctx context.Context) error {
			return e.publishGeneric(ctx, fmt.Sprintf("gen-%02d", i%8), fmt.Sprintf("0.0.%d", i))
		})
		jobs = append(jobs, func(ctx context.Context) error { return e.publishNPM(ctx, fmt.Sprintf("soak-npm-%02d", i), "1.0.0") })
	}
	for i := range 16 {
		jobs = append(jobs, func(ctx context.Context) error {
			name := fmt.Sprintf("soak-py-%02d", i)
			if err := e.uploadPyPI(ctx, name, "1.0.0"); err != nil {
				return err
			}
			add(&e.known, &e.known.pypi, name)
			return nil
		})
		jobs = append(jobs, func(ctx context.Context) error { return e.putMaven(ctx, fmt.Sprintf("lib-%02d", i), "1.0.0") })
	}
	errs := make(chan error, len(jobs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- j(ctx)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	// The PyPI file URLs, as coffer's pages link them.
	for _, name := range e.known.pypi {
		page := e.ep["pypi"] + "simple/" + name + "/"
		st, body, err := e.get(ctx, "pypi.simple", page, "Accept", "text/html")
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("GET %s: %d %v", page, st, err)
		}
		base, _ := url.Parse(page)
		for _, m := range hrefRE.FindAllStringSubmatch(string(body), -1) {
			if f, err := base.Parse(m[1]); err == nil {
				f.Fragment = ""
				add(&e.known, &e.known.pyFiles, f.String())
			}
		}
	}
	if len(e.known.pyFiles) == 0 {
		return errors.New("coffer's PyPI pages link no file")
	}
	return nil
}

var hrefRE = regexp.MustCompile(`href="([^"]+)"`)

// ---------------------------------------------------------------- requests

// sdk records one control-plane call of class name.
func sdk(ctx context.Context, name string, call func(ctx context.Context) (int64, error)) error {
	start := time.Now()
	n, err := call(ctx)
	d := time.Since(start)
	if err == nil {
		record(name, kindWell, "200", d, n, "")
		return nil
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		record(name, kindWell, statusOutcome(re.HTTPStatusCode()), d, n, err.Error())
	} else {
		record(name, kindWell, errOutcome(context.TODO(), err), d, n, err.Error())
	}
	return err
}

// do sends a well-formed data-plane request with the token and records it
// as class name; it returns the status and the body (read whole: these are
// small).
func (e *env) do(ctx context.Context, name, method, u string, body []byte, header ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case strings.Contains(u, "/npm/"):
		req.Header.Set("Authorization", "Bearer "+e.token)
	default:
		req.SetBasicAuth("aws", e.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := e.hc.Do(req)
	if err != nil {
		record(name, kindWell, errOutcome(context.TODO(), err), time.Since(start), 0, method+" "+u+": "+err.Error())
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	d := time.Since(start)
	if err != nil {
		record(name, kindWell, errOutcome(context.TODO(), err), d, int64(len(b)), method+" "+u+": reading the body: "+err.Error())
		return resp.StatusCode, b, err
	}
	detail := ""
	if resp.StatusCode >= 400 {
		detail = fmt.Sprintf("%s %s: %.300s", method, u, b)
	}
	record(name, kindWell, statusOutcome(resp.StatusCode), d, int64(len(b)), detail)
	return resp.StatusCode, b, nil
}

func (e *env) get(ctx context.Context, name, u string, header ...string) (int, []byte, error) {
	return e.do(ctx, name, http.MethodGet, u, nil, header...)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return b
}

func statusErr(what string, st int, b []byte) error {
	if st >= 200 && st < 300 {
		return nil
	}
	return fmt.Errorf("%s: %d %.200s", what, st, b)
}

// ---------------------------------------------------------------- control plane

func (e *env) publishGeneric(ctx context.Context, pkg, version string) error {
	content := randomBytes(1024 + rand.IntN(3072))
	sum := sha256.Sum256(content)
	err := sdk(ctx, "cp.PublishPackageVersion", func(ctx context.Context) (int64, error) {
		_, err := e.ca.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{
			Domain: aws.String(domain), Repository: aws.String(workRepo), Format: types.PackageFormatGeneric,
			Namespace: aws.String(genNS), Package: aws.String(pkg), PackageVersion: aws.String(version),
			AssetName: aws.String(genAsset), AssetSHA256: aws.String(hex.EncodeToString(sum[:])), AssetContent: bytes.NewReader(content),
		})
		return 0, err
	})
	if err == nil {
		add(&e.known, &e.known.generic, genRef{pkg, version})
	}
	return err
}

func (e *env) listPackages(ctx context.Context) error {
	in := &codeartifact.ListPackagesInput{Domain: aws.String(domain), Repository: aws.String(workRepo), MaxResults: aws.Int32(50)}
	switch rand.IntN(4) {
	case 0:
		in.Format = types.PackageFormatNpm
		in.PackagePrefix = aws.String("soak-npm-")
	case 1:
		in.Format = types.PackageFormatGeneric
		in.Namespace = aws.String(genNS)
	case 2:
		in.Format = types.PackageFormatMaven
	}
	return sdk(ctx, "cp.ListPackages", func(ctx context.Context) (int64, error) {
		_, err := e.ca.ListPackages(ctx, in)
		return 0, err
	})
}

func (e *env) describeVersion(ctx context.Context) error {
	in := &codeartifact.DescribePackageVersionInput{Domain: aws.String(domain), Repository: aws.String(workRepo)}
	if rand.IntN(3) == 0 {
		r, ok := pick(&e.known, &e.known.npm)
		if !ok {
			return nil
		}
		in.Format, in.Package, in.PackageVersion = types.PackageFormatNpm, aws.String(r.name), aws.String(r.version)
	} else {
		r, ok := pick(&e.known, &e.known.generic)
		if !ok {
			return nil
		}
		in.Format, in.Namespace, in.Package, in.PackageVersion = types.PackageFormatGeneric, aws.String(genNS), aws.String(r.pkg), aws.String(r.version)
	}
	return sdk(ctx, "cp.DescribePackageVersion", func(ctx context.Context) (int64, error) {
		_, err := e.ca.DescribePackageVersion(ctx, in)
		return 0, err
	})
}

func (e *env) getAsset(ctx context.Context) error {
	r, ok := pick(&e.known, &e.known.generic)
	if !ok {
		return nil
	}
	return sdk(ctx, "cp.GetPackageVersionAsset", func(ctx context.Context) (int64, error) {
		out, err := e.ca.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String(domain),
			Repository: aws.String(workRepo), Format: types.PackageFormatGeneric, Namespace: aws.String(genNS),
			Package: aws.String(r.pkg), PackageVersion: aws.String(r.version), Asset: aws.String(genAsset)})
		if err != nil {
			return 0, err
		}
		defer out.Asset.Close()
		return io.Copy(io.Discard, out.Asset)
	})
}

func (e *env) getToken(ctx context.Context) error {
	return sdk(ctx, "cp.GetAuthorizationToken", func(ctx context.Context) (int64, error) {
		_, err := e.ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String(domain)})
		return 0, err
	})
}

// ---------------------------------------------------------------- npm

// publishNPM publishes name@version as npm publish does: PUT /<name> with
// the version document and the tarball in _attachments (base64).
func (e *env) publishNPM(ctx context.Context, name, version string) error {
	p := npmtest.Package{Name: name, Version: version, Padding: 256 + rand.IntN(2048)}
	tgz := npmtest.Tarball(p)
	vdoc := p.Manifest()
	vdoc["_id"] = name + "@" + version
	vdoc["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz), "shasum": npmtest.Shasum(tgz),
		"tarball": e.ep["npm"] + name + "/-/" + npmtest.TarballName(name, version)}
	doc := map[string]any{
		"_id": name, "name": name, "description": "soak package", "dist-tags": map[string]string{"latest": version},
		"versions": map[string]any{version: vdoc}, "access": nil,
		"_attachments": map[string]any{npmtest.TarballName(name, version): map[string]any{
			"content_type": "application/octet-stream", "data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)}},
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	st, b, err := e.do(ctx, "npm.publish", http.MethodPut, e.ep["npm"]+name, body, "Content-Type", "application/json", "npm-command", "publish")
	if err != nil {
		return err
	}
	if err := statusErr("npm publish "+name+"@"+version, st, b); err != nil {
		return err
	}
	add(&e.known, &e.known.npm, npmRef{name, version})
	return nil
}

func (e *env) npmPackument(ctx context.Context) error {
	r, ok := pick(&e.known, &e.known.npm)
	if !ok {
		return nil
	}
	h := []string{"Accept", "application/json"}
	if rand.IntN(2) == 0 {
		h = []string{"Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*", "Accept-Encoding", "gzip"}
	}
	_, _, err := e.get(ctx, "npm.packument", e.ep["npm"]+r.name, h...)
	return err
}

func (e *env) npmTarball(ctx context.Context) error {
	r, ok := pick(&e.known, &e.known.npm)
	if !ok {
		return nil
	}
	_, _, err := e.get(ctx, "npm.tarball", e.ep["npm"]+r.name+"/-/"+npmtest.TarballName(r.name, r.version))
	return err
}

// ---------------------------------------------------------------- PyPI

// uploadPyPI uploads a wheel as twine does (multipart/form-data, the
// metadata fields before the file).
func (e *env) uploadPyPI(ctx context.Context, name, version string) error {
	d := pypitest.Dist{Name: name, Version: version, Padding: 256 + rand.IntN(2048)}
	file, content := d.Wheel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{":action", "file_upload"}, {"protocol_version", "1"}, {"name", name}, {"version", version},
		{"filetype", "bdist_wheel"}, {"pyversion", "py3"}, {"metadata_version", "2.1"}, {"summary", "tiny test package"},
		{"sha256_digest", pypitest.SHA256(content)}} {
		mw.WriteField(kv[0], kv[1])
	}
	fw, _ := mw.CreateFormFile("content", file)
	fw.Write(content)
	mw.Close()
	st, b, err := e.do(ctx, "pypi.upload", http.MethodPost, e.ep["pypi"], buf.Bytes(), "Content-Type", mw.FormDataContentType())
	if err != nil {
		return err
	}
	return statusErr("PyPI upload "+file, st, b)
}

func (e *env) pypiSimple(ctx context.Context) error {
	name, ok := pick(&e.known, &e.known.pypi)
	if !ok {
		return nil
	}
	u := e.ep["pypi"] + "simple/" + name + "/"
	if rand.IntN(10) == 0 {
		u = e.ep["pypi"] + "simple/"
	}
	accept := "text/html"
	if rand.IntN(2) == 0 {
		accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
	}
	_, _, err := e.get(ctx, "pypi.simple", u, "Accept", accept)
	return err
}

func (e *env) pypiFile(ctx context.Context) error {
	u, ok := pick(&e.known, &e.known.pyFiles)
	if !ok {
		return nil
	}
	_, _, err := e.get(ctx, "pypi.file", u)
	return err
}

// ---------------------------------------------------------------- Maven

func mvnBase(artifact string) string {
	return strings.ReplaceAll(mvnGroup, ".", "/") + "/" + artifact + "/"
}

// putMaven deploys artifact:version as mvn deploy does: the jar, the POM,
// then maven-metadata.xml, which publishes the version.
func (e *env) putMaven(ctx context.Context, artifact, version string) error {
	dir := e.ep["maven"] + mvnBase(artifact) + version + "/" + artifact + "-" + version
	jar := randomBytes(1024 + rand.IntN(3072))
	pom := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version><packaging>jar</packaging>
<name>%s</name><description>soak artifact</description></project>
`, mvnGroup, artifact, version, artifact)
	for _, f := range []struct {
		class, ext string
		body       []byte
	}{{"maven.put.jar", ".jar", jar}, {"maven.put.pom", ".pom", []byte(pom)}} {
		st, b, err := e.do(ctx, f.class, http.MethodPut, dir+f.ext, f.body)
		if err != nil {
			return err
		}
		if err := statusErr("PUT "+dir+f.ext, st, b); err != nil {
			return err
		}
		s := sha1.Sum(f.body)
		st, b, err = e.do(ctx, f.class+".sha1", http.MethodPut, dir+f.ext+".sha1", []byte(hex.EncodeToString(s[:])))
		if err != nil {
			return err
		}
		if err := statusErr("PUT "+dir+f.ext+".sha1", st, b); err != nil {
			return err
		}
	}
	md := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>%s</groupId><artifactId>%s</artifactId><versioning><latest>%s</latest><release>%s</release>
<versions><version>%s</version></versions><lastUpdated>%s</lastUpdated></versioning></metadata>
`, mvnGroup, artifact, version, version, version, time.Now().UTC().Format("20060102150405"))
	st, b, err := e.do(ctx, "maven.put.metadata", http.MethodPut, e.ep["maven"]+mvnBase(artifact)+"maven-metadata.xml", []byte(md))
	if err != nil {
		return err
	}
	if err := statusErr("PUT maven-metadata.xml of "+artifact, st, b); err != nil {
		return err
	}
	add(&e.known, &e.known.maven, mvnRef{artifact, version})
	return nil
}

func (e *env) mavenGet(ctx context.Context) error {
	r, ok := pick(&e.known, &e.known.maven)
	if !ok {
		return nil
	}
	u := e.ep["maven"] + mvnBase(r.artifact) + r.version + "/" + r.artifact + "-" + r.version
	switch rand.IntN(4) {
	case 0:
		u += ".pom"
	case 1:
		u += ".jar.sha1"
	default:
		u += ".jar"
	}
	_, _, err := e.get(ctx, "maven.get", u)
	return err
}

func (e *env) mavenMetadata(ctx context.Context) error {
	r, ok := pick(&e.known, &e.known.maven)
	if !ok {
		return nil
	}
	_, _, err := e.get(ctx, "maven.metadata", e.ep["maven"]+mvnBase(r.artifact)+"maven-metadata.xml")
	return err
}

// ---------------------------------------------------------------- the mix

type op struct {
	weight int
	run    func(e *env, ctx context.Context, w, seq int) error
}

// mix is the well-formed workload: reads ~75%, publishes ~25% of the
// operations (a Maven deploy is 5 requests).
var mix = []op{
	{6, func(e *env, ctx context.Context, w, seq int) error { return e.listPackages(ctx) }},
	{8, func(e *env, ctx context.Context, w, seq int) error { return e.describeVersion(ctx) }},
	{8, func(e *env, ctx context.Context, w, seq int) error { return e.getAsset(ctx) }},
	{5, func(e *env, ctx context.Context, w, seq int) error {
		return e.publishGeneric(ctx, fmt.Sprintf("gen-%02d", rand.IntN(16)), fmt.Sprintf("1.%d.%d", w, seq))
	}},
	{1, func(e *env, ctx context.Context, w, seq int) error { return e.getToken(ctx) }},
	{14, func(e *env, ctx context.Context, w, seq int) error { return e.npmPackument(ctx) }},
	{12, func(e *env, ctx context.Context, w, seq int) error { return e.npmTarball(ctx) }},
	{5, func(e *env, ctx context.Context, w, seq int) error {
		name := fmt.Sprintf("soak-npm-%02d", rand.IntN(32))
		if rand.IntN(4) == 0 {
			name = fmt.Sprintf("soak-npm-w%d-%d", w, seq)
		}
		return e.publishNPM(ctx, name, fmt.Sprintf("1.%d.%d", w, seq))
	}},
	{12, func(e *env, ctx context.Context, w, seq int) error { return e.pypiSimple(ctx) }},
	{5, func(e *env, ctx context.Context, w, seq int) error { return e.pypiFile(ctx) }},
	{2, func(e *env, ctx context.Context, w, seq int) error {
		return e.uploadPyPI(ctx, fmt.Sprintf("soak-py-%02d", rand.IntN(16)), fmt.Sprintf("1.%d.%d", w, seq))
	}},
	{3, func(e *env, ctx context.Context, w, seq int) error {
		return e.putMaven(ctx, fmt.Sprintf("lib-%02d", rand.IntN(16)), fmt.Sprintf("1.%d.%d", w, seq))
	}},
	{12, func(e *env, ctx context.Context, w, seq int) error { return e.mavenGet(ctx) }},
	{4, func(e *env, ctx context.Context, w, seq int) error { return e.mavenMetadata(ctx) }},
}

var mixTotal = func() int {
	t := 0
	for _, o := range mix {
		t += o.weight
	}
	return t
}()

func pickOp() op {
	n := rand.IntN(mixTotal)
	for _, o := range mix {
		if n < o.weight {
			return o
		}
		n -= o.weight
	}
	return mix[0]
}

// opSeq numbers the operations of all the clients, warm-up included, so
// that every version a client publishes is new.
var opSeq atomic.Int64

// worker runs the mix until load is done (it finishes the operation under
// way: each request is bounded by e.timeout, not cut by the deadline), or
// for at most ops operations when ops > 0 (the warm-up).
func (e *env) worker(load context.Context, w, ops int) {
	for i := 0; load.Err() == nil && (ops <= 0 || i < ops); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		pickOp().run(e, ctx, w, int(opSeq.Add(1)))
		cancel()
	}
}

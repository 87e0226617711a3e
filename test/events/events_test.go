// Package events_test drives coffer's package version events end to end: a
// webhook receiver on loopback, made with `coffer webhooks create`, is sent
// what the real aws CLI, npm, twine and mvn publish; it checks every
// signature, the event's shape field by field against CodeArtifact's
// documented example, and the order. Then coffer is killed (SIGKILL) with
// an event committed and not delivered, the receiver being down: after the
// restart the event arrives, exactly once.
package events_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/format/pypi/pypitest"
	"coffer/internal/testproc"
	"coffer/internal/webhook"
	"coffer/test/maventest"
)

var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

// delivery is one accepted POST.
type delivery struct {
	raw   map[string]any
	event map[string]any
}

// receiver is the webhook endpoint: it checks each signature with secret,
// answers 503 while down, and keeps what it accepted in order.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	down   bool
	tries  int
	got    []delivery
	signal chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("webhook request %s %s: %v", req.Method, req.Header.Get("Content-Type"), err)
	}
	sig := req.Header.Get(webhook.SignatureHeader)
	m := regexp.MustCompile(`^t=([0-9]+),v1=([0-9a-f]{64})$`).FindStringSubmatch(sig)
	if m == nil {
		r.t.Errorf("Coffer-Signature %q", sig)
		return
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	if webhook.Sign([]byte(r.secret), time.Unix(n, 0), body) != sig || time.Since(time.Unix(n, 0)).Abs() > 5*time.Minute {
		r.t.Errorf("signature %q does not sign the body with the secret at a current time", sig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d.event); err != nil {
		r.t.Errorf("body: %v\n%s", err, body)
	}
	d.raw = d.event
	r.got = append(r.got, d)
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// find returns the accepted events whose detail has the given fields.
func (r *receiver) find(fields map[string]string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, d := range r.got {
		det, _ := d.event["detail"].(map[string]any)
		ok := true
		for k, v := range fields {
			if fmt.Sprint(det[k]) != v {
				ok = false
			}
		}
		if ok {
			out = append(out, d.event)
		}
	}
	return out
}

// wait waits for the event with fields, for at most 60 s.
func (r *receiver) wait(t *testing.T, what string, fields map[string]string) map[string]any {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if got := r.find(fields); len(got) > 0 {
			return got[0]
		}
		select {
		case <-r.signal:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event for %s (%v)", what, fields)
		}
	}
}

type world struct {
	testproc.Runner
	c    *testproc.Coffer
	dir  string
	home string
}

func newWorld(t *testing.T, extraArgs ...string) *world {
	t.Helper()
	testproc.Need(t, "aws")
	dir := t.TempDir()
	c := testproc.Start(t, cofferBin, dir, extraArgs...)
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "PIP_"), strings.HasPrefix(u, "TWINE_"),
			strings.HasPrefix(u, "XDG_"), strings.HasPrefix(u, "MAVEN_"), strings.HasPrefix(u, "COFFER_"), u == "HOME", u == "CI":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NPM_CONFIG_USERCONFIG="+filepath.Join(home, ".npmrc"), "NPM_CONFIG_CACHE="+filepath.Join(home, ".npm"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	return &world{Runner: testproc.Runner{T: t, Env: env}, c: c, dir: dir, home: home}
}

func (w *world) aws(args ...string) map[string]any { w.T.Helper(); return w.AWS(w.c.URL, args...) }

// cli runs coffer's own CLI with the world's credentials.
func (w *world) cli(args ...string) map[string]any {
	w.T.Helper()
	out := w.Must("", cofferBin, append(args, "--endpoint-url", w.c.URL)...)
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		w.T.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

func TestEvents(t *testing.T) {
	t.Parallel()
	maventest.CheckInstall(t)
	testproc.Need(t, "npm")
	testproc.Need(t, "twine")
	central := maventest.NewCentral(t)
	w := newWorld(t, "--external-connection", "public:maven-central="+central.URL+"/")
	w.aws("create-domain", "--domain", "acme")
	w.aws("create-repository", "--domain", "acme", "--repository", "store")
	w.aws("associate-external-connection", "--domain", "acme", "--repository", "store", "--external-connection", "public:maven-central")
	w.aws("create-repository", "--domain", "acme", "--repository", "team", "--upstreams", "repositoryName=store")
	owner := testproc.Str(w.aws("describe-domain", "--domain", "acme"), "domain", "owner")

	all := &receiver{t: t, secret: "all-events-secret-0123", signal: make(chan struct{}, 1)}
	onlyPyPI := &receiver{t: t, secret: "pypi-events-secret-0123", signal: make(chan struct{}, 1)}
	srvAll, srvPyPI := httptest.NewServer(all), httptest.NewServer(onlyPyPI)
	defer srvAll.Close()
	defer srvPyPI.Close()
	hook := w.cli("webhooks", "create", "--domain", "acme", "--url", srvAll.URL+"/hook", "--secret", all.secret)
	hookID := testproc.Str(hook, "webhook", "id")
	if hookID == "" || testproc.Get(hook, "webhook", "secret") != nil {
		t.Fatalf("webhooks create: %v", hook)
	}
	w.cli("webhooks", "create", "--domain", "acme", "--repository", "team", "--url", srvPyPI.URL, "--secret", onlyPyPI.secret,
		"--format", "pypi", "--operation", "Created")
	if list := w.cli("webhooks", "list", "--domain", "acme"); len(testproc.Get(list, "webhooks").([]any)) != 2 {
		t.Fatalf("webhooks list: %v", list)
	}

	// The API: a generic package.
	asset := filepath.Join(t.TempDir(), "tool.tar")
	if err := os.WriteFile(asset, []byte("generic tool content"), 0o644); err != nil {
		t.Fatal(err)
	}
	pub := w.aws("publish-package-version", "--domain", "acme", "--repository", "team", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--package-version", "1.0.0", "--asset-content", asset, "--asset-name", "tool.tar",
		"--asset-sha256", pypitest.SHA256([]byte("generic tool content")))
	generic := all.wait(t, "the generic publish", map[string]string{"packageName": "tool", "packageVersion": "1.0.0"})
	if rev := testproc.Str(generic, "detail", "packageVersionRevision"); rev == "" || rev != testproc.Str(pub, "versionRevision") {
		t.Errorf("generic event revision %q, publish answered %q", rev, testproc.Str(pub, "versionRevision"))
	}
	if ns := testproc.Str(generic, "detail", "packageNamespace"); ns != "tools" {
		t.Errorf("generic namespace %q", ns)
	}

	// npm: the event of CodeArtifact's documented example.
	token := testproc.Str(w.aws("get-authorization-token", "--domain", "acme"), "authorizationToken")
	npmEndpoint := testproc.Str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "team", "--format", "npm"), "repositoryEndpoint")
	host := strings.TrimPrefix(npmEndpoint, "http:")
	if err := os.WriteFile(filepath.Join(w.home, ".npmrc"), []byte("registry="+npmEndpoint+"\n"+host+":_authToken="+token+
		"\nupdate-notifier=false\nfund=false\naudit=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pkgDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pkgDir, "package.json"), []byte(`{"name":"mypackage","version":"1.0.0","description":"events"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Must(pkgDir, "npm", "publish")
	npmEvent := all.wait(t, "the npm publish", map[string]string{"packageName": "mypackage", "packageVersion": "1.0.0"})
	checkDocumentedShape(t, npmEvent, owner, w)

	// twine: a wheel; the filtered webhook gets it, and nothing else.
	pypiEndpoint := testproc.Str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "team", "--format", "pypi"), "repositoryEndpoint")
	dist := pypitest.Dist{Name: "events-demo", Version: "0.1.0"}
	wheelName, wheel := dist.Wheel()
	wheelPath := filepath.Join(t.TempDir(), wheelName)
	if err := os.WriteFile(wheelPath, wheel, 0o644); err != nil {
		t.Fatal(err)
	}
	w.Must("", "twine", "upload", "--non-interactive", "--repository-url", pypiEndpoint, "-u", "aws", "-p", token, wheelPath)
	py := all.wait(t, "the twine upload", map[string]string{"packageFormat": "pypi", "packageName": "events-demo", "packageVersion": "0.1.0"})
	if c := changes(py); c != "added=1 removed=0 updated=0 meta=true status=true" || testproc.Str(py, "detail", "operationType") != "Created" {
		t.Errorf("twine upload event: %s %s", c, testproc.Str(py, "detail", "operationType"))
	}
	onlyPyPI.wait(t, "the twine upload through the filtered webhook", map[string]string{"packageName": "events-demo"})

	// mvn: deploy hello 1.0.0; its plugins and dependencies are ingested
	// from the external connection on the way (Created in store and team).
	mavenEndpoint := testproc.Str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "team", "--format", "maven"), "repositoryEndpoint")
	proj := maventest.WriteProject(t, mavenEndpoint)
	maventest.Mvn(t, proj, token, filepath.Join(t.TempDir(), "m2"), "deploy", "-DskipTests")
	hello := all.wait(t, "the mvn deploy", map[string]string{"packageFormat": "maven", "packageName": "hello", "packageVersion": "1.0.0",
		"packageVersionState": "Published"})
	if testproc.Str(hello, "detail", "packageNamespace") != "com.example" || testproc.Str(hello, "detail", "repositoryName") != "team" {
		t.Errorf("maven event: %v", hello["detail"])
	}
	ingested := all.wait(t, "an ingestion from the external connection", map[string]string{"packageFormat": "maven", "repositoryName": "store",
		"operationType": "Created"})
	if testproc.Str(ingested, "detail", "packageVersionState") != "Published" {
		t.Errorf("ingested: %v", ingested["detail"])
	}

	// A status change and a deletion.
	w.aws("update-package-versions-status", "--domain", "acme", "--repository", "team", "--format", "npm", "--package", "mypackage",
		"--versions", "1.0.0", "--target-status", "Unlisted")
	unlisted := all.wait(t, "the status change", map[string]string{"packageName": "mypackage", "packageVersionState": "Unlisted"})
	if c := changes(unlisted); c != "added=0 removed=0 updated=0 meta=false status=true" || testproc.Str(unlisted, "detail", "operationType") != "Updated" {
		t.Errorf("status change event: %s", c)
	}
	w.aws("delete-package-versions", "--domain", "acme", "--repository", "team", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--versions", "1.0.0")
	all.wait(t, "the deletion", map[string]string{"packageName": "tool", "operationType": "Deleted"})

	// The filtered webhook got the pypi Created events of team only.
	for _, d := range onlyPyPI.find(nil) {
		if f, op, repo := testproc.Str(d, "detail", "packageFormat"), testproc.Str(d, "detail", "operationType"),
			testproc.Str(d, "detail", "repositoryName"); f != "pypi" || op != "Created" || repo != "team" {
			t.Errorf("the filtered webhook got %s %s in %s", f, op, repo)
		}
	}

	// What happened is counted in /metrics.
	metrics := scrape(t, w.c.URL)
	for _, want := range []string{`coffer_publishes_total{format="npm"}`, `coffer_publishes_total{format="pypi"}`,
		`coffer_publishes_total{format="maven"}`, `coffer_publishes_total{format="generic"}`, `coffer_ingests_total{format="maven"}`,
		`coffer_asset_reads_total{format="maven",source="external"}`,
		`coffer_external_fetches_total{connection="public:maven-central",outcome="ok"}`,
		`coffer_upstream_requests_total{connection="public:maven-central",op="fetch",outcome="ok"}`,
		`coffer_webhook_events_delivered_total{webhook="` + hookID + `"}`,
		`coffer_package_version_events_total{format="generic",operation="Deleted",origin="INTERNAL"}`} {
		if metrics[want] < 1 {
			t.Errorf("%s = %v, want at least 1", want, metrics[want])
		}
	}
	if got, want := metrics[`coffer_webhook_events_delivered_total{webhook="`+hookID+`"}`], float64(len(all.find(nil))); got != want {
		t.Errorf("delivered counter %v, the receiver accepted %v", got, want)
	}

	// Down receiver, committed event, SIGKILL, restart: it arrives once.
	all.setDown(true)
	triesBefore := func() int { all.mu.Lock(); defer all.mu.Unlock(); return all.tries }()
	if err := os.WriteFile(asset, []byte("generic tool content 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.aws("publish-package-version", "--domain", "acme", "--repository", "team", "--format", "generic", "--namespace", "tools",
		"--package", "tool", "--package-version", "2.0.0", "--asset-content", asset, "--asset-name", "tool.tar",
		"--asset-sha256", pypitest.SHA256([]byte("generic tool content 2")))
	deadline := time.Now().Add(30 * time.Second)
	for func() int { all.mu.Lock(); defer all.mu.Unlock(); return all.tries }() == triesBefore {
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt of the committed event")
		}
		time.Sleep(20 * time.Millisecond) // polling the receiver's count, bounded by the deadline
	}
	addr := strings.TrimPrefix(w.c.URL, "http://")
	if err := w.c.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-w.c.Done
	if len(all.find(map[string]string{"packageName": "tool", "packageVersion": "2.0.0"})) != 0 {
		t.Fatal("the event was accepted while the receiver was down")
	}
	all.setDown(false)
	w.c = testproc.Start(t, cofferBin, w.dir, "--listen", addr, "--external-connection", "public:maven-central="+central.URL+"/")
	all.wait(t, "the event committed before the kill", map[string]string{"packageName": "tool", "packageVersion": "2.0.0"})

	// Exactly once per deduplication id, and in sequence order.
	all.mu.Lock()
	defer all.mu.Unlock()
	seen := map[string]bool{}
	var seqs []float64
	for _, d := range all.got {
		id := testproc.Str(d.event, "detail", "eventDeduplicationId")
		if seen[id] {
			t.Errorf("event %s delivered twice", id)
		}
		seen[id] = true
		seqs = append(seqs, testproc.Get(d.event, "detail", "sequenceNumber").(float64))
	}
	if !slices.IsSorted(seqs) {
		t.Errorf("events out of order: %v", seqs)
	}
	t.Logf("%d events delivered, %d attempts", len(all.got), all.tries)
}

// TestReceiverDownForAMinute: a webhook whose receiver answers 503 for a
// minute gets every event, in order, once it answers again.
func TestReceiverDownForAMinute(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.aws("create-domain", "--domain", "acme")
	w.aws("create-repository", "--domain", "acme", "--repository", "team")
	r := &receiver{t: t, secret: "down-for-a-minute-secret", down: true, signal: make(chan struct{}, 1)}
	srv := httptest.NewServer(r)
	defer srv.Close()
	w.cli("webhooks", "create", "--domain", "acme", "--url", srv.URL, "--secret", r.secret)
	asset := filepath.Join(t.TempDir(), "a.bin")
	for _, v := range []string{"1.0.0", "1.0.1", "1.0.2"} {
		content := "content of " + v
		if err := os.WriteFile(asset, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		w.aws("publish-package-version", "--domain", "acme", "--repository", "team", "--format", "generic", "--namespace", "ns",
			"--package", "p", "--package-version", v, "--asset-content", asset, "--asset-name", "a.bin",
			"--asset-sha256", pypitest.SHA256([]byte(content)))
	}
	// The outage is the scenario: a minute of 503s from the first attempt on.
	deadline := time.Now().Add(30 * time.Second)
	for func() int { r.mu.Lock(); defer r.mu.Unlock(); return r.tries }() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no delivery attempt")
		}
		time.Sleep(20 * time.Millisecond) // polling the receiver's count, bounded by the deadline
	}
	<-time.After(time.Minute)
	r.setDown(false)
	r.wait(t, "the last event after the outage", map[string]string{"packageVersion": "1.0.2"})
	var got []string
	for _, e := range r.find(nil) {
		got = append(got, testproc.Str(e, "detail", "packageVersion"))
	}
	if strings.Join(got, ",") != "1.0.0,1.0.1,1.0.2" {
		t.Fatalf("after the outage: %v", got)
	}
	r.mu.Lock()
	t.Logf("%d attempts during and after a minute's outage", r.tries)
	r.mu.Unlock()
}

func changes(e map[string]any) string {
	c, _ := testproc.Get(e, "detail", "changes").(map[string]any)
	return fmt.Sprintf("added=%v removed=%v updated=%v meta=%v status=%v", c["assetsAdded"], c["assetsRemoved"], c["assetsUpdated"],
		c["metadataUpdated"], c["statusChanged"])
}

// checkDocumentedShape compares the npm publish event with CodeArtifact's
// documented example (an npm publish of mypackage 1.0.0): the same fields,
// the same constants, the values of this publish.
func checkDocumentedShape(t *testing.T, e map[string]any, owner string, w *world) {
	t.Helper()
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	if got := keys(e); got != "account,detail,detail-type,id,region,resources,source,time,version" {
		t.Errorf("envelope fields %s", got)
	}
	det, _ := e["detail"].(map[string]any)
	if got := keys(det); got != "changes,domainName,domainOwner,eventDeduplicationId,operationType,packageFormat,packageName,packageNamespace,"+
		"packageVersion,packageVersionRevision,packageVersionState,repositoryAdministrator,repositoryName,sequenceNumber" {
		t.Errorf("detail fields %s", got)
	}
	c, _ := det["changes"].(map[string]any)
	if got := keys(c); got != "assetsAdded,assetsRemoved,assetsUpdated,metadataUpdated,statusChanged" {
		t.Errorf("changes fields %s", got)
	}
	want := map[string]any{"version": "0", "detail-type": "CodeArtifact Package Version State Change", "source": "aws.codeartifact",
		"account": owner, "region": "us-east-1"}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s = %v, want %v", k, e[k], v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(fmt.Sprint(e["id"])) {
		t.Errorf("id %v", e["id"])
	}
	if at, err := time.Parse(time.RFC3339, fmt.Sprint(e["time"])); err != nil || time.Since(at) > 5*time.Minute {
		t.Errorf("time %v", e["time"])
	}
	if res, _ := e["resources"].([]any); len(res) != 1 || res[0] != "arn:aws:codeartifact:us-east-1:"+owner+":package/acme/team/npm//mypackage" {
		t.Errorf("resources %v", e["resources"])
	}
	desc := w.aws("describe-package-version", "--domain", "acme", "--repository", "team", "--format", "npm", "--package", "mypackage",
		"--package-version", "1.0.0")
	wantDetail := map[string]any{"domainName": "acme", "domainOwner": owner, "repositoryName": "team", "repositoryAdministrator": owner,
		"packageFormat": "npm", "packageNamespace": nil, "packageName": "mypackage", "packageVersion": "1.0.0", "packageVersionState": "Published",
		"packageVersionRevision": testproc.Str(desc, "packageVersion", "revision"), "operationType": "Created"}
	for k, v := range wantDetail {
		if det[k] != v {
			t.Errorf("detail.%s = %v, want %v", k, det[k], v)
		}
	}
	if got := changes(e); got != "added=1 removed=0 updated=0 meta=true status=true" {
		t.Errorf("changes %s, the documented npm publish has added=1 removed=0 updated=0 meta=true status=true", got)
	}
	if seq, _ := det["sequenceNumber"].(float64); seq < 1 {
		t.Errorf("sequenceNumber %v", det["sequenceNumber"])
	}
	if id := fmt.Sprint(det["eventDeduplicationId"]); len(id) < 20 {
		t.Errorf("eventDeduplicationId %q", id)
	}
}

// scrape reads coffer's /metrics into "name{labels}" → value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %v %d", err, resp.StatusCode)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

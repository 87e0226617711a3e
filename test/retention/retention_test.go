// Package retention_test drives retention end to end against a real coffer
// process: a generic repository of 500 versions published with the Go SDK,
// npm packages cached from a fake registry on loopback through an external
// connection, and exempt rules pinning versions. It checks that a dry run
// lists exactly what the real run then removes and the bytes it frees, that
// the blob directory shrinks by exactly the reported bytes when the run
// returns, that npm still installs what was kept (with the registry gone),
// and that cached versions nobody downloaded for the configured days go.
//
// Time: the day-based criteria are evaluated with `--as-of` (the run's
// asOf), and one version's last download is moved into that future by
// writing its row (store.Downloads) while coffer is stopped; the rows
// coffer itself wrote at shutdown prove that downloads are recorded.
package retention_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/format/npm/npmtest"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
	"coffer/internal/testproc"
)

var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

type world struct {
	testproc.Runner
	c    *testproc.Coffer
	dir  string
	home string
}

func newWorld(t *testing.T, dir string, extraArgs ...string) *world {
	t.Helper()
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
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "XDG_"), strings.HasPrefix(u, "COFFER_"), u == "HOME":
		default:
			env = append(env, e)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NPM_CONFIG_USERCONFIG="+filepath.Join(home, ".npmrc"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	return &world{Runner: testproc.Runner{T: t, Env: env}, c: c, dir: dir, home: home}
}

func (w *world) aws(args ...string) map[string]any { w.T.Helper(); return w.AWS(w.c.URL, args...) }

// cli runs coffer's own CLI with the world's credentials; it prints JSON.
func (w *world) cli(args ...string) map[string]any {
	w.T.Helper()
	out := w.Must("", cofferBin, append(args, "--endpoint-url", w.c.URL)...)
	m := map[string]any{}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		w.T.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

// client is a CodeArtifact client of the root key.
func (w *world) client() *codeartifact.Client {
	w.T.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "root-credentials"))
	if err != nil {
		w.T.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id\s*=\s*(\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key\s*=\s*(\S+)`).FindSubmatch(b)
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: string(id[1]), SecretAccessKey: string(secret[1])}}),
		awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		w.T.Fatal(err)
	}
	url := w.c.URL
	return codeartifact.NewFromConfig(cfg, func(o *codeartifact.Options) { o.BaseEndpoint = aws.String(url) })
}

func publish(t *testing.T, ca *codeartifact.Client, domain, repo, pkg, version string, content []byte) {
	t.Helper()
	sum := sha256.Sum256(content)
	_, err := ca.PublishPackageVersion(t.Context(), &codeartifact.PublishPackageVersionInput{Domain: aws.String(domain), Repository: aws.String(repo),
		Format: types.PackageFormatGeneric, Namespace: aws.String("tools"), Package: aws.String(pkg), PackageVersion: aws.String(version),
		AssetName: aws.String(pkg + "-" + version + ".bin"), AssetContent: bytes.NewReader(content), AssetSHA256: aws.String(hex.EncodeToString(sum[:]))})
	if err != nil {
		t.Fatalf("publish %s %s: %v", pkg, version, err)
	}
}

// content is version i's asset: versions 1 to 10 share version 500's
// bytes, the others have their own, of varying sizes.
func content(i int) []byte {
	if i <= 10 {
		i = 500
	}
	return bytes.Repeat([]byte(fmt.Sprintf("v%04d;", i)), 10+i%37)
}

// blobBytes is the `du` of the blob store: the sum of the sizes of the
// regular files under <data-dir>/blobs.
func blobBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(dataDir, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// removed returns a run's versions as "repository format/namespace/package@version".
func removed(run map[string]any) []string {
	var out []string
	list, _ := run["versions"].([]any)
	for _, v := range list {
		m := v.(map[string]any)
		ns, _ := m["namespace"].(string)
		out = append(out, fmt.Sprintf("%s %s/%s/%s@%s", m["repository"], m["format"], ns, m["package"], m["version"]))
	}
	slices.Sort(out)
	return out
}

func bytesFreed(run map[string]any) int64 { f, _ := run["bytesFreed"].(float64); return int64(f) }

// runBoth does a dry run and then the real run of the same arguments,
// checks that they agree and that the blob directory shrank by exactly the
// bytes reported, and returns the real run.
func (w *world) runBoth(args ...string) map[string]any {
	w.T.Helper()
	dry := w.cli(append([]string{"retention", "run", "--dry-run"}, args...)...)
	if dry["dryRun"] != true {
		w.T.Fatalf("dry run answered %v", dry)
	}
	before := blobBytes(w.T, w.dir)
	run := w.cli(append([]string{"retention", "run"}, args...)...)
	after := blobBytes(w.T, w.dir)
	if !slices.Equal(removed(dry), removed(run)) {
		w.T.Errorf("the dry run listed %d versions, the run removed %d:\ndry %v\nrun %v", len(removed(dry)), len(removed(run)), removed(dry), removed(run))
	}
	if bytesFreed(dry) != bytesFreed(run) {
		w.T.Errorf("the dry run would free %d bytes, the run freed %d", bytesFreed(dry), bytesFreed(run))
	}
	if before-after != bytesFreed(run) {
		w.T.Errorf("the blob directory went from %d to %d bytes (-%d); the run reported %d freed", before, after, before-after, bytesFreed(run))
	}
	return run
}

func listVersions(t *testing.T, ca *codeartifact.Client, domain, repo string, format types.PackageFormat, namespace, pkg string) []string {
	t.Helper()
	in := &codeartifact.ListPackageVersionsInput{Domain: aws.String(domain), Repository: aws.String(repo), Format: format, Package: aws.String(pkg)}
	if namespace != "" {
		in.Namespace = aws.String(namespace)
	}
	var out []string
	for p := codeartifact.NewListPackageVersionsPaginator(ca, in); p.HasMorePages(); {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("list versions of %s in %s: %v", pkg, repo, err)
		}
		for _, v := range page.Versions {
			out = append(out, aws.ToString(v.Version))
		}
	}
	slices.Sort(out)
	return out
}

func TestRetention(t *testing.T) {
	testproc.Need(t, "aws")
	testproc.Need(t, "npm")
	reg := npmtest.NewRegistry()
	up := httptest.NewServer(reg)
	defer up.Close()
	for _, p := range []npmtest.Package{{Name: "lefty", Version: "1.0.0"}, {Name: "righty", Version: "1.0.0"}, {Name: "pinny", Version: "1.0.0"}} {
		reg.Add(p)
	}
	dir := t.TempDir()
	connection := "public:npmjs=" + up.URL + "/"
	w := newWorld(t, dir, "--external-connection", connection)
	w.aws("create-domain", "--domain", "acme")
	w.aws("create-domain", "--domain", "other")
	w.aws("create-repository", "--domain", "acme", "--repository", "bulk")
	w.aws("create-repository", "--domain", "other", "--repository", "bulk")
	ca := w.client()

	// 500 versions, published in order; version 20's bytes are also in
	// the other domain, versions 1-10 share version 500's.
	for i := 1; i <= 500; i++ {
		publish(t, ca, "acme", "bulk", "big", fmt.Sprintf("1.0.%d", i), content(i))
	}
	publish(t, ca, "other", "bulk", "copy", "1.0.0", content(20))
	// Version 1.0.5 is pinned by an exact exempt rule.
	w.cli("rules", "set", "--domain", "acme", "--exempt", "/generic/tools/big$@1.0.5", "--reason", "audited build")

	// What keep-last 50 must remove and free, computed here.
	var want []string
	var wantBytes int64
	freed := map[string]bool{}
	for i := 1; i <= 450; i++ {
		if i == 5 {
			continue
		}
		want = append(want, fmt.Sprintf("bulk generic/tools/big@1.0.%d", i))
		c := content(i)
		if i > 10 && i != 20 && !freed[string(c)] {
			freed[string(c)] = true
			wantBytes += int64(len(c))
		}
	}
	slices.Sort(want)

	run := w.runBoth("--domain", "acme", "--repository", "bulk", "--keep-last", "50")
	if got := removed(run); !slices.Equal(got, want) {
		t.Errorf("keep-last 50 removed %d versions, want %d", len(got), len(want))
	}
	if bytesFreed(run) != wantBytes {
		t.Errorf("keep-last 50 freed %d bytes, want %d (shared content is not freed)", bytesFreed(run), wantBytes)
	}
	left := listVersions(t, ca, "acme", "bulk", types.PackageFormatGeneric, "tools", "big")
	if len(left) != 51 || !slices.Contains(left, "1.0.5") || !slices.Contains(left, "1.0.500") || slices.Contains(left, "1.0.450") {
		t.Errorf("after keep-last 50: %d versions %v", len(left), left)
	}
	// The content still referenced reads back whole.
	for _, v := range []string{"1.0.5", "1.0.451", "1.0.500"} {
		out, err := ca.GetPackageVersionAsset(t.Context(), &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("acme"), Repository: aws.String("bulk"),
			Format: types.PackageFormatGeneric, Namespace: aws.String("tools"), Package: aws.String("big"), PackageVersion: aws.String(v),
			Asset: aws.String("big-" + v + ".bin")})
		if err != nil {
			t.Fatalf("get asset of %s: %v", v, err)
		}
		b, _ := io.ReadAll(out.Asset)
		out.Asset.Close()
		var i int
		fmt.Sscanf(v, "1.0.%d", &i)
		if !bytes.Equal(b, content(i)) {
			t.Errorf("asset of %s: %d bytes, want %d", v, len(b), len(content(i)))
		}
	}
	// A second run finds nothing.
	if again := w.cli("retention", "run", "--domain", "acme", "--repository", "bulk", "--keep-last", "50"); len(removed(again)) != 0 || bytesFreed(again) != 0 {
		t.Errorf("second keep-last run: %v", again)
	}

	// npm packages cached through the external connection.
	w.aws("create-repository", "--domain", "acme", "--repository", "npm-store")
	w.aws("associate-external-connection", "--domain", "acme", "--repository", "npm-store", "--external-connection", "public:npmjs")
	w.aws("create-repository", "--domain", "acme", "--repository", "npm", "--upstreams", "repositoryName=npm-store")
	install := func(name string, deps ...string) {
		t.Helper()
		endpoint := testproc.Str(w.aws("get-repository-endpoint", "--domain", "acme", "--repository", "npm", "--format", "npm"), "repositoryEndpoint")
		token := testproc.Str(w.aws("get-authorization-token", "--domain", "acme"), "authorizationToken")
		project := t.TempDir()
		var d []string
		for _, dep := range deps {
			d = append(d, fmt.Sprintf("%q: \"1.0.0\"", dep))
		}
		files := map[string]string{
			"package.json": fmt.Sprintf(`{"name": %q, "version": "1.0.0", "private": true, "dependencies": {%s}}`, name, strings.Join(d, ", ")),
			".npmrc": "registry=" + endpoint + "\n//" + strings.TrimPrefix(endpoint, "http://") + ":_authToken=" + token +
				"\nupdate-notifier=false\nfund=false\naudit=false\n",
		}
		for f, c := range files {
			if err := os.WriteFile(filepath.Join(project, f), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := w.Run(project, "npm", "install", "--cache", t.TempDir()); err != nil {
			t.Fatalf("npm install %v: %v\n%s", deps, err, testproc.Tail(out))
		}
		for _, dep := range deps {
			if _, err := os.Stat(filepath.Join(project, "node_modules", dep, "package.json")); err != nil {
				t.Fatalf("npm install did not install %s: %v", dep, err)
			}
		}
	}
	install("app", "lefty", "righty", "pinny")
	w.cli("rules", "set", "--domain", "acme", "--exempt", "/npm//pinny$@1.0.0", "--reason", "pinned for the release")
	rule := w.cli("retention", "set", "--domain", "acme", "--unused-days", "30")
	if id := testproc.Str(rule, "rule", "id"); !strings.HasPrefix(id, "ret-") {
		t.Fatalf("retention set: %v", rule)
	}
	if list := w.cli("retention", "list", "--domain", "acme", "--repository", "npm"); len(testproc.Get(list, "rules").([]any)) != 1 {
		t.Errorf("retention list: %v", list)
	}

	// Stop coffer: its downloads are written at shutdown. Then righty's
	// last download is moved 25 days ahead, as if it were downloaded then.
	owner := testproc.Str(w.aws("describe-domain", "--domain", "acme"), "domain", "owner")
	w.c.Stop()
	now := time.Now()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = meta.Write(t.Context(), func(tx store.Tx) error {
		d, err := tx.GetDomain(owner, "acme")
		if err != nil {
			return err
		}
		for _, repo := range []string{"npm", "npm-store"} {
			r, err := tx.GetRepository(d.ID, repo)
			if err != nil {
				return err
			}
			ids := map[string]int64{}
			for _, name := range []string{"lefty", "righty", "pinny"} {
				p, err := tx.GetPackage(r.ID, "npm", "", name)
				if err != nil {
					return fmt.Errorf("%s in %s: %w", name, repo, err)
				}
				v, err := tx.GetVersion(p.ID, "1.0.0")
				if err != nil {
					return err
				}
				ids[name] = v.ID
			}
			last, err := tx.LastDownloads([]int64{ids["lefty"], ids["righty"], ids["pinny"]})
			if err != nil {
				return err
			}
			// The client repository served every tarball: coffer recorded
			// those downloads, in memory, and wrote them when it stopped.
			if repo == "npm" && len(last) != 3 {
				return fmt.Errorf("downloads recorded in %s: %v, want all three", repo, last)
			}
			if err := tx.RecordDownloads(map[int64]time.Time{ids["righty"]: now.Add(25 * 24 * time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := meta.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	w.c = testproc.Start(t, cofferBin, dir, "--external-connection", connection)

	// 31 days on, with the stored rule: lefty (last downloaded now) goes
	// from both repositories, righty (downloaded 25 days on) and pinny
	// (pinned) stay. lefty's tarball is freed once both copies are gone.
	asOf := now.Add(31 * 24 * time.Hour).UTC().Format(time.RFC3339)
	run = w.runBoth("--domain", "acme", "--as-of", asOf)
	if got, want := removed(run), []string{"npm npm//lefty@1.0.0", "npm-store npm//lefty@1.0.0"}; !slices.Equal(got, want) {
		t.Errorf("unused-days 30 as of %s removed %v, want %v", asOf, got, want)
	}
	if bytesFreed(run) <= 0 {
		t.Errorf("removing lefty freed %d bytes", bytesFreed(run))
	}
	for _, r := range run["versions"].([]any) {
		if m := r.(map[string]any); m["reason"] != "unused" || !strings.HasPrefix(fmt.Sprint(m["rule"]), "ret-") {
			t.Errorf("removed version %v: want reason unused by the stored rule", m)
		}
	}
	// 29 days on, nothing is unused yet.
	if early := w.cli("retention", "run", "--dry-run", "--domain", "acme", "--as-of", now.Add(29*24*time.Hour).UTC().Format(time.RFC3339)); len(removed(early)) != 0 {
		t.Errorf("29 days on, the dry run would remove %v", removed(early))
	}

	// npm installs what was kept from coffer alone: the registry is gone.
	up.Close()
	install("again", "righty", "pinny")
	if v := listVersions(t, w.client(), "acme", "npm", types.PackageFormatNpm, "", "lefty"); len(v) != 0 {
		t.Errorf("lefty versions left in npm: %v", v)
	}

	// Each run is on record and counted.
	runs := w.cli("retention", "runs", "--domain", "acme")
	if n := len(testproc.Get(runs, "runs").([]any)); n < 2 {
		t.Errorf("retention runs: %d records", n)
	}
	resp, err := http.Get(w.c.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`coffer_retention_versions_removed_total 2`, fmt.Sprintf("coffer_retention_bytes_freed_total %d", bytesFreed(run)),
		`coffer_retention_runs_total{dry_run="false",result="ok",trigger="manual"} 1`} {
		if !strings.Contains(string(body), m) {
			t.Errorf("/metrics has no %q", m)
		}
	}
}

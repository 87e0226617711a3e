// Package backup runs coffer backup, restore and fsck as the operator
// would: a real coffer is filled through the SDK and npm, backed up while
// concurrent publishes and deletes go on, restored into a new data dir and
// served from there; what the backup holds must be answered exactly as the
// original answers it. Then fsck on planted damage.
package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/testproc"
)

var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

// client is a CodeArtifact client of the root key in dataDir/root-credentials.
func client(t *testing.T, url, dataDir string) *codeartifact.Client {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`aws_access_key_id\s*=\s*(\S+)`).FindSubmatch(b)
	secret := regexp.MustCompile(`aws_secret_access_key\s*=\s*(\S+)`).FindSubmatch(b)
	if id == nil || secret == nil {
		t.Fatal("root-credentials has no key pair")
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: string(id[1]), SecretAccessKey: string(secret[1])}}),
		awsconfig.WithRetryMaxAttempts(1), awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	return codeartifact.NewFromConfig(cfg, func(o *codeartifact.Options) { o.BaseEndpoint = aws.String(url) })
}

// runCoffer runs the coffer binary without the environment's COFFER_*
// variables and returns stdout, stderr and its error.
func runCoffer(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(cofferBin, args...)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "COFFER_") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("coffer %s: %v (%v)", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), err)
	return out.String(), errb.String(), err
}

type backupReport struct {
	Snapshots int   `json:"snapshots"`
	Blobs     int   `json:"blobs"`
	Copied    int   `json:"copied"`
	Pruned    int   `json:"pruned"`
	BlobBytes int64 `json:"blob_bytes"`
}

func mustBackup(t *testing.T, dataDir, to string) backupReport {
	t.Helper()
	out, errOut, err := runCoffer(t, "backup", "--data-dir", dataDir, "--to", to, "--json")
	if err != nil {
		t.Fatalf("coffer backup: %v\n%s\n%s", err, out, errOut)
	}
	var rep backupReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("coffer backup --json: %v\n%s", err, out)
	}
	t.Logf("backup: %+v", rep)
	return rep
}

// coordinates of a generic version of the storm.
type gv struct{ pkg, version string }

func publishGeneric(ctx context.Context, ca *codeartifact.Client, repo string, v gv, content []byte) error {
	sum := sha256.Sum256(content)
	_, err := ca.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("acme"), Repository: aws.String(repo),
		Format: types.PackageFormatGeneric, Namespace: aws.String("storm"), Package: aws.String(v.pkg), PackageVersion: aws.String(v.version),
		AssetName: aws.String(v.pkg + "-" + v.version + ".bin"), AssetContent: bytes.NewReader(content), AssetSHA256: aws.String(hex.EncodeToString(sum[:]))})
	return err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestBackupRestoreFsck(t *testing.T) {
	ctx := context.Background()
	testproc.Need(t, "npm")
	srcDir := t.TempDir()
	src := testproc.Start(t, cofferBin, srcDir)
	ca := client(t, src.URL, srcDir)
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"releases", "js"} {
		if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("acme"), Repository: aws.String(r)}); err != nil {
			t.Fatal(err)
		}
	}
	// Before the backup: generic versions (one content shared by two) and an npm package.
	shared := randomBytes(100 << 10)
	before := map[gv]bool{}
	for i := range 6 {
		v := gv{fmt.Sprintf("base%d", i%2), fmt.Sprintf("1.%d.0", i)}
		content := randomBytes(200<<10 + i)
		if i < 2 {
			content = shared
		}
		if err := publishGeneric(ctx, ca, "releases", v, content); err != nil {
			t.Fatal(err)
		}
		before[v] = true
	}
	npmPublish(t, ca, src.URL, "1.0.0")

	// The storm: publishers and a deleter, while the backup runs.
	backupDir := filepath.Join(t.TempDir(), "backup")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var stormErrs []error
	fail := func(err error) { mu.Lock(); stormErrs = append(stormErrs, err); mu.Unlock() }
	started := make(chan struct{}, 5)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := publishGeneric(ctx, ca, "releases", gv{fmt.Sprintf("storm%d", w), fmt.Sprintf("%d.0.0", i)}, randomBytes(64<<10+i)); err != nil {
					fail(err)
					return
				}
				if i == 0 {
					started <- struct{}{}
				}
			}
		})
	}
	deleted := map[gv]bool{}
	wg.Go(func() {
		// Delete versions published before, one at a time: their blobs are
		// released at once, maybe while the backup copies them.
		for i := 2; i < 6; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := gv{fmt.Sprintf("base%d", i%2), fmt.Sprintf("1.%d.0", i)}
			mu.Lock()
			deleted[v] = true
			mu.Unlock()
			if _, err := ca.DeletePackageVersions(ctx, &codeartifact.DeletePackageVersionsInput{Domain: aws.String("acme"), Repository: aws.String("releases"),
				Format: types.PackageFormatGeneric, Namespace: aws.String("storm"), Package: aws.String(v.pkg), Versions: []string{v.version}}); err != nil {
				fail(err)
				return
			}
			if i == 2 {
				started <- struct{}{}
			}
		}
	})
	for range 5 {
		<-started
	}
	rep1 := mustBackup(t, srcDir, backupDir)
	close(stop)
	wg.Wait()
	if len(stormErrs) > 0 {
		t.Fatalf("storm: %v", stormErrs)
	}
	npmPublish(t, ca, src.URL, "2.0.0") // after the backup: not in it
	if rep1.Blobs == 0 || rep1.Copied != rep1.Blobs {
		t.Errorf("first backup: %+v", rep1)
	}
	// fsck beside the running server: read-only checks, nothing wrong.
	if out, errOut, err := runCoffer(t, "fsck", "--data-dir", srcDir); err != nil {
		t.Errorf("fsck beside the server: %v\n%s\n%s", err, out, errOut)
	} else if !strings.Contains(out, "a server is running") {
		t.Errorf("fsck did not see the server:\n%s", out)
	}

	// Restore, serve, compare.
	restored := filepath.Join(t.TempDir(), "restored")
	if out, errOut, err := runCoffer(t, "restore", "--from", backupDir, "--data-dir", restored); err != nil {
		t.Fatalf("coffer restore: %v\n%s\n%s", err, out, errOut)
	}
	if _, errOut, err := runCoffer(t, "restore", "--from", backupDir, "--data-dir", restored); err == nil || !strings.Contains(errOut, "not empty") {
		t.Errorf("restore into a non-empty dir: %v %s", err, errOut)
	}
	dst := testproc.Start(t, cofferBin, restored)
	orig, back := snapshot(t, ca), snapshot(t, client(t, dst.URL, restored))
	compare(t, orig, back, before, deleted)
	// npm installs what the backup holds from the restored server.
	npmInstall(t, client(t, dst.URL, restored), dst.URL, "1.0.0")
	dst.Stop()

	// Incremental: the second backup copies what the storm added after the
	// first snapshot; a third, with nothing changed, copies nothing.
	mustBackup(t, srcDir, backupDir)
	if rep := mustBackup(t, srcDir, backupDir); rep.Copied != 0 || rep.Pruned != 0 {
		t.Errorf("backup with nothing changed: %+v", rep)
	}
	src.Stop()

	// fsck: clean, then a corrupted blob and an orphan.
	if out, errOut, err := runCoffer(t, "fsck", "--data-dir", restored); err != nil {
		t.Fatalf("fsck of the restored data dir: %v\n%s\n%s", err, out, errOut)
	}
	blobFiles := listBlobFiles(t, filepath.Join(restored, "blobs", "sha256"))
	corrupt := blobFiles[0]
	b, err := os.ReadFile(corrupt)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(corrupt, b, 0o640); err != nil {
		t.Fatal(err)
	}
	orphanContent := []byte("a blob nothing references\n")
	sum := sha256.Sum256(orphanContent)
	orphanSHA := hex.EncodeToString(sum[:])
	orphan := filepath.Join(restored, "blobs", "sha256", orphanSHA[:2], orphanSHA[2:4], orphanSHA)
	if err := os.MkdirAll(filepath.Dir(orphan), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, orphanContent, 0o640); err != nil {
		t.Fatal(err)
	}
	corruptSHA := filepath.Base(corrupt)
	out, errOut, err := runCoffer(t, "fsck", "--data-dir", restored)
	if err == nil || !strings.Contains(out, "corrupt-blob "+corruptSHA) || !strings.Contains(out, "orphan-blob "+orphanSHA) {
		t.Errorf("fsck of planted damage: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("fsck:\n%s", out)
	out, errOut, err = runCoffer(t, "fsck", "--data-dir", restored, "--repair")
	if err == nil || !strings.Contains(out, "corrupt-blob "+corruptSHA) || !strings.Contains(out, "affects acme/releases generic") && !strings.Contains(out, "affects acme/js npm") {
		t.Errorf("fsck --repair: %v\n%s\n%s", err, out, errOut)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fsck --repair left the orphan: %v", err)
	}
	out, _, err = runCoffer(t, "fsck", "--data-dir", restored, "--json")
	var rep struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Kind string `json:"kind"`
		} `json:"problems"`
	}
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || err == nil || rep.OK || len(rep.Problems) != 1 || rep.Problems[0].Kind != "corrupt-blob" {
		t.Errorf("fsck --json after repair: %v %v\n%s", err, jerr, out)
	}
	// The original, never damaged, is clean with the server stopped.
	if out, errOut, err := runCoffer(t, "fsck", "--data-dir", srcDir); err != nil {
		t.Errorf("fsck of the original: %v\n%s\n%s", err, out, errOut)
	}
}

func listBlobFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("blobs under %s: %v", root, err)
	}
	return out
}

// state is everything a deployment lists, and the SHA-256 of every asset
// downloaded.
type state struct {
	domains, repos []string
	packages       map[string][]string              // repo -> "format/ns/name"
	versions       map[string]map[string]string     // "repo format/ns/name" -> version -> "status revision"
	assets         map[string]map[string]assetState // "repo format/ns/name version" -> asset name -> state
}

type assetState struct{ listed, downloaded string }

func snapshot(t *testing.T, ca *codeartifact.Client) *state {
	t.Helper()
	ctx := context.Background()
	s := &state{packages: map[string][]string{}, versions: map[string]map[string]string{}, assets: map[string]map[string]assetState{}}
	doms, err := ca.ListDomains(ctx, &codeartifact.ListDomainsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doms.Domains {
		s.domains = append(s.domains, fmt.Sprintf("%s %s %v", aws.ToString(d.Name), d.Status, aws.ToTime(d.CreatedTime).Unix()))
	}
	repos, err := ca.ListRepositoriesInDomain(ctx, &codeartifact.ListRepositoriesInDomainInput{Domain: aws.String("acme")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos.Repositories {
		repo := aws.ToString(r.Name)
		s.repos = append(s.repos, repo+" "+aws.ToString(r.Arn))
		pkgs, err := ca.ListPackages(ctx, &codeartifact.ListPackagesInput{Domain: aws.String("acme"), Repository: aws.String(repo), MaxResults: aws.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs.Packages {
			pk := string(p.Format) + "/" + aws.ToString(p.Namespace) + "/" + aws.ToString(p.Package)
			s.packages[repo] = append(s.packages[repo], pk)
			key := repo + " " + pk
			s.versions[key] = map[string]string{}
			vs, err := ca.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: aws.String("acme"), Repository: aws.String(repo),
				Format: p.Format, Namespace: p.Namespace, Package: p.Package, MaxResults: aws.Int32(1000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vs.Versions {
				ver := aws.ToString(v.Version)
				s.versions[key][ver] = string(v.Status) + " " + aws.ToString(v.Revision)
				as, err := ca.ListPackageVersionAssets(ctx, &codeartifact.ListPackageVersionAssetsInput{Domain: aws.String("acme"), Repository: aws.String(repo),
					Format: p.Format, Namespace: p.Namespace, Package: p.Package, PackageVersion: v.Version})
				if err != nil {
					t.Fatal(err)
				}
				m := map[string]assetState{}
				for _, a := range as.Assets {
					got, err := ca.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("acme"), Repository: aws.String(repo),
						Format: p.Format, Namespace: p.Namespace, Package: p.Package, PackageVersion: v.Version, Asset: a.Name})
					if err != nil {
						t.Fatal(err)
					}
					h := sha256.New()
					_, err = io.Copy(h, got.Asset)
					got.Asset.Close()
					if err != nil {
						t.Fatal(err)
					}
					m[aws.ToString(a.Name)] = assetState{listed: fmt.Sprintf("%d %s", aws.ToInt64(a.Size), a.Hashes["SHA-256"]), downloaded: hex.EncodeToString(h.Sum(nil))}
				}
				s.assets[key+" "+ver] = m
			}
		}
	}
	return s
}

// compare requires the restored deployment to answer as the original does
// for everything it holds, and to hold every version published before the
// backup and not deleted during it. A version the restored one holds and
// the original does not must be one deleted during the backup.
func compare(t *testing.T, orig, back *state, before, deleted map[gv]bool) {
	t.Helper()
	if fmt.Sprint(orig.domains) != fmt.Sprint(back.domains) || fmt.Sprint(orig.repos) != fmt.Sprint(back.repos) {
		t.Errorf("domains or repositories differ:\n%v %v\n%v %v", orig.domains, orig.repos, back.domains, back.repos)
	}
	versions := 0
	for key, vs := range back.versions {
		for ver, got := range vs {
			versions++
			want, ok := orig.versions[key][ver]
			if !ok {
				var g gv
				if _, pk, _ := strings.Cut(key, " "); strings.HasPrefix(pk, "generic/storm/") {
					g = gv{strings.TrimPrefix(pk, "generic/storm/"), ver}
				}
				if !deleted[g] {
					t.Errorf("%s %s: restored, but the original does not have it and it was not deleted", key, ver)
				}
				continue
			}
			if got != want {
				t.Errorf("%s %s: %s, original %s", key, ver, got, want)
			}
			ga, wa := back.assets[key+" "+ver], orig.assets[key+" "+ver]
			if fmt.Sprint(ga) != fmt.Sprint(wa) {
				t.Errorf("%s %s assets: %v, original %v", key, ver, ga, wa)
			}
			for name, a := range ga {
				if !strings.HasSuffix(a.listed, " "+a.downloaded) {
					t.Errorf("%s %s %s: downloaded SHA-256 %s, listed %s", key, ver, name, a.downloaded, a.listed)
				}
			}
		}
	}
	for g := range before {
		if deleted[g] {
			continue
		}
		if _, ok := back.versions["releases generic/storm/"+g.pkg][g.version]; !ok {
			t.Errorf("%v was published before the backup, and the restored deployment lacks it", g)
		}
	}
	if _, ok := back.versions["js npm//coffer-backup-hello"]["1.0.0"]; !ok {
		t.Errorf("the npm version published before the backup is missing: %v", back.versions)
	}
	if _, ok := back.versions["js npm//coffer-backup-hello"]["2.0.0"]; ok {
		t.Errorf("the npm version published after the backup was restored")
	}
	t.Logf("restored deployment: %d versions checked against the original", versions)
}

// npmrc writes an .npmrc for the js repository at url and returns its path
// and the registry URL.
func npmrc(t *testing.T, ca *codeartifact.Client) (string, string) {
	t.Helper()
	ctx := context.Background()
	ep, err := ca.GetRepositoryEndpoint(ctx, &codeartifact.GetRepositoryEndpointInput{Domain: aws.String("acme"), Repository: aws.String("js"), Format: types.PackageFormatNpm})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ca.GetAuthorizationToken(ctx, &codeartifact.GetAuthorizationTokenInput{Domain: aws.String("acme")})
	if err != nil {
		t.Fatal(err)
	}
	registry := aws.ToString(ep.RepositoryEndpoint)
	u, _ := url.Parse(registry)
	rc := filepath.Join(t.TempDir(), ".npmrc")
	content := "registry=" + registry + "\n//" + u.Host + u.Path + ":_authToken=" + aws.ToString(tok.AuthorizationToken) +
		"\nupdate-notifier=false\nfund=false\naudit=false\n"
	if err := os.WriteFile(rc, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc, registry
}

func npm(t *testing.T, rc, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NPM_CONFIG_USERCONFIG="+rc, "NPM_CONFIG_CACHE="+filepath.Join(t.TempDir(), "cache"), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func npmPublish(t *testing.T, ca *codeartifact.Client, url, version string) {
	t.Helper()
	rc, _ := npmrc(t, ca)
	dir := t.TempDir()
	files := map[string]string{
		"package.json": `{"name":"coffer-backup-hello","version":"` + version + `","main":"index.js","license":"MIT"}`,
		"index.js":     "module.exports = 'hello " + version + " from before the backup';\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	npm(t, rc, dir, "publish")
}

func npmInstall(t *testing.T, ca *codeartifact.Client, url, version string) {
	t.Helper()
	rc, _ := npmrc(t, ca)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"consumer","version":"1.0.0","private":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	npm(t, rc, dir, "install", "--prefer-online", "coffer-backup-hello@"+version)
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "coffer-backup-hello", "index.js"))
	if err != nil || !strings.Contains(string(b), "hello "+version) {
		t.Errorf("npm install from the restored server: %q %v", b, err)
	}
}

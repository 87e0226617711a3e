package npm_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"coffer/internal/format/npm/npmtest"
)

// world is a coffer with domain demo: my-repo → npm-store →
// public:npmjs (the fixture), the npm user config written by `aws
// codeartifact login --tool npm` (plain and with --namespace myscope), and
// libV1, libV11 and appLib published with npm.
type world struct {
	f        *fixture
	c        *coffer
	cl       *clients
	endpoint string // my-repo's npm endpoint
	token    string
}

func newWorld(t *testing.T) *world {
	f := newFixture(t)
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir, "--external-connection", "public:npmjs="+f.srv.URL+"/")
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "npm-store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "npm-store", "--external-connection", "public:npmjs")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "my-repo", "--upstreams", "repositoryName=npm-store")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "my-repo", "--format", "npm"), "repositoryEndpoint")
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(c.URL) + `/npm/d/demo-[0-9]{12}/my-repo/$`).MatchString(endpoint) {
		t.Fatalf("endpoint %q", endpoint)
	}
	nerf := "//" + strings.TrimPrefix(endpoint, "http://")

	// aws codeartifact login --tool npm sets the registry and its token in
	// the npm user config, keeping what was there.
	out := cl.Must("", "aws", "codeartifact", "login", "--tool", "npm", "--domain", "demo", "--repository", "my-repo", "--endpoint-url", c.URL)
	if !strings.Contains(out, "Successfully configured npm") {
		t.Fatalf("login --tool npm:\n%s", out)
	}
	npmrc := readFile(t, cl.npmrc)
	token := npmrcToken(npmrc, endpoint)
	if !strings.Contains(npmrc, "registry="+endpoint+"\n") || token == "" || !strings.Contains(npmrc, "update-notifier=false\n") {
		t.Fatalf("npmrc after login:\n%s", redact(npmrc))
	}
	// With --namespace, the scope's registry.
	out = cl.Must("", "aws", "codeartifact", "login", "--tool", "npm", "--domain", "demo", "--repository", "my-repo", "--namespace", "myscope", "--endpoint-url", c.URL)
	if !strings.Contains(out, "Successfully configured npm") {
		t.Fatalf("login --tool npm --namespace myscope:\n%s", out)
	}
	npmrc = readFile(t, cl.npmrc)
	token = npmrcToken(npmrc, endpoint)
	if !strings.Contains(npmrc, "@myscope:registry="+endpoint+"\n") || !strings.Contains(npmrc, "registry="+endpoint+"\n") ||
		token == "" || strings.Count(npmrc, nerf+":_authToken=") != 1 {
		t.Fatalf("npmrc after login --namespace myscope:\n%s", redact(npmrc))
	}

	for _, p := range []npmtest.Package{libV1, libV11, appLib} {
		publish(t, cl, p)
	}
	return &world{f: f, c: c, cl: cl, endpoint: endpoint, token: token}
}

// httpDo sends a request to coffer with the token.
func (w *world) httpDo(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// origin returns "publish/upstream" of a package in a list-packages result.
func origin(pkgs []any, namespace, name string) string {
	for _, p := range pkgs {
		if str(p, "package") == name && str(p, "namespace") == namespace {
			return str(p, "originConfiguration", "restrictions", "publish") + "/" + str(p, "originConfiguration", "restrictions", "upstream")
		}
	}
	return "absent"
}

// versions lists the versions of a package in a repository, with the aws CLI.
func (w *world) versions(t *testing.T, repo, namespace, name string) []string {
	t.Helper()
	args := []string{"list-package-versions", "--domain", "demo", "--repository", repo, "--format", "npm", "--package", name}
	if namespace != "" {
		args = append(args, "--namespace", namespace)
	}
	var out []string
	for _, v := range list(w.cl.AWS(w.c.URL, args...), "versions") {
		out = append(out, str(v, "version"))
	}
	slices.Sort(out)
	return out
}

// TestNPM publishes, installs (install, ci, a second clean install) and
// manages packages with the real npm through my-repo → npm-store →
// public:npmjs, and checks what coffer recorded with the aws CLI.
func TestNPM(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl, f := w.cl, w.f

	if out, err := cl.Run("", "npm", "ping"); err != nil || !strings.Contains(out, "PONG") {
		t.Errorf("npm ping: %v\n%s", err, out)
	}
	if out, err := cl.Run("", "npm", "whoami"); err != nil || strings.TrimSpace(out) == "" {
		t.Errorf("npm whoami: %v\n%s", err, out)
	}

	// Other bytes under a published version are refused (npm 11 refuses
	// by itself when the packument has the version; the server's 409 is
	// in TestNPMTamperedPublish).
	changed := libV11
	changed.Files = map[string]string{"data/message.txt": "other bytes\n"}
	dir := t.TempDir()
	writeFiles(t, dir, sourceFiles(changed))
	if out, err := cl.Run(dir, "npm", "publish", "--loglevel", "http"); err == nil ||
		!(strings.Contains(out, "cannot publish over the previously published versions: 1.1.0") || strings.Contains(out, "E409")) {
		t.Errorf("npm publish of other bytes as %s@%s: %v\n%s", changed.Name, changed.Version, err, tail(out))
	}

	// npm install with a new lockfile, then npm ci from it.
	project := newConsumer(t)
	out := cl.Must(project, "npm", "install", "--loglevel", "http")
	t.Logf("npm install:\n%s", out)
	checkNPMInstall(t, cl, f, project, w.endpoint)
	f.checkTarballsFetchedOnce(t, "after npm install")
	lock := readFile(t, filepath.Join(project, "package-lock.json"))
	if err := os.RemoveAll(filepath.Join(project, "node_modules")); err != nil {
		t.Fatal(err)
	}
	out = cl.Must(project, "npm", "ci", "--loglevel", "http")
	t.Logf("npm ci:\n%s", out)
	checkNPMInstall(t, cl, f, project, w.endpoint)
	if readFile(t, filepath.Join(project, "package-lock.json")) != lock {
		t.Error("npm ci changed package-lock.json")
	}

	// A second clean install, with an empty npm cache, comes from what
	// coffer keeps.
	cl.freshCaches()
	second := newConsumer(t)
	out = cl.Must(second, "npm", "install", "--loglevel", "http")
	t.Logf("second npm install:\n%s", out)
	checkNPMInstall(t, cl, f, second, w.endpoint)
	f.checkTarballsFetchedOnce(t, "after a second clean install")

	// What coffer recorded, as the aws CLI sees it.
	for repo, want := range map[string]map[string]string{
		"npm-store": {"/fx-a": "BLOCK/ALLOW", "/fx-b": "BLOCK/ALLOW", "fx/util": "BLOCK/ALLOW", "/fx-big": "BLOCK/ALLOW",
			"myscope/lib": "absent", "/my-app-lib": "absent"},
		"my-repo": {"/fx-a": "BLOCK/ALLOW", "/fx-b": "BLOCK/ALLOW", "fx/util": "BLOCK/ALLOW", "/fx-big": "BLOCK/ALLOW",
			"myscope/lib": "ALLOW/BLOCK", "/my-app-lib": "ALLOW/BLOCK"},
	} {
		pkgs := list(cl.AWS(w.c.URL, "list-packages", "--domain", "demo", "--repository", repo, "--format", "npm"), "packages")
		for id, wantOrigin := range want {
			ns, name, _ := strings.Cut(id, "/")
			if got := origin(pkgs, ns, name); got != wantOrigin {
				t.Errorf("%s: %s is %s, want %s", repo, id, got, wantOrigin)
			}
		}
	}
	for _, repo := range []string{"npm-store", "my-repo"} {
		if got := w.versions(t, repo, "", "fx-b"); !slices.Equal(got, []string{"1.0.0", "2.0.0"}) {
			t.Errorf("%s holds fx-b %v, want the versions installed, 1.0.0 and 2.0.0", repo, got)
		}
	}
	if got := w.versions(t, "my-repo", "myscope", "lib"); !slices.Equal(got, []string{"1.0.0", "1.1.0"}) {
		t.Errorf("my-repo holds @myscope/lib %v", got)
	}

	// npm view through the upstream chain: the published versions, and
	// the public ones, installed or not.
	if got := strs(viewJSON(t, cl, "@myscope/lib", "versions")); !slices.Equal(got, []string{"1.0.0", "1.1.0"}) {
		t.Errorf("npm view @myscope/lib versions: %v", got)
	}
	if got := viewJSON(t, cl, "@myscope/lib", "dist-tags"); str(got, "latest") != "1.1.0" {
		t.Errorf("npm view @myscope/lib dist-tags: %v", got)
	}
	if got := viewJSON(t, cl, "my-app-lib@1.0.0", "dependencies"); str(got, "@myscope/lib") != "^1.0.0" {
		t.Errorf("npm view my-app-lib@1.0.0 dependencies: %v", got)
	}
	if got := strs(viewJSON(t, cl, "fx-a", "versions")); !slices.Equal(got, []string{"0.9.0", "1.0.0"}) {
		t.Errorf("npm view fx-a versions: %v", got)
	}
	if got := viewJSON(t, cl, "fx-b", "dist-tags"); str(got, "latest") != "2.0.0" || str(got, "next") != "3.0.0-beta.1" {
		t.Errorf("npm view fx-b dist-tags: %v", got)
	}

	// dist-tag add, ls and rm, scoped and not.
	cl.Must("", "npm", "dist-tag", "add", "@myscope/lib@1.0.0", "stable")
	cl.Must("", "npm", "dist-tag", "add", "my-app-lib@1.0.0", "beta")
	if out := cl.Must("", "npm", "dist-tag", "ls", "@myscope/lib"); !strings.Contains(out, "latest: 1.1.0") || !strings.Contains(out, "stable: 1.0.0") {
		t.Errorf("npm dist-tag ls @myscope/lib:\n%s", out)
	}
	if got := viewJSON(t, cl, "my-app-lib", "dist-tags"); !maps.Equal(strMap(got), map[string]string{"latest": "1.0.0", "beta": "1.0.0"}) {
		t.Errorf("npm view my-app-lib dist-tags: %v", got)
	}
	cl.Must("", "npm", "dist-tag", "rm", "@myscope/lib", "stable")
	if out := cl.Must("", "npm", "dist-tag", "ls", "@myscope/lib"); strings.Contains(out, "stable") || !strings.Contains(out, "latest: 1.1.0") {
		t.Errorf("npm dist-tag ls @myscope/lib after rm:\n%s", out)
	}
	// CodeArtifact's defaultDisplayVersion for npm is the version latest
	// names, not the newest one.
	displayVersion := func() string {
		return str(cl.AWS(w.c.URL, "list-package-versions", "--domain", "demo", "--repository", "my-repo", "--format", "npm",
			"--namespace", "myscope", "--package", "lib"), "defaultDisplayVersion")
	}
	cl.Must("", "npm", "dist-tag", "add", "@myscope/lib@1.0.0", "latest")
	if got := displayVersion(); got != "1.0.0" {
		t.Errorf("defaultDisplayVersion with latest on 1.0.0: %q", got)
	}
	cl.Must("", "npm", "dist-tag", "add", "@myscope/lib@1.1.0", "latest")
	if got := displayVersion(); got != "1.1.0" {
		t.Errorf("defaultDisplayVersion with latest back on 1.1.0: %q", got)
	}

	// deprecate.
	cl.Must("", "npm", "deprecate", "@myscope/lib@1.0.0", "use 1.1.0")
	if got := viewJSON(t, cl, "@myscope/lib@1.0.0", "deprecated"); got != "use 1.1.0" {
		t.Errorf("npm view @myscope/lib@1.0.0 deprecated: %v", got)
	}
	if got := viewJSON(t, cl, "@myscope/lib@1.1.0", "version"); got != "1.1.0" {
		t.Errorf("npm view @myscope/lib@1.1.0 after deprecating 1.0.0: %v", got)
	}

	// unpublish one version: gone from npm view, the tarball and the
	// package's versions; latest moves back.
	cl.Must("", "npm", "unpublish", "@myscope/lib@1.1.0", "--loglevel", "http")
	if got := strs(viewJSON(t, cl, "@myscope/lib", "versions")); !slices.Equal(got, []string{"1.0.0"}) {
		t.Errorf("npm view @myscope/lib versions after unpublish: %v", got)
	}
	if got := viewJSON(t, cl, "@myscope/lib", "dist-tags"); str(got, "latest") != "1.0.0" {
		t.Errorf("npm view @myscope/lib dist-tags after unpublish: %v", got)
	}
	if got := w.versions(t, "my-repo", "myscope", "lib"); !slices.Equal(got, []string{"1.0.0"}) {
		t.Errorf("list-package-versions @myscope/lib after unpublish: %v", got)
	}
	if status, body := w.httpDo(t, "GET", w.endpoint+"@myscope/lib/-/lib-1.1.0.tgz", nil); status != http.StatusNotFound {
		t.Errorf("the unpublished tarball: %d %s", status, body)
	}

	// npm audit of the installed project: relayed to the upstream
	// registry (the fixture knows no advisories), answered in npm's shape.
	out, err := cl.Run(project, "npm", "audit", "--json")
	var audit struct {
		Metadata struct {
			Vulnerabilities map[string]int `json:"vulnerabilities"`
		} `json:"metadata"`
	}
	if jerr := json.Unmarshal([]byte(out), &audit); err != nil || jerr != nil || audit.Metadata.Vulnerabilities == nil || audit.Metadata.Vulnerabilities["total"] != 0 {
		t.Errorf("npm audit --json: %v %v\n%s", err, jerr, tail(out))
	}
	// npm search finds the repository's own packages by name.
	var hits []struct {
		Name string `json:"name"`
	}
	out = cl.Must("", "npm", "search", "--json", "my-app")
	if err := json.Unmarshal([]byte(out), &hits); err != nil || len(hits) != 1 || hits[0].Name != "my-app-lib" {
		t.Errorf("npm search my-app: %v\n%s", err, out)
	}

	// unpublish a whole package: npm view no longer finds it, nor does
	// the control plane.
	cl.Must("", "npm", "unpublish", "my-app-lib", "--force", "--loglevel", "http")
	if out, err := cl.Run("", "npm", "view", "my-app-lib", "--prefer-online"); err == nil || !strings.Contains(out, "E404") {
		t.Errorf("npm view of an unpublished package: %v\n%s", err, tail(out))
	}
	pkgs := list(cl.AWS(w.c.URL, "list-packages", "--domain", "demo", "--repository", "my-repo", "--format", "npm"), "packages")
	if got := origin(pkgs, "", "my-app-lib"); got != "absent" {
		t.Errorf("my-app-lib after npm unpublish of the package: %s", got)
	}
	f.checkTarballsFetchedOnce(t, "at the end")
}

func strMap(v any) map[string]string {
	m, _ := v.(map[string]any)
	out := map[string]string{}
	for k, x := range m {
		out[k], _ = x.(string)
	}
	return out
}

// TestPnpmAndYarn installs the consumer project with pnpm and yarn
// classic through the same coffer, from the user config `aws codeartifact
// login --tool npm` wrote, then again from their lockfiles with empty
// caches.
func TestPnpmAndYarn(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cl, f := w.cl, w.f
	pnpm := pinnedTool(t, cl, "pnpm", pnpmVersion)
	yarn := pinnedTool(t, cl, "yarn", yarnVersion)

	dir := newConsumer(t)
	pnpmWorkspace(t, dir)
	out := cl.Must(dir, pnpm, "install")
	t.Logf("pnpm install:\n%s", out)
	checkRuns(t, cl, dir, "pnpm")
	checkLockMentions(t, f, filepath.Join(dir, "pnpm-lock.yaml"), w.endpoint, false)
	f.checkTarballsFetchedOnce(t, "after pnpm install")
	if err := os.RemoveAll(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cl.freshCaches()
	out = cl.Must(dir, pnpm, "install", "--frozen-lockfile")
	t.Logf("pnpm install --frozen-lockfile:\n%s", out)
	checkRuns(t, cl, dir, "pnpm --frozen-lockfile")

	dir = newConsumer(t)
	yarnAuth(t, dir, w.endpoint)
	out = cl.Must(dir, yarn, "install", "--non-interactive", "--no-progress", "--verbose")
	t.Logf("yarn install:\n%s", tail(out))
	checkRuns(t, cl, dir, "yarn")
	checkLockMentions(t, f, filepath.Join(dir, "yarn.lock"), w.endpoint, true)
	if err := os.RemoveAll(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	cl.freshCaches()
	out = cl.Must(dir, yarn, "install", "--frozen-lockfile", "--non-interactive", "--no-progress", "--verbose")
	t.Logf("yarn install --frozen-lockfile:\n%s", tail(out))
	checkRuns(t, cl, dir, "yarn --frozen-lockfile")
	f.checkTarballsFetchedOnce(t, "after pnpm and yarn")
}

// publishBody is the JSON npm publish sends for p with tgz attached and
// the given dist.integrity.
func publishBody(p npmtest.Package, tgz []byte, integrity, endpoint string) []byte {
	m := p.Manifest()
	m["_id"] = p.Name + "@" + p.Version
	m["readme"] = "ERROR: No README data found!"
	m["_nodeVersion"], m["_npmVersion"] = "20.20.2", "11.19.1"
	m["dist"] = map[string]any{"integrity": integrity, "shasum": npmtest.Shasum(tgz),
		"tarball": endpoint + p.Name + "/-/" + p.Name + "-" + p.Version + ".tgz"}
	doc := map[string]any{"_id": p.Name, "name": p.Name, "description": m["description"],
		"dist-tags": map[string]any{"latest": p.Version}, "versions": map[string]any{p.Version: m}, "access": nil,
		"_attachments": map[string]any{p.Name + "-" + p.Version + ".tgz": map[string]any{
			"content_type": "application/octet-stream", "data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)}}}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// TestNPMTamperedPublish sends npm's publish request with a dist.integrity
// that is not the attachment's: coffer answers 400 with a JSON error and
// stores neither the version nor a blob; the same request with the right
// integrity publishes.
func TestNPMTamperedPublish(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "my-repo")
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "my-repo", "--format", "npm"), "repositoryEndpoint")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	w := &world{c: c, cl: cl, endpoint: endpoint, token: token}
	url := endpoint + "@myscope%2flib"

	tgz := npmtest.Tarball(libV1)
	if status, body := w.httpDo(t, "PUT", url, publishBody(libV1, tgz, npmtest.Integrity(tgz), endpoint)); status < 200 || status > 299 {
		t.Fatalf("publish of %s@%s: %d %s", libV1.Name, libV1.Version, status, body)
	}
	before := blobFiles(t, dataDir)

	tampered := npmtest.Tarball(libV11)
	wrong := npmtest.Integrity(append([]byte("not "), tampered...))
	status, body := w.httpDo(t, "PUT", url, publishBody(libV11, tampered, wrong, endpoint))
	var msg map[string]any
	if status != http.StatusBadRequest || json.Unmarshal(body, &msg) != nil || str(msg, "error") == "" {
		t.Errorf("publish with a wrong integrity: %d %s, want 400 with a JSON error", status, body)
	}
	if got := w.versions(t, "my-repo", "myscope", "lib"); !slices.Equal(got, []string{"1.0.0"}) {
		t.Errorf("versions after the tampered publish: %v", got)
	}
	if after := blobFiles(t, dataDir); !slices.Equal(after, before) {
		t.Errorf("the tampered publish left blob files: before %v, after %v", before, after)
	}
	if status, _ := w.httpDo(t, "GET", endpoint+"@myscope/lib/-/lib-1.1.0.tgz", nil); status != http.StatusNotFound {
		t.Errorf("the tampered version's tarball: %d", status)
	}

	// The same request with the right integrity is accepted.
	if status, body := w.httpDo(t, "PUT", url, publishBody(libV11, tampered, npmtest.Integrity(tampered), endpoint)); status < 200 || status > 299 {
		t.Fatalf("publish with the right integrity: %d %s", status, body)
	}
	if got := w.versions(t, "my-repo", "myscope", "lib"); !slices.Equal(got, []string{"1.0.0", "1.1.0"}) {
		t.Errorf("versions after the good publish: %v", got)
	}
	if status, body := w.httpDo(t, "GET", endpoint+"@myscope/lib/-/lib-1.1.0.tgz", nil); status != http.StatusOK || !bytes.Equal(body, tampered) {
		t.Errorf("the published tarball: %d, %d bytes", status, len(body))
	}

	// Other bytes under a published version: 409 with a JSON error, and
	// the version keeps its tarball.
	other := libV11
	other.Files = map[string]string{"data/message.txt": "other bytes\n"}
	otherTgz := npmtest.Tarball(other)
	status, body = w.httpDo(t, "PUT", url, publishBody(other, otherTgz, npmtest.Integrity(otherTgz), endpoint))
	msg = nil
	if status != http.StatusConflict || json.Unmarshal(body, &msg) != nil || str(msg, "error") == "" {
		t.Errorf("publish of other bytes as %s@%s: %d %s, want 409 with a JSON error", other.Name, other.Version, status, body)
	}
	if status, body := w.httpDo(t, "GET", endpoint+"@myscope/lib/-/lib-1.1.0.tgz", nil); status != http.StatusOK || !bytes.Equal(body, tampered) {
		t.Errorf("the published tarball after a conflicting publish: %d, %d bytes", status, len(body))
	}
}

// TestLiveNPM (COFFER_LIVE_NPM=1) installs express through coffer's
// public:npmjs external connection at its default URL, the public
// registry.
func TestLiveNPM(t *testing.T) {
	if os.Getenv("COFFER_LIVE_NPM") == "" {
		t.Skip("set COFFER_LIVE_NPM=1 to install from the public npm registry through coffer")
	}
	t.Parallel()
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	cl := newClients(t, dataDir)
	cl.AWS(c.URL, "create-domain", "--domain", "live")
	cl.AWS(c.URL, "create-repository", "--domain", "live", "--repository", "npm-store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "live", "--repository", "npm-store", "--external-connection", "public:npmjs")
	cl.AWS(c.URL, "create-repository", "--domain", "live", "--repository", "app", "--upstreams", "repositoryName=npm-store")
	cl.Must("", "aws", "codeartifact", "login", "--tool", "npm", "--domain", "live", "--repository", "app", "--endpoint-url", c.URL)
	endpoint := str(cl.AWS(c.URL, "get-repository-endpoint", "--domain", "live", "--repository", "app", "--format", "npm"), "repositoryEndpoint")

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"package.json": `{"name": "live", "version": "1.0.0", "private": true, "dependencies": {"express": "^4.21.0"}}` + "\n",
		"app.js": "const express = require('express');\nconst app = express();\napp.get('/', (req, res) => res.send('hello'));\n" +
			"const server = app.listen(0, '127.0.0.1', async () => {\n  const r = await fetch('http://127.0.0.1:' + server.address().port + '/');\n" +
			"  console.log(r.status, await r.text());\n  server.close();\n});\n",
	})
	out := cl.Must(dir, "npm", "install", "--loglevel", "http")
	t.Logf("npm install:\n%s", tail(out))
	if got, err := cl.Run(dir, "node", "app.js"); err != nil || strings.TrimSpace(got) != "200 hello" {
		t.Errorf("node app.js: %v\n%s", err, got)
	}
	lock := readJSON(t, filepath.Join(dir, "package-lock.json"))
	n := 0
	for path, e := range get(lock, "packages").(map[string]any) {
		if path == "" {
			continue
		}
		n++
		if r := str(e, "resolved"); !strings.HasPrefix(r, endpoint) {
			t.Errorf("%s resolved to %s, not through coffer", path, r)
		}
	}
	if n < 30 {
		t.Errorf("express installed only %d packages", n)
	}
	pkgs := list(cl.AWS(c.URL, "list-packages", "--domain", "live", "--repository", "npm-store", "--format", "npm"), "packages")
	if got := origin(pkgs, "", "express"); got != "BLOCK/ALLOW" {
		t.Errorf("npm-store: express is %s", got)
	}
}

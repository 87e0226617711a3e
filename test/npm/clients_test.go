package npm_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"coffer/internal/format/npm/npmtest"
	"coffer/internal/testproc"
)

// The pinned versions .ci/run installs into test/npm/tools.
const (
	pnpmVersion = "12.4.2"
	yarnVersion = "1.22.22"
)

// clients runs the aws CLI, npm, pnpm, yarn and node with an isolated HOME:
// ~/.npmrc (also NPM_CONFIG_USERCONFIG) is the npm user config that `aws
// codeartifact login --tool npm` writes and that pnpm and yarn read too,
// every client's cache is under the test's temp dir, and none of this
// machine's npm, pnpm, yarn or CI settings applies.
type clients struct {
	testproc.Runner
	home  string
	npmrc string
}

func newClients(t *testing.T, dataDir string) *clients {
	need(t, "aws")
	need(t, "npm")
	need(t, "node")
	home := t.TempDir()
	npmrc := filepath.Join(home, ".npmrc")
	files := map[string]string{
		"aws-config": "[profile coffer]\nregion = us-east-1\n",
		".npmrc":     "update-notifier=false\nfund=false\n",
		// yarn classic: no self-update check (it would go to the internet).
		".yarnrc": "disable-self-update-check true\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(home, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		switch {
		case strings.HasPrefix(u, "AWS_"), strings.HasPrefix(u, "NPM_CONFIG_"), strings.HasPrefix(u, "YARN_"),
			strings.HasPrefix(u, "PNPM_"), strings.HasPrefix(u, "COREPACK_"), strings.HasPrefix(u, "XDG_"),
			u == "HOME", u == "CI", u == "NODE_OPTIONS", u == "NODE_PATH":
		default:
			env = append(env, e)
		}
	}
	cache := t.TempDir()
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NPM_CONFIG_USERCONFIG="+npmrc, "NPM_CONFIG_CACHE="+filepath.Join(cache, "npm"),
		"XDG_CACHE_HOME="+filepath.Join(cache, "xdg-cache"), "XDG_DATA_HOME="+filepath.Join(cache, "xdg-data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_STATE_HOME="+filepath.Join(cache, "xdg-state"),
		"YARN_CACHE_FOLDER="+filepath.Join(cache, "yarn"))
	return &clients{Runner: testproc.Runner{T: t, Env: env}, home: home, npmrc: npmrc}
}

// freshCaches points npm, pnpm and yarn at new empty caches.
func (c *clients) freshCaches() {
	cache := c.T.TempDir()
	c.Env = append(c.Env, "NPM_CONFIG_CACHE="+filepath.Join(cache, "npm"), "XDG_CACHE_HOME="+filepath.Join(cache, "xdg-cache"),
		"XDG_DATA_HOME="+filepath.Join(cache, "xdg-data"), "YARN_CACHE_FOLDER="+filepath.Join(cache, "yarn"))
}

// pinnedTool finds pnpm or yarn: $COFFER_PNPM or $COFFER_YARN when set,
// else tools/node_modules/.bin/<name> in this package's directory, where
// .ci/run installs the pinned version. A missing tool fails the test.
func pinnedTool(t *testing.T, c *clients, name, version string) string {
	t.Helper()
	envVar := "COFFER_" + strings.ToUpper(name)
	p, fromEnv := os.Getenv(envVar), true
	if p == "" {
		fromEnv = false
		abs, err := filepath.Abs(filepath.Join("tools", "node_modules", ".bin", name))
		if err != nil {
			t.Fatal(err)
		}
		p = abs
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s %s is required for this test and is not installed at %s: .ci/run installs it "+
			"(npm install --prefix test/npm/tools %s@%s), or set $%s to one", name, version, p, name, version, envVar)
	}
	got := strings.TrimSpace(c.Must("", p, "--version"))
	switch {
	case got == version:
	case fromEnv:
		t.Logf("$%s is %s %s, not the pinned %s", envVar, name, got, version)
	default:
		t.Fatalf("%s is %s %s, not the pinned %s: run .ci/run again to reinstall it", p, name, got, version)
	}
	return p
}

// writeFiles writes files (by slash path) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// sourceFiles are the files of a package's source directory, as npm
// publish packs them.
func sourceFiles(p npmtest.Package) map[string]string {
	files := map[string]string{"package.json": string(p.PackageJSON()), "index.js": p.IndexJS()}
	for k, v := range p.Files {
		files[k] = v
	}
	return files
}

// tarFiles returns the files of an npm tarball by path inside package/.
func tarFiles(t *testing.T, tgz []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, "package/")] = string(b)
	}
}

// checkFiles requires the files under dir to be exactly want.
func checkFiles(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			got[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s: %v", dir, err)
		return
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: %s is missing", dir, name)
		} else if g != w {
			t.Errorf("%s: %s differs from the package's (%d bytes, want %d)", dir, name, len(g), len(w))
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected file %s", dir, name)
		}
	}
}

// readJSON decodes a JSON file.
func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// npmrcToken returns the _authToken of a registry URL in an npmrc.
func npmrcToken(npmrc, registry string) string {
	nerf := "//" + strings.TrimPrefix(strings.TrimPrefix(registry, "http://"), "https://")
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(nerf) + `:_authToken=(\S+)$`).FindStringSubmatch(npmrc)
	if m == nil {
		return ""
	}
	return m[1]
}

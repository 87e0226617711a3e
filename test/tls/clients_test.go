package tls_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// clientEnv is the environment of every client: an isolated HOME, the
// root credentials of coffer's data dir for the aws CLI, and none of this
// machine's settings that would add trust (CA bundles), proxies or client
// configuration. Each client gets the test CA by its own option.
func clientEnv(t *testing.T, dataDir string) []string {
	t.Helper()
	home := t.TempDir()
	writeFile(t, filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"))
	rustup := os.Getenv("RUSTUP_HOME")
	if rustup == "" {
		if h, err := os.UserHomeDir(); err == nil {
			rustup = filepath.Join(h, ".rustup")
		}
	}
	drop := []string{"AWS_", "NPM_CONFIG_", "PIP_", "CARGO_", "GEM_", "BUNDLE_", "MAVEN_", "XDG_", "YARN_", "PNPM_"}
	dropExact := map[string]bool{"HOME": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "REQUESTS_CA_BUNDLE": true,
		"CURL_CA_BUNDLE": true, "NODE_EXTRA_CA_CERTS": true, "NODE_TLS_REJECT_UNAUTHORIZED": true, "NODE_OPTIONS": true,
		"JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true, "JDK_JAVA_OPTIONS": true, "RUBYOPT": true, "RUBYGEMS_HOST": true,
		"VIRTUAL_ENV": true, "PYTHONHTTPSVERIFY": true, "RUSTUP_HOME": true, "RUSTC_WRAPPER": true, "CI": true,
		"HTTP_PROXY": true, "HTTPS_PROXY": true, "ALL_PROXY": true, "NO_PROXY": true}
	var env []string
next:
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		u := strings.ToUpper(k)
		if dropExact[u] {
			continue
		}
		for _, p := range drop {
			if strings.HasPrefix(u, p) {
				continue next
			}
		}
		env = append(env, e)
	}
	return append(env, "HOME="+home, "RUSTUP_HOME="+rustup, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring", "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1",
		"CARGO_TERM_COLOR=never", "CARGO_NET_RETRY=0", "CARGO_HTTP_TIMEOUT=30", "CARGO_INCREMENTAL=0")
}

// with is a runner with env added.
func with(t *testing.T, base []string, env ...string) *testproc.Runner {
	return &testproc.Runner{T: t, Env: append(append([]string(nil), base...), env...)}
}

// writeTree writes files (path → content) into a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mkwheel builds a pure-Python wheel with the standard library only
// (real-clients.md, appendix B).
const mkwheel = `import base64, hashlib, os, re, sys, zipfile
name, version, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
norm = re.sub(r"[-_.]+", "_", name).lower()
di = f"{norm}-{version}.dist-info"
files = {
    f"{norm}/__init__.py": f'__version__ = "{version}"\n\ndef greet(w):\n    return "hello " + w\n'.encode(),
    f"{di}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: tiny test package\nRequires-Python: >=3.8\n\n".encode(),
    f"{di}/WHEEL": b"Wheel-Version: 1.0\nGenerator: mkwheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def rec(p, d):
    h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    return f"{p},sha256={h},{len(d)}"
files[f"{di}/RECORD"] = ("\n".join(rec(p, d) for p, d in files.items()) + f"\n{di}/RECORD,,\n").encode()
os.makedirs(outdir, exist_ok=True)
whl = os.path.join(outdir, f"{norm}-{version}-py3-none-any.whl")
with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
    for p, d in files.items():
        z.writestr(p, d)
print(whl)
`

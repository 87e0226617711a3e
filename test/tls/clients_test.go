package tls_test

import (
	"os"
	"path/filepath"
	"testing"

	"coffer/internal/testproc"
)

// clientEnv is the environment of every client: an isolated HOME, the
// root credentials of coffer's data dir for the aws CLI, and none of this
// machine's settings that would add trust (CA bundles), proxies or client
// configuration. Each client gets the test CA by its own option.
func clientEnv(t *testing.T, dataDir string) []string {
	t.Helper()
	env := testproc.ClientEnv(t, dataDir, []string{"AWS_", "NPM_CONFIG_", "PIP_", "CARGO_", "GEM_", "BUNDLE_", "MAVEN_", "XDG_", "YARN_", "PNPM_"},
		"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NODE_TLS_REJECT_UNAUTHORIZED",
		"NODE_OPTIONS", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "RUBYOPT", "RUBYGEMS_HOST", "VIRTUAL_ENV", "PYTHONHTTPSVERIFY")
	return append(env, "PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring", "PIP_NO_INPUT=1", "PIP_DISABLE_PIP_VERSION_CHECK=1")
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

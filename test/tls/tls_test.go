package tls_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"coffer/internal/testproc"
	"coffer/test/maventest"
)

func TestRealClientsOverTLS(t *testing.T) {
	for _, p := range []string{"aws", "npm", "node", "python3", "twine", "cargo", "gem", "bundle", "ruby", "keytool"} {
		testproc.Need(t, p)
	}
	maventest.CheckInstall(t)

	ca := newPKI(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := ca.server(t)
	writeFile(t, certFile, first.certPEM)
	writeFile(t, keyFile, first.keyPEM)

	central := maventest.NewCentral(t)
	c := testproc.Start(t, cofferBin, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile,
		"--external-connection", "public:maven-central="+central.URL+"/")
	if !strings.HasPrefix(c.URL, "https://") {
		t.Fatalf("coffer URL %s", c.URL)
	}
	addr := strings.TrimPrefix(c.URL, "https://")
	base := clientEnv(t, c.DataDir)
	cl := with(t, base, "AWS_CA_BUNDLE="+ca.caFile)

	// The certificate presented is the configured one, with its chain, by
	// TLS 1.2 or later.
	leaf, st, err := ca.presented(addr)
	if err != nil {
		t.Fatalf("a client trusting the test CA cannot connect: %v", err)
	}
	if leaf.SerialNumber.Cmp(first.cert.SerialNumber) != 0 || len(st.PeerCertificates) != 2 || st.Version < tls.VersionTLS12 {
		t.Fatalf("presented serial %x (want %x), chain of %d, version %x", leaf.SerialNumber, first.cert.SerialNumber, len(st.PeerCertificates), st.Version)
	}

	t.Run("aws", func(t *testing.T) {
		// Without the CA bundle the CLI refuses the server.
		out, err := with(t, base, "AWS_MAX_ATTEMPTS=1").Run("", "aws", "codeartifact", "list-domains", "--endpoint-url", c.URL)
		if err == nil || !strings.Contains(out, "CERTIFICATE_VERIFY_FAILED") {
			t.Fatalf("aws without AWS_CA_BUNDLE: err %v\n%s", err, out)
		}
	})
	cl.AWS(c.URL, "create-domain", "--domain", "demo")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "store")
	cl.AWS(c.URL, "associate-external-connection", "--domain", "demo", "--repository", "store", "--external-connection", "public:maven-central")
	cl.AWS(c.URL, "create-repository", "--domain", "demo", "--repository", "app", "--upstreams", "repositoryName=store")
	token := str(cl.AWS(c.URL, "get-authorization-token", "--domain", "demo"), "authorizationToken")
	if token == "" {
		t.Fatal("no authorization token")
	}
	endpoint := func(t *testing.T, format string) string {
		t.Helper()
		e := str(with(t, cl.Env).AWS(c.URL, "get-repository-endpoint", "--domain", "demo", "--repository", "app", "--format", format), "repositoryEndpoint")
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(c.URL) + `/` + format + `/d/demo-[0-9]{12}/app/$`).MatchString(e) {
			t.Fatalf("%s endpoint %q is not under %s", format, e, c.URL)
		}
		return e
	}

	t.Run("aws publish-package-version", func(t *testing.T) {
		cl := with(t, cl.Env)
		asset := filepath.Join(t.TempDir(), "asset.txt")
		body := []byte("served over TLS\n")
		writeFile(t, asset, body)
		sum := sha256.Sum256(body)
		pub := cl.AWS(c.URL, "publish-package-version", "--domain", "demo", "--repository", "app", "--format", "generic",
			"--namespace", "tls", "--package", "hello", "--package-version", "1.0.0", "--asset-content", asset,
			"--asset-name", "asset.txt", "--asset-sha256", hex.EncodeToString(sum[:]))
		if str(pub, "status") != "Published" {
			t.Fatalf("publish-package-version: %v", pub)
		}
		out := filepath.Join(t.TempDir(), "out.bin")
		cl.AWS(c.URL, "get-package-version-asset", "--domain", "demo", "--repository", "app", "--format", "generic",
			"--namespace", "tls", "--package", "hello", "--package-version", "1.0.0", "--asset", "asset.txt", out)
		if got, _ := os.ReadFile(out); !bytes.Equal(got, body) {
			t.Fatalf("asset read back %q", got)
		}
	})

	t.Run("npm", func(t *testing.T) {
		e := endpoint(t, "npm")
		npmrc := filepath.Join(t.TempDir(), "npmrc")
		writeFile(t, npmrc, []byte("registry="+e+"\n//"+strings.TrimPrefix(e, "https://")+":_authToken="+token+"\n"+
			"cafile="+ca.caFile+"\nupdate-notifier=false\nfund=false\naudit=false\n"))
		npm := with(t, base, "NPM_CONFIG_USERCONFIG="+npmrc, "NPM_CONFIG_CACHE="+filepath.Join(t.TempDir(), "cache"))
		pkg := writeTree(t, map[string]string{
			"package.json": `{"name":"tls-hello","version":"1.0.0","description":"published over TLS","main":"index.js","license":"MIT"}`,
			"index.js":     "module.exports = () => 'hello over TLS';\n",
		})
		if out := npm.Must(pkg, "npm", "publish"); !strings.Contains(out, "tls-hello@1.0.0") {
			t.Fatalf("npm publish:\n%s", out)
		}
		app := writeTree(t, map[string]string{"package.json": `{"name":"consumer","version":"1.0.0","private":true}`})
		npm.Must(app, "npm", "install", "tls-hello@1.0.0")
		if got := strings.TrimSpace(npm.Must(app, "node", "-e", "process.stdout.write(require('tls-hello')())")); got != "hello over TLS" {
			t.Fatalf("the installed package says %q", got)
		}
		lock, _ := os.ReadFile(filepath.Join(app, "package-lock.json"))
		if !strings.Contains(string(lock), `"resolved": "`+c.URL+"/npm/") {
			t.Errorf("the lockfile does not resolve through coffer over https:\n%s", lock)
		}
		// Without cafile npm refuses the server.
		plain := filepath.Join(t.TempDir(), "npmrc")
		writeFile(t, plain, []byte("registry="+e+"\n//"+strings.TrimPrefix(e, "https://")+":_authToken="+token+"\nfetch-retries=0\n"))
		out, err := with(t, base, "NPM_CONFIG_USERCONFIG="+plain, "NPM_CONFIG_CACHE="+filepath.Join(t.TempDir(), "cache")).
			Run(writeTree(t, map[string]string{"package.json": `{"name":"c2","version":"1.0.0","private":true}`}), "npm", "install", "tls-hello@1.0.0")
		if err == nil || !strings.Contains(out, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY") && !strings.Contains(out, "certificate") {
			t.Errorf("npm without cafile: err %v\n%s", err, tail(out))
		}
	})

	t.Run("twine and pip", func(t *testing.T) {
		e := endpoint(t, "pypi")
		py := with(t, base)
		script := filepath.Join(t.TempDir(), "mkwheel.py")
		writeFile(t, script, []byte(mkwheel))
		wheel := strings.TrimSpace(py.Must("", "python3", script, "tls-hello", "0.1.0", t.TempDir()))
		out := py.Must("", "twine", "upload", "--non-interactive", "--cert", ca.caFile, "--repository-url", e, "-u", "aws", "-p", token, wheel)
		if strings.Contains(out, "ERROR") {
			t.Fatalf("twine upload:\n%s", out)
		}
		venv := filepath.Join(t.TempDir(), "venv")
		py.Must("", "python3", "-m", "venv", venv)
		u, _ := url.Parse(e + "simple/")
		u.User = url.UserPassword("aws", token)
		pip := filepath.Join(venv, "bin", "pip")
		// Without --cert pip refuses the server.
		out, err := py.Run("", pip, "install", "--no-cache-dir", "--retries", "0", "--index-url", u.String(), "tls-hello")
		if err == nil || !strings.Contains(out, "CERTIFICATE_VERIFY_FAILED") {
			t.Fatalf("pip without --cert: err %v\n%s", err, tail(out))
		}
		out = py.Must("", pip, "install", "--no-cache-dir", "--cert", ca.caFile, "--index-url", u.String(), "tls-hello")
		if !strings.Contains(out, "Successfully installed tls-hello-0.1.0") {
			t.Fatalf("pip install:\n%s", tail(out))
		}
		if got := py.Must("", filepath.Join(venv, "bin", "python"), "-c", "import tls_hello; print(tls_hello.greet('tls'))"); strings.TrimSpace(got) != "hello tls" {
			t.Fatalf("the installed package says %q", got)
		}
	})

	t.Run("mvn", func(t *testing.T) {
		e := endpoint(t, "maven")
		store := filepath.Join(t.TempDir(), "truststore.p12")
		with(t, base).Must("", "keytool", "-importcert", "-noprompt", "-alias", "coffer-test-ca", "-file", ca.caFile,
			"-keystore", store, "-storetype", "PKCS12", "-storepass", "changeit")
		proj := maventest.WriteProject(t, e)
		mvn := with(t, base, "CODEARTIFACT_AUTH_TOKEN="+token, "MAVEN_OPTS=-Djavax.net.ssl.trustStore="+store+
			" -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=changeit")
		out := mvn.Must(proj, "mvn", "-B", "-s", "settings.xml", "-Dmaven.repo.local="+filepath.Join(t.TempDir(), "m2"), "deploy")
		if !strings.Contains(out, "Tests run: 1, Failures: 0") || !strings.Contains(out, "Uploaded to codeartifact: "+e+"com/example/hello/1.0.0/hello-1.0.0.jar") {
			t.Fatalf("mvn deploy:\n%s", tail(out))
		}
		v := with(t, cl.Env).AWS(c.URL, "list-package-versions", "--domain", "demo", "--repository", "app", "--format", "maven",
			"--namespace", "com.example", "--package", "hello")
		if len(list(v, "versions")) != 1 || str(v, "versions", 0, "version") != "1.0.0" || str(v, "versions", 0, "status") != "Published" {
			t.Errorf("hello versions: %v", v)
		}
		if len(central.Counts()) == 0 {
			t.Error("the plugins did not come through coffer's external connection")
		}
	})

	t.Run("cargo", func(t *testing.T) {
		e := endpoint(t, "cargo")
		cargoRun := func() *testproc.Runner {
			home := t.TempDir()
			writeFile(t, filepath.Join(home, "config.toml"), []byte("[registries.coffer]\nindex = \"sparse+"+e+"\"\n"+
				"credential-provider = \"cargo:token\"\n\n[registry]\ndefault = \"coffer\"\n"))
			return with(t, base, "CARGO_HOME="+home, "CARGO_REGISTRIES_COFFER_TOKEN="+token, "CARGO_HTTP_CAINFO="+ca.caFile,
				"CARGO_TARGET_DIR="+filepath.Join(t.TempDir(), "target"))
		}
		lib := writeTree(t, map[string]string{
			"Cargo.toml": "[package]\nname = \"tls-crate\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"published over TLS\"\nlicense = \"MIT\"\n",
			"src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
		})
		out := cargoRun().Must(lib, "cargo", "publish", "--registry", "coffer", "--allow-dirty")
		if !strings.Contains(out, "tls-crate v0.1.0") {
			t.Fatalf("cargo publish:\n%s", tail(out))
		}
		app := writeTree(t, map[string]string{
			"Cargo.toml":  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\ntls-crate = { version = \"0.1\", registry = \"coffer\" }\n",
			"src/main.rs": "fn main() { println!(\"answer={}\", tls_crate::answer()); }\n",
		})
		if got := cargoRun().Must(app, "cargo", "run", "-q"); strings.TrimSpace(got) != "answer=42" {
			t.Fatalf("the application says %q", got)
		}
	})

	t.Run("gem and bundler", func(t *testing.T) {
		e := endpoint(t, "ruby")
		gemDir := writeTree(t, map[string]string{
			"tls_gem.gemspec": "Gem::Specification.new do |s|\n  s.name = \"tls_gem\"\n  s.version = \"1.0.0\"\n  s.summary = \"pushed over TLS\"\n" +
				"  s.authors = [\"Coffer Test\"]\n  s.license = \"MIT\"\n  s.files = [\"lib/tls_gem.rb\"]\nend\n",
			"lib/tls_gem.rb": "module TlsGem\n  def self.hello = \"hello over TLS\"\nend\n",
		})
		rb := with(t, base, "GEM_SPEC_CACHE="+filepath.Join(t.TempDir(), "specs"))
		rb.Must(gemDir, "gem", "build", "tls_gem.gemspec")
		gemFile := filepath.Join(gemDir, "tls_gem-1.0.0.gem")
		host := strings.TrimSuffix(e, "/")
		// Without the CA gem push refuses the server.
		out, err := with(t, rb.Env, "GEM_HOST_API_KEY="+token).Run("", "gem", "push", "--host", host, gemFile)
		if err == nil && strings.Contains(out, "Successfully registered") || !strings.Contains(out, "certificate verify failed") {
			t.Fatalf("gem push without the CA: err %v\n%s", err, out)
		}
		out = with(t, rb.Env, "GEM_HOST_API_KEY="+token, "SSL_CERT_FILE="+ca.caFile).Must("", "gem", "push", "--host", host, gemFile)
		if !strings.Contains(out, "Successfully registered gem: tls_gem (1.0.0)") {
			t.Fatalf("gem push:\n%s", out)
		}
		app := writeTree(t, map[string]string{
			"Gemfile": "source \"" + e + "\"\ngem \"tls_gem\"\n",
			"main.rb": "require \"bundler/setup\"\nrequire \"tls_gem\"\nprint TlsGem.hello\n",
		})
		b := with(t, rb.Env, "BUNDLE_USER_CACHE="+filepath.Join(t.TempDir(), "cache"), "BUNDLE_PATH="+filepath.Join(app, "vendor"),
			"BUNDLE_USER_HOME="+filepath.Join(t.TempDir(), "bundle-home"),
			// Bundler's ssl_ca_cert covers its index requests; the .gem
			// downloads go through RubyGems' fetcher, which needs
			// SSL_CERT_FILE (or :ssl_ca_cert: in .gemrc).
			"BUNDLE_SSL_CA_CERT="+ca.caFile, "SSL_CERT_FILE="+ca.caFile)
		b.Must(app, "bundle", "config", "set", "--local", e, "aws:"+token)
		b.Must(app, "bundle", "install")
		lock, _ := os.ReadFile(filepath.Join(app, "Gemfile.lock"))
		if !strings.Contains(string(lock), "remote: "+e) || !strings.Contains(string(lock), "    tls_gem (1.0.0)\n") {
			t.Fatalf("Gemfile.lock:\n%s", lock)
		}
		if got := b.Must(app, "ruby", "main.rb"); got != "hello over TLS" {
			t.Fatalf("the installed gem says %q", got)
		}
	})

	t.Run("go client negotiates HTTP/2", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(c.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
			t.Fatalf("status %d, proto %s, ALPN %v", resp.StatusCode, resp.Proto, resp.TLS)
		}
		// TLS 1.1 is refused.
		if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
			t.Error("a TLS 1.1 handshake succeeded")
		}
	})

	t.Run("plain HTTP is refused", func(t *testing.T) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server") {
			t.Fatalf("plain HTTP: %d %q", resp.StatusCode, body)
		}
	})

	t.Run("handshake errors do not flood the log", func(t *testing.T) {
		before := strings.Count(c.Logs.String(), "TLS handshake error")
		for range 20 {
			if conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil { // not trusting the test CA
				conn.Close()
				t.Fatal("a client without the test CA connected")
			}
		}
		// The server logs each failure after the client has gone: wait until
		// a new connection has been served, so the failures are processed.
		if _, _, err := ca.presented(addr); err != nil {
			t.Fatal(err)
		}
		after := strings.Count(c.Logs.String(), "TLS handshake error")
		if after-before > 1 {
			t.Errorf("20 failed handshakes wrote %d log lines", after-before)
		}
		if after == 0 {
			t.Errorf("no failed handshake was logged at all:\n%s", c.Logs.String())
		}
		for _, line := range strings.Split(c.Logs.String(), "\n") {
			if strings.Contains(line, "TLS handshake error") && !strings.Contains(line, "level=WARN") {
				t.Errorf("handshake error logged above warning: %s", line)
			}
		}
	})

	t.Run("console cookies are Secure", func(t *testing.T) {
		consoleCookies(t, c, ca)
	})

	t.Run("renewal on disk, certificate first, then key", func(t *testing.T) {
		second := ca.server(t)
		writeFile(t, certFile, second.certPEM) // the new certificate does not match the key on disk yet
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(c.Logs.String(), "TLS certificate files could not be loaded") {
			leaf, _, err := ca.presented(addr)
			if err != nil {
				t.Fatalf("a handshake failed while the key was not yet renewed: %v", err)
			}
			if leaf.SerialNumber.Cmp(first.cert.SerialNumber) != 0 {
				t.Fatalf("serial %x presented with a mismatched key on disk", leaf.SerialNumber)
			}
			if time.Now().After(deadline) {
				t.Fatalf("coffer never looked at the renewed certificate:\n%s", c.Logs.String())
			}
		}
		if leaf, _, err := ca.presented(addr); err != nil || leaf.SerialNumber.Cmp(first.cert.SerialNumber) != 0 {
			t.Fatalf("after the failed load: %v, %v", leaf, err)
		}
		writeFile(t, keyFile, second.keyPEM)
		handshakes := 0
		for deadline := time.Now().Add(15 * time.Second); ; {
			leaf, _, err := ca.presented(addr)
			handshakes++
			if err != nil {
				t.Fatal(err)
			}
			if leaf.SerialNumber.Cmp(second.cert.SerialNumber) == 0 {
				break
			}
			if leaf.SerialNumber.Cmp(first.cert.SerialNumber) != 0 || time.Now().After(deadline) {
				t.Fatalf("serial %x after the key was renewed; want %x", leaf.SerialNumber, second.cert.SerialNumber)
			}
		}
		t.Logf("the renewed certificate was presented after %d new connections", handshakes)
		// The reload is logged once the new pair is in place: poll for it.
		logged := regexp.MustCompile(`msg="TLS certificate reloaded" reason="files changed" .*serial=` + second.cert.SerialNumber.Text(16))
		for deadline := time.Now().Add(10 * time.Second); !logged.MatchString(c.Logs.String()); {
			if time.Now().After(deadline) {
				t.Fatalf("no reload logged:\n%s", c.Logs.String())
			}
			<-time.After(10 * time.Millisecond) // poll interval for the log line
		}
		// The HTTP surfaces keep working on the new certificate.
		cl := with(t, cl.Env)
		if got := list(cl.AWS(c.URL, "list-domains"), "domains"); len(got) != 1 {
			t.Errorf("list-domains after the renewal: %v", got)
		}
		first = second
	})

	t.Run("SIGHUP", func(t *testing.T) {
		ci, _ := os.Stat(certFile)
		ki, _ := os.Stat(keyFile)
		// A new pair whose files look exactly like the old ones (size,
		// mtime, inode): only a forced reload can notice it.
		var third serverPair
		for i := 0; ; i++ {
			third = ca.server(t)
			if int64(len(third.certPEM)) == ci.Size() && int64(len(third.keyPEM)) == ki.Size() {
				break
			}
			if i > 500 {
				t.Fatalf("no certificate of %d bytes", ci.Size())
			}
		}
		writeFile(t, certFile, third.certPEM)
		writeFile(t, keyFile, third.keyPEM)
		if err := os.Chtimes(certFile, ci.ModTime(), ci.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(keyFile, ki.ModTime(), ki.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := c.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		logged := regexp.MustCompile(`msg="TLS certificate reloaded" reason=SIGHUP .*serial=` + third.cert.SerialNumber.Text(16))
		for deadline := time.Now().Add(15 * time.Second); !logged.MatchString(c.Logs.String()); {
			select {
			case err := <-c.Done:
				t.Fatalf("coffer exited on SIGHUP: %v\n%s", err, c.Logs.String())
			case <-time.After(20 * time.Millisecond): // poll interval for the log line
			}
			if time.Now().After(deadline) {
				t.Fatalf("no SIGHUP reload logged:\n%s", c.Logs.String())
			}
		}
		leaf, _, err := ca.presented(addr)
		if err != nil || leaf.SerialNumber.Cmp(third.cert.SerialNumber) != 0 {
			t.Fatalf("after SIGHUP: serial %v, err %v; want %x", leaf, err, third.cert.SerialNumber)
		}
	})

	logs := c.Logs.String()
	if strings.Contains(logs, "plain HTTP beyond the loopback") {
		t.Errorf("coffer warned about plain HTTP while serving TLS on the loopback")
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("coffer logged an error: %s", line)
		}
	}
	c.Stop()
}

// consoleCookies signs in to the console over TLS with the root key and
// checks every cookie coffer sets or clears carries Secure.
func consoleCookies(t *testing.T, c *testproc.Coffer, ca *pki) {
	t.Helper()
	creds, err := os.ReadFile(filepath.Join(c.DataDir, "root-credentials"))
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\s*=\s*(\S+)`).FindStringSubmatch(string(creds))
		if m == nil {
			t.Fatalf("no %s in root-credentials", name)
		}
		return m[1]
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(c.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET /console/login: %d\n%s", resp.StatusCode, page)
	}
	checkSecure(t, "GET /console/login", resp, "coffer_login")
	var login *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "coffer_login" {
			login = ck
		}
	}
	form := url.Values{"access_key_id": {field("aws_access_key_id")}, "secret_access_key": {field("aws_secret_access_key")},
		"csrf": {string(m[1])}, "next": {"/console/"}}
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.URL)
	req.AddCookie(&http.Cookie{Name: login.Name, Value: login.Value})
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /console/login: %d", resp.StatusCode)
	}
	checkSecure(t, "POST /console/login", resp, "coffer_session", "coffer_login")
	// An invalid session cookie is cleared, Secure too.
	req, _ = http.NewRequest(http.MethodGet, c.URL+"/console/", nil)
	req.AddCookie(&http.Cookie{Name: "coffer_session", Value: "not-a-session"})
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	checkSecure(t, "GET /console/ with a bad session", resp, "coffer_session")
}

// checkSecure requires the response to set each named cookie, and every
// cookie it sets to be Secure and HttpOnly.
func checkSecure(t *testing.T, what string, resp *http.Response, names ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, line := range resp.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("%s: bad Set-Cookie %q", what, line)
			continue
		}
		seen[ck.Name] = true
		if !ck.Secure || !ck.HttpOnly {
			t.Errorf("%s: cookie without Secure or HttpOnly: %s", what, line)
		}
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("%s: no %s cookie set (Set-Cookie: %v)", what, n, resp.Header.Values("Set-Cookie"))
		}
	}
}

// TestPlainHTTPWarning: coffer warns when it serves plain HTTP beyond the
// loopback with an http public URL, and not on the loopback.
func TestPlainHTTPWarning(t *testing.T) {
	const warning = "coffer serves plain HTTP beyond the loopback"
	c := testproc.Start(t, cofferBin, t.TempDir(), "--listen", "0.0.0.0:"+portOf(t))
	c.Stop()
	if !strings.Contains(c.Logs.String(), warning) || !regexp.MustCompile(`level=WARN msg="`+warning).MatchString(c.Logs.String()) {
		t.Errorf("no warning for 0.0.0.0:\n%s", c.Logs.String())
	}
	c = testproc.Start(t, cofferBin, t.TempDir(), "--listen", "0.0.0.0:"+portOf(t), "--public-url", "https://artifacts.example.test")
	c.Stop()
	if strings.Contains(c.Logs.String(), warning) {
		t.Errorf("warned although the public URL is https (a TLS proxy in front):\n%s", c.Logs.String())
	}
	c = testproc.Start(t, cofferBin, t.TempDir())
	c.Stop()
	if strings.Contains(c.Logs.String(), warning) {
		t.Errorf("warned on the loopback:\n%s", c.Logs.String())
	}
}

func portOf(t *testing.T) string { return strconv.Itoa(testproc.FreePort(t)) }

// TestSIGHUPWithoutTLS: a reload signal (systemctl reload, a certbot hook)
// sent to a coffer serving plain HTTP changes nothing and stops nothing.
func TestSIGHUPWithoutTLS(t *testing.T) {
	c := testproc.Start(t, cofferBin, t.TempDir())
	if err := c.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for !strings.Contains(c.Logs.String(), "SIGHUP: no TLS certificate to reload") {
		select {
		case err := <-c.Done:
			t.Fatalf("coffer exited on SIGHUP: %v\n%s", err, c.Logs.String())
		case <-deadline:
			t.Fatalf("SIGHUP not handled:\n%s", c.Logs.String())
		case <-time.After(20 * time.Millisecond): // polling the log
		}
	}
	resp, err := http.Get(c.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after SIGHUP: %v %v", resp, err)
	}
	resp.Body.Close()
	c.Stop()
}

package supplychain_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/format/pypi/pypitest"
)

// pip resolves the newest release past the cooldown: the JSON simple page
// it reads and the HTML page older clients read both leave the new release
// out, and its files are refused with the reason.
func TestPipCooldown(t *testing.T) {
	need(t, "python3")
	idx := pypitest.NewIndex()
	now := time.Now().UTC()
	for v, age := range map[string]time.Duration{"1.0": 30 * day, "1.1": 10 * day, "2.0": time.Hour} {
		f := idx.AddWheel(pypitest.Dist{Name: "slowpkg", Version: v}, true)
		f.UploadTime = now.Add(-age)
	}
	up := httptest.NewServer(idx)
	defer up.Close()

	w := newWorld(t, "--external-connection", "public:pypi="+up.URL+"/")
	w.aws("create-domain", "--domain", "acme")
	endpoint, token := w.repos("acme", "py", "public:pypi", "pypi")
	w.coffer("rules", "set", "--domain", "acme", "--cooldown", "72h")

	venv := filepath.Join(t.TempDir(), "venv")
	w.Must("", "python3", "-m", "venv", venv)
	pip := filepath.Join(venv, "bin", "pip")
	index := "http://aws:" + token + "@" + strings.TrimPrefix(endpoint, "http://") + "simple/"
	out := w.Must("", pip, "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", index, "slowpkg")
	if !strings.Contains(out, "Successfully installed slowpkg-1.1") {
		t.Fatalf("pip install slowpkg did not pick 1.1:\n%s", tail(out))
	}
	// The same through coffer's PEP 503 HTML pages: a proxy asks for
	// text/html only (pip has no switch for it).
	html := htmlOnly(t, w.c.URL)
	htmlIndex := "http://aws:" + token + "@" + strings.TrimPrefix(html.URL, "http://") + strings.TrimPrefix(endpoint, w.c.URL) + "simple/"
	out = w.Must("", pip, "install", "--no-cache-dir", "--disable-pip-version-check", "--force-reinstall", "--index-url", htmlIndex, "slowpkg")
	if !strings.Contains(out, "Successfully installed slowpkg-1.1") {
		t.Fatalf("pip install slowpkg through HTML pages did not pick 1.1:\n%s", tail(out))
	}
	if out, err := w.Run("", pip, "install", "--no-cache-dir", "--disable-pip-version-check", "--index-url", index, "slowpkg==2.0"); err == nil ||
		!strings.Contains(out, "No matching distribution") {
		t.Errorf("pip install slowpkg==2.0 in cooldown: %v\n%s", err, tail(out))
	}

	// A build pinning the new release learns it before it runs.
	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	writeFiles(t, filepath.Dir(reqs), map[string]string{"requirements.txt": "slowpkg==1.1\nslowpkg-extra==0.1 ; python_version < '3'\nrequests>=2\n"})
	pre, _ := w.cofferExit("check", "lockfile", "--domain", "acme", "--repository", "py", reqs)
	if get(pre, "checked") != 2.0 || len(get(pre, "refused").([]any)) != 0 || len(get(pre, "unpinned").([]any)) != 1 {
		t.Errorf("coffer check lockfile of allowed pins: %v", pre)
	}
	writeFiles(t, filepath.Dir(reqs), map[string]string{"requirements.txt": "slowpkg==2.0\n"})
	pre, _ = w.cofferExit("check", "lockfile", "--domain", "acme", "--repository", "py", reqs)
	if p, _ := get(pre, "pending").([]any); len(p) != 1 || !strings.Contains(str(p[0], "reason"), "cooldown") {
		t.Errorf("coffer check lockfile of a pin in cooldown: %v", pre)
	}

	for _, accept := range []string{"application/vnd.pypi.simple.v1+json", "text/html"} {
		code, body := basicGet(t, endpoint+"simple/slowpkg/", token, accept)
		if code != http.StatusOK || !strings.Contains(body, "slowpkg-1.1-py3-none-any.whl") || strings.Contains(body, "slowpkg-2.0") {
			t.Errorf("simple page (%s): %d\n%s", accept, code, body)
		}
	}
	code, body := basicGet(t, endpoint+"files/slowpkg/2.0/slowpkg-2.0-py3-none-any.whl", token, "*/*")
	if code != http.StatusForbidden || !strings.Contains(body, "in cooldown of 72h0m0s") {
		t.Errorf("GET the release in cooldown: %d %s", code, body)
	}
	if n := idx.Count("/files/slowpkg-2.0-py3-none-any.whl"); n != 0 {
		t.Errorf("the file in cooldown was fetched upstream %d times", n)
	}
}

func basicGet(t *testing.T, u, token, accept string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("aws", token)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// htmlOnly is a reverse proxy in front of coffer that asks for simple
// pages as text/html only, so that pip reads coffer's PEP 503 HTML.
func htmlOnly(t *testing.T, target string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		if strings.Contains(pr.Out.URL.Path, "/simple/") {
			pr.Out.Header.Set("Accept", "text/html")
		}
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		if strings.Contains(resp.Request.URL.Path, "/simple/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("a simple page through the proxy is %s", resp.Header.Get("Content-Type"))
		}
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

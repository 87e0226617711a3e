package cluster_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// TestClusterBlobRedirect: with --blob-redirect-size, a native download of
// a large asset is a 307 to a presigned URL of the object store, which the
// real npm follows; a small one is still served by the node.
func TestClusterBlobRedirect(t *testing.T) {
	testproc.Need(t, "npm")
	c := newCluster(t, 2, "--blob-redirect-size", "65536")
	r := c.runner()
	owner := str(r.AWS(c.URL, "create-domain", "--domain", "acme"), "domain", "owner")
	r.AWS(c.URL, "create-repository", "--domain", "acme", "--repository", "js")
	token := str(r.AWS(c.URL, "get-authorization-token", "--domain", "acme"), "authorizationToken")
	registry := c.URL + "/npm/d/acme-" + owner + "/js/"
	npmrc := filepath.Join(t.TempDir(), "npmrc")
	writeFile(t, npmrc, "//"+strings.TrimPrefix(registry, "http://")+":_authToken="+token+"\n")
	npm := &testproc.Runner{T: t, Env: append(r.Env, "npm_config_userconfig="+npmrc, "npm_config_cache="+t.TempDir(),
		"npm_config_audit=false", "npm_config_fund=false", "npm_config_update_notifier=false")}

	big := make([]byte, 300_000) // random: the tarball stays larger than the threshold
	_, _ = rand.Read(big)
	for name, data := range map[string]string{"big": hex.EncodeToString(big), "small": "tiny"} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "package.json"), `{"name":"@acme/`+name+`","version":"1.0.0","main":"index.js"}`)
		writeFile(t, filepath.Join(dir, "index.js"), "module.exports = '"+name+"';\n")
		writeFile(t, filepath.Join(dir, "data.txt"), data)
		npm.Must(dir, "npm", "publish", "--registry", registry)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, registry+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	endpoint := c.s3.vars["COFFER_TEST_S3"]
	endpoint = endpoint[strings.Index(endpoint, "endpoint=")+len("endpoint="):]
	endpoint = endpoint[:strings.Index(endpoint, "&")]
	if resp := get("@acme/big/-/big-1.0.0.tgz"); resp.StatusCode != http.StatusTemporaryRedirect ||
		!strings.HasPrefix(resp.Header.Get("Location"), endpoint+"/") || !strings.Contains(resp.Header.Get("Location"), "X-Amz-Signature=") {
		t.Fatalf("large tarball: %d, Location %q; want a 307 to a presigned URL of %s", resp.StatusCode, resp.Header.Get("Location"), endpoint)
	}
	if resp := get("@acme/small/-/small-1.0.0.tgz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("small tarball: %d, want 200 from the node", resp.StatusCode)
	}

	app := t.TempDir()
	writeFile(t, filepath.Join(app, "package.json"), `{"name":"app","version":"1.0.0","private":true,"dependencies":{"@acme/big":"1.0.0","@acme/small":"1.0.0"}}`)
	npm.Must(app, "npm", "install", "--registry", registry)
	got, err := os.ReadFile(filepath.Join(app, "node_modules", "@acme", "big", "data.txt"))
	if err != nil || string(got) != hex.EncodeToString(big) {
		t.Fatalf("npm installed a data.txt of %d bytes (%v), want the %d published", len(got), err, 2*len(big))
	}
}

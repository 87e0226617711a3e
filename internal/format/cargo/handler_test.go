package cargo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"coffer/internal/format/cargo"
	"coffer/internal/format/formattest"
)

// call sends one request with cargo's bare token and returns status,
// headers and body.
func call(t *testing.T, c *formattest.Client, method, path string, body []byte, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func publishAs(t *testing.T, c *formattest.Client, name, version string) (int, string) {
	t.Helper()
	code, _, body := call(t, c, http.MethodPut, "api/v1/crates/new", publishBody(name, version, crateFile(name, version)))
	return code, body
}

func TestConfigJSON(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	code, _, body := call(t, c, http.MethodGet, "config.json", nil)
	var cfg struct {
		DL   string `json:"dl"`
		API  string `json:"api"`
		Auth bool   `json:"auth-required"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &cfg) != nil {
		t.Fatalf("config.json: %d %s", code, body)
	}
	if cfg.DL != c.Endpoint+"api/v1/crates/{crate}/{version}/download" || cfg.API+"/" != c.Endpoint || !cfg.Auth {
		t.Errorf("config.json: %+v (endpoint %s)", cfg, c.Endpoint)
	}
}

// TestIndexFile: the index file lists published versions with their
// spelling, a yanked one with "yanked":true; its ETag revalidates to 304
// until a change, and the new file has another ETag.
func TestIndexFile(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if code, body := publishAs(t, c, confCrate, v); code != http.StatusOK {
			t.Fatalf("publish %s: %d %s", v, code, body)
		}
	}
	path := cargo.IndexPath(confCrate)
	code, h, body := call(t, c, http.MethodGet, path, nil)
	if code != http.StatusOK {
		t.Fatalf("index: %d %s", code, body)
	}
	formattest.Golden(t, "index", []byte(body))
	etag := h.Get("ETag")
	if code, _, _ := call(t, c, http.MethodGet, path, nil, "If-None-Match", etag); code != http.StatusNotModified {
		t.Errorf("If-None-Match %s: %d", etag, code)
	}
	if code, _, _ := call(t, c, http.MethodGet, path, nil, "If-Modified-Since", h.Get("Last-Modified")); code != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", code)
	}

	if code, _, body := call(t, c, http.MethodDelete, "api/v1/crates/"+confCrate+"/1.0.0/yank", nil); code != http.StatusOK || body != `{"ok":true}` {
		t.Fatalf("yank: %d %s", code, body)
	}
	code, h2, body := call(t, c, http.MethodGet, path, nil, "If-None-Match", etag)
	if code != http.StatusOK || h2.Get("ETag") == etag || !strings.Contains(body, `"vers":"1.0.0","deps":[],"cksum":`) ||
		strings.Count(body, `"yanked":true`) != 1 {
		t.Fatalf("index after yank: %d %s %s", code, h2.Get("ETag"), body)
	}
	if code, _, _ := call(t, c, http.MethodGet, confAdapter.AssetPath("1.0.0"), nil); code != http.StatusOK {
		t.Errorf("download of a yanked version: %d", code)
	}
	if code, _, body := call(t, c, http.MethodPut, "api/v1/crates/"+confCrate+"/1.0.0/unyank", nil); code != http.StatusOK {
		t.Fatalf("unyank: %d %s", code, body)
	}
	if _, _, body := call(t, c, http.MethodGet, path, nil); strings.Contains(body, `"yanked":true`) {
		t.Errorf("index after unyank: %s", body)
	}
	// Another spelling's path is not this crate's.
	if code, _, _ := call(t, c, http.MethodGet, cargo.IndexPath("conf-fixture"), nil); code != http.StatusNotFound {
		t.Errorf("index of conf-fixture: %d", code)
	}
}

// TestPublishRefusals: errors come in cargo's JSON shape with the fault's
// status.
func TestPublishRefusals(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	if code, body := publishAs(t, c, confCrate, "1.0.0"); code != http.StatusOK {
		t.Fatalf("publish: %d %s", code, body)
	}
	for _, tc := range []struct {
		name, version string
		status        int
		detail        string
	}{
		{confCrate, "1.0.0", http.StatusConflict, "crate version `conf_fixture@1.0.0` is already uploaded"},
		{confCrate, "1.0.0+build", http.StatusConflict, "is already uploaded as 1.0.0"},
		{"Conf-Fixture", "2.0.0", http.StatusConflict, "crate `Conf-Fixture` is published here as `conf_fixture`"},
		{"std", "1.0.0", http.StatusBadRequest, "the crate name `std` is reserved"},
	} {
		code, body := publishAs(t, c, tc.name, tc.version)
		var e struct {
			Errors []struct{ Detail string } `json:"errors"`
		}
		if code != tc.status || json.Unmarshal([]byte(body), &e) != nil || len(e.Errors) != 1 || !strings.Contains(e.Errors[0].Detail, tc.detail) {
			t.Errorf("publish %s %s: %d %s, want %d %q", tc.name, tc.version, code, body, tc.status, tc.detail)
		}
	}
	// A crate whose Cargo.toml disagrees with the metadata stores nothing.
	code, _, body := call(t, c, http.MethodPut, "api/v1/crates/new", publishBody(confCrate, "3.0.0", crateFile(confCrate, "3.0.1")))
	if code != http.StatusBadRequest || !strings.Contains(body, "which is not a path under conf_fixture-3.0.0/") {
		t.Errorf("mismatched crate: %d %s", code, body)
	}
	if code, _, _ := call(t, c, http.MethodGet, confAdapter.AssetPath("3.0.0"), nil); code != http.StatusNotFound {
		t.Errorf("the refused crate is served: %d", code)
	}
	if code, _, body := call(t, c, http.MethodGet, "api/v1/crates/"+confCrate+"/owners", nil); code != http.StatusBadRequest || !strings.Contains(body, `{"errors":[{"detail":"crate owners are not supported`) {
		t.Errorf("owners: %d %s", code, body)
	}
	if code, h, body := call(t, anonymous(c), http.MethodGet, "config.json", nil); code != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d %v %s", code, h, body)
	}
}

func anonymous(c *formattest.Client) *formattest.Client {
	a := *c
	a.Token = ""
	return &a
}

func TestSearch(t *testing.T) {
	c := formattest.Serve(formattest.Testing(t), confAdapter)
	for _, v := range []string{"1.0.0", "1.10.0", "1.9.0", "2.0.0-rc.1"} {
		if code, body := publishAs(t, c, confCrate, v); code != http.StatusOK {
			t.Fatalf("publish %s: %d %s", v, code, body)
		}
	}
	code, _, body := call(t, c, http.MethodGet, "api/v1/crates?q=CONF-fix&per_page=5", nil)
	want := `{"crates":[{"name":"conf_fixture","max_version":"2.0.0-rc.1","description":"conformance fixture"}],"meta":{"total":1}}`
	if code != http.StatusOK || body != want {
		t.Errorf("search: %d %s\nwant %s", code, body, want)
	}
	if _, _, body := call(t, c, http.MethodGet, "api/v1/crates?q=nothing", nil); body != `{"crates":[],"meta":{"total":0}}` {
		t.Errorf("search for nothing: %s", body)
	}
}

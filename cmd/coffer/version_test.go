package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"testing"
)

func stamped(mainVersion string, settings ...string) func() (*debug.BuildInfo, bool) {
	return func() (*debug.BuildInfo, bool) {
		bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "coffer", Version: mainVersion}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi, true
	}
}

func TestResolveBuildInfo(t *testing.T) {
	vcs := stamped("v0.0.0-20261101120000-0123456789ab+dirty",
		"vcs", "git", "vcs.revision", "0123456789abcdef", "vcs.time", "2026-11-01T12:00:00Z", "vcs.modified", "true")
	for _, tc := range []struct {
		name                string
		ldVer, ldCom, ldDat string
		read                func() (*debug.BuildInfo, bool)
		want                buildInfo
	}{
		{"stamped by the go command", "dev", "", "", vcs,
			buildInfo{Version: "v0.0.0-20261101120000-0123456789ab+dirty", Commit: "0123456789abcdef", Modified: true, Date: "2026-11-01T12:00:00Z"}},
		{"-X overrides win", "v1.2.3", "feedface", "2026-12-01T00:00:00Z", vcs,
			buildInfo{Version: "v1.2.3", Commit: "feedface", Modified: true, Date: "2026-12-01T00:00:00Z"}},
		{"go run / go test: (devel), no vcs", "dev", "", "", stamped("(devel)"),
			buildInfo{Version: "dev", Commit: "unknown", Date: "unknown"}},
		{"clean tree", "dev", "", "", stamped("v1.0.0", "vcs.revision", "abc", "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "false"),
			buildInfo{Version: "v1.0.0", Commit: "abc", Date: "2026-01-02T03:04:05Z"}},
		{"no build info", "", "", "", func() (*debug.BuildInfo, bool) { return nil, false },
			buildInfo{Version: "dev", Commit: "unknown", Date: "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolveBuildInfo(tc.ldVer, tc.ldCom, tc.ldDat, tc.read)
			got.GoVersion, got.Platform = "", ""
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestVersionOutput(t *testing.T) {
	var out bytes.Buffer
	writeVersion(&out, buildInfo{Version: "v1.2.3", Commit: "abc", Modified: true, Date: "2026-11-01T12:00:00Z", GoVersion: "go1.26.8", Platform: "linux/amd64"})
	want := "coffer v1.2.3\ncommit: abc (modified)\nbuilt: 2026-11-01T12:00:00Z\ngo: go1.26.8 linux/amd64\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}

	out.Reset()
	if err := run([]string{"version"}, func(string) string { return "" }, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "coffer ") || !strings.Contains(out.String(), "\ncommit: ") {
		t.Errorf("coffer version printed %q", out.String())
	}
}

func TestHealthzURL(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		":8080":          "http://127.0.0.1:8080/healthz",
		"[::]:8443":      "http://[::1]:8443/healthz",
		"[::1]:8080":     "http://[::1]:8080/healthz",
		"coffer.lan:80":  "http://coffer.lan:80/healthz",
	} {
		if got, err := healthzURL(listen, false); err != nil || got != want {
			t.Errorf("healthzURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if got, _ := healthzURL("0.0.0.0:8443", true); got != "https://127.0.0.1:8443/healthz" {
		t.Errorf("https: %q", got)
	}
	if _, err := healthzURL("8080", false); err == nil {
		t.Error("a listen address without a port was accepted")
	}
}

func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	env := map[string]string{"COFFER_LISTEN": strings.TrimPrefix(srv.URL, "http://")}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run([]string{"healthcheck"}, getenv, &out, &out); err != nil {
		t.Fatalf("healthcheck of a healthy server: %v (%s)", err, out.String())
	}
	status = http.StatusServiceUnavailable
	if err := run([]string{"healthcheck", "--url", srv.URL + "/healthz"}, getenv, &out, &out); err == nil {
		t.Fatal("healthcheck passed on 503")
	}
	srv.Close()
	if err := run([]string{"healthcheck", "--timeout", "2s"}, getenv, &out, &out); err == nil {
		t.Fatal("healthcheck passed with no server")
	}
}

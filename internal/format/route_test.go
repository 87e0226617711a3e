package format

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// recordingAuthz allows everything except deny, and records each check.
type recordingAuthz struct {
	deny  string // an action refused
	calls []string
}

func (a *recordingAuthz) Authorize(_ context.Context, action, resource string) error {
	a.calls = append(a.calls, action+" "+resource)
	if action == a.deny {
		return fault.AccessDenied("not allowed: %s", action)
	}
	return nil
}

type testARNs struct{}

func (testARNs) RepositoryARN(owner, domain, repository string) string {
	return "repo/" + domain + "/" + repository
}

func (testARNs) PackageARN(owner, domain, repository, format, namespace, pkg string) string {
	return "package/" + domain + "/" + repository + "/" + format + "/" + namespace + "/" + pkg
}

// routerFixture is a router with a table exercising each kind of pattern;
// every handler answers "<route> <params>".
func routerFixture(az *recordingAuthz) *Router {
	answer := func(w http.ResponseWriter, r *http.Request, c *Call) error {
		var params []string
		for _, k := range []string{"name", "version", "file", "rest"} {
			if v := c.Param(k); v != "" {
				params = append(params, k+"="+v)
			}
		}
		_, err := w.Write([]byte(c.Route.Path + " " + strings.Join(params, " ")))
		return err
	}
	fail := func(w http.ResponseWriter, r *http.Request, c *Call) error {
		return fault.Internal(errors.New("disk on fire at /var/secret"), "could not read")
	}
	pkg := func(c *Call) (string, string, error) { return "", c.Param("name"), nil }
	return NewRouter(Router{Format: "fx", Authorizer: az, ARNs: testARNs{},
		Params: map[string]Param{"name": func(segs []string) (string, int, bool) {
			if strings.HasPrefix(segs[0], "@") && !strings.Contains(segs[0], "/") && len(segs) > 1 {
				return segs[0] + "/" + segs[1], 2, true
			}
			return segs[0], 1, segs[0] != "-"
		}},
		Render: func(w http.ResponseWriter, r *http.Request, err error) {
			WriteError(w, r, slog.New(slog.DiscardHandler), "fx", err)
		},
		Routes: []Route{
			{Method: http.MethodGet, Path: "", Action: "Read", Handle: answer},
			{Method: http.MethodGet, Path: "-/fail", Action: "Read", Handle: fail},
			{Method: http.MethodGet, Path: "{name}", Action: "Read", Handle: answer},
			{Method: http.MethodPut, Path: "{name}", Action: "Publish", Package: pkg, Handle: answer},
			{Method: http.MethodDelete, Path: "{name}", InHandler: "test", Handle: answer},
			{Method: http.MethodGet, Path: "{name}/-/{file}", Action: "Read", Handle: answer},
			{Method: http.MethodGet, Path: "files/{rest...}", Action: "Read", Handle: answer},
		}})
}

func serve(rt *Router, method, escapedPath string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/fx/d/dx-123456789012/repo/"+escapedPath, nil)
	decoded := r.URL.Path[len("/fx/d/dx-123456789012/repo/"):]
	r = r.WithContext(WithTarget(r.Context(), &Target{Format: "fx", Domain: "dx", DomainOwner: "123456789012", Repository: "repo", Path: decoded}))
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	return w
}

func TestRouterMatches(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "", 200, " "},
		{http.MethodGet, "lodash", 200, "{name} name=lodash"},
		{http.MethodHead, "lodash", 200, "{name} name=lodash"}, // a GET route answers HEAD
		{http.MethodGet, "@types%2fnode", 200, "{name} name=@types/node"},
		{http.MethodGet, "@types%2Fnode", 200, "{name} name=@types/node"},
		{http.MethodGet, "@types/node", 200, "{name} name=@types/node"},
		{http.MethodGet, "@types/node/-/node-1.0.0.tgz", 200, "{name}/-/{file} name=@types/node file=node-1.0.0.tgz"},
		{http.MethodGet, "@types%2fnode/-/node-1.0.0.tgz", 200, "{name}/-/{file} name=@types/node file=node-1.0.0.tgz"},
		{http.MethodGet, "files/a/b%2Fc/d", 200, "files/{rest...} rest=a/b/c/d"},
		{http.MethodGet, "files/", 200, "files/{rest...} "},
		{http.MethodGet, "lodash/", 404, ""},      // a trailing slash must be in the pattern
		{http.MethodGet, "lodash/-/a/b", 404, ""}, // too many segments
		{http.MethodGet, "-/nothing", 404, ""},    // "-" is no name
		{http.MethodPost, "lodash", 405, ""},      // the path exists, the method does not
		{http.MethodDelete, "lodash", 200, "{name} name=lodash"},
	} {
		w := serve(routerFixture(&recordingAuthz{}), tc.method, tc.path)
		if w.Code != tc.status {
			t.Errorf("%s %q: status %d, want %d (%s)", tc.method, tc.path, w.Code, tc.status, w.Body)
			continue
		}
		if tc.status == 200 && w.Body.String() != tc.body {
			t.Errorf("%s %q: body %q, want %q", tc.method, tc.path, w.Body, tc.body)
		}
	}
}

func TestRouterMethodNotAllowedListsMethods(t *testing.T) {
	w := serve(routerFixture(&recordingAuthz{}), http.MethodPost, "lodash")
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "DELETE, GET, HEAD, PUT" {
		t.Fatalf("status %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// TestRouterAuthorizesBeforeHandler: the route's action is checked on the
// repository, or on the package its Package names, before the handler runs;
// a refusal is rendered and the handler never called.
func TestRouterAuthorizesBeforeHandler(t *testing.T) {
	az := &recordingAuthz{}
	serve(routerFixture(az), http.MethodGet, "@types%2fnode")
	serve(routerFixture(az), http.MethodPut, "@types%2fnode")
	want := []string{"Read repo/dx/repo", "Publish package/dx/repo/fx//@types/node"}
	if strings.Join(az.calls, ",") != strings.Join(want, ",") {
		t.Fatalf("checks %q, want %q", az.calls, want)
	}
	w := serve(routerFixture(&recordingAuthz{deny: "Publish"}), http.MethodPut, "lodash")
	if w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "{name}") {
		t.Fatalf("denied publish: status %d, body %q", w.Code, w.Body)
	}
	// A route that authorizes in its handler is not checked by the router.
	az = &recordingAuthz{deny: "Read"}
	if w := serve(routerFixture(az), http.MethodDelete, "lodash"); w.Code != 200 || len(az.calls) != 0 {
		t.Fatalf("in-handler route: status %d, checks %q", w.Code, az.calls)
	}
}

// TestRouterRendersHandlerErrors: an error a handler returns goes through
// the format's renderer: a 500 shows no cause.
func TestRouterRendersHandlerErrors(t *testing.T) {
	w := serve(routerFixture(&recordingAuthz{}), http.MethodGet, "-/fail")
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "secret") {
		t.Fatalf("status %d, body %q", w.Code, w.Body)
	}
}

// TestNewRouterRefusesUndeclaredAuthorization: a table with a route that
// neither names an action nor says why its handler authorizes is a
// programming error caught at start.
func TestNewRouterRefusesUndeclaredAuthorization(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request, *Call) error { return nil }
	for name, route := range map[string]Route{
		"no authorization":   {Method: http.MethodGet, Path: "x", Handle: h},
		"rest not last":      {Method: http.MethodGet, Path: "{a...}/x", Action: "Read", Handle: h},
		"unclosed parameter": {Method: http.MethodGet, Path: "{a", Action: "Read", Handle: h},
		"no handler":         {Method: http.MethodGet, Path: "x", Action: "Read"},
		"package, no action": {Method: http.MethodGet, Path: "x", InHandler: "why", Handle: h,
			Package: func(*Call) (string, string, error) { return "", "", nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewRouter accepted the table", name)
				}
			}()
			NewRouter(Router{Format: "fx", Authorizer: &recordingAuthz{}, ARNs: testARNs{},
				Render: func(http.ResponseWriter, *http.Request, error) {}, Routes: []Route{route}})
		}()
	}
}

// BenchmarkRouter is the table's cost per request: matching a package
// route of a scoped name with an escaped slash and authorizing it.
func BenchmarkRouter(b *testing.B) {
	rt := routerFixture(&recordingAuthz{})
	r := httptest.NewRequest(http.MethodGet, "/fx/d/dx-123456789012/repo/@types%2fnode/-/node-1.0.0.tgz", nil)
	r = r.WithContext(WithTarget(r.Context(), &Target{Format: "fx", Domain: "dx", DomainOwner: "123456789012", Repository: "repo",
		Path: "@types/node/-/node-1.0.0.tgz"}))
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rt.Authorizer.(*recordingAuthz).calls = nil
		w.Body.Reset()
		rt.ServeHTTP(w, r)
	}
}

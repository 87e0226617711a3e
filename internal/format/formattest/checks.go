package formattest

import (
	"bytes"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"coffer/internal/artifact"
)

// wantStatus reports r unless it has the status.
func wantStatus(t T, r response, status int, why string) bool {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %s; want %d", why, r, status)
		return false
	}
	return true
}

// wantServed reports r unless it is a whole 200 answer whose body is an
// asset of the version stored in repo.
func (e *env) wantServed(r response, repo, version, why string) {
	e.t.Helper()
	switch {
	case r.status != http.StatusOK:
		e.t.Errorf("%s: %s; want 200", why, r)
	case r.err != nil:
		e.t.Errorf("%s: the body ended with %v after %d bytes", why, r.err, len(r.body))
	case !e.storedAs(repo, version, r.body):
		e.t.Errorf("%s: the %d bytes served are no asset of %s stored in %s", why, len(r.body), version, repo)
	}
}

// wantKept reports whether repo stores version, as want says it should.
func (e *env) wantKept(repo, version string, want bool, why string) {
	e.t.Helper()
	status, ok := e.versions(repo)[version]
	switch {
	case want && !ok:
		e.t.Errorf("%s: %s is not in repository %s", why, version, repo)
	case !want && ok:
		e.t.Errorf("%s: repository %s has %s (%s)", why, repo, version, status)
	}
}

// wantListed reports whether the index document of c lists version as
// want says it should.
func (e *env) wantListed(c *Client, version string, want bool, why string) {
	e.t.Helper()
	if e.a.IndexPath == "" {
		return
	}
	if got := e.listed(c, version); got != want {
		e.t.Errorf("%s: the index document of %s lists %s: %v, want %v", why, c.Repository, version, got, want)
	}
}

// wantNoRequests reports requests the registry received since n.
func (e *env) wantNoRequests(n int64, why string) {
	e.t.Helper()
	if got := e.requests(); got != n {
		e.t.Errorf("%s: %d requests reached the upstream registry", why, got-n)
	}
}

// checkUnauthenticated: no token is 401 with a Basic challenge.
func checkUnauthenticated(s *suite) {
	e := s.env()
	c := e.client("solo")
	e.publish(c, v1)
	anon := anonymous(c)
	targets := []func(*Client, string, ...string) response{
		func(c *Client, m string, h ...string) response { return e.asset(c, m, v1, h...) },
	}
	if s.a.IndexPath != "" {
		targets = append(targets, func(c *Client, m string, h ...string) response { return e.index(c, m, h...) })
	}
	for _, get := range targets {
		r := get(anon, http.MethodGet)
		if wantStatus(s.t, r, http.StatusUnauthorized, "without a token") {
			if ch := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(strings.ToLower(ch), "basic ") {
				s.t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", r, ch)
			}
		}
		wantStatus(s.t, get(c, http.MethodGet), http.StatusOK, "with the token")
	}
}

const policyHead = `{"Version":"2012-10-17","Statement":[`

// checkReadDenied: without codeartifact:ReadFromRepository, 403 and no
// upstream request.
func checkReadDenied(s *suite) {
	e := s.env()
	e.publish(e.client("solo"), v1)
	p := e.user("reader", policyHead+`{"Effect":"Allow","NotAction":"codeartifact:ReadFromRepository","Resource":"*"}]}`)
	solo := e.clientAs(p, "solo")
	wantStatus(s.t, e.asset(solo, http.MethodGet, v1), http.StatusForbidden, "an asset without ReadFromRepository")
	if s.a.IndexPath != "" {
		wantStatus(s.t, e.index(solo, http.MethodGet), http.StatusForbidden, "the index document without ReadFromRepository")
	}
	if s.a.Connection == "" {
		return
	}
	app := e.clientAs(p, "app")
	n := e.requests()
	wantStatus(s.t, e.asset(app, http.MethodGet, r1), http.StatusForbidden, "an upstream asset without ReadFromRepository")
	if s.a.IndexPath != "" {
		wantStatus(s.t, e.index(app, http.MethodGet), http.StatusForbidden, "an index document with upstream versions without ReadFromRepository")
	}
	e.wantNoRequests(n, "refused reads")
	e.wantKept("app", r1, false, "after a refused read")
	e.wantKept("ext", r1, false, "after a refused read")
	// The same read by a principal allowed to make it reaches the registry.
	e.wantServed(e.asset(e.client("app"), http.MethodGet, r1), "app", r1, "the upstream asset read by the root")
	if e.requests() == n {
		s.t.Errorf("the root's read of %s made no upstream request: the registry is not reached at all", r1)
	}
}

// checkPublishDenied: without codeartifact:PublishPackageVersion on the
// package, 403 and nothing stored.
func checkPublishDenied(s *suite) {
	e := s.env()
	other := e.packageARN("solo", s.a.Package+"-other")
	// Publishing is allowed on the repository, on another package of it and
	// on this package in repository app, but not on this package in solo.
	policy := policyHead + `{"Effect":"Allow","NotAction":"codeartifact:PublishPackageVersion","Resource":"*"},` +
		`{"Effect":"Allow","Action":"codeartifact:PublishPackageVersion","Resource":["` + e.arn("repository", domainName+"/solo") + `","` +
		other + `","` + e.packageARN("app", s.a.Package) + `"]}]}`
	p := e.user("publisher", policy)
	status, err := s.a.Publish(e.clientAs(p, "solo"), v1)
	if err != nil {
		s.t.Fatalf("publishing %s to solo without the permission: %v", v1, err)
	}
	if status != http.StatusForbidden {
		s.t.Errorf("publishing %s to solo without PublishPackageVersion on the package: status %d, want 403", v1, status)
	}
	if vs := e.versions("solo"); len(vs) != 0 {
		s.t.Errorf("after a refused publish, solo stores %v", vs)
	}
	// Where the permission is granted, the same principal publishes.
	status, err = s.a.Publish(e.clientAs(p, "app"), v1)
	if err != nil || status < 200 || status > 299 {
		s.t.Errorf("publishing %s to app with PublishPackageVersion on the package there: status %d, %v", v1, status, err)
	}
	e.wantKept("app", v1, true, "after a granted publish")
}

// checkStatuses: Unlisted is readable; Archived, Disposed and Unfinished
// are neither served nor listed.
func checkStatuses(s *suite) {
	e := s.env()
	c := e.client("solo")
	for _, v := range []string{v1, v2, v3, v4} {
		e.publish(c, v)
	}
	e.setStatus("solo", v2, artifact.StatusUnlisted)
	e.setStatus("solo", v3, artifact.StatusArchived)
	e.setStatus("solo", v4, artifact.StatusDisposed)
	unfinished := s.a.PublishUnfinished != nil
	if unfinished {
		if err := s.a.PublishUnfinished(c, v5); err != nil {
			s.t.Fatalf("making %s Unfinished: %v", v5, err)
		}
	}
	want := map[string]string{v1: artifact.StatusPublished, v2: artifact.StatusUnlisted, v3: artifact.StatusArchived, v4: artifact.StatusDisposed}
	if unfinished {
		want[v5] = artifact.StatusUnfinished
	}
	got := e.versions("solo")
	for v, st := range want {
		if got[v] != st {
			s.t.Fatalf("setting up: solo has %v, want %v", got, want)
		}
	}
	s.t.Run(artifact.StatusPublished, func(t T) {
		e := e.with(t)
		e.wantServed(e.asset(c, http.MethodGet, v1), "solo", v1, "a Published version's asset")
		e.wantListed(c, v1, true, "a Published version")
	})
	s.t.Run(artifact.StatusUnlisted, func(t T) {
		e := e.with(t)
		e.wantServed(e.asset(c, http.MethodGet, v2), "solo", v2, "an Unlisted version's asset")
	})
	for _, x := range []struct{ v, status string }{{v3, artifact.StatusArchived}, {v4, artifact.StatusDisposed}, {v5, artifact.StatusUnfinished}} {
		s.t.Run(x.status, func(t T) {
			e := e.with(t)
			if x.status == artifact.StatusUnfinished && !unfinished {
				t.Skipf("the adapter cannot make an Unfinished %s version", s.a.Format)
			}
			wantStatus(t, e.asset(c, http.MethodGet, x.v), http.StatusNotFound, "the asset of a version "+x.status)
			e.wantListed(c, x.v, false, "a version "+x.status)
		})
	}
}

// checkUpstreamRetention: an upstream hit is kept in the requested
// repository, not in the intermediate one.
func checkUpstreamRetention(s *suite) {
	e := s.env()
	e.publish(e.client("ext"), v1)
	app := e.client("app")
	e.wantListed(app, v1, true, "a version of an upstream repository, before any read")
	e.wantServed(e.asset(app, http.MethodGet, v1), "ext", v1, "an asset of an upstream repository")
	e.wantKept("app", v1, true, "after a read through app of what ext holds")
	e.wantKept("mid", v1, false, "after a read through app of what ext holds (mid is intermediate)")
	// Retained: served from app itself now.
	e.wantServed(e.asset(app, http.MethodGet, v1), "app", v1, "a retained asset")
}

// checkExternalRetention: an external fetch is kept in the repository
// holding the connection and the requested one only.
func checkExternalRetention(s *suite) {
	e := s.env()
	app := e.client("app")
	e.wantListed(app, r1, true, "a version the registry offers, before any read")
	n := e.requests()
	r := e.asset(app, http.MethodGet, r1)
	if e.requests() == n {
		s.t.Errorf("the read of %s made no upstream request", r1)
	}
	e.wantServed(r, "app", r1, "an asset fetched from the registry")
	e.wantKept("app", r1, true, "after a fetch through app")
	e.wantKept("ext", r1, true, "after a fetch through app (ext holds the connection)")
	e.wantKept("mid", r1, false, "after a fetch through app (mid is intermediate)")
	e.wantServed(e.asset(e.client("ext"), http.MethodGet, r1), "ext", r1, "the fetched asset read through ext")
}

// checkOriginBlock: upstream=BLOCK on the package, or a package group
// blocking EXTERNAL_UPSTREAM, hides upstream versions and fetches nothing.
func checkOriginBlock(s *suite) {
	s.t.Run("PackageOrigin", func(t T) {
		e := newEnv(t, s.a, s.wrap, s.encrypted)
		e.publish(e.client("mid"), v1)
		e.origin("app", artifact.Allow, artifact.Block)
		app := e.client("app")
		n := e.requests()
		wantStatus(t, e.asset(app, http.MethodGet, v1), http.StatusNotFound, "an upstream repository's asset with upstream=BLOCK")
		wantStatus(t, e.asset(app, http.MethodGet, r1), http.StatusNotFound, "a registry asset with upstream=BLOCK")
		e.wantListed(app, v1, false, "an upstream repository's version with upstream=BLOCK")
		e.wantListed(app, r1, false, "a registry version with upstream=BLOCK")
		e.wantNoRequests(n, "reads with upstream=BLOCK")
		if vs := e.versions("app"); len(vs) != 0 {
			t.Errorf("with upstream=BLOCK, app retained %v", vs)
		}
		// With upstream=ALLOW both are reached.
		e.origin("app", artifact.Allow, artifact.Allow)
		e.wantServed(e.asset(app, http.MethodGet, r1), "app", r1, "a registry asset with upstream=ALLOW")
		if e.requests() == n {
			t.Errorf("with upstream=ALLOW, the read of %s made no upstream request", r1)
		}
		e.wantServed(e.asset(app, http.MethodGet, v1), "app", v1, "an upstream repository's asset with upstream=ALLOW")
	})
	s.t.Run("PackageGroup", func(t T) {
		e := newEnv(t, s.a, s.wrap, s.encrypted)
		e.publish(e.client("mid"), v1)
		dom := artifact.DomainRef{Owner: account, Name: domainName}
		pattern := "/" + s.a.Format + "/" + s.a.Namespace + "/" + s.a.Package + "$"
		if _, err := e.app.Service.CreatePackageGroup(bg, dom, pattern, "", "", nil); err != nil {
			t.Fatalf("CreatePackageGroup %s: %v", pattern, err)
		}
		restrict := func(mode string) {
			t.Helper()
			if _, _, err := e.app.Service.UpdatePackageGroupOriginConfiguration(bg, dom, pattern,
				artifact.GroupOriginUpdate{Restrictions: map[string]string{artifact.RestrictionExternalUpstream: mode}}); err != nil {
				t.Fatalf("EXTERNAL_UPSTREAM %s on %s: %v", mode, pattern, err)
			}
		}
		restrict(artifact.Block)
		app := e.client("app")
		n := e.requests()
		wantStatus(t, e.asset(app, http.MethodGet, r1), http.StatusNotFound, "a registry asset with EXTERNAL_UPSTREAM BLOCK")
		wantStatus(t, e.asset(e.client("ext"), http.MethodGet, r1), http.StatusNotFound,
			"a registry asset through the connection's repository with EXTERNAL_UPSTREAM BLOCK")
		e.wantListed(app, r1, false, "a registry version with EXTERNAL_UPSTREAM BLOCK")
		e.wantNoRequests(n, "reads with EXTERNAL_UPSTREAM BLOCK")
		// Internal upstreams stay visible.
		e.wantListed(app, v1, true, "an upstream repository's version with only EXTERNAL_UPSTREAM blocked")
		e.wantServed(e.asset(app, http.MethodGet, v1), "mid", v1, "an upstream repository's asset with only EXTERNAL_UPSTREAM blocked")
		e.wantNoRequests(n, "reads of an upstream repository's version with EXTERNAL_UPSTREAM BLOCK")
		e.wantKept("app", r1, false, "with EXTERNAL_UPSTREAM BLOCK")
		e.wantKept("ext", r1, false, "with EXTERNAL_UPSTREAM BLOCK")
		restrict(artifact.Allow)
		e.wantServed(e.asset(app, http.MethodGet, r1), "app", r1, "a registry asset with EXTERNAL_UPSTREAM ALLOW")
		if e.requests() == n {
			t.Errorf("with EXTERNAL_UPSTREAM ALLOW, the read of %s made no upstream request", r1)
		}
	})
}

// checkPublishConflict: publishing a version that exists upstream while the
// package's upstream is ALLOW is 409: one an upstream repository holds, one
// its connection's repository ingested, and one only the registry offers.
func checkPublishConflict(s *suite) {
	conflict := func(t T, e *env, held string) {
		t.Helper()
		e.origin("app", artifact.Allow, artifact.Allow)
		app := e.client("app")
		status, err := s.a.Publish(app, r1)
		if err != nil {
			t.Fatalf("publishing %s to app: %v", r1, err)
		}
		if status != http.StatusConflict {
			t.Errorf("publishing %s to app while %s and upstream=ALLOW: status %d, want 409", r1, held, status)
		}
		if st, ok := e.versions("app")[r1]; ok {
			t.Errorf("after publishing %s (%s), app stores it (%s)", r1, held, st)
		}
		// A version no upstream has is published.
		if status, err := s.a.Publish(app, v2); err != nil || status < 200 || status > 299 {
			t.Errorf("publishing %s, which no upstream has, to app: status %d, %v", v2, status, err)
		}
	}
	s.t.Run("UpstreamRepository", func(t T) {
		e := newEnv(t, s.a, s.wrap, s.encrypted)
		e.publish(e.client("mid"), r1)
		conflict(t, e, "upstream repository mid holds it")
	})
	s.t.Run("Ingested", func(t T) {
		if s.a.Connection == "" {
			t.Skipf("%s has no external connection", s.a.Format)
		}
		e := newEnv(t, s.a, s.wrap, s.encrypted)
		e.wantServed(e.asset(e.client("ext"), http.MethodGet, r1), "ext", r1, "the registry's asset read through ext")
		conflict(t, e, "ext ingested it from "+s.a.Connection)
	})
	s.t.Run("OfferedByRegistry", func(t T) {
		if s.a.Connection == "" {
			t.Skipf("%s has no external connection", s.a.Format)
		}
		e := newEnv(t, s.a, s.wrap, s.encrypted)
		e.wantListed(e.client("app"), r1, true, "a version the registry offers")
		conflict(t, e, s.a.Connection+" offers it")
	})
}

// checkTeeCut: bytes that do not match the registry's hash never reach the
// client as a whole successful body, and are not recorded.
func checkTeeCut(s *suite) {
	e := s.env()
	app := e.client("app")
	e.up.tampered.Store(true)
	n := e.requests()
	r := e.asset(app, http.MethodGet, r1)
	if e.requests() == n {
		s.t.Fatalf("the read of %s made no upstream request", r1)
	}
	if r.status == http.StatusOK && r.err == nil {
		s.t.Errorf("%s: a whole 200 body of %d bytes that do not match the registry's hash", r, len(r.body))
	} else {
		s.t.Logf("a download that does not match its hash: status %d, %d bytes of body, ended with %v", r.status, len(r.body), r.err)
	}
	for _, repo := range []string{"app", "mid", "ext"} {
		e.wantKept(repo, r1, false, "after a download that did not match its hash")
	}
	// The registry mended, the same read succeeds.
	e.up.tampered.Store(false)
	e.wantServed(e.asset(app, http.MethodGet, r1), "app", r1, "the asset once the registry serves the right bytes")
}

// checkInternalError: a 500 is logged with its cause and answered without.
func checkInternalError(s *suite) {
	e := s.env()
	c := e.client("solo")
	e.publish(c, v1)
	r := e.asset(c, http.MethodGet, v1)
	e.wantServed(r, "solo", v1, "the asset")
	if r.status != http.StatusOK {
		return
	}
	// The version's blobs become symbolic links to themselves: opening one
	// fails with ELOOP, which is no "not found". coffer restarts: a small
	// blob once read is kept in memory, where the file is not seen again.
	l, err := e.app.Service.ListPackageVersionAssets(bg, artifact.VersionRef{PackageRef: e.pkgRef("solo"), Version: v1}, artifact.PageRequest{})
	if err != nil || len(l.Assets) == 0 {
		s.t.Fatalf("the assets of %s: %v, %v", v1, l, err)
	}
	names := map[string]bool{}
	for _, a := range l.Assets {
		names[a.Blob.SHA256] = true
	}
	var blobs []string
	err = filepath.WalkDir(filepath.Join(e.dataDir, "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && names[d.Name()] {
			blobs = append(blobs, path)
		}
		return err
	})
	if err != nil {
		s.t.Fatalf("looking for the blobs: %v", err)
	}
	if len(blobs) != len(names) {
		s.t.Fatalf("found %d of the %d blobs of %s under %s", len(blobs), len(names), v1, filepath.Join(e.dataDir, "blobs"))
	}
	for _, blob := range blobs {
		if err := os.Remove(blob); err != nil {
			s.t.Fatalf("%v", err)
		}
		if err := os.Symlink(blob, blob); err != nil {
			s.t.Fatalf("%v", err)
		}
	}
	e.restart()
	_, mark := e.logs.since(0)
	r = e.asset(c, http.MethodGet, v1)
	logged, _ := e.logs.since(mark)
	cause := syscall.ELOOP.Error()
	wantStatus(s.t, r, http.StatusInternalServerError, "an asset whose blob cannot be opened")
	for _, secret := range append([]string{cause, e.dataDir}, blobs...) {
		if bytes.Contains(r.body, []byte(secret)) {
			s.t.Errorf("%s: the answer shows %q", r, secret)
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.Contains(v, secret) {
					s.t.Errorf("%s: header %s shows %q", r, k, secret)
				}
			}
		}
	}
	if !strings.Contains(logged, cause) {
		s.t.Errorf("the log does not have the cause %q of the 500; it has:\n%s", cause, logged)
	}
}

// checkHead: HEAD answers as GET without the body.
func checkHead(s *suite) {
	e := s.env()
	c := e.client("solo")
	e.publish(c, v1)
	compare := func(t T, get, head response) {
		t.Helper()
		if get.status != http.StatusOK {
			t.Fatalf("%s; want 200", get)
		}
		if head.status != get.status {
			t.Errorf("HEAD %s: status %d, GET %d", head.path, head.status, get.status)
		}
		for _, h := range []string{"Content-Length", "ETag", "Content-Type"} {
			if g, hd := get.header.Values(h), head.header.Values(h); strings.Join(g, ", ") != strings.Join(hd, ", ") {
				t.Errorf("HEAD %s: %s %q, GET %q", head.path, h, hd, g)
			}
		}
		if len(head.body) != 0 || head.err != nil {
			t.Errorf("HEAD %s: a body of %d bytes (%v)", head.path, len(head.body), head.err)
		}
	}
	s.t.Run("Asset", func(t T) {
		e := e.with(t)
		compare(t, e.asset(c, http.MethodGet, v1), e.asset(c, http.MethodHead, v1))
	})
	s.t.Run("Index", func(t T) {
		e := e.with(t)
		if s.a.IndexPath == "" {
			t.Skipf("%s has no index document", s.a.Format)
		}
		compare(t, e.index(c, http.MethodGet), e.index(c, http.MethodHead))
	})
}

// checkNotModified: If-None-Match with the ETag is 304.
func checkNotModified(s *suite) {
	e := s.env()
	c := e.client("solo")
	e.publish(c, v1)
	revalidate := func(t T, get func(method string, header ...string) response, optional bool) {
		t.Helper()
		r := get(http.MethodGet)
		if r.status != http.StatusOK {
			t.Fatalf("%s; want 200", r)
		}
		etag := r.header.Get("ETag")
		if etag == "" {
			if optional {
				t.Skipf("%s: %s sends no ETag", r.path, s.a.Format)
			}
			t.Fatalf("%s: no ETag", r)
		}
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			nm := get(method, "If-None-Match", etag)
			if nm.status != http.StatusNotModified {
				t.Errorf("%s with If-None-Match %s: %d, want 304", method, etag, nm.status)
			}
			if len(nm.body) != 0 {
				t.Errorf("%s with If-None-Match %s: a body of %d bytes", method, etag, len(nm.body))
			}
		}
		if other := get(http.MethodGet, "If-None-Match", `"formattest-other"`); other.status != http.StatusOK {
			t.Errorf("GET with another ETag in If-None-Match: %s; want 200", other)
		}
	}
	s.t.Run("Asset", func(t T) {
		e := e.with(t)
		revalidate(t, func(m string, h ...string) response { return e.asset(c, m, v1, h...) }, false)
	})
	s.t.Run("Index", func(t T) {
		e := e.with(t)
		if s.a.IndexPath == "" {
			t.Skipf("%s has no index document", s.a.Format)
		}
		revalidate(t, func(m string, h ...string) response { return e.index(c, m, h...) }, true)
	})
}

package npmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Masterminds/semver/v3"
)

// Registry is an in-memory npm registry that serves what was added to it
// as registry.npmjs.org does:
//
//	GET  /<name>                     full packument (application/json), or the
//	                                 abbreviated one when Accept has
//	                                 application/vnd.npm.install-v1+json;
//	                                 ETag, and 304 on a matching If-None-Match
//	GET  /<name>/<version|tag>       one version's manifest
//	GET  /<name>/-/<basename>-<v>.tgz the tarball
//	POST /-/npm/v1/security/advisories/bulk  {}
//	GET  /-/v1/search?text=          search by name or description
//	GET  /-/ping                     {}
//
// Scoped names are accepted as /@scope%2fname and /@scope/name. Anything
// else is 404 {"error":"Not found"}. Tarball URLs in packuments are
// absolute on the request's Host ("http://"+Host+Prefix+TarballPath).
// Requests are counted by decoded path without the Prefix (/@scope%2fname
// counts as /@scope/name).
type Registry struct {
	// Down makes every request fail with 502.
	Down atomic.Bool
	// Prefix, when set before serving ("/npm/repo"), is where the registry
	// is mounted, as a registry behind a path: requests outside it are 404
	// and tarball URLs include it.
	Prefix string
	// Token, when set before serving, is required on every request as
	// "Authorization: Bearer <Token>" (or Basic with Token as the
	// password), as a private registry does: other requests get 401.
	Token string

	mu       sync.Mutex
	pkgs     map[string]*entry
	counts   map[string]int
	fails    map[string]int
	blocks   map[string]chan struct{}
	requests []Request
	added    int
}

// Request is what the registry recorded of one request.
type Request struct {
	Method        string
	Path          string // decoded
	EscapedPath   string // as sent
	Accept        string
	Authorization string
}

// Version is one version held by a Registry.
type Version struct {
	Package   Package
	Tarball   []byte
	Integrity string // "sha512-…"
	Shasum    string // hex SHA-1
	Time      time.Time
}

type entry struct {
	versions map[string]*Version
	tags     map[string]string // set explicitly
	created  time.Time
	modified time.Time
}

// baseTime is when the first Add happened: every Add is one minute later
// than the previous one, so packuments are deterministic.
var baseTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{pkgs: map[string]*entry{}, counts: map[string]int{}, fails: map[string]int{}, blocks: map[string]chan struct{}{}}
}

// Add builds p's tarball and publishes it (replacing the same version if
// it was there), and returns what it stored.
func (x *Registry) Add(p Package) *Version {
	tgz := Tarball(p)
	x.mu.Lock()
	defer x.mu.Unlock()
	now := baseTime.Add(time.Duration(x.added) * time.Minute)
	x.added++
	e := x.pkgs[p.Name]
	if e == nil {
		e = &entry{versions: map[string]*Version{}, tags: map[string]string{}, created: now}
		x.pkgs[p.Name] = e
	}
	e.modified = now
	v := &Version{Package: p, Tarball: tgz, Integrity: Integrity(tgz), Shasum: Shasum(tgz), Time: now}
	e.versions[p.Version] = v
	return v
}

// Get returns a version that was added, or nil.
func (x *Registry) Get(name, version string) *Version {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.pkgs[name]; e != nil {
		return e.versions[version]
	}
	return nil
}

// SetTime sets when a version was published (its packument "time"),
// e.g. to put it inside or outside a cooldown.
func (x *Registry) SetTime(name, version string, t time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.pkgs[name]; e != nil && e.versions[version] != nil {
		e.versions[version].Time = t.UTC()
		if t.After(e.modified) {
			e.modified = t.UTC()
		}
	}
}

// Remove takes a version away (the package too when it was the last one).
func (x *Registry) Remove(name, version string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.pkgs[name]
	if e == nil {
		return
	}
	delete(e.versions, version)
	for t, v := range e.tags {
		if v == version {
			delete(e.tags, t)
		}
	}
	if len(e.versions) == 0 {
		delete(x.pkgs, name)
	}
}

// SetDistTag points a dist-tag at a version ("latest" overrides the
// default, the highest release added). An empty version removes the tag.
func (x *Registry) SetDistTag(name, tag, version string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.pkgs[name]
	if e == nil {
		return
	}
	if version == "" {
		delete(e.tags, tag)
	} else {
		e.tags[tag] = version
	}
}

// Fail makes every later request to path (decoded, like "/fx-a" or
// "/fx-a/-/fx-a-1.0.0.tgz") answer status with a JSON error; status 0
// clears it. Failed requests are still counted.
func (x *Registry) Fail(path string, status int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if status == 0 {
		delete(x.fails, path)
	} else {
		x.fails[path] = status
	}
}

// Block makes requests to path wait, after they have been counted, until
// the returned function is called (or the request is cancelled): a test
// can hold an upstream fetch open while it checks what happens meanwhile.
func (x *Registry) Block(path string) (release func()) {
	ch := make(chan struct{})
	x.mu.Lock()
	x.blocks[path] = ch
	x.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			x.mu.Lock()
			if x.blocks[path] == ch {
				delete(x.blocks, path)
			}
			x.mu.Unlock()
			close(ch)
		})
	}
}

// Count returns how many requests a path (decoded) received.
func (x *Registry) Count(path string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.counts[path]
}

// Counts returns a copy of the request counts by decoded path.
func (x *Registry) Counts() map[string]int {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]int, len(x.counts))
	for k, v := range x.counts {
		out[k] = v
	}
	return out
}

// Requests returns the requests received, in order.
func (x *Registry) Requests() []Request {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]Request{}, x.requests...)
}

// Reset forgets the counts and the recorded requests.
func (x *Registry) Reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.counts = map[string]int{}
	x.requests = nil
}

func (x *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if x.Down.Load() {
		writeError(w, http.StatusBadGateway, "registry down")
		return
	}
	path := r.URL.Path
	if x.Prefix != "" {
		rest, ok := strings.CutPrefix(path, strings.TrimSuffix(x.Prefix, "/"))
		if !ok || !strings.HasPrefix(rest, "/") {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		path = rest
	}
	x.mu.Lock()
	x.counts[path]++
	x.requests = append(x.requests, Request{Method: r.Method, Path: path, EscapedPath: r.URL.EscapedPath(),
		Accept: r.Header.Get("Accept"), Authorization: r.Header.Get("Authorization")})
	status := x.fails[path]
	block := x.blocks[path]
	x.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		writeError(w, status, "injected failure")
		return
	}
	if x.Token != "" && !x.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="npmtest", Bearer`)
		writeError(w, http.StatusUnauthorized, "authentication required")
		return
	}
	switch {
	case path == "/-/npm/v1/security/advisories/bulk" && r.Method == http.MethodPost:
		writeJSON(w, r, http.StatusOK, "application/json", []byte("{}"))
		return
	case path == "/-/ping":
		writeJSON(w, r, http.StatusOK, "application/json", []byte("{}"))
		return
	case path == "/-/v1/search":
		x.search(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	name, rest, ok := splitName(strings.TrimPrefix(path, "/"))
	if !ok {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	switch {
	case rest == "":
		x.packument(w, r, name)
	case strings.HasPrefix(rest, "-/"):
		x.tarball(w, r, name, strings.TrimPrefix(rest, "-/"))
	case !strings.Contains(rest, "/"):
		x.manifest(w, r, name, rest)
	default:
		writeError(w, http.StatusNotFound, "Not found")
	}
}

func (x *Registry) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t == x.Token
	}
	_, pw, ok := r.BasicAuth()
	return ok && pw == x.Token
}

// splitName splits "@s/n/rest…" or "n/rest…" into the package name and
// what follows it.
func splitName(p string) (name, rest string, ok bool) {
	parts := strings.SplitN(p, "/", 3)
	if strings.HasPrefix(p, "@") {
		if len(parts) < 2 || len(parts[0]) < 2 || parts[1] == "" {
			return "", "", false
		}
		name = parts[0] + "/" + parts[1]
		if len(parts) == 3 {
			rest = parts[2]
		}
		return name, rest, true
	}
	if parts[0] == "" || parts[0] == "-" {
		return "", "", false
	}
	rest = strings.TrimPrefix(p, parts[0])
	return parts[0], strings.TrimPrefix(rest, "/"), true
}

func writeError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSON writes body with an ETag, or 304 when If-None-Match has it.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	etag := `"` + Shasum(append([]byte(contentType), body...))[:20] + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept")
	if inm := r.Header.Get("If-None-Match"); inm != "" && status == http.StatusOK {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// snapshot copies an entry's state under the lock.
func (x *Registry) snapshot(name string) (versions []*Version, tags map[string]string, created, modified time.Time, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.pkgs[name]
	if e == nil {
		return nil, nil, time.Time{}, time.Time{}, false
	}
	for _, v := range e.versions {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool {
		return CompareVersions(versions[i].Package.Version, versions[j].Package.Version) < 0
	})
	tags = map[string]string{}
	for k, v := range e.tags {
		tags[k] = v
	}
	if _, set := tags["latest"]; !set {
		tags["latest"] = latest(versions)
	}
	return versions, tags, e.created, e.modified, true
}

// latest is the highest release, or the highest version when all are
// prereleases.
func latest(sorted []*Version) string {
	for i := len(sorted) - 1; i >= 0; i-- {
		if !strings.Contains(strings.SplitN(sorted[i].Package.Version, "+", 2)[0], "-") {
			return sorted[i].Package.Version
		}
	}
	return sorted[len(sorted)-1].Package.Version
}

// versionDoc is a version's manifest as the packument holds it.
func versionDoc(v *Version, host, prefix string, abbreviated bool) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(v.Package.PackageJSON(), &m); err != nil {
		m = v.Package.Manifest()
	}
	dist := map[string]any{
		"tarball":   "http://" + host + prefix + TarballPath(v.Package.Name, v.Package.Version),
		"integrity": v.Integrity,
		"shasum":    v.Shasum,
	}
	if abbreviated {
		out := map[string]any{"name": m["name"], "version": m["version"], "dist": dist}
		for _, k := range []string{"dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta",
			"bundleDependencies", "bin", "directories", "engines", "os", "cpu"} {
			if val, ok := m[k]; ok {
				out[k] = val
			}
		}
		if v.Package.Deprecated != "" {
			out["deprecated"] = v.Package.Deprecated
		}
		return out
	}
	m["_id"] = v.Package.Name + "@" + v.Package.Version
	m["dist"] = dist
	if v.Package.Deprecated != "" {
		m["deprecated"] = v.Package.Deprecated
	}
	return m
}

func (x *Registry) prefix() string { return strings.TrimSuffix(x.Prefix, "/") }

func (x *Registry) packument(w http.ResponseWriter, r *http.Request, name string) {
	versions, tags, created, modified, ok := x.snapshot(name)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	abbreviated := strings.Contains(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json")
	docs := map[string]any{}
	for _, v := range versions {
		docs[v.Package.Version] = versionDoc(v, r.Host, x.prefix(), abbreviated)
	}
	ts := modified.Format(time.RFC3339Nano)
	var doc map[string]any
	contentType := "application/json"
	if abbreviated {
		contentType = "application/vnd.npm.install-v1+json"
		doc = map[string]any{"name": name, "modified": ts, "dist-tags": tags, "versions": docs}
	} else {
		times := map[string]any{"created": created.Format(time.RFC3339Nano), "modified": ts}
		for _, v := range versions {
			times[v.Package.Version] = v.Time.Format(time.RFC3339Nano)
		}
		var description string
		for _, v := range versions {
			if v.Package.Version == tags["latest"] {
				description = v.Package.description()
			}
		}
		doc = map[string]any{"_id": name, "name": name, "description": description, "dist-tags": tags, "versions": docs,
			"time": times, "readme": "", "license": "MIT"}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, r, http.StatusOK, contentType, body)
}

func (x *Registry) manifest(w http.ResponseWriter, r *http.Request, name, spec string) {
	versions, tags, _, _, ok := x.snapshot(name)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	if t, isTag := tags[spec]; isTag {
		spec = t
	}
	for _, v := range versions {
		if v.Package.Version == spec {
			body, _ := json.Marshal(versionDoc(v, r.Host, x.prefix(), false))
			writeJSON(w, r, http.StatusOK, "application/json", body)
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not found")
}

func (x *Registry) tarball(w http.ResponseWriter, r *http.Request, name, file string) {
	versions, _, _, _, _ := x.snapshot(name)
	for _, v := range versions {
		if TarballName(name, v.Package.Version) == file {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.Itoa(len(v.Tarball)))
			w.Header().Set("ETag", `"`+v.Shasum+`"`)
			w.Write(v.Tarball)
			return
		}
	}
	writeError(w, http.StatusNotFound, "Not found")
}

func (x *Registry) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	text := strings.ToLower(q.Get("text"))
	size, err := strconv.Atoi(q.Get("size"))
	if err != nil || size <= 0 {
		size = 20
	}
	x.mu.Lock()
	names := make([]string, 0, len(x.pkgs))
	for n := range x.pkgs {
		names = append(names, n)
	}
	x.mu.Unlock()
	sort.Strings(names)
	objects := []any{}
	for _, n := range names {
		versions, tags, _, modified, ok := x.snapshot(n)
		if !ok {
			continue
		}
		var lv *Version
		for _, v := range versions {
			if v.Package.Version == tags["latest"] {
				lv = v
			}
		}
		if lv == nil || !(strings.Contains(strings.ToLower(n), text) || strings.Contains(strings.ToLower(lv.Package.description()), text)) {
			continue
		}
		if len(objects) == size {
			break
		}
		objects = append(objects, map[string]any{
			"package": map[string]any{"name": n, "version": lv.Package.Version, "description": lv.Package.description(),
				"date": modified.Format(time.RFC3339Nano), "links": map[string]any{"npm": "https://www.npmjs.com/package/" + url.PathEscape(n)}},
			"score":       map[string]any{"final": 1, "detail": map[string]any{"quality": 1, "popularity": 1, "maintenance": 1}},
			"searchScore": 1,
		})
	}
	body, _ := json.Marshal(map[string]any{"objects": objects, "total": len(objects), "time": baseTime.Format(time.RFC1123)})
	writeJSON(w, r, http.StatusOK, "application/json", body)
}

// CompareVersions orders semver strings ("1.2.3", "1.0.0-beta.2",
// build metadata ignored): negative when a < b, 0 when equal, positive
// when a > b. Strings that are not semver sort before those that are, by
// byte order among themselves.
func CompareVersions(a, b string) int {
	pa, erra := semver.NewVersion(a)
	pb, errb := semver.NewVersion(b)
	switch {
	case erra != nil && errb != nil:
		return strings.Compare(a, b)
	case erra != nil:
		return -1
	case errb != nil:
		return 1
	}
	return pa.Compare(pb)
}

// String describes the registry's content, for test failure messages.
func (x *Registry) String() string {
	x.mu.Lock()
	names := make([]string, 0, len(x.pkgs))
	for n := range x.pkgs {
		names = append(names, n)
	}
	x.mu.Unlock()
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		versions, tags, _, _, _ := x.snapshot(n)
		fmt.Fprintf(&b, "%s:", n)
		for _, v := range versions {
			fmt.Fprintf(&b, " %s", v.Package.Version)
		}
		fmt.Fprintf(&b, " %v\n", tags)
	}
	return b.String()
}

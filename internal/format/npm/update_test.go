package npm_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/store"
)

// faultyStore is a metadata store into which a test injects a failure (a
// transaction's UpdatePackage fails) or a concurrent change (run before
// the next write transaction).
type faultyStore struct {
	store.Store
	mu            sync.Mutex
	failPkgUpdate bool
	before        func()
}

func (s *faultyStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	before := s.before
	s.before = nil
	s.mu.Unlock()
	if before != nil {
		before()
	}
	return s.Store.Write(ctx, func(tx store.Tx) error { return fn(faultyTx{tx, s}) })
}

func (s *faultyStore) failing(on bool) {
	s.mu.Lock()
	s.failPkgUpdate = on
	s.mu.Unlock()
}

type faultyTx struct {
	store.Tx
	s *faultyStore
}

func (tx faultyTx) UpdatePackage(p *store.Package) error {
	tx.s.mu.Lock()
	fail := tx.s.failPkgUpdate
	tx.s.mu.Unlock()
	if fail {
		return errors.New("injected failure of UpdatePackage")
	}
	return tx.Tx.UpdatePackage(p)
}

func newFaultyEnv(t *testing.T) (*env, *faultyStore) {
	var fs *faultyStore
	e := newEnv(t, func(s store.Store) store.Store { fs = &faultyStore{Store: s}; return fs })
	return e, fs
}

// unpublishBody is the body npm unpublish <name>@<version> PUTs to
// -rev/<rev> (the write document without the version and its tags), with
// deprecated set on the versions in deprecate; it returns the rev too.
func (e *env) unpublishBody(repo, name, version string, deprecate ...string) ([]byte, string) {
	e.t.Helper()
	doc := e.get(repo, escaped(name)+"?write=true").json(e.t)
	vs := docVersions(doc)
	delete(vs, version)
	for tag, v := range distTags(doc) {
		if v == version {
			delete(distTags(doc), tag)
		}
	}
	for _, v := range deprecate {
		vs[v].(map[string]any)["deprecated"] = "old"
	}
	b, _ := json.Marshal(doc)
	return b, doc["_rev"].(string)
}

// TestUnpublishAllOrNothing: a PUT -rev that deletes a version, deprecates
// another and changes dist-tags and fails at its last step changes nothing.
func TestUnpublishAllOrNothing(t *testing.T) {
	e, fs := newFaultyEnv(t)
	e.publish("solo", pkg{name: "fx-x", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-x", version: "1.1.0"})
	e.publish("solo", pkg{name: "fx-x", version: "1.2.0", tags: map[string]string{"next": "1.2.0"}})
	before := e.get("solo", "fx-x?write=true").json(t)
	body, rev := e.unpublishBody("solo", "fx-x", "1.2.0", "1.0.0")
	fs.failing(true)
	if r := e.do("PUT", "solo", "fx-x/-rev/"+rev, body); r.status != 500 {
		t.Fatalf("PUT -rev with a failing dist-tag write: %d %s", r.status, r.body)
	}
	fs.failing(false)
	if after := e.get("solo", "fx-x?write=true").json(t); !reflect.DeepEqual(after, before) {
		t.Fatalf("a failed unpublish changed the packument:\n%v\nwas\n%v", after, before)
	}
	// The same request then succeeds.
	if r := e.do("PUT", "solo", "fx-x/-rev/"+rev, body); r.status != 200 {
		t.Fatalf("PUT -rev: %d %s", r.status, r.body)
	}
	doc := e.get("solo", "fx-x?write=true").json(t)
	if vs := docVersions(doc); len(vs) != 2 || vs["1.0.0"].(map[string]any)["deprecated"] != "old" || distTags(doc)["next"] != nil {
		t.Fatalf("after unpublish: %v %v", vs, doc["dist-tags"])
	}
}

// TestStaleRev: a -rev request whose _rev is stale, whether the package
// changed before the request was read or while it was handled, is a 409
// and changes nothing.
func TestStaleRev(t *testing.T) {
	e, fs := newFaultyEnv(t)
	e.publish("solo", pkg{name: "fx-y", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-y", version: "1.1.0"})
	body, rev := e.unpublishBody("solo", "fx-y", "1.1.0")
	setTag := func(tag, v string) {
		t.Helper()
		_, err := e.svc.UpdatePackageMetadata(bg, e.pkgRef("solo", "fx-y"), func(cur string) (string, error) {
			m := artifact.ParseNpmPackageMetadata(cur)
			m.DistTags[tag] = v
			return m.Encode(), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setTag("a", "1.0.0")
	requests := []struct {
		method, path string
		body         []byte
	}{
		{"PUT", "fx-y/-rev/", body},
		{"DELETE", "fx-y/-/fx-y-1.1.0.tgz/-rev/", nil},
		{"DELETE", "fx-y/-rev/", nil},
	}
	for _, r := range requests {
		before := e.get("solo", "fx-y?write=true").json(t)
		if got := e.do(r.method, "solo", r.path+rev, r.body); got.status != 409 {
			t.Fatalf("stale: %s %s: %d %s", r.method, r.path, got.status, got.body)
		}
		if after := e.get("solo", "fx-y?write=true").json(t); !reflect.DeepEqual(after, before) {
			t.Fatalf("stale: %s %s changed the packument", r.method, r.path)
		}
	}
	// The package changes after the handler read it: the _rev it checked
	// is stale by the time it writes.
	for i, r := range requests {
		rev := e.get("solo", "fx-y?write=true").json(t)["_rev"].(string)
		tag := string(rune('b' + i))
		fs.mu.Lock()
		fs.before = func() { setTag(tag, "1.1.0") }
		fs.mu.Unlock()
		if got := e.do(r.method, "solo", r.path+rev, r.body); got.status != 409 {
			t.Fatalf("concurrent: %s %s: %d %s", r.method, r.path, got.status, got.body)
		}
		doc := e.get("solo", "fx-y?write=true").json(t)
		if vs := docVersions(doc); len(vs) != 2 || distTags(doc)[tag] != "1.1.0" {
			t.Fatalf("concurrent: %s %s: versions %v tags %v", r.method, r.path, vs, doc["dist-tags"])
		}
	}
}

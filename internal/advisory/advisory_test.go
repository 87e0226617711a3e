package advisory

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// Records of the fixture: a malicious npm package, an npm advisory with a
// SEMVER range, a PyPI advisory.
const (
	malRecord = `{"id":"MAL-2024-0001","modified":"2024-01-01T00:00:00Z","summary":"Malicious code in evil-pkg (npm)",
 "affected":[{"package":{"ecosystem":"npm","name":"evil-pkg"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`
	ghsaRecord = `{"id":"GHSA-aaaa-bbbb-cccc","modified":"2024-01-01T00:00:00Z","summary":"Prototype pollution in lodash",
 "database_specific":{"severity":"HIGH"},
 "affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}]}`
	pypiRecord = `{"id":"PYSEC-2024-1","modified":"2024-01-01T00:00:00Z",
 "affected":[{"package":{"ecosystem":"PyPI","name":"Requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.31.0"}]}]}]}`
)

// zipOf makes a zip of name → content entries, in order.
func zipOf(t *testing.T, entries ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := w.Create(entries[i])
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, entries[i+1])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fixture(t *testing.T) []byte {
	return zipOf(t, "MAL-2024-0001.json", malRecord, "GHSA-aaaa-bbbb-cccc.json", ghsaRecord, "PYSEC-2024-1.json", pypiRecord)
}

type env struct {
	meta  store.Store
	blobs *blobfs.Store
	spool string
	root  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(dir, "spool")
	if err := os.Mkdir(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	return &env{meta: meta, blobs: blobs, spool: spool, root: dir}
}

func (e *env) sources(mutate ...func(*Config)) *Sources {
	cfg := Config{Store: e.meta, Blobs: e.blobs, Ecosystems: ecosystems.Table(), SpoolDir: e.spool,
		Log: slog.New(slog.DiscardHandler)}
	for _, m := range mutate {
		m(&cfg)
	}
	return New(cfg)
}

// blobCount counts the committed blobs.
func (e *env) blobCount(t *testing.T) int {
	t.Helper()
	n := 0
	for _, err := range e.blobs.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func importBytes(t *testing.T, s *Sources, name string, data []byte) (SourceInfo, error) {
	t.Helper()
	return s.ImportFrom(context.Background(), name, bytes.NewReader(data), 0, "arn:aws:iam::123456789012:root")
}

func ids(s *Sources, eco, name, version string) string {
	var out []string
	for _, m := range s.Index().Lookup(eco, name, version) {
		out = append(out, m.ID)
	}
	return strings.Join(out, ",")
}

func TestImportListIndex(t *testing.T) {
	e := newEnv(t)
	s := e.sources()
	ctx := context.Background()
	if s.Index() == nil || s.Index().Len() != 0 || s.Stamp() != 0 {
		t.Fatal("a new Sources has no empty index")
	}
	info, err := importBytes(t, s, "fixture", fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "fixture" || info.Records != 3 || fmt.Sprint(info.Ecosystems) != "map[PyPI:1 npm:2]" ||
		len(info.SHA256) != 64 || info.Size != int64(len(fixture(t))) || info.ImportedBy != "arn:aws:iam::123456789012:root" || info.ImportedAt.IsZero() {
		t.Fatalf("info %+v", info)
	}
	if ok, _ := e.blobs.Exists(ctx, info.SHA256); !ok {
		t.Fatal("no blob")
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].SHA256 != info.SHA256 || list[0].Records != 3 {
		t.Fatalf("list %+v %v", list, err)
	}
	// The index is in place when Import returns.
	if s.Stamp() == 0 || s.Index().Len() != 3 {
		t.Fatalf("stamp %d, %d records", s.Stamp(), s.Index().Len())
	}
	for _, tc := range []struct{ eco, name, version, want string }{
		{"npm", "evil-pkg", "1.0.0", "MAL-2024-0001"},
		{"npm", "lodash", "4.17.20", "GHSA-aaaa-bbbb-cccc"},
		{"npm", "lodash", "4.17.21", ""},
		{"PyPI", "requests", "2.30.0", "PYSEC-2024-1"}, // PEP 503 name
		{"PyPI", "requests", "2.31.0", ""},
	} {
		if got := ids(s, tc.eco, tc.name, tc.version); got != tc.want {
			t.Errorf("%s %s %s: %q, want %q", tc.eco, tc.name, tc.version, got, tc.want)
		}
	}
	if got, err := s.Get(ctx, "fixture"); err != nil || got.SHA256 != info.SHA256 {
		t.Fatalf("get %+v %v", got, err)
	}
	if entries, _ := os.ReadDir(e.spool); len(entries) != 0 {
		t.Errorf("spool not emptied: %v", entries)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	s := e.sources()
	ctx := context.Background()
	good, err := importBytes(t, s, "good", fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	stamp, blobs := s.Stamp(), e.blobCount(t)
	for _, tc := range []struct {
		name, source string
		data         []byte
		want         string
	}{
		{"not a zip", "good", []byte("this is not a zip"), "not a readable zip"},
		{"no record", "good", zipOf(t, "README.md", "hello"), "no OSV record"},
		{"record without id", "good", zipOf(t, "a.json", malRecord, "osv/bad/NOID.json", `{"modified":"x"}`), "osv/bad/NOID.json"},
		{"event without introduced", "other", zipOf(t, "BAD-1.json",
			`{"id":"BAD-1","affected":[{"package":{"ecosystem":"npm","name":"x"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.0.0"}]}]}]}`), "BAD-1.json"},
		{"not JSON", "other", zipOf(t, "X.json", "{"), "X.json"},
		{"bad name", "../etc", fixture(t), "source name"},
		{"empty name", "", fixture(t), "source name"},
		{"long name", strings.Repeat("a", 65), fixture(t), "source name"},
	} {
		_, err := importBytes(t, s, tc.source, tc.data)
		if fault.KindOf(err) != fault.KindValidation || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a validation error with %q", tc.name, err, tc.want)
		}
	}
	// Over the size limit.
	if _, err := s.ImportFrom(ctx, "good", bytes.NewReader(fixture(t)), 100, "x"); fault.KindOf(err) != fault.KindValidation || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("over the limit: %v", err)
	}
	list, _ := s.List(ctx)
	if len(list) != 1 || list[0].SHA256 != good.SHA256 || list[0].ImportedAt != good.ImportedAt {
		t.Errorf("list changed: %+v", list)
	}
	if s.Stamp() != stamp || e.blobCount(t) != blobs || s.Index().Len() != 3 {
		t.Errorf("stamp %d→%d, blobs %d→%d, records %d", stamp, s.Stamp(), blobs, e.blobCount(t), s.Index().Len())
	}
	if entries, _ := os.ReadDir(e.spool); len(entries) != 0 {
		t.Errorf("spool not emptied: %v", entries)
	}
	// A body whose signature check fails at its end keeps its error.
	denied := fault.Unauthenticated("InvalidSignatureException", "body does not match")
	if _, err := s.ImportFrom(ctx, "good", io.MultiReader(bytes.NewReader(fixture(t)), errReader{denied}), 0, "x"); !errors.Is(err, denied) {
		t.Errorf("reader error: %v", err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestReimportReplacesAndDelete(t *testing.T) {
	e := newEnv(t)
	s := e.sources()
	ctx := context.Background()
	first, err := importBytes(t, s, "feed", fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importBytes(t, s, "b-other", zipOf(t, "PYSEC-2024-1.json", pypiRecord)); err != nil {
		t.Fatal(err)
	}
	stamp := s.Stamp()
	// The same name again, other records: replaced, not added to.
	second, err := importBytes(t, s, "feed", zipOf(t, "GHSA-aaaa-bbbb-cccc.json", strings.Replace(ghsaRecord, "4.17.21", "4.18.0", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if second.SHA256 == first.SHA256 || second.Records != 1 || s.Stamp() == stamp {
		t.Fatalf("second %+v, stamp %d→%d", second, stamp, s.Stamp())
	}
	list, _ := s.List(ctx)
	if len(list) != 2 || list[0].Name != "b-other" || list[1].Name != "feed" || list[1].SHA256 != second.SHA256 {
		t.Fatalf("list %+v", list)
	}
	if got := ids(s, "npm", "evil-pkg", "1.0.0"); got != "" {
		t.Errorf("a replaced record still matches: %s", got)
	}
	if got := ids(s, "npm", "lodash", "4.17.21"); got != "GHSA-aaaa-bbbb-cccc" {
		t.Errorf("the new range does not match: %q", got)
	}
	// The old blob is left for the orphan collector: no row retains it.
	retained := s.Retain(e.blobs)
	listed := map[string]bool{}
	for info, err := range retained.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		listed[info.SHA256] = true
	}
	if !listed[first.SHA256] || listed[second.SHA256] {
		t.Errorf("retain lists %v; want the old blob %s, not the new %s", listed, first.SHA256, second.SHA256)
	}

	// Delete.
	stamp = s.Stamp()
	if err := s.Delete(ctx, "feed"); err != nil {
		t.Fatal(err)
	}
	if s.Stamp() == stamp || s.Index().Len() != 1 || ids(s, "npm", "lodash", "1.0.0") != "" || ids(s, "PyPI", "requests", "1.0") != "PYSEC-2024-1" {
		t.Errorf("after delete: stamp %d→%d, %d records", stamp, s.Stamp(), s.Index().Len())
	}
	if err := s.Delete(ctx, "feed"); fault.KindOf(err) != fault.KindNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := s.Get(ctx, "feed"); fault.KindOf(err) != fault.KindNotFound {
		t.Errorf("get after delete: %v", err)
	}
	if err := s.Delete(ctx, "b-other"); err != nil || s.Index().Len() != 0 {
		t.Errorf("last delete: %v, %d records", err, s.Index().Len())
	}
	if list, _ := s.List(ctx); len(list) != 0 || list == nil {
		t.Errorf("list after delete: %#v", list)
	}
}

// The artifact service collects blobs no asset references; a source's is
// kept while its row names it, and collected once it does not.
func TestOrphanCollectorKeepsSources(t *testing.T) {
	e := newEnv(t)
	s := e.sources()
	ctx := context.Background()
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, e.meta, s.Retain(e.blobs), slog.New(slog.DiscardHandler))
	info, err := importBytes(t, s, "feed", fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	// An unrelated orphan.
	st, err := e.blobs.Stage(ctx, strings.NewReader("orphan"), 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Commit(ctx)
	orphan := st.Digests().SHA256
	time.Sleep(10 * time.Millisecond)
	n, _, err := svc.CollectOrphans(ctx, time.Millisecond)
	if err != nil || n != 1 {
		t.Fatalf("collected %d, %v; want the one orphan", n, err)
	}
	if ok, _ := e.blobs.Exists(ctx, orphan); ok {
		t.Error("orphan kept")
	}
	if ok, _ := e.blobs.Exists(ctx, info.SHA256); !ok {
		t.Fatal("the source's blob was collected")
	}
	// A direct delete (the release of byte-identical asset content) keeps it too.
	if err := s.Retain(e.blobs).Delete(ctx, info.SHA256); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.blobs.Exists(ctx, info.SHA256); !ok {
		t.Fatal("Retain's Delete removed a source's blob")
	}
	// A fresh Sources (another node, a restart) builds the same index.
	if other := e.sources(); other.reload(ctx, false) != nil || other.Index().Len() != 3 {
		t.Fatalf("another node: %d records", other.Index().Len())
	}
	if err := s.Delete(ctx, "feed"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if n, _, err := svc.CollectOrphans(ctx, time.Millisecond); err != nil || n != 1 {
		t.Fatalf("collected %d, %v after the source was deleted", n, err)
	}
	if ok, _ := e.blobs.Exists(ctx, info.SHA256); ok {
		t.Error("a deleted source's blob was not collected")
	}
	// Retain passes the optional methods through.
	r := s.Retain(e.blobs)
	if b, ok := r.(interface{ Bucket() string }); !ok || b.Bucket() != "" {
		t.Error("Bucket")
	}
	if u, ok := r.(interface{ Unwrap() blob.Store }); !ok || u.Unwrap() != blob.Store(e.blobs) {
		t.Error("Unwrap")
	}
}

func TestMissingBlobSkipped(t *testing.T) {
	e := newEnv(t)
	s := e.sources()
	ctx := context.Background()
	a, err := importBytes(t, s, "a", zipOf(t, "MAL-2024-0001.json", malRecord))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := importBytes(t, s, "b", zipOf(t, "PYSEC-2024-1.json", pypiRecord)); err != nil {
		t.Fatal(err)
	}
	if err := e.blobs.Delete(ctx, a.SHA256); err != nil {
		t.Fatal(err)
	}
	other := e.sources()
	if err := other.reload(ctx, false); err != nil {
		t.Fatal(err)
	}
	if other.Index().Len() != 1 || ids(other, "PyPI", "requests", "1.0") != "PYSEC-2024-1" {
		t.Fatalf("%d records", other.Index().Len())
	}
}

// A node sees another node's import at its next poll; Loaded returns after
// the first load.
func TestRunFollowsOtherNodes(t *testing.T) {
	old := pollInterval
	pollInterval = 20 * time.Millisecond
	t.Cleanup(func() { pollInterval = old })
	e := newEnv(t)
	a, b := e.sources(), e.sources()
	if _, err := importBytes(t, a, "first", zipOf(t, "MAL-2024-0001.json", malRecord)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	if err := b.Loaded(ctx); err != nil || b.Index().Len() != 1 {
		t.Fatalf("loaded: %v, %d records", err, b.Index().Len())
	}
	if _, err := importBytes(t, a, "second", zipOf(t, "PYSEC-2024-1.json", pypiRecord)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.Index().Len() == 2 })
	if err := a.Delete(context.Background(), "first"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.Index().Len() == 1 && ids(b, "npm", "evil-pkg", "1.0.0") == "" })
	cancel()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSync(t *testing.T) {
	e := newEnv(t)
	var content atomic.Pointer[[]byte]
	data := fixture(t)
	content.Store(&data)
	var gets, notModified atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://example.com/all.zip", http.StatusFound)
			return
		}
		if r.URL.Path != "/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		gets.Add(1)
		b := *content.Load()
		etag := fmt.Sprintf(`"%d"`, len(b))
		if r.Header.Get("If-None-Match") == etag {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Write(b)
	}))
	defer srv.Close()
	url := srv.URL + "/npm/all.zip"
	s := e.sources(func(c *Config) { c.SyncURLs = []string{url}; c.SyncInterval = time.Nanosecond })
	ctx := context.Background()
	name := SyncName(url)
	if !strings.HasPrefix(name, "sync-127.0.0.1-") || !strings.HasSuffix(name, "-npm-all.zip") {
		t.Fatalf("sync name %q", name)
	}
	if !s.syncOne(ctx, url) {
		t.Fatal("not tried")
	}
	info, err := s.Get(ctx, name)
	if err != nil || info.Records != 3 || info.ImportedBy != "sync:"+url || s.Index().Len() != 3 {
		t.Fatalf("after sync: %+v %v, %d records", info, err, s.Index().Len())
	}
	// Unchanged: a conditional request, nothing imported.
	s.syncOne(ctx, url)
	if again, _ := s.Get(ctx, name); again.ImportedAt != info.ImportedAt || notModified.Load() != 1 {
		t.Fatalf("re-imported unchanged content, or no conditional request (%d)", notModified.Load())
	}
	// Changed content is imported.
	changed := zipOf(t, "PYSEC-2024-1.json", pypiRecord)
	content.Store(&changed)
	s.syncOne(ctx, url)
	if now, _ := s.Get(ctx, name); now.Records != 1 || now.SHA256 == info.SHA256 || s.Index().Len() != 1 {
		t.Fatalf("changed content: %+v", now)
	}
	// A bad download changes nothing and is recorded in the state row.
	bad := []byte("not a zip")
	content.Store(&bad)
	before, _ := s.Get(ctx, name)
	s.syncOne(ctx, url)
	if after, _ := s.Get(ctx, name); after.SHA256 != before.SHA256 {
		t.Fatal("a bad download replaced the source")
	}
	var state string
	e.meta.Read(ctx, func(tx store.Tx) (err error) { state, err = tx.GetSetting(syncPrefix + name); return err })
	if !strings.Contains(state, "not a readable zip") {
		t.Errorf("state row: %s", state)
	}
	// Not due: nothing is fetched.
	slow := e.sources(func(c *Config) { c.SyncURLs = []string{url}; c.SyncInterval = time.Hour })
	content.Store(&data)
	if !slow.syncOne(ctx, url) { // the failure above is due for a retry at once (interval 1 ns)
		t.Fatal("a failed sync not retried")
	}
	n := gets.Load()
	if slow.syncOne(ctx, url) || gets.Load() != n {
		t.Error("fetched before it was due")
	}
	if now, _ := slow.Get(ctx, name); now.Records != 3 {
		t.Errorf("retry: %+v", now)
	}
	// A redirect off loopback http is refused.
	if err := slow.fetch(ctx, srv.URL+"/redirect", "x", &syncState{}, nil); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("redirect: %v", err)
	}
}

func TestSyncNameAndURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip": "sync-osv-vulnerabilities.storage.googleapis.com-npm-all.zip",
		"https://example.com/PyPI/all.zip":                               "sync-example.com-PyPI-all.zip",
	} {
		if got := SyncName(in); got != want || !ValidName(got) {
			t.Errorf("SyncName(%s) = %s", in, got)
		}
	}
	long := SyncName("https://example.com/" + strings.Repeat("x", 100) + "/all.zip")
	query := SyncName("https://example.com/all.zip?v=1")
	if !ValidName(long) || len(long) != 64 || !ValidName(query) || query == SyncName("https://example.com/all.zip?v=2") {
		t.Errorf("long %q, query %q", long, query)
	}
	for u, ok := range map[string]bool{"https://example.com/a.zip": true, "http://127.0.0.1:9/a.zip": true, "http://localhost/a": true,
		"http://[::1]:8/a": true, "http://example.com/a.zip": false, "ftp://example.com/a": false, "/a.zip": false} {
		if err := CheckSyncURL(u); (err == nil) != ok {
			t.Errorf("CheckSyncURL(%s): %v", u, err)
		}
	}
}

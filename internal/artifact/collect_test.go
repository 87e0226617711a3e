package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// orphanFixture is a Service over SQLite and the filesystem blob driver with
// one domain and one repository for generic packages.
type orphanFixture struct {
	t     *testing.T
	svc   *Service
	meta  store.Store
	blobs blob.Store
	root  string // the blob store's root
	n     int    // versions published so far
}

func newOrphanFixture(t *testing.T) *orphanFixture {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	root := filepath.Join(dir, "blobs")
	blobs, err := blobfs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Config{Region: "us-east-1", AccountID: "123456789012"}, meta, blobs, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if _, err := svc.CreateDomain(ctx, "dx", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRepository(ctx, RepoRef{DomainRef: DomainRef{Name: "dx"}, Repository: "repo"}, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	return &orphanFixture{t: t, svc: svc, meta: meta, blobs: blobs, root: root}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (f *orphanFixture) versionRef(version string) VersionRef {
	return VersionRef{PackageRef: PackageRef{RepoRef: RepoRef{DomainRef: DomainRef{Name: "dx"}, Repository: "repo"},
		Format: FormatGeneric, Namespace: "ns", Package: "p"}, Version: version}
}

// publish publishes content as the one asset of a new version and returns
// the version.
func (f *orphanFixture) publish(content []byte) string {
	f.t.Helper()
	version, err := f.tryPublish(content)
	if err != nil {
		f.t.Fatalf("publish: %v", err)
	}
	return version
}

func (f *orphanFixture) tryPublish(content []byte) (string, error) {
	f.n++
	version := "1.0." + strconv.Itoa(f.n)
	_, err := f.svc.PublishPackageVersion(context.Background(),
		PublishRequest{VersionRef: f.versionRef(version), Asset: "a.bin", SHA256: sha256Hex(content)}, bytes.NewReader(content))
	return version, err
}

// download reads the asset of version.
func (f *orphanFixture) download(version string) []byte {
	f.t.Helper()
	_, _, obj, err := f.svc.GetPackageVersionAsset(context.Background(), f.versionRef(version), "a.bin", "")
	if err != nil {
		f.t.Fatalf("download %s: %v", version, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// plant commits content as a blob that nothing references, as a process
// killed between the blob's commit and its transaction leaves it.
func (f *orphanFixture) plant(content []byte) string {
	f.t.Helper()
	st, err := f.blobs.Stage(context.Background(), bytes.NewReader(content), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Discard()
	if _, err := st.Commit(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return st.Digests().SHA256
}

func (f *orphanFixture) path(sha string) string {
	return filepath.Join(f.root, "sha256", sha[:2], sha[2:4], sha)
}

// age sets the blob's modification time to d ago.
func (f *orphanFixture) age(sha string, d time.Duration) {
	f.t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(f.path(sha), old, old); err != nil {
		f.t.Fatal(err)
	}
}

func (f *orphanFixture) modTime(sha string) time.Time {
	f.t.Helper()
	fi, err := os.Stat(f.path(sha))
	if err != nil {
		f.t.Fatal(err)
	}
	return fi.ModTime()
}

func (f *orphanFixture) exists(sha string) bool {
	f.t.Helper()
	ok, err := f.blobs.Exists(context.Background(), sha)
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

func (f *orphanFixture) collect(grace time.Duration) (int, int64) {
	f.t.Helper()
	n, size, err := f.svc.CollectOrphans(context.Background(), grace)
	if err != nil {
		f.t.Fatalf("CollectOrphans: %v", err)
	}
	return n, size
}

// setCollectHook installs fn as collectHook for the test.
func setCollectHook(t *testing.T, fn func(s *Service, sha string)) {
	collectHook = fn
	t.Cleanup(func() { collectHook = nil })
}

// TestCollectOrphans: an unreferenced blob older than the grace period is
// deleted; a younger one and referenced ones, however old, are kept.
func TestCollectOrphans(t *testing.T) {
	f := newOrphanFixture(t)
	refContent, oldContent, youngContent := []byte("referenced"), []byte("old orphan, 23 bytes..."), []byte("young orphan")
	refVersion := f.publish(refContent)
	ref := sha256Hex(refContent)
	f.age(ref, 48*time.Hour)
	old := f.plant(oldContent)
	f.age(old, 2*time.Hour)
	young := f.plant(youngContent)
	f.age(young, 30*time.Minute)

	n, size := f.collect(time.Hour)
	if n != 1 || size != int64(len(oldContent)) {
		t.Errorf("CollectOrphans = %d blobs, %d bytes; want 1, %d", n, size, len(oldContent))
	}
	if f.exists(old) {
		t.Error("the old orphan is still there")
	}
	if !f.exists(young) {
		t.Error("the orphan younger than the grace period was deleted")
	}
	if !f.exists(ref) || !bytes.Equal(f.download(refVersion), refContent) {
		t.Error("the referenced blob was deleted")
	}
	if n, _ := f.collect(time.Hour); n != 0 {
		t.Errorf("a second pass collected %d blobs", n)
	}
	// Once old enough, the young orphan goes too.
	f.age(young, 3*time.Hour)
	if n, size := f.collect(time.Hour); n != 1 || size != int64(len(youngContent)) || f.exists(young) {
		t.Errorf("CollectOrphans of the aged orphan = %d, %d (still there: %v)", n, size, f.exists(young))
	}
}

// TestCollectOrphansRechecksUnderLock: between the listing that finds an
// old orphan and its deletion, the orphan may be uploaded again (and
// recorded) or committed again by a fetch that is about to record it. The
// collector decides again under the blob's hash lock and keeps it.
func TestCollectOrphansRechecksUnderLock(t *testing.T) {
	cases := []struct {
		name string
		// meanwhile runs between listing and lock; it returns the version
		// that must still download the content, if any.
		meanwhile func(f *orphanFixture, sha string, content []byte) string
	}{
		{"uploaded again", func(f *orphanFixture, sha string, content []byte) string {
			return f.publish(content)
		}},
		{"uploaded again, then the clock jumped", func(f *orphanFixture, sha string, content []byte) string {
			v := f.publish(content)
			f.age(sha, 5*time.Hour) // only the reference keeps it now
			return v
		}},
		{"committed again by a fetch, not yet recorded", func(f *orphanFixture, sha string, content []byte) string {
			f.plant(content) // as upstream.Fetch commits before ingestFetched takes the lock
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newOrphanFixture(t)
			content := []byte("orphan of " + tc.name)
			sha := f.plant(content)
			f.age(sha, 2*time.Hour)
			var version string
			calls := 0
			setCollectHook(t, func(s *Service, got string) {
				if s == f.svc && got == sha {
					calls++
					version = tc.meanwhile(f, sha, content)
				}
			})
			n, _ := f.collect(time.Hour)
			if calls != 1 {
				t.Fatalf("the hook ran %d times for the orphan, want 1", calls)
			}
			if n != 0 || !f.exists(sha) {
				t.Fatalf("CollectOrphans deleted %d blobs; the blob is there: %v", n, f.exists(sha))
			}
			if version != "" && !bytes.Equal(f.download(version), content) {
				t.Error("the re-uploaded asset does not download its content")
			}
		})
	}
}

// lockUsers reports how many callers hold or wait for sha's hash lock.
func lockUsers(s *Service, sha string) int {
	s.locks.mu.Lock()
	defer s.locks.mu.Unlock()
	if l := s.locks.locks[sha]; l != nil {
		return l.users
	}
	return 0
}

// TestCollectOrphansWaitsForRecordingUpload: an upload that has committed
// an (old, orphaned) blob and waits for its metadata transaction holds the
// blob's hash lock; a collector that runs then, even with no grace at all
// (a wall clock that jumped), waits for it and finds the reference.
func TestCollectOrphansWaitsForRecordingUpload(t *testing.T) {
	f := newOrphanFixture(t)
	ctx := context.Background()
	content := []byte("reused by an upload that is being recorded")
	sha := f.plant(content)
	f.age(sha, 2*time.Hour)

	// Hold the store's writer so that the upload stops between its Commit
	// and its transaction.
	holding, release, written := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		written <- f.meta.Write(ctx, func(store.Tx) error { close(holding); <-release; return nil })
	}()
	<-holding
	releaseWriter := sync.OnceFunc(func() { close(release) })
	defer releaseWriter() // also when the test fails: the store's Close waits for the writer
	published := make(chan error, 1)
	go func() {
		_, err := f.tryPublish(content)
		published <- err
	}()
	// The upload's Commit refreshes the old blob's time: it is past Commit.
	deadline := time.Now().Add(10 * time.Second)
	for time.Since(f.modTime(sha)) > time.Hour {
		if time.Now().After(deadline) {
			t.Fatal("the upload did not commit its blob within 10 s")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
	if lockUsers(f.svc, sha) != 1 {
		t.Fatal("the upload does not hold the blob's hash lock")
	}

	type result struct {
		n   int
		err error
	}
	collected := make(chan result, 1)
	go func() {
		n, _, err := f.svc.CollectOrphans(ctx, 0)
		collected <- result{n, err}
	}()
	// Wait until the collector queues for the lock (or, were it not to
	// take it, has finished).
	var early *result
	for deadline := time.Now().Add(10 * time.Second); lockUsers(f.svc, sha) < 2; {
		select {
		case r := <-collected:
			early = &r
		default:
		}
		if early != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the collector neither waited for the blob's lock nor finished within 10 s")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
	releaseWriter()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := <-published; err != nil {
		t.Fatalf("the upload failed: %v", err)
	}
	r := early
	if r == nil {
		got := <-collected
		r = &got
	}
	if r.err != nil || r.n != 0 {
		t.Errorf("CollectOrphans = %d, %v; want 0, nil", r.n, r.err)
	}
	if !f.exists(sha) || !bytes.Equal(f.download("1.0.1"), content) {
		t.Fatal("the upload's blob was deleted while the upload was being recorded")
	}
}

// TestCollectOrphansEvery: the background collector makes a pass at once,
// and returns when its context ends.
func TestCollectOrphansEvery(t *testing.T) {
	f := newOrphanFixture(t)
	sha := f.plant([]byte("collected at start"))
	f.age(sha, 2*time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.svc.CollectOrphansEvery(ctx, time.Hour, time.Hour); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for f.exists(sha) {
		if time.Now().After(deadline) {
			t.Fatal("the first pass did not collect the orphan within 10 s")
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("CollectOrphansEvery did not return after its context ended")
	}
}

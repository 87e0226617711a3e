package fs

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/blob/blobtest"
)

// commitBytes stages and commits data and returns its SHA-256 and whether
// the Commit created the blob.
func commitBytes(t *testing.T, s *Store, data []byte) (string, bool) {
	t.Helper()
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Discard()
	created, err := st.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Digests().SHA256, created
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime()
}

// TestCommitRefreshesModTime: committing content that is already stored
// makes the blob look new, so that an old orphan an upload is about to
// reference is not collected for its age.
func TestCommitRefreshesModTime(t *testing.T) {
	s, root := newStore(t)
	data := blobtest.RandomBytes(10_000, 1)
	sha, created := commitBytes(t, s, data)
	if !created {
		t.Fatal("first Commit: created = false")
	}
	p := filepath.Join(root, "sha256", sha[:2], sha[2:4], sha)
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second) // coarse file-system clocks
	if _, created := commitBytes(t, s, data); created {
		t.Error("second Commit: created = true")
	}
	if got := modTime(t, p); got.Before(start) {
		t.Errorf("ModTime after a Commit of existing content = %v, want at least %v", got, start)
	}
	for info, err := range s.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if info.SHA256 == sha && info.ModTime.Before(start) {
			t.Errorf("List: ModTime = %v, want at least %v", info.ModTime, start)
		}
	}
	checkTmpEmpty(t, root)
}

// TestReuseRelinksDeletedBlob: when the existing blob disappears between
// the failed link and the refresh (a concurrent Delete), the staged content
// is linked again rather than Commit reporting a blob that is not there.
func TestReuseRelinksDeletedBlob(t *testing.T) {
	s, root := newStore(t)
	data := []byte("relinked")
	sha, _ := commitBytes(t, s, data)
	final := filepath.Join(root, "sha256", sha[:2], sha[2:4], sha)
	tmp := filepath.Join(root, "tmp", "stage-test")
	if err := os.WriteFile(tmp, data, fileMode); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(final); err != nil {
		t.Fatal(err)
	}
	created, err := reuse(tmp, final)
	if err != nil || !created {
		t.Fatalf("reuse = %v, %v; want true, nil", created, err)
	}
	if got, err := os.ReadFile(final); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob after reuse: %q, %v", got, err)
	}
	os.Remove(tmp)
}

// TestListSkipsForeignFiles: only files named by their SHA-256 under their
// own prefix directories are blobs; anything else under sha256/ (an editor's
// backup, a misplaced file) is never offered to a collector.
func TestListSkipsForeignFiles(t *testing.T) {
	s, root := newStore(t)
	sha, _ := commitBytes(t, s, []byte("the one blob"))
	other := blobtest.Digests([]byte("misplaced")).SHA256
	dir := filepath.Join(root, "sha256", sha[:2], sha[2:4])
	for _, p := range []string{
		filepath.Join(dir, sha+".bak"),
		filepath.Join(dir, "notes.txt"),
		filepath.Join(dir, other), // in the wrong directory
		filepath.Join(root, "sha256", "README"),
		filepath.Join(root, "sha256", "zz", "yy", sha),
		filepath.Join(root, "sha256", sha[:2], "README"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), dirMode); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), fileMode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, sha[:4]+strings.Repeat("0", 60)), dirMode); err != nil { // a directory with a blob's name
		t.Fatal(err)
	}
	var got []string
	for info, err := range s.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, info.SHA256)
	}
	if len(got) != 1 || got[0] != sha {
		t.Errorf("List = %v, want only %s", got, sha)
	}
}

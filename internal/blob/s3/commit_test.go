package s3

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"coffer/internal/blob"
	"coffer/internal/blob/blobtest"
)

// modTime returns the blob's ModTime as Open and List report it.
func modTime(t *testing.T, s *Store, sha string) (open, list time.Time) {
	t.Helper()
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	obj.Close()
	for info, err := range s.List(context.Background()) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if info.SHA256 == sha {
			list = info.ModTime
		}
	}
	return obj.ModTime(), list
}

func stage(t *testing.T, s *Store, data []byte) blob.Staged {
	t.Helper()
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	return st
}

// checkBlob compares the blob's content with want.
func checkBlob(t *testing.T, s *Store, sha string, want []byte) {
	t.Helper()
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer obj.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(obj); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) || obj.Size() != int64(len(want)) {
		t.Fatalf("content differs: %d bytes (Size %d), want %d", got.Len(), obj.Size(), len(want))
	}
}

// testRefresh commits data twice, a second apart (HeadObject's
// LastModified has whole seconds), and checks that the second Commit
// reports created=false and moves ModTime forward.
func testRefresh(t *testing.T, s *Store, data []byte) {
	sha := put(t, s, data)
	open1, list1 := modTime(t, s, sha)
	time.Sleep(1100 * time.Millisecond)
	st := stage(t, s, data)
	end := time.Now()
	created, err := st.Commit(context.Background())
	if err != nil || created {
		t.Fatalf("second Commit = %v, %v; want false, nil", created, err)
	}
	open2, list2 := modTime(t, s, sha)
	if !open2.After(open1) || !list2.After(list1) {
		t.Errorf("ModTime not refreshed: Open %v → %v, List %v → %v", open1, open2, list1, list2)
	}
	// blob.Staged.Commit: no earlier than the end of Stage (to the second).
	if open2.Before(end.Truncate(time.Second)) {
		t.Errorf("ModTime %v is before the end of Stage %v", open2, end)
	}
	checkBlob(t, s, sha, data)
	checkNoStaging(t, s)
}

func TestCommitRefreshesModTime(t *testing.T) {
	testRefresh(t, newTestStore(t, nil), blobtest.RandomBytes(10_000, 1))
}

// Objects above copyLimit are copied with UploadPartCopy, onto themselves
// too when refreshed.
func TestCommitMultipartCopy(t *testing.T) {
	s := newTestStore(t, func(c *Config) { c.PartSize = MinPartSize })
	s.copyLimit, s.copyPartSize = 6<<20, 5<<20
	data := blobtest.RandomBytes(13<<20+5, 2)
	testRefresh(t, s, data)

	// A plain second copy of the same content is a duplicate too.
	st := stage(t, s, data)
	if created, err := st.Commit(context.Background()); err != nil || created {
		t.Errorf("Commit of a duplicate = %v, %v", created, err)
	}
}

// Two commits of the same content racing past the existence check: with
// conditional writes exactly one creates the blob, without both may.
func TestCommitRace(t *testing.T) {
	for _, size := range []int{50_000, 7 << 20} { // CopyObject, UploadPartCopy
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := newTestStore(t, func(c *Config) { c.PartSize = MinPartSize })
			s.copyLimit, s.copyPartSize = 6<<20, 5<<20
			data := blobtest.RandomBytes(size, 3)
			first, second := stage(t, s, data), stage(t, s, data)
			var secondCreated bool
			placeHook = func(string) {
				placeHook = nil
				var err error
				if secondCreated, err = second.Commit(context.Background()); err != nil {
					t.Errorf("second Commit: %v", err)
				}
			}
			defer func() { placeHook = nil }()
			created, err := first.Commit(context.Background())
			if err != nil {
				t.Fatalf("first Commit: %v", err)
			}
			switch {
			case !secondCreated:
				t.Errorf("the racing Commit reported created=false")
			case !created:
				t.Log("conditional write refused the second creation")
			case s.noConditional.Load():
				t.Log("the server refused conditional writes as not implemented; both created")
			case ignoresConditionalCopy(t, s, size):
				t.Log("the server ignores If-None-Match here; both created")
			default:
				t.Error("both Commits reported created=true although the server honours If-None-Match")
			}
			checkBlob(t, s, first.Digests().SHA256, data)
			checkNoStaging(t, s)
		})
	}
}

// ignoresConditionalCopy reports whether the server lets an exclusive
// copy of size bytes overwrite an existing object.
func ignoresConditionalCopy(t *testing.T, s *Store, size int) bool {
	data := blobtest.RandomBytes(size, 4)
	sha := put(t, s, data)
	st := stage(t, s, data)
	defer st.Discard()
	err := s.copy(context.Background(), st.(*staged).key, s.blobKey(sha), st.Digests(), true)
	if err != nil && !isPreconditionFailed(err) {
		t.Fatalf("exclusive copy: %v", err)
	}
	return err == nil
}

// A staging object that vanished (CleanStaging) fails the Commit cleanly.
func TestCommitWithoutStagingObject(t *testing.T) {
	s := newTestStore(t, nil)
	st := stage(t, s, []byte("gone"))
	if err := s.deleteKey(context.Background(), st.(*staged).key); err != nil {
		t.Fatal(err)
	}
	if created, err := st.Commit(context.Background()); err == nil {
		t.Fatalf("Commit = %v, nil; want an error", created)
	}
	if err := st.Discard(); err != nil {
		t.Errorf("Discard: %v", err)
	}
	if ok, _ := s.Exists(context.Background(), st.Digests().SHA256); ok {
		t.Error("the blob exists")
	}
}

// Package blobtest is the conformance suite every blob.Store driver runs from
// its own tests:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return newTestStore(t) })
//	}
package blobtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/blob"
	"coffer/internal/fault"
)

// Run runs the suite. newStore must return an empty store that is private to
// the calling (sub)test; subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Duplicate", testDuplicate},
		{"CommitTwice", testCommitTwice},
		{"Discard", testDiscard},
		{"MaxSize", testMaxSize},
		{"ExistsDelete", testExistsDelete},
		{"InvalidNames", testInvalidNames},
		{"ConcurrentSameContent", testConcurrentSameContent},
		{"ReaderError", testReaderError},
		{"ContextCancelled", testContextCancelled},
		{"List", testList},
		{"ListStopAndCancel", testListStopAndCancel},
		{"ListDeleteWhileIterating", testListDeleteWhileIterating},
		{"CommitAs", testCommitAs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// Digests returns the digests of b computed with the standard library, for
// comparison with what a driver reports.
func Digests(b []byte) blob.Digests {
	m, s1, s256, s512 := md5.Sum(b), sha1.Sum(b), sha256.Sum256(b), sha512.Sum512(b)
	return blob.Digests{
		MD5:    hex.EncodeToString(m[:]),
		SHA1:   hex.EncodeToString(s1[:]),
		SHA256: hex.EncodeToString(s256[:]),
		SHA512: hex.EncodeToString(s512[:]),
		Size:   int64(len(b)),
	}
}

// RandomBytes returns n pseudo-random bytes determined by seed.
func RandomBytes(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// stage stages data and checks the digests.
func stage(t *testing.T, s blob.Store, data []byte) blob.Staged {
	t.Helper()
	st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
	if got, want := st.Digests(), Digests(data); got != want {
		t.Fatalf("Digests = %+v\nwant %+v", got, want)
	}
	return st
}

func commit(t *testing.T, st blob.Staged) bool {
	t.Helper()
	created, err := st.Commit(context.Background())
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return created
}

// put stages and commits data, expecting it to be new.
func put(t *testing.T, s blob.Store, data []byte) string {
	t.Helper()
	st := stage(t, s, data)
	if !commit(t, st) {
		t.Fatal("Commit of a new blob reported created=false")
	}
	return st.Digests().SHA256
}

// checkContent opens the blob and compares it with want.
func checkContent(t *testing.T, s blob.Store, sha string, want []byte) {
	t.Helper()
	obj, err := s.Open(context.Background(), sha)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer obj.Close()
	if obj.Size() != int64(len(want)) {
		t.Errorf("Size = %d, want %d", obj.Size(), len(want))
	}
	if obj.ModTime().IsZero() {
		t.Error("ModTime is zero")
	}
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("content differs: got %d bytes, want %d", len(got), len(want))
	}
	// What ServeContent gets must seek (for ranges) and read the same bytes.
	r := obj.Reader()
	if r == nil {
		t.Fatal("Reader() is nil")
	}
	off := int64(len(want) / 3)
	if _, err := r.Seek(off, io.SeekStart); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read after Seek: %v", err)
	}
	if !bytes.Equal(rest, want[off:]) {
		t.Error("content after Seek differs")
	}
}

func checkAbsent(t *testing.T, s blob.Store, sha string) {
	t.Helper()
	ctx := context.Background()
	if ok, err := s.Exists(ctx, sha); err != nil || ok {
		t.Errorf("Exists = %v, %v; want false, nil", ok, err)
	}
	obj, err := s.Open(ctx, sha)
	if err == nil {
		obj.Close()
	}
	if !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("Open of an absent blob: err = %v, want ErrNotFound", err)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	// Sizes around common buffer sizes catch off-by-one chunking bugs.
	for i, n := range []int{1, 100, 256<<10 - 1, 256 << 10, 1<<20 + 1, 3<<20 + 12345} {
		data := RandomBytes(n, uint64(i))
		sha := put(t, s, data)
		if ok, err := s.Exists(context.Background(), sha); err != nil || !ok {
			t.Errorf("size %d: Exists = %v, %v; want true", n, ok, err)
		}
		checkContent(t, s, sha, data)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	st := stage(t, s, nil)
	if got := st.Digests().SHA256; got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty SHA256 = %s", got)
	}
	if !commit(t, st) {
		t.Error("created = false")
	}
	checkContent(t, s, st.Digests().SHA256, nil)
}

func testDuplicate(t *testing.T, s blob.Store) {
	data := RandomBytes(70_000, 7)
	first, second := stage(t, s, data), stage(t, s, data)
	if !commit(t, first) {
		t.Error("first Commit: created = false")
	}
	if commit(t, second) {
		t.Error("second Commit of identical content: created = true")
	}
	checkContent(t, s, first.Digests().SHA256, data)
}

func testCommitTwice(t *testing.T, s blob.Store) {
	data := RandomBytes(1000, 8)
	st := stage(t, s, data)
	commit(t, st)
	if created, err := st.Commit(context.Background()); err != nil || created {
		t.Errorf("second Commit = %v, %v; want false, nil", created, err)
	}
	// Discard after Commit is a no-op.
	if err := st.Discard(); err != nil {
		t.Errorf("Discard after Commit: %v", err)
	}
	checkContent(t, s, st.Digests().SHA256, data)
}

func testDiscard(t *testing.T, s blob.Store) {
	data := RandomBytes(5000, 9)
	st := stage(t, s, data)
	if err := st.Discard(); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	if err := st.Discard(); err != nil {
		t.Errorf("second Discard: %v", err)
	}
	checkAbsent(t, s, st.Digests().SHA256)
	if created, err := st.Commit(context.Background()); err == nil || created {
		t.Errorf("Commit after Discard = %v, %v; want an error", created, err)
	}
	checkAbsent(t, s, st.Digests().SHA256)
}

func testMaxSize(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := RandomBytes(3<<20+1, 10)
	sha := Digests(data).SHA256
	for _, limit := range []int64{1, int64(len(data)) - 1} {
		st, err := s.Stage(ctx, bytes.NewReader(data), limit)
		if !errors.Is(err, fault.ErrValidation) || st != nil {
			t.Errorf("maxSize %d: Stage = %v, %v; want nil, ErrValidation", limit, st, err)
		}
	}
	checkAbsent(t, s, sha)
	// Exactly maxSize bytes, and no limit, are fine.
	for _, limit := range []int64{int64(len(data)), 0} {
		st, err := s.Stage(ctx, bytes.NewReader(data), limit)
		if err != nil {
			t.Fatalf("maxSize %d: Stage: %v", limit, err)
		}
		if st.Digests().Size != int64(len(data)) {
			t.Errorf("Size = %d", st.Digests().Size)
		}
		st.Discard()
	}
}

func testExistsDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := RandomBytes(4096, 11)
	sha := Digests(data).SHA256
	checkAbsent(t, s, sha)
	if err := s.Delete(ctx, sha); err != nil {
		t.Errorf("Delete of an absent blob: %v", err)
	}
	put(t, s, data)
	if ok, err := s.Exists(ctx, sha); err != nil || !ok {
		t.Errorf("Exists = %v, %v; want true", ok, err)
	}
	if err := s.Delete(ctx, sha); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkAbsent(t, s, sha)
	if err := s.Delete(ctx, sha); err != nil {
		t.Errorf("second Delete: %v", err)
	}
	// The blob can come back after deletion.
	put(t, s, data)
	checkContent(t, s, sha, data)
}

func testInvalidNames(t *testing.T, s blob.Store) {
	ctx := context.Background()
	good := put(t, s, []byte("hello"))
	for _, name := range []string{
		"", "../etc/passwd", strings.ToUpper(good), good[:63], good + "0",
		good[:63] + "g", "../../" + good[6:], good[:2] + "/" + good[3:],
		good[:63] + "\x00", " " + good[1:], "/" + good[1:],
	} {
		if _, err := s.Open(ctx, name); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("Open(%q) = %v, want ErrValidation", name, err)
		}
		if _, err := s.Exists(ctx, name); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("Exists(%q) = %v, want ErrValidation", name, err)
		}
		if err := s.Delete(ctx, name); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("Delete(%q) = %v, want ErrValidation", name, err)
		}
	}
	checkContent(t, s, good, []byte("hello"))
}

func testConcurrentSameContent(t *testing.T, s blob.Store) {
	const n = 6
	data := RandomBytes(600_000, 12)
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			st, err := s.Stage(context.Background(), bytes.NewReader(data), 0)
			if err != nil {
				errs[i] = err
				return
			}
			created[i], errs[i] = st.Commit(context.Background())
		})
	}
	wg.Wait()
	var count int
	for i := range n {
		if errs[i] != nil {
			t.Errorf("stager %d: %v", i, errs[i])
		}
		if created[i] {
			count++
		}
	}
	// Drivers that can detect the race report exactly one creation; none
	// may report zero.
	if count == 0 {
		t.Error("no Commit reported created=true")
	}
	checkContent(t, s, Digests(data).SHA256, data)
}

// failingReader yields data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func testReaderError(t *testing.T, s blob.Store) {
	errBoom := errors.New("boom")
	data := RandomBytes(2<<20, 13)
	st, err := s.Stage(context.Background(), &failingReader{data: data, err: errBoom}, 0)
	if !errors.Is(err, errBoom) || st != nil {
		t.Errorf("Stage = %v, %v; want nil, the reader's error", st, err)
	}
	checkAbsent(t, s, Digests(data).SHA256)
}

// endlessReader yields zeros and calls onRead after each Read. It gives up
// with errNotStopped after limit bytes so a broken driver fails, not hangs.
type endlessReader struct {
	n, limit int64
	onRead   func(n int64)
}

var errNotStopped = errors.New("blobtest: Stage kept reading after cancellation")

func (r *endlessReader) Read(p []byte) (int, error) {
	if r.n >= r.limit {
		return 0, errNotStopped
	}
	p = p[:min(int64(len(p)), 64<<10)]
	clear(p)
	r.n += int64(len(p))
	r.onRead(r.n)
	return len(p), nil
}

func testContextCancelled(t *testing.T, s blob.Store) {
	// Already cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if st, err := s.Stage(ctx, bytes.NewReader([]byte("x")), 0); !errors.Is(err, context.Canceled) || st != nil {
		t.Errorf("Stage with a cancelled context = %v, %v; want context.Canceled", st, err)
	}
	// Cancelled mid-stream.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	r := &endlessReader{limit: 256 << 20, onRead: func(n int64) {
		if n >= 4<<20 {
			cancel()
		}
	}}
	if st, err := s.Stage(ctx, r, 0); !errors.Is(err, context.Canceled) || st != nil {
		t.Errorf("Stage cancelled mid-stream = %v, %v; want context.Canceled", st, err)
	}
}

// list collects what s.List yields, failing the test on an error.
func list(t *testing.T, s blob.Store) map[string]blob.Info {
	t.Helper()
	out := map[string]blob.Info{}
	for info, err := range s.List(context.Background()) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if _, dup := out[info.SHA256]; dup {
			t.Errorf("List yielded %s twice", info.SHA256)
		}
		out[info.SHA256] = info
	}
	return out
}

func testList(t *testing.T, s blob.Store) {
	if got := list(t, s); len(got) != 0 {
		t.Fatalf("List of an empty store yielded %d blobs", len(got))
	}
	before := time.Now().Add(-time.Minute) // file systems may round times down
	want := map[string][]byte{}
	for i, n := range []int{0, 1, 5000, 1<<20 + 3} {
		data := RandomBytes(n, uint64(100+i))
		want[put(t, s, data)] = data
	}
	// Staged but not committed, and discarded: not blobs.
	pending := stage(t, s, RandomBytes(777, 200))
	defer pending.Discard()
	stage(t, s, RandomBytes(778, 201)).Discard()

	got := list(t, s)
	if len(got) != len(want) {
		t.Errorf("List yielded %d blobs, want %d: %v", len(got), len(want), slices.Collect(maps.Keys(got)))
	}
	for sha, data := range want {
		info, ok := got[sha]
		switch {
		case !ok:
			t.Errorf("List did not yield %s", sha)
		case info.Size != int64(len(data)):
			t.Errorf("%s: Size = %d, want %d", sha, info.Size, len(data))
		case info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Minute)):
			t.Errorf("%s: ModTime = %v, want about now", sha, info.ModTime)
		}
	}

	// A committed duplicate is still one blob; a deleted one is gone.
	first := Digests(RandomBytes(5000, 102)).SHA256
	commit(t, stage(t, s, RandomBytes(5000, 102)))
	if err := s.Delete(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	delete(want, first)
	got = list(t, s)
	if _, ok := got[first]; ok || len(got) != len(want) {
		t.Errorf("after Delete, List yielded %d blobs (deleted one included: %v), want %d", len(got), ok, len(want))
	}
}

func testListStopAndCancel(t *testing.T, s blob.Store) {
	for i := range 20 {
		put(t, s, RandomBytes(100, uint64(300+i)))
	}
	// Breaking out of the loop stops the iteration (a yield after false
	// panics in range-over-func).
	n := 0
	for _, err := range s.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	// A cancelled context ends the iteration with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last error
	count := 0
	for _, err := range s.List(ctx) {
		if err != nil {
			last = err
			break
		}
		count++
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("List with a cancelled context: last error %v (after %d blobs), want context.Canceled", last, count)
	}
}

func testListDeleteWhileIterating(t *testing.T, s blob.Store) {
	ctx := context.Background()
	all := map[string]bool{}
	for i := range 50 {
		all[put(t, s, RandomBytes(64, uint64(400+i)))] = true
	}
	// Deleting each blob as it is yielded (what a collector does) neither
	// fails the iteration nor yields anything twice or unknown.
	seen := map[string]bool{}
	for info, err := range s.List(ctx) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if seen[info.SHA256] || !all[info.SHA256] {
			t.Errorf("List yielded %s again or unknown", info.SHA256)
		}
		seen[info.SHA256] = true
		if err := s.Delete(ctx, info.SHA256); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != len(all) {
		t.Errorf("List yielded %d of %d blobs", len(seen), len(all))
	}
	if got := list(t, s); len(got) != 0 {
		t.Errorf("%d blobs left after deleting all", len(got))
	}
}

// testCommitAs checks blob.NamedCommitter where the driver has it: the
// content is stored under the given name, and a second CommitAs of other
// content under that name keeps the first.
func testCommitAs(t *testing.T, s blob.Store) {
	ctx := context.Background()
	first, second := RandomBytes(5000, 41), RandomBytes(300<<10, 42)
	st := stage(t, s, first)
	defer st.Discard()
	nc, ok := st.(blob.NamedCommitter)
	if !ok {
		t.Skip("the driver's Staged has no CommitAs")
	}
	name := Digests([]byte("a derived name")).SHA256
	if _, err := nc.CommitAs(ctx, "../x"); !errors.Is(err, fault.ErrValidation) {
		t.Fatalf("CommitAs(../x) = %v, want a validation error", err)
	}
	created, err := nc.CommitAs(ctx, name)
	if err != nil || !created {
		t.Fatalf("CommitAs = %v, %v; want created", created, err)
	}
	checkContent(t, s, name, first)
	checkAbsent(t, s, Digests(first).SHA256)
	st2 := stage(t, s, second)
	defer st2.Discard()
	created, err = st2.(blob.NamedCommitter).CommitAs(ctx, name)
	if err != nil || created {
		t.Fatalf("second CommitAs = %v, %v; want not created", created, err)
	}
	checkContent(t, s, name, first)
	if got := list(t, s); len(got) != 1 || got[name].Size != int64(len(first)) {
		t.Fatalf("List after CommitAs = %v, want only %s", got, name)
	}
}

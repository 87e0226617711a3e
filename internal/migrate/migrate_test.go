package migrate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/migrate/migratetest"
	"coffer/internal/store"
)

// small pages make every listing of the fixture span several pages.
func testOptions() Options { return Options{Region: region, PageSize: 2, Concurrency: 3} }

func dump(t *testing.T, s store.Store) []string {
	t.Helper()
	lines, err := migratetest.Dump(t.Context(), s, region)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// sameDump fails the test at the first line where the dumps differ.
func sameDump(t *testing.T, what string, want, got []string) {
	t.Helper()
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			t.Fatalf("%s: dumps differ at line %d of %d/%d:\nwant %s\ngot  %s", what, i+1, len(want), len(got), w, g)
		}
	}
}

// sameBlobs checks that the target holds every blob with the same bytes.
func sameBlobs(t *testing.T, to blob.Store, want map[string][]byte) {
	t.Helper()
	for sha, content := range want {
		obj, err := to.Open(t.Context(), sha)
		if err != nil {
			t.Fatalf("blob %s: %v", sha, err)
		}
		got, err := io.ReadAll(obj)
		obj.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("blob %s: %d bytes (%v), want %d", sha, len(got), err, len(content))
		}
	}
}

func TestRunCopiesEverything(t *testing.T) {
	src, dst := newDeployment(t), newDeployment(t)
	f := populate(t, src)
	before := dump(t, src.Meta)

	rep, err := Run(t.Context(), src.Stores, dst.Stores, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	sameDump(t, "target", before, dump(t, dst.Meta))
	sameDump(t, "source after the run", before, dump(t, src.Meta))
	sameBlobs(t, dst.Blobs, f.blobs)

	var bytesTotal int64
	for _, b := range f.blobs {
		bytesTotal += int64(len(b))
	}
	c := rep.Records
	if c.Settings != 3 || c.Domains != 3 || c.Repositories != 12 || c.Packages != 36 || c.Versions != 180 ||
		c.Assets != int64(f.assets) || c.PackageGroups != 15 || c.AllowedRepositories != 15 || c.Tags != int64(f.tags) ||
		c.Users != 4 || c.Groups != 3 || c.Memberships != 4 || c.Roles != 3 || c.Policies != 3 || c.PolicyVersions != 5 ||
		c.Attachments != 4 || c.InlinePolicies != 4 || c.AccessKeys != 4 {
		t.Errorf("counts %+v", c)
	}
	for status, n := range f.versions {
		if rep.VersionsByStatus[status] != n {
			t.Errorf("versions %s: %d, want %d", status, rep.VersionsByStatus[status], n)
		}
	}
	if b := rep.Blobs; b.Referenced != int64(len(f.blobs)) || b.Copied != b.Referenced || b.AlreadyPresent != 0 || b.BytesCopied != bytesTotal {
		t.Errorf("blobs %+v, want %d blobs of %d bytes", b, len(f.blobs), bytesTotal)
	}

	// Keys are copied verbatim, sealed; a role session's temporary key is not.
	err = dst.Meta.Read(t.Context(), func(tx store.Tx) error {
		k, err := tx.GetAccessKey(f.rootKey)
		if err != nil || !bytes.Equal(k.SecretEncrypted, []byte{0, 1, 2, 0xff}) {
			t.Errorf("root key: %+v, %v", k, err)
		}
		if _, err := tx.GetAccessKey(f.sessionKey); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("session key copied: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var table, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"package versions", "180", "  Disposed", "already present", "master key"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.Contains(js.String(), `"iam_policy_versions": 5`) || !strings.Contains(js.String(), `"bytes_copied": `) {
		t.Errorf("JSON report:\n%s", js.String())
	}
	t.Logf("report:\n%s", table.String())

	// And back, into a third deployment: still the same.
	back := newDeployment(t)
	if _, err := Run(t.Context(), dst.Stores, back.Stores, Options{Region: region}); err != nil {
		t.Fatal(err)
	}
	sameDump(t, "round trip", before, dump(t, back.Meta))
	sameBlobs(t, back.Blobs, f.blobs)
}

// failingBlobs lets the first n commits through, then fails every commit
// (or cancels the run).
type failingBlobs struct {
	blob.Store
	mu      sync.Mutex
	n       int
	commits int
	cancel  context.CancelFunc // instead of failing
}

var errInjected = errors.New("injected commit failure")

func (f *failingBlobs) Stage(ctx context.Context, r io.Reader, maxSize int64) (blob.Staged, error) {
	st, err := f.Store.Stage(ctx, r, maxSize)
	if err != nil {
		return nil, err
	}
	return &failingStaged{Staged: st, f: f}, nil
}

type failingStaged struct {
	blob.Staged
	f *failingBlobs
}

func (s *failingStaged) Commit(ctx context.Context) (bool, error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	if s.f.commits >= s.f.n {
		if s.f.cancel == nil {
			return false, errInjected
		}
		s.f.cancel()
		return false, ctx.Err()
	}
	s.f.commits++
	return s.Staged.Commit(ctx)
}

// emptyTarget requires the target metadata to hold nothing.
func emptyTarget(t *testing.T, d *deployment) {
	t.Helper()
	if err := d.Meta.Read(t.Context(), checkEmpty); err != nil {
		t.Fatalf("target metadata after a failed run: %v", err)
	}
}

func TestRunResumesAfterInterruption(t *testing.T) {
	src, dst := newDeployment(t), newDeployment(t)
	f := populate(t, src)
	before := dump(t, src.Meta)

	// A run whose blob commits start failing after 20 blobs.
	broken := Stores{Meta: dst.Meta, Blobs: &failingBlobs{Store: dst.Blobs, n: 20}}
	rep, err := Run(t.Context(), src.Stores, broken, testOptions())
	if !errors.Is(err, errInjected) {
		t.Fatalf("run with failing commits: %v", err)
	}
	if rep.Blobs.Copied != 20 {
		t.Errorf("blobs copied before the failure: %d, want 20", rep.Blobs.Copied)
	}
	emptyTarget(t, dst)

	// A run interrupted (ctx cancelled) after 10 more blobs.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cancelled := Stores{Meta: dst.Meta, Blobs: &failingBlobs{Store: dst.Blobs, n: 10, cancel: cancel}}
	rep, err = Run(ctx, src.Stores, cancelled, testOptions())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if rep.Blobs.Copied != 10 {
		t.Errorf("blobs copied before the interruption: %d, want 10", rep.Blobs.Copied)
	}
	emptyTarget(t, dst)

	// The rerun skips the 30 blobs copied and completes.
	rep, err = Run(t.Context(), src.Stores, dst.Stores, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if b := rep.Blobs; b.AlreadyPresent != 30 || b.Copied != int64(len(f.blobs))-30 {
		t.Errorf("rerun blobs %+v, want 30 already present of %d", b, len(f.blobs))
	}
	sameDump(t, "target", before, dump(t, dst.Meta))
	sameBlobs(t, dst.Blobs, f.blobs)
}

func TestRunRefusesNonEmptyTarget(t *testing.T) {
	src := newDeployment(t)
	populate(t, src)

	for _, tc := range []struct {
		name string
		fill func(tx store.Tx) error
	}{
		{"setting", func(tx store.Tx) error { return tx.PutSetting("account-id", "999988887777") }},
		{"domain", func(tx store.Tx) error {
			return tx.CreateDomain(&store.Domain{Owner: "999988887777", Name: "other", Status: "Active", CreatedTime: at(0)})
		}},
		{"role", func(tx store.Tx) error {
			return tx.CreateRole(&store.IAMRole{RoleID: "AROAX", Name: "x", Path: "/", ARN: "arn:x"})
		}},
		{"policy", func(tx store.Tx) error {
			return tx.CreatePolicy(&store.ManagedPolicy{PolicyID: "ANPAX", Name: "x", Path: "/", ARN: "arn:x", DefaultVersionID: "v1"},
				&store.PolicyVersion{PolicyARN: "arn:x", VersionID: "v1", Document: "{}"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := newDeployment(t)
			if err := dst.Meta.Write(t.Context(), tc.fill); err != nil {
				t.Fatal(err)
			}
			before := dump(t, dst.Meta)
			rep, err := Run(t.Context(), src.Stores, dst.Stores, testOptions())
			if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "force") {
				t.Fatalf("run into a target with a %s: %v", tc.name, err)
			}
			if rep.Blobs.Copied != 0 {
				t.Errorf("%d blobs copied before refusing", rep.Blobs.Copied)
			}
			sameDump(t, "refused target", before, dump(t, dst.Meta))

			// Forced: another account id collides with the source's, and
			// nothing is written; the other records here do not collide
			// with the source's, so the copy goes in beside them.
			_, err = Run(t.Context(), src.Stores, dst.Stores, Options{Region: region, Force: true})
			switch tc.name {
			case "setting":
				if !errors.Is(err, fault.ErrConflict) || !strings.Contains(err.Error(), "account-id") {
					t.Fatalf("forced run over another account id: %v", err)
				}
				sameDump(t, "target after a collision", before, dump(t, dst.Meta))
			default:
				if err != nil {
					t.Fatalf("forced run into a target without collisions: %v", err)
				}
			}
		})
	}
}

func TestRunForcedCollisionWritesNothing(t *testing.T) {
	src, dst := newDeployment(t), newDeployment(t)
	populate(t, src)
	// A target holding one of the source's domains (and nothing else that
	// collides): the copy fails on it after writing the rest, and the
	// transaction takes everything back.
	err := dst.Meta.Write(t.Context(), func(tx store.Tx) error {
		return tx.CreateDomain(&store.Domain{Owner: account, Name: "corp", Status: "Active", CreatedTime: at(0)})
	})
	if err != nil {
		t.Fatal(err)
	}
	before := dump(t, dst.Meta)
	_, err = Run(t.Context(), src.Stores, dst.Stores, Options{Region: region, Force: true})
	if !errors.Is(err, fault.ErrConflict) || !strings.Contains(err.Error(), "corp") {
		t.Fatalf("forced run with a colliding domain: %v", err)
	}
	sameDump(t, "target after a collision", before, dump(t, dst.Meta))
}

func TestRunIntoTargetWithBlobsOnly(t *testing.T) {
	src, dst := newDeployment(t), newDeployment(t)
	f := populate(t, src)
	stray := commitBlob(t, t.Context(), dst.Blobs, []byte("a blob of the target's own"))
	rep, err := Run(t.Context(), src.Stores, dst.Stores, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blobs.Copied != int64(len(f.blobs)) {
		t.Errorf("blobs %+v", rep.Blobs)
	}
	if ok, err := dst.Blobs.Exists(t.Context(), stray.SHA256); !ok || err != nil {
		t.Errorf("the target's own blob: %v %v", ok, err)
	}
}

func TestRunRefusesCorruptSourceBlob(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"same size", "shared by several assets and domainX"}, // the fixture's shared blob, one byte changed
		{"shorter", "shared"},
		{"longer", "shared by several assets and domains, and then some"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newDeployment(t), newDeployment(t)
			f := populate(t, src)
			var sha string
			for s, b := range f.blobs {
				if string(b) == "shared by several assets and domains" {
					sha = s
				}
			}
			if err := os.WriteFile(src.blobPath(sha), []byte(tc.content), 0o640); err != nil {
				t.Fatal(err)
			}
			_, err := Run(t.Context(), src.Stores, dst.Stores, testOptions())
			var corrupt *CorruptBlobError
			if !errors.As(err, &corrupt) || corrupt.SHA256 != sha || !strings.Contains(err.Error(), sha) {
				t.Fatalf("run over a corrupt blob: %v", err)
			}
			t.Log(err)
			if ok, err := dst.Blobs.Exists(t.Context(), sha); ok || err != nil {
				t.Errorf("corrupt blob committed in the target: %v %v", ok, err)
			}
			emptyTarget(t, dst)
		})
	}
}

func TestRunRefusesSameStore(t *testing.T) {
	d := newDeployment(t)
	populate(t, d)
	if _, err := Run(t.Context(), d.Stores, d.Stores, testOptions()); !errors.Is(err, ErrSameStore) {
		t.Fatalf("run into itself: %v", err)
	}
}

func TestRunReportsMissingSourceBlob(t *testing.T) {
	src, dst := newDeployment(t), newDeployment(t)
	f := populate(t, src)
	var sha string
	for s := range f.blobs {
		sha = s
		break
	}
	if err := src.Blobs.Delete(t.Context(), sha); err != nil {
		t.Fatal(err)
	}
	_, err := Run(t.Context(), src.Stores, dst.Stores, testOptions())
	if err == nil || !strings.Contains(err.Error(), sha) || !strings.Contains(err.Error(), "does not hold it") {
		t.Fatalf("run with a missing source blob: %v", err)
	}
	emptyTarget(t, dst)
}

package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/blob/fs"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// fixture is a data dir: one version with three assets (two share their
// content), one imported advisory source, and the data dir's files.
type fixture struct {
	src      Source
	meta     *sqlite.Store
	blobs    *fs.Store
	contents map[string][]byte // by SHA-256
	version  int64
	assets   map[string]string // asset name -> SHA-256
}

func digests(b []byte) store.Blob {
	s256, s512, s1, m5 := sha256.Sum256(b), sha512.Sum512(b), sha1.Sum(b), md5.Sum(b)
	return store.Blob{SHA256: hex.EncodeToString(s256[:]), SHA512: hex.EncodeToString(s512[:]),
		SHA1: hex.EncodeToString(s1[:]), MD5: hex.EncodeToString(m5[:]), Size: int64(len(b))}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{src: Source{DataDir: dir}.WithDefaults(), contents: map[string][]byte{}, assets: map[string]string{}}
	var err error
	if f.meta, err = sqlite.Open(f.src.Metadata); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.meta.Close() })
	if f.blobs, err = fs.New(f.src.Blobs); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	shared := []byte("shared bytes\n")
	files := map[string][]byte{"a.tgz": bytes.Repeat([]byte("a"), 3<<20), "NOTICE": shared, "LICENSE": shared}
	source := []byte("an OSV zip, as far as the backup cares")
	for _, b := range append([][]byte{source}, files["a.tgz"], shared) {
		st, err := f.blobs.Stage(ctx, bytes.NewReader(b), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		f.contents[st.Digests().SHA256] = b
	}
	err = f.meta.Write(ctx, func(tx store.Tx) error {
		d := &store.Domain{Owner: "111122223333", Name: "acme", Status: "Active", CreatedTime: time.Now()}
		if err := tx.CreateDomain(d); err != nil {
			return err
		}
		r := &store.Repository{DomainID: d.ID, Name: "releases", AdministratorAccount: "111122223333", CreatedTime: time.Now()}
		if err := tx.CreateRepository(r); err != nil {
			return err
		}
		p := &store.Package{RepositoryID: r.ID, Format: "generic", Namespace: "tools", Name: "cli", Publish: "ALLOW", Upstream: "ALLOW"}
		if err := tx.CreatePackage(p); err != nil {
			return err
		}
		v := &store.Version{PackageID: p.ID, Version: "1.0.0", Revision: "r", Status: "Published", OriginType: "INTERNAL",
			CreatedTime: time.Now(), PublishedTime: time.Now()}
		if err := tx.CreateVersion(v); err != nil {
			return err
		}
		f.version = v.ID
		for name, b := range files {
			dg := digests(b)
			f.assets[name] = dg.SHA256
			if err := tx.PutAsset(d.ID, &store.Asset{VersionID: v.ID, Name: name, Blob: dg, CreatedTime: time.Now()}); err != nil {
				return err
			}
		}
		row, _ := json.Marshal(map[string]any{"name": "osv", "sha256": digests(source).SHA256, "size": len(source)})
		return tx.PutSetting("osv/source/osv", string(row))
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"master.key": "a key\n", "root-credentials": "[coffer]\n",
		"audit.log": "{\"one\":1}\n{\"half\":"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	to := filepath.Join(t.TempDir(), "backup")
	rep, err := Backup(ctx, f.src, to, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Three blobs: two of the assets, one of the advisory source.
	if rep.Blobs != 3 || rep.Copied != 3 || rep.Snapshots != 1 || len(rep.Files) != 3 {
		t.Fatalf("first backup: %+v", rep)
	}
	m, err := ReadManifest(to)
	if err != nil || m.Blobs != 3 || m.SchemaVersion == 0 {
		t.Fatalf("manifest %+v, %v", m, err)
	}
	b, _ := os.ReadFile(filepath.Join(to, filesDir, "audit.log"))
	if string(b) != "{\"one\":1}\n" {
		t.Errorf("audit.log in the backup: %q (want its complete lines)", b)
	}

	// Nothing changed: nothing copied. Then a new blob and one fewer.
	if rep, err = Backup(ctx, f.src, to, Options{}); err != nil || rep.Copied != 0 || rep.Pruned != 0 {
		t.Fatalf("second backup: %+v, %v", rep, err)
	}
	newer := []byte("version 2")
	st, _ := f.blobs.Stage(ctx, bytes.NewReader(newer), 0)
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.contents[st.Digests().SHA256] = newer
	if err := f.meta.Write(ctx, func(tx store.Tx) error {
		if err := tx.DeleteSetting("osv/source/osv"); err != nil {
			return err
		}
		d, err := tx.GetDomain("111122223333", "acme")
		if err != nil {
			return err
		}
		return tx.PutAsset(d.ID, &store.Asset{VersionID: f.version, Name: "v2", Blob: digests(newer), CreatedTime: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	if rep, err = Backup(ctx, f.src, to, Options{}); err != nil || rep.Copied != 1 || rep.Pruned != 1 || rep.Blobs != 3 {
		t.Fatalf("third backup: %+v, %v", rep, err)
	}

	target := filepath.Join(t.TempDir(), "restored")
	rrep, err := Restore(ctx, to, target, Options{})
	if err != nil || rrep.Blobs != 3 {
		t.Fatalf("restore: %+v, %v", rrep, err)
	}
	for _, name := range []string{"master.key", "root-credentials"} {
		want, _ := os.ReadFile(filepath.Join(f.src.DataDir, name))
		if got, err := os.ReadFile(filepath.Join(target, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("restored %s: %q %v", name, got, err)
		}
	}
	restored, err := fs.Inspect(filepath.Join(target, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sha := range f.assets {
		if got, err := os.ReadFile(restored.Path(sha)); err != nil || !bytes.Equal(got, f.contents[sha]) {
			t.Errorf("restored blob %s: %v", sha, err)
		}
	}
	// The restored data dir checks clean.
	if crep, err := Check(ctx, Source{DataDir: target}, CheckOptions{}); err != nil || !crep.OK {
		t.Errorf("fsck of the restored data dir: %+v, %v", crep, err)
	}
	if _, err := Restore(ctx, to, target, Options{}); !errors.Is(err, ErrTargetNotEmpty) {
		t.Errorf("restore into a non-empty dir: %v", err)
	}
	empty := t.TempDir()
	if _, err := Restore(ctx, to, empty, Options{}); err != nil {
		t.Errorf("restore into an empty dir: %v", err)
	}

	// A damaged backup blob is found, and nothing servable is left.
	damaged := filepath.Join(t.TempDir(), "damaged")
	bk, _ := fs.Inspect(filepath.Join(to, blobsDir))
	flip(t, bk.Path(f.assets["a.tgz"]))
	if _, err := Restore(ctx, to, damaged, Options{}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("restore of a damaged backup: %v", err)
	}
	if _, err := os.Stat(damaged); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed restore left %s: %v", damaged, err)
	}
	// No manifest, no backup.
	os.Remove(filepath.Join(to, manifestName))
	if _, err := Restore(ctx, to, damaged, Options{}); !errors.Is(err, ErrIncomplete) {
		t.Errorf("restore without a manifest: %v", err)
	}
}

// flip inverts the first byte of the file at path.
func flip(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// A version deleted (and its blob released) between the snapshot and the
// copy: the backup takes a new snapshot, which no longer references it.
func TestBackupBlobDeletedAfterSnapshot(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	sha := f.assets["a.tgz"]
	snapshotHook = func(n int) {
		if n != 1 {
			return
		}
		if err := f.meta.Write(ctx, func(tx store.Tx) error { return tx.DeleteAssets(f.version) }); err != nil {
			t.Error(err)
		}
		if err := f.blobs.Delete(ctx, sha); err != nil {
			t.Error(err)
		}
	}
	defer func() { snapshotHook = nil }()
	to := t.TempDir()
	rep, err := Backup(ctx, f.src, to, Options{})
	if err != nil || rep.Snapshots != 2 || rep.Blobs != 1 {
		t.Fatalf("backup: %+v, %v", rep, err)
	}
	if _, err := ReadManifest(to); err != nil {
		t.Fatal(err)
	}
}

// A referenced blob the data dir lacks fails the backup, which is then
// incomplete, also where an earlier backup was complete.
func TestBackupMissingBlob(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	to := t.TempDir()
	if _, err := Backup(ctx, f.src, to, Options{}); err != nil {
		t.Fatal(err)
	}
	sha := f.assets["NOTICE"]
	if err := f.blobs.Delete(ctx, sha); err != nil {
		t.Fatal(err)
	}
	// Not copied again, so not noticed (the backup has it)...
	if _, err := Backup(ctx, f.src, t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), sha) {
		t.Fatalf("backup without a referenced blob: %v", err)
	}
	var missing *MissingBlobsError
	_, err := Backup(ctx, f.src, t.TempDir(), Options{})
	if !errors.As(err, &missing) || len(missing.SHA256) != 1 {
		t.Fatalf("want a MissingBlobsError, got %v", err)
	}
	// A corrupt source blob fails it too.
	flip(t, f.blobs.Path(f.assets["a.tgz"]))
	to = t.TempDir()
	if _, err := Backup(ctx, f.src, to, Options{}); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("backup of a corrupt blob: %v", err)
	}
	if _, err := ReadManifest(to); !errors.Is(err, ErrIncomplete) {
		t.Errorf("a failed backup has a manifest: %v", err)
	}
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rep, err := Check(ctx, f.src, CheckOptions{Grace: time.Hour})
	if err != nil || !rep.OK || rep.ReferencedBlobs != 3 || rep.PresentBlobs != 3 || rep.ServerRunning {
		t.Fatalf("clean: %+v, %v", rep, err)
	}
	corrupt := f.assets["a.tgz"]
	flip(t, f.blobs.Path(corrupt))
	orphan := plantOrphan(t, f, "nobody's")
	stage := filepath.Join(f.blobs.StagingDir(), "stage-123")
	if err := os.WriteFile(stage, []byte("half an upload"), 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err = Check(ctx, f.src, CheckOptions{Grace: time.Hour})
	if err != nil || rep.OK {
		t.Fatalf("damaged: %+v, %v", rep, err)
	}
	kinds := problems(rep)
	if kinds[KindCorruptBlob+" "+corrupt] == nil || kinds[KindOrphanBlob+" "+orphan] == nil || kinds[KindStagingFile+" "+stage] == nil || len(rep.Problems) != 3 {
		t.Fatalf("problems: %v", rep.Problems)
	}
	if a := kinds[KindCorruptBlob+" "+corrupt].Affects; len(a) != 1 || a[0] != "acme/releases generic tools/cli 1.0.0 asset a.tgz" {
		t.Errorf("corrupt blob affects %q", a)
	}

	rep, err = Check(ctx, f.src, CheckOptions{Grace: time.Hour, Repair: true})
	if err != nil || rep.OK || rep.Repaired != 2 {
		t.Fatalf("repair: %+v, %v", rep, err)
	}
	if _, err := os.Stat(f.blobs.Path(orphan)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan not removed: %v", err)
	}
	rep, _ = Check(ctx, f.src, CheckOptions{})
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != KindCorruptBlob {
		t.Errorf("after repair: %v", rep.Problems)
	}
	os.Remove(f.blobs.Path(corrupt))
	rep, _ = Check(ctx, f.src, CheckOptions{})
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != KindMissingBlob || len(rep.Problems[0].Affects) != 1 {
		t.Errorf("missing: %v", rep.Problems)
	}
}

func plantOrphan(t *testing.T, f *fixture, content string) string {
	t.Helper()
	st, err := f.blobs.Stage(context.Background(), strings.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st.Digests().SHA256
}

func problems(rep *CheckReport) map[string]*Problem {
	out := map[string]*Problem{}
	for i, p := range rep.Problems {
		out[p.Kind+" "+p.Blob+p.Path] = &rep.Problems[i]
	}
	return out
}

// holdEnv makes the test binary a stand-in for a server: it opens the
// database named and keeps it open until its stdin closes.
const holdEnv = "COFFER_BACKUP_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		st, err := sqlite.Open(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		if err := st.Read(context.Background(), func(tx store.Tx) error { _, err := tx.ListSettings(); return err }); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("ready")
		bufio.NewReader(os.Stdin).ReadString('\n')
		st.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Beside a running server, fsck notes young unreferenced blobs and staging
// files, and repairs only old ones.
func TestCheckBesideServer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+f.src.Metadata)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("holder: %q", line)
	}
	young := plantOrphan(t, f, "in flight")
	old := plantOrphan(t, f, "long gone")
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(f.blobs.Path(old), past, past); err != nil {
		t.Fatal(err)
	}
	stage := filepath.Join(f.blobs.StagingDir(), "stage-9")
	if err := os.WriteFile(stage, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	rep, err := Check(ctx, f.src, CheckOptions{Grace: time.Hour, Repair: true})
	if err != nil || !rep.ServerRunning || rep.ServerPID != cmd.Process.Pid {
		t.Fatalf("%+v, %v", rep, err)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Blob != old || !rep.Problems[0].Repaired || !rep.OK || len(rep.Notes) != 2 {
		t.Fatalf("problems %v notes %v", rep.Problems, rep.Notes)
	}
	if _, err := os.Stat(f.blobs.Path(young)); err != nil {
		t.Errorf("the young orphan was removed: %v", err)
	}
	if _, err := os.Stat(f.blobs.Path(old)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old orphan is still there: %v", err)
	}
	// Backup beside it works the same.
	if _, err := Backup(ctx, f.src, t.TempDir(), Options{}); err != nil {
		t.Fatal(err)
	}
}

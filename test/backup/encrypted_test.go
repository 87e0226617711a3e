package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact/types"

	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
	"coffer/internal/migrate"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
	"coffer/internal/testproc"
)

// TestEncryptedDomain backs up a deployment with a domain encrypted at
// rest while versions are published to it, restores it, downloads every
// version from the restored server, then checks fsck on a restored copy
// with a corrupted encrypted object and an orphan encrypted object.
func TestEncryptedDomain(t *testing.T) {
	ctx := context.Background()
	srcDir := t.TempDir()
	src := testproc.Start(t, cofferBin, srcDir)
	ca := client(t, src.URL, srcDir)
	if _, err := ca.CreateDomain(ctx, &codeartifact.CreateDomainInput{Domain: aws.String("vault"),
		EncryptionKey: aws.String("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.CreateRepository(ctx, &codeartifact.CreateRepositoryInput{Domain: aws.String("vault"), Repository: aws.String("rr")}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	contents := map[string][]byte{} // version -> content
	publish := func(version string, content []byte) error {
		sum := sha256.Sum256(content)
		_, err := ca.PublishPackageVersion(ctx, &codeartifact.PublishPackageVersionInput{Domain: aws.String("vault"), Repository: aws.String("rr"),
			Format: types.PackageFormatGeneric, Namespace: aws.String("enc"), Package: aws.String("pkg"), PackageVersion: aws.String(version),
			AssetName: aws.String("pkg-" + version + ".bin"), AssetContent: bytes.NewReader(content), AssetSHA256: aws.String(hex.EncodeToString(sum[:]))})
		if err == nil {
			mu.Lock()
			contents[version] = content
			mu.Unlock()
		}
		return err
	}
	// Before: sizes around the 64 KiB segments, and one empty asset.
	for i, n := range []int{0, 1, 65536, 65537, 300000} {
		if err := publish(fmt.Sprintf("0.%d.0", i), randomBytes(n)); err != nil {
			t.Fatal(err)
		}
	}
	before := len(contents)
	// The backup runs while versions are published.
	backupDir := filepath.Join(t.TempDir(), "backup")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var pubErr error
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := publish(fmt.Sprintf("1.%d.0", i), randomBytes(70000+i)); err != nil {
				pubErr = err
				return
			}
		}
	})
	rep := mustBackup(t, srcDir, backupDir)
	close(stop)
	wg.Wait()
	if pubErr != nil {
		t.Fatal(pubErr)
	}
	if rep.Blobs < before {
		t.Fatalf("backup holds %d blobs, want at least %d", rep.Blobs, before)
	}
	list, err := os.ReadFile(filepath.Join(backupDir, "blobs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		if len(strings.Fields(l)) != 4 {
			t.Fatalf("blobs.txt line %q does not name an encrypted object", l)
		}
	}
	// Incremental: a second backup copies nothing new but what was published since.
	if rep2 := mustBackup(t, srcDir, backupDir); rep2.Copied != rep2.Blobs-rep.Blobs {
		t.Fatalf("second backup copied %d of %d blobs, the first held %d", rep2.Copied, rep2.Blobs, rep.Blobs)
	}

	// Restore, serve, download byte-identical content.
	restored := filepath.Join(t.TempDir(), "restored")
	if out, errOut, err := runCoffer(t, "restore", "--from", backupDir, "--data-dir", restored); err != nil {
		t.Fatalf("restore: %v\n%s\n%s", err, out, errOut)
	}
	copyDir := filepath.Join(t.TempDir(), "copy")
	if out, errOut, err := runCoffer(t, "restore", "--from", backupDir, "--data-dir", copyDir); err != nil {
		t.Fatalf("restore: %v\n%s\n%s", err, out, errOut)
	}
	back := testproc.Start(t, cofferBin, restored)
	bca := client(t, back.URL, restored)
	vs, err := bca.ListPackageVersions(ctx, &codeartifact.ListPackageVersionsInput{Domain: aws.String("vault"), Repository: aws.String("rr"),
		Format: types.PackageFormatGeneric, Namespace: aws.String("enc"), Package: aws.String("pkg"), MaxResults: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) < rep.Blobs {
		t.Fatalf("restored server lists %d versions, the backup has %d blobs", len(vs.Versions), rep.Blobs)
	}
	for _, v := range vs.Versions {
		got, err := bca.GetPackageVersionAsset(ctx, &codeartifact.GetPackageVersionAssetInput{Domain: aws.String("vault"), Repository: aws.String("rr"),
			Format: types.PackageFormatGeneric, Namespace: aws.String("enc"), Package: aws.String("pkg"), PackageVersion: v.Version,
			Asset: aws.String("pkg-" + *v.Version + ".bin")})
		if err != nil {
			t.Fatalf("download %s: %v", *v.Version, err)
		}
		b, err := io.ReadAll(got.Asset)
		got.Asset.Close()
		if err != nil || !bytes.Equal(b, contents[*v.Version]) {
			t.Fatalf("version %s: restored content differs (%d bytes, %v)", *v.Version, len(b), err)
		}
	}
	for i := range before {
		if contents[fmt.Sprintf("0.%d.0", i)] == nil {
			t.Fatal("a version published before the backup is missing")
		}
	}

	// fsck on the unserved copy: clean, then a flipped byte and an orphan.
	if out, _, err := runCoffer(t, "fsck", "--data-dir", copyDir); err != nil {
		t.Fatalf("fsck of a clean restore: %v\n%s", err, out)
	}
	key := domainKey(t, copyDir)
	blobs, err := fs.New(filepath.Join(copyDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(contents["0.4.0"])
	victim := encrypted.ObjectName(key.ID, hex.EncodeToString(sum[:]))
	b, err := os.ReadFile(blobs.Path(victim))
	if err != nil {
		t.Fatal(err)
	}
	b[encrypted.HeaderSize+70000] ^= 1
	if err := os.WriteFile(blobs.Path(victim), b, 0o640); err != nil {
		t.Fatal(err)
	}
	orphanData := randomBytes(100000)
	st, err := encrypted.New(blobs, key).Stage(ctx, bytes.NewReader(orphanData), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	orphan := encrypted.ObjectName(key.ID, st.Digests().SHA256)
	for _, repair := range []bool{false, true} {
		args := []string{"fsck", "--data-dir", copyDir, "--json"}
		if repair {
			args = append(args, "--repair")
		}
		out, _, err := runCoffer(t, args...)
		if err == nil {
			t.Fatalf("fsck passed a corrupt object:\n%s", out)
		}
		var r struct {
			Problems []struct {
				Kind, Blob, Detail string
				Affects            []string
				Repaired           bool
			}
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		t.Logf("fsck (repair %v): %+v", repair, r.Problems)
		var corrupt, orph bool
		for _, p := range r.Problems {
			switch {
			case p.Kind == "corrupt-blob" && p.Blob == victim && !p.Repaired:
				corrupt = len(p.Affects) == 1 && strings.Contains(p.Affects[0], "vault/rr generic enc/pkg 0.4.0")
			case p.Kind == "orphan-blob" && p.Blob == orphan && p.Repaired == repair:
				orph = true
			default:
				t.Errorf("unexpected problem %+v", p)
			}
		}
		if !corrupt || !orph {
			t.Fatalf("fsck (repair %v) did not report the corrupt object naming 0.4.0 (%v) and the orphan (%v):\n%s", repair, corrupt, orph, out)
		}
	}
	if _, err := os.Stat(blobs.Path(orphan)); !os.IsNotExist(err) {
		t.Fatalf("the orphan is still there after --repair: %v", err)
	}
	// Restore of a backup whose encrypted object is damaged fails.
	bb := filepath.Join(backupDir, "blobs")
	bfs, err := fs.Inspect(bb)
	if err != nil {
		t.Fatal(err)
	}
	p := bfs.Path(victim)
	c, _ := os.ReadFile(p)
	c[encrypted.HeaderSize+10] ^= 1
	if err := os.WriteFile(p, c, 0o640); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := runCoffer(t, "restore", "--from", backupDir, "--data-dir", filepath.Join(t.TempDir(), "bad")); err == nil ||
		!strings.Contains(errOut, victim) {
		t.Fatalf("restore of a damaged encrypted object: %v\n%s\n%s", err, out, errOut)
	}
}

// domainKey opens the data key of the only encrypted domain of dataDir.
func domainKey(t *testing.T, dataDir string) encrypted.Key {
	t.Helper()
	sealer, err := migrate.LoadSealer(filepath.Join(dataDir, "master.key"), "")
	if err != nil || sealer == nil {
		t.Fatalf("master key: %v", err)
	}
	st, err := sqlite.OpenReadOnly(filepath.Join(dataDir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys map[int64]encrypted.Key
	if err := st.Read(context.Background(), func(tx store.Tx) error {
		keys, err = migrate.DomainKeys(tx, sealer)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("%d encrypted domains", len(keys))
	}
	for _, k := range keys {
		return k
	}
	panic("unreachable")
}

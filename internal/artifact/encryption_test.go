package artifact_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth/seal"
	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// encFixture is a Service with a master key, an encrypted domain "enc" and
// an unencrypted one "plain", each with a repository "r".
type encFixture struct {
	t      testing.TB
	svc    *artifact.Service
	meta   store.Store
	blobs  *blobfs.Store
	sealer *seal.Sealer
}

func newEncFixture(t testing.TB) *encFixture {
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
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, meta, blobs, slog.New(slog.DiscardHandler))
	master := make([]byte, seal.KeySize)
	rand.Read(master)
	sealer, err := seal.New(master)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetKeySealer(sealer)
	f := &encFixture{t: t, svc: svc, meta: meta, blobs: blobs, sealer: sealer}
	for name, key := range map[string]string{"enc": "arn:aws:kms:us-east-1:123456789012:key/0b6b4b7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "plain": ""} {
		if _, err := svc.CreateDomain(ctx, name, key, nil); err != nil {
			t.Fatal(err)
		}
		rr := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: name}, Repository: "repo"}
		if _, err := svc.CreateRepository(ctx, rr, "", nil, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AssociateExternalConnection(ctx, rr, npmjs); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func genericRef(domain, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: domain}, Repository: "repo"},
		Format: artifact.FormatGeneric, Namespace: "ns", Package: "p"}, Version: version}
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (f *encFixture) publish(domain, version string, content []byte) *artifact.PublishResult {
	f.t.Helper()
	res, err := f.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: genericRef(domain, version), Asset: "a.bin", SHA256: hexSHA(content)},
		bytes.NewReader(content))
	if err != nil {
		f.t.Fatalf("publish to %s: %v", domain, err)
	}
	return res
}

func (f *encFixture) download(domain, version string) []byte {
	f.t.Helper()
	_, _, obj, err := f.svc.GetPackageVersionAsset(ctx, genericRef(domain, version), "a.bin", "")
	if err != nil {
		f.t.Fatalf("download from %s: %v", domain, err)
	}
	defer obj.Close()
	if _, ok := obj.(blob.Redirector); ok && domain == "enc" {
		f.t.Error("an encrypted domain's asset offers a redirect")
	}
	b, err := io.ReadAll(obj)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// objects returns every blob file's content by name.
func (f *encFixture) objects() map[string][]byte {
	f.t.Helper()
	out := map[string][]byte{}
	for info, err := range f.blobs.List(ctx) {
		if err != nil {
			f.t.Fatal(err)
		}
		b, err := os.ReadFile(f.blobs.Path(info.SHA256))
		if err != nil {
			f.t.Fatal(err)
		}
		out[info.SHA256] = b
	}
	return out
}

func (f *encFixture) age(name string) {
	f.t.Helper()
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(f.blobs.Path(name), old, old); err != nil {
		f.t.Fatal(err)
	}
}

// encStore opens the encrypted domain's key row as the service does.
func (f *encFixture) encStore() *encrypted.Store {
	f.t.Helper()
	var value string
	if err := f.meta.Read(ctx, func(tx store.Tx) error {
		var err error
		value, err = tx.GetSetting("domain-key/123456789012/enc")
		return err
	}); err != nil {
		f.t.Fatalf("the encrypted domain's key row: %v", err)
	}
	var row struct{ KeyID, Sealed string }
	if err := json.Unmarshal([]byte(value), &row); err != nil {
		f.t.Fatal(err)
	}
	id, err := encrypted.ParseKeyID(row.KeyID)
	if err != nil {
		f.t.Fatal(err)
	}
	sealed, _ := base64.StdEncoding.DecodeString(row.Sealed)
	secret, err := f.sealer.Open(sealed, "coffer domain data key "+row.KeyID)
	if err != nil {
		f.t.Fatalf("the row does not open with the master key: %v", err)
	}
	k := encrypted.Key{ID: id}
	copy(k.Secret[:], secret)
	return encrypted.New(f.blobs, k)
}

func TestEncryptedDomain(t *testing.T) {
	f := newEncFixture(t)
	content := make([]byte, 3*encrypted.SegmentSize+123)
	rand.Read(content)
	window := content[1000:1032]

	d, err := f.svc.DescribeDomain(ctx, artifact.DomainRef{Name: "enc"})
	if err != nil || d.EncryptionKey != "arn:aws:kms:us-east-1:123456789012:key/0b6b4b7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" {
		t.Fatalf("DescribeDomain = %+v, %v", d, err)
	}
	if err := f.meta.Read(ctx, func(tx store.Tx) error {
		_, err := tx.GetSetting("domain-key/123456789012/plain")
		return err
	}); err == nil {
		t.Fatal("the unencrypted domain has a key row")
	}

	encRes := f.publish("enc", "1.0", content)
	if encRes.Asset.Blob.SHA256 != hexSHA(content) || encRes.Asset.Blob.Size != int64(len(content)) {
		t.Fatalf("encrypted asset digests %+v, want the plaintext's", encRes.Asset.Blob)
	}
	if got := f.download("enc", "1.0"); !bytes.Equal(got, content) {
		t.Fatal("the encrypted domain returns other bytes")
	}
	objs := f.objects()
	if len(objs) != 1 {
		t.Fatalf("%d objects after one encrypted publish, want 1", len(objs))
	}
	var encName string
	for name, b := range objs {
		encName = name
		if name == hexSHA(content) || bytes.Contains(b, window) {
			t.Fatal("the encrypted domain's blob is stored in plaintext")
		}
	}

	// The same content in the unencrypted domain: its own plaintext blob.
	plainRes := f.publish("plain", "1.0", content)
	if plainRes.Asset.Blob != encRes.Asset.Blob {
		t.Fatalf("digests differ between domains: %+v vs %+v", plainRes.Asset.Blob, encRes.Asset.Blob)
	}
	if got := f.download("plain", "1.0"); !bytes.Equal(got, content) {
		t.Fatal("the unencrypted domain returns other bytes")
	}
	if objs := f.objects(); len(objs) != 2 || objs[hexSHA(content)] == nil {
		t.Fatalf("objects = %d, want the encrypted one and the plaintext one", len(objs))
	}

	// Ingestion from an external connection stages into the domain's store.
	tarball := []byte("npm tarball bytes for the encrypted domain " + strings.Repeat("x", 5000))
	res, err := f.svc.ReadAsset(ctx, artifact.ReadRequest{
		VersionRef: artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "enc"}, Repository: "repo"},
			Format: artifact.FormatNpm, Package: "left-pad"}, Version: "1.0.0"},
		Asset: "left-pad-1.0.0.tgz",
		Fetch: func(ctx context.Context, _ artifact.ExternalSource) (blob.Digests, bool, error) {
			bs, _ := artifact.FetchStore(ctx)
			if bs == nil {
				t.Error("the FetchFunc of an encrypted domain has no FetchStore")
				bs = f.blobs
			}
			st, err := bs.Stage(ctx, bytes.NewReader(tarball), 0)
			if err != nil {
				return blob.Digests{}, false, err
			}
			defer st.Discard()
			created, err := st.Commit(ctx)
			return st.Digests(), created, err
		}})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	got, _ := io.ReadAll(res.Object)
	res.Object.Close()
	if !bytes.Equal(got, tarball) || res.Asset.Blob.SHA256 != hexSHA(tarball) {
		t.Fatal("the ingested asset reads back differently")
	}
	for name, b := range f.objects() {
		if name == hexSHA(tarball) || bytes.Contains(b, tarball[:32]) {
			t.Fatal("the ingested asset is stored in plaintext")
		}
	}

	// Deleting the encrypted version releases its object, not the
	// unencrypted domain's blob.
	if _, err := f.svc.DeletePackageVersions(ctx, genericRef("enc", "").PackageRef, []string{"1.0"}, ""); err != nil {
		t.Fatal(err)
	}
	objs = f.objects()
	if objs[encName] != nil || objs[hexSHA(content)] == nil {
		t.Fatalf("after the delete: encrypted object kept %v, plaintext kept %v", objs[encName] != nil, objs[hexSHA(content)] != nil)
	}

	// The orphan collector: an old unreferenced encrypted object goes, a
	// referenced one (the ingested tarball) and the plaintext blob stay.
	f.publish("enc", "2.0", content) // referenced again
	objs = f.objects()
	if objs[encName] == nil {
		t.Fatal("the republished encrypted object is not under its name")
	}
	if _, err := f.svc.DeletePackageVersions(ctx, genericRef("plain", "").PackageRef, []string{"1.0"}, ""); err != nil {
		t.Fatal(err)
	}
	if f.objects()[hexSHA(content)] != nil {
		t.Fatal("the plaintext blob outlived its only unencrypted reference")
	}
	// Plant an orphan of the encrypted domain, as a process killed
	// between the commit and its transaction leaves it.
	es := f.encStore()
	if es.Name(hexSHA(content)) != encName {
		t.Fatal("the key row does not name the domain's objects")
	}
	orphan := []byte("an orphan of the encrypted domain " + strings.Repeat("y", 100))
	st, err := es.Stage(ctx, bytes.NewReader(orphan), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// A plaintext orphan too.
	pst, _ := f.blobs.Stage(ctx, bytes.NewReader([]byte("a plaintext orphan")), 0)
	pst.Commit(ctx)
	objs = f.objects()
	if len(objs) != 4 {
		t.Fatalf("%d objects, want 4 (2.0, the tarball, two orphans)", len(objs))
	}
	for name := range objs {
		f.age(name)
	}
	n, _, err := f.svc.CollectOrphans(ctx, time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("CollectOrphans = %d, %v; want the 2 orphans", n, err)
	}
	objs = f.objects()
	if len(objs) != 2 || objs[encName] == nil || objs[es.Name(hexSHA(orphan))] != nil {
		t.Fatalf("after collecting: %d objects, 2.0 kept %v", len(objs), objs[encName] != nil)
	}
	if got := f.download("enc", "2.0"); !bytes.Equal(got, content) {
		t.Fatal("2.0 reads back differently after collection")
	}
}

// BenchmarkGenericThroughput publishes and downloads a 1 GiB generic asset
// in an unencrypted and an encrypted domain (filesystem blobs, SQLite) and
// reports each direction's MB/s:
//
//	go test -run '^$' -bench GenericThroughput -benchtime 1x ./internal/artifact/
func BenchmarkGenericThroughput(b *testing.B) {
	const size = 1 << 30
	content := func() io.Reader { return io.LimitReader(mrand.NewChaCha8([32]byte{7}), size) }
	h := sha256.New()
	io.Copy(h, content())
	sum := hex.EncodeToString(h.Sum(nil))
	for _, domain := range []string{"plain", "enc"} {
		b.Run(domain, func(b *testing.B) {
			f := newEncFixture(b)
			var up, down time.Duration
			n := 0
			for b.Loop() {
				n++
				version := "1." + strconv.Itoa(n)
				start := time.Now()
				_, err := f.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: genericRef(domain, version), Asset: "a.bin", SHA256: sum}, content())
				if err != nil {
					b.Fatal(err)
				}
				up += time.Since(start)
				start = time.Now()
				_, _, obj, err := f.svc.GetPackageVersionAsset(ctx, genericRef(domain, version), "a.bin", "")
				if err != nil {
					b.Fatal(err)
				}
				got := sha256.New()
				if _, err := io.Copy(got, obj); err != nil {
					b.Fatal(err)
				}
				obj.Close()
				down += time.Since(start)
				if hex.EncodeToString(got.Sum(nil)) != sum {
					b.Fatal("the download differs")
				}
				if _, err := f.svc.DeletePackageVersions(ctx, genericRef(domain, "").PackageRef, []string{version}, ""); err != nil {
					b.Fatal(err)
				}
			}
			mb := float64(size) * float64(n) / 1e6
			b.ReportMetric(mb/up.Seconds(), "publish-MB/s")
			b.ReportMetric(mb/down.Seconds(), "download-MB/s")
		})
	}
}

package artifact_test

import (
	"log/slog"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

var keyARN = regexp.MustCompile(`^arn:aws:kms:us-east-1:123456789012:key/[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDomainEncryptionKey(t *testing.T) {
	f := newFixture(t)
	create := func(name, key string) (*artifact.Domain, error) {
		return f.svc.CreateDomain(ctx, name, key, nil)
	}
	dx, err := f.svc.DescribeDomain(ctx, dom)
	if err != nil {
		t.Fatal(err)
	}
	def := dx.EncryptionKey
	if !keyARN.MatchString(def) {
		t.Fatalf("default key %q is not a key ARN", def)
	}
	// One default key per account, like AWS's managed key.
	if d, err := create("second", ""); err != nil || d.EncryptionKey != def {
		t.Errorf("second default key %v, %v; want %s", d, err, def)
	}
	if d, err := create("managed", "alias/aws/codeartifact"); err != nil || d.EncryptionKey != def {
		t.Errorf("alias/aws/codeartifact gives %v, %v; want %s", d, err, def)
	}

	given := "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, c := range []struct{ name, key, want string }{
		{"by-arn", given, given},
		{"by-id", "1234abcd-12ab-34cd-56ef-1234567890ab", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
		{"multi-region", "mrk-1234abcd12ab34cd56ef1234567890ab", "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"},
	} {
		d, err := create(c.name, c.key)
		if err != nil || d.EncryptionKey != c.want {
			t.Errorf("%s: key %v, %v; want %s", c.key, d, err, c.want)
		}
	}
	// An alias stands for one key, whichever way it is named.
	a1, err := create("alias-1", "alias/team-key")
	if err != nil || !keyARN.MatchString(a1.EncryptionKey) || a1.EncryptionKey == def {
		t.Fatalf("alias key %v, %v", a1, err)
	}
	a2, err := create("alias-2", "arn:aws:kms:us-east-1:123456789012:alias/team-key")
	if err != nil || a2.EncryptionKey != a1.EncryptionKey {
		t.Errorf("alias ARN key %v, %v; want %s", a2, err, a1.EncryptionKey)
	}

	for i, bad := range []string{
		"not-a-key",
		"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", // another region
		"arn:aws:kms:us-east-1:123456789012:key/",
		"arn:aws:s3:::bucket",
		"alias/",
	} {
		_, err := create("bad-"+string(rune('a'+i)), bad)
		if fe := fault.As(err); fe.Kind != fault.KindValidation || fe.Reason != "ENCRYPTION_KEY_ERROR" {
			t.Errorf("%q: %v (reason %q)", bad, err, fe.Reason)
		}
	}
	if ds, _, err := f.svc.ListDomains(ctx, artifact.PageRequest{}); err != nil {
		t.Fatal(err)
	} else {
		for _, d := range ds {
			if d.Name == "bad-a" {
				t.Error("a domain with a refused key was created")
			}
		}
	}
}

func TestDomainS3BucketARN(t *testing.T) {
	f := newFixture(t)
	d, err := f.svc.DescribeDomain(ctx, dom)
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:s3:::coffer-assets-123456789012-us-east-1"; d.S3BucketARN != want {
		t.Errorf("filesystem blobs: s3BucketArn %q, want %q", d.S3BucketARN, want)
	}
	if d, err := f.svc.DeleteDomain(ctx, dom); err != nil || d.S3BucketARN == "" || !keyARN.MatchString(d.EncryptionKey) {
		t.Errorf("DeleteDomain: %+v, %v", d, err)
	}
	s3 := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, nil, bucketBlobs{}, nil)
	if got := s3.AssetStoreARN("123456789012"); got != "arn:aws:s3:::my-assets" {
		t.Errorf("S3 blobs: s3BucketArn %q", got)
	}
}

// TestLegacyDomainKey reads a domain stored with the alias ARN earlier
// releases used as the default: it shows the account's default key.
func TestLegacyDomainKey(t *testing.T) {
	meta, err := sqlite.Open(filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, meta, nil, slog.New(slog.DiscardHandler))
	def, err := svc.CreateDomain(ctx, "new", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = meta.Write(ctx, func(tx store.Tx) error {
		return tx.CreateDomain(&store.Domain{Owner: "123456789012", Name: "old", Status: "Active",
			EncryptionKey: "arn:aws:kms:us-east-1:123456789012:alias/coffer/default", CreatedTime: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := svc.DescribeDomain(ctx, artifact.DomainRef{Name: "old"})
	if err != nil || d.EncryptionKey != def.EncryptionKey {
		t.Errorf("legacy key %+v, %v; want %s", d, err, def.EncryptionKey)
	}
}

// bucketBlobs stands for the S3 driver: a blob store that names its bucket.
type bucketBlobs struct{ blob.Store }

func (bucketBlobs) Bucket() string { return "my-assets" }

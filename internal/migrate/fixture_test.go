package migrate

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/blob/fs"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

const (
	account = "111122223333"
	region  = "eu-west-3" // not the default: tags must be found under it
)

// deployment is an embedded deployment (SQLite and files) in a temp dir.
type deployment struct {
	Stores
	dir string
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := fs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{Stores: Stores{Meta: meta, Blobs: blobs}, dir: dir}
}

// blobPath is where the filesystem driver keeps a blob.
func (d *deployment) blobPath(sha256 string) string {
	return filepath.Join(d.dir, "blobs", "sha256", sha256[:2], sha256[2:4], sha256)
}

// at is a time with nanoseconds, so that a lossy round trip shows.
func at(sec int64) time.Time { return time.Unix(1_700_000_000+sec, 123_456_789).UTC() }

// fixture is what populate wrote that the tests check beyond the dump.
type fixture struct {
	blobs      map[string][]byte // sha256 -> content, every blob an asset references
	assets     int
	versions   map[string]int64 // by status
	rootKey    string
	sessionKey string
	tags       int
}

var statuses = []string{"Published", "Unfinished", "Unlisted", "Archived", "Disposed"}

// populate writes at least one of every kind of record through the store
// and blob interfaces, with several of each where paging could go wrong.
func populate(t *testing.T, d *deployment) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{blobs: map[string][]byte{}, versions: map[string]int64{}}
	put := func(content string) store.Blob {
		t.Helper()
		b := commitBlob(t, ctx, d.Blobs, []byte(content))
		f.blobs[b.SHA256] = []byte(content)
		return b
	}
	shared := put("shared by several assets and domains")
	arns := artifact.New(artifact.Config{Region: region}, nil, nil, nil)
	rootARN := "arn:aws:iam::" + account + ":root"

	err := d.Meta.Write(ctx, func(tx store.Tx) error {
		for _, s := range []store.Setting{{Key: "account-id", Value: account}, {Key: "token-key", Value: "sealed\x00token\xffkey"},
			{Key: "zz-other", Value: ""}} {
			if err := tx.PutSetting(s.Key, s.Value); err != nil {
				return err
			}
		}
		if err := populateIAM(tx, f, rootARN); err != nil {
			return err
		}
		for di, name := range []string{"acme", "beta", "corp"} {
			dom := &store.Domain{Owner: account, Name: name, Status: "Active", EncryptionKey: "arn:aws:kms:" + region + ":" + account + ":key/" + name,
				CreatedTime: at(int64(di)), PolicyDocument: `{"Version":"2012-10-17","Statement":[]}`, PolicyRevision: "rev-" + name}
			if di == 2 {
				dom.Status, dom.PolicyDocument, dom.PolicyRevision = "Deleted", "", ""
			}
			if err := tx.CreateDomain(dom); err != nil {
				return err
			}
			if err := tx.PutTags(arns.DomainARN(account, name), []store.Tag{{Key: "team", Value: name}, {Key: "empty", Value: ""}}); err != nil {
				return err
			}
			f.tags += 2
			var repoIDs []int64
			for ri, rname := range []string{"store", "main", "team", "Main"} {
				r := &store.Repository{DomainID: dom.ID, Name: rname, Description: "repo " + rname, AdministratorAccount: account,
					CreatedTime: at(int64(10 + ri))}
				switch rname {
				case "store":
					r.ExternalConnections = []store.ExternalConnection{{Name: "public:npmjs", Format: "npm"}}
				case "main":
					r.Upstreams = []string{"team", "store"} // "team" is created after "main"
					r.PolicyDocument, r.PolicyRevision = `{"Statement":[{"Effect":"Allow"}]}`, "r1"
				}
				if err := tx.CreateRepository(r); err != nil {
					return err
				}
				repoIDs = append(repoIDs, r.ID)
				if rname == "main" {
					if err := tx.PutTags(arns.RepositoryARN(account, name, rname), []store.Tag{{Key: "env", Value: "prod"}}); err != nil {
						return err
					}
					f.tags++
				}
				if err := populatePackages(tx, f, dom.ID, r.ID, name+"/"+rname, put, shared); err != nil {
					return err
				}
			}
			for gi, pattern := range []string{"/*", "/npm/*", "/npm/@scope/ui~", "/generic/ns/app$", "/maven/com.example/*"} {
				g := &store.PackageGroup{DomainID: dom.ID, Pattern: pattern, ContactInfo: "ops@example.com", Description: "group " + pattern,
					CreatedTime: at(int64(100 + gi))}
				if gi%2 == 1 {
					g.Modes = map[string]string{"PUBLISH": "BLOCK", "EXTERNAL_UPSTREAM": "ALLOW_SPECIFIC_REPOSITORIES", "INTERNAL_UPSTREAM": "INHERIT"}
				}
				if err := tx.CreatePackageGroup(g); err != nil {
					return err
				}
				if gi == 1 {
					for _, id := range repoIDs {
						if err := tx.AddAllowedRepository(g.ID, "EXTERNAL_UPSTREAM", id); err != nil {
							return err
						}
					}
					if err := tx.AddAllowedRepository(g.ID, "PUBLISH", repoIDs[1]); err != nil {
						return err
					}
					if err := tx.PutTags(arns.PackageGroupARN(account, name, pattern), []store.Tag{{Key: "group", Value: "npm"}}); err != nil {
						return err
					}
					f.tags++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// populatePackages writes packages of several formats with versions of
// every status, and assets (some sharing a blob).
func populatePackages(tx store.Tx, f *fixture, domainID, repoID int64, where string, put func(string) store.Blob, shared store.Blob) error {
	pkgs := []store.Package{
		{Format: "npm", Namespace: "scope", Name: "ui", Publish: "ALLOW", Upstream: "BLOCK", Metadata: `{"dist-tags":{"latest":"1.0.4"}}`},
		{Format: "npm", Name: "left-pad", Publish: "BLOCK", Upstream: "ALLOW"},
		{Format: "generic", Namespace: "ns", Name: "app", Publish: "ALLOW", Upstream: "ALLOW"},
	}
	for pi := range pkgs {
		p := &pkgs[pi]
		p.RepositoryID = repoID
		if err := tx.CreatePackage(p); err != nil {
			return err
		}
		for vi, status := range statuses {
			v := &store.Version{PackageID: p.ID, Version: fmt.Sprintf("1.0.%d", vi), Revision: fmt.Sprintf("rev%d-%d", pi, vi),
				Status: status, OriginType: "INTERNAL", CreatedTime: at(int64(1000 + vi)), DisplayName: p.Name,
				Summary: "summary", HomePage: "https://example.com", SourceCodeRepository: "https://git.example.com/x",
				Licenses: []store.License{{Name: "MIT", URL: "https://mit"}, {Name: "Apache-2.0"}}, Readme: "# readme\n" + where,
				Dependencies: []store.Dependency{{Package: "dep", DependencyType: "regular", VersionRequirement: "^1"}},
				Metadata:     `{"k":"v"}`}
			if status != "Unfinished" {
				v.PublishedTime = at(int64(2000 + vi))
			}
			if vi == 2 {
				v.OriginType, v.OriginRepository, v.OriginExternalConnection = "EXTERNAL", "store", "public:npmjs"
				v.Licenses, v.Dependencies, v.Metadata = nil, nil, ""
			}
			if err := tx.CreateVersion(v); err != nil {
				return err
			}
			f.versions[status]++
			if status == "Disposed" {
				continue // a disposed version has no assets left
			}
			blobs := []store.Blob{put(fmt.Sprintf("%s %s %s", where, coordinate(p), v.Version)), shared}
			if vi == 0 {
				blobs = append(blobs, put(strings.Repeat("large ", 50_000)+where), put(""))
			}
			for ai, b := range blobs {
				a := &store.Asset{VersionID: v.ID, Name: fmt.Sprintf("asset-%d.tgz", ai), Blob: b, CreatedTime: at(int64(3000 + ai))}
				if err := tx.PutAsset(domainID, a); err != nil {
					return err
				}
				f.assets++
			}
		}
	}
	return nil
}

// populateIAM writes users, groups, memberships, roles, managed policies
// with several versions (v1 deleted), attachments, inline policies and
// access keys of every kind.
func populateIAM(tx store.Tx, f *fixture, rootARN string) error {
	arn := func(kind, name string) string { return "arn:aws:iam::" + account + ":" + kind + "/" + name }
	for i, name := range []string{"alice", "Bob", "carol", "dave"} {
		if err := tx.CreateUser(&store.IAMUser{UserID: fmt.Sprintf("AIDA%016d", i), Name: name, Path: "/", ARN: arn("user", name), CreatedTime: at(int64(i))}); err != nil {
			return err
		}
	}
	for i, name := range []string{"admins", "devs", "ops"} {
		if err := tx.CreateGroup(&store.IAMGroup{GroupID: fmt.Sprintf("AGPA%016d", i), Name: name, Path: "/teams/", ARN: arn("group", "teams/"+name), CreatedTime: at(int64(i))}); err != nil {
			return err
		}
	}
	for _, m := range [][2]string{{"admins", "alice"}, {"devs", "alice"}, {"devs", "Bob"}, {"devs", "carol"}} {
		if err := tx.AddUserToGroup(m[0], m[1]); err != nil {
			return err
		}
	}
	for i, name := range []string{"builder", "reader", "deployer"} {
		if err := tx.CreateRole(&store.IAMRole{RoleID: fmt.Sprintf("AROA%016d", i), Name: name, Path: "/", ARN: arn("role", name), Description: "role " + name,
			AssumeRolePolicy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"}}]}`, MaxSessionDuration: 3600 * (i + 1), CreatedTime: at(int64(i))}); err != nil {
			return err
		}
	}
	for i, name := range []string{"ReadAll", "WriteAll", "Audit"} {
		p := &store.ManagedPolicy{PolicyID: fmt.Sprintf("ANPA%016d", i), Name: name, Path: "/", ARN: arn("policy", name), Description: "policy " + name,
			DefaultVersionID: "v1", CreatedTime: at(int64(i)), UpdateTime: at(int64(i))}
		if err := tx.CreatePolicy(p, &store.PolicyVersion{PolicyARN: p.ARN, VersionID: "v1", Document: `{"v":1}`, CreatedTime: at(int64(i))}); err != nil {
			return err
		}
		if i == 0 {
			for v := 2; v <= 4; v++ {
				if err := tx.CreatePolicyVersion(&store.PolicyVersion{PolicyARN: p.ARN, VersionID: fmt.Sprintf("v%d", v), Document: fmt.Sprintf(`{"v":%d}`, v), CreatedTime: at(int64(10 + v))}); err != nil {
					return err
				}
			}
			if err := tx.DeletePolicyVersion(p.ARN, "v1"); err != nil {
				return err
			}
			p.DefaultVersionID, p.UpdateTime = "v3", at(99)
			if err := tx.UpdatePolicy(p); err != nil {
				return err
			}
		}
	}
	for _, a := range [][2]string{{arn("user", "alice"), "ReadAll"}, {arn("user", "alice"), "WriteAll"}, {arn("group", "teams/devs"), "ReadAll"}, {arn("role", "builder"), "Audit"}} {
		if err := tx.AttachPolicy(a[0], arn("policy", a[1])); err != nil {
			return err
		}
	}
	for _, p := range []store.InlinePolicy{{OwnerARN: arn("user", "Bob"), Name: "bob-inline", Document: `{"u":1}`},
		{OwnerARN: arn("group", "teams/ops"), Name: "ops-inline", Document: `{"g":1}`},
		{OwnerARN: arn("role", "reader"), Name: "read", Document: `{"r":1}`}, {OwnerARN: arn("role", "reader"), Name: "read2", Document: `{"r":2}`}} {
		if err := tx.PutInlinePolicy(&p); err != nil {
			return err
		}
	}
	f.rootKey, f.sessionKey = "AKIAROOT000000000001", "ASIASESSION000000001"
	keys := []store.AccessKey{
		{AccessKeyID: f.rootKey, SecretEncrypted: []byte{0, 1, 2, 0xff}, PrincipalARN: rootARN, Status: "Active", CreatedTime: at(1), Principal: `{"type":"root"}`},
		{AccessKeyID: "AKIAALICE00000000001", SecretEncrypted: []byte("sealed-alice"), PrincipalARN: arn("user", "alice"), Status: "Active", CreatedTime: at(2), LastUsed: at(3), Principal: `{"userName":"alice"}`},
		{AccessKeyID: "AKIAALICE00000000002", SecretEncrypted: []byte("sealed-alice-2"), PrincipalARN: arn("user", "alice"), Status: "Inactive", CreatedTime: at(4)},
		{AccessKeyID: "AKIABOB0000000000001", SecretEncrypted: []byte("sealed-bob"), PrincipalARN: arn("user", "Bob"), Status: "Active", CreatedTime: at(5)},
		// A role session's temporary key: not copied (see keys.go).
		{AccessKeyID: f.sessionKey, SecretEncrypted: []byte("s"), PrincipalARN: "arn:aws:sts::" + account + ":assumed-role/builder/ci",
			Status: "Active", CreatedTime: at(6), SessionToken: []byte("tok"), Expiration: at(3600)},
	}
	for i := range keys {
		if err := tx.CreateAccessKey(&keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// commitBlob stores content in the blob store and returns its digests.
func commitBlob(t *testing.T, ctx context.Context, bs blob.Store, content []byte) store.Blob {
	t.Helper()
	st, err := bs.Stage(ctx, bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := st.Digests()
	return store.Blob{SHA256: d.SHA256, SHA512: d.SHA512, SHA1: d.SHA1, MD5: d.MD5, Size: d.Size}
}

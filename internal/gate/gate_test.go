package gate_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/blob"
	blobfs "coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/gate"
	"coffer/internal/osv"
	"coffer/internal/osv/ecosystems"
	"coffer/internal/rules"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

var ctx = context.Background()

const (
	account = "123456789012"
	domain  = "acme"
	npmjs   = "public:npmjs"
)

// env is a real engine (SQLite, filesystem blobs) with a gate over the
// store's rules and a settable advisory index.
type env struct {
	t       *testing.T
	meta    store.Store
	blobs   blob.Store
	svc     *artifact.Service
	adv     *advisories
	auditW  *bytes.Buffer
	fetches atomic.Int32
	gate    *gate.Gate
}

type advisories struct {
	idx   atomic.Pointer[osv.Index]
	stamp atomic.Uint64
}

func (a *advisories) Index() *osv.Index { return a.idx.Load() }
func (a *advisories) Stamp() uint64     { return a.stamp.Load() }

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	meta, err := sqlite.Open(filepath.Join(dir, "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	blobs, err := blobfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc := artifact.New(artifact.Config{Region: "us-east-1", AccountID: account}, meta, blobs, slog.New(slog.DiscardHandler))
	e := &env{t: t, meta: meta, blobs: blobs, svc: svc, adv: &advisories{}, auditW: &bytes.Buffer{}}
	e.gate = gate.New(gate.Config{Rules: rules.NewLoader(meta, rules.Options{Compare: gate.CompareVersions}),
		Advisories: e.adv, Audit: audit.New(e.auditW), Store: meta, Log: slog.New(slog.DiscardHandler)})
	svc.SetGate(e.gate)
	if _, err := svc.CreateDomain(ctx, domain, "", nil); err != nil {
		t.Fatal(err)
	}
	repo := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: domain}, Repository: "ci"}
	if _, err := svc.CreateRepository(ctx, repo, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AssociateExternalConnection(ctx, repo, npmjs); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) rule(r rules.Rule) rules.Rule {
	e.t.Helper()
	r.DomainOwner, r.Domain = account, domain
	if err := rules.Validate(&r); err != nil {
		e.t.Fatal(err)
	}
	if err := e.meta.Write(ctx, func(tx store.Tx) error { return rules.Put(tx, &r) }); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) deleteRule(r rules.Rule) {
	e.t.Helper()
	if err := e.meta.Write(ctx, func(tx store.Tx) error { return rules.Delete(tx, account, domain, r.ID) }); err != nil {
		e.t.Fatal(err)
	}
}

func ref(pkg, version string) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Name: domain}, Repository: "ci"},
		Format: artifact.FormatNpm, Package: pkg}, Version: version}
}

// read downloads pkg@version through the external connection, which
// publishes it at published (zero: it does not say).
func (e *env) read(pkg, version string, published time.Time) (string, error) {
	req := artifact.ReadRequest{VersionRef: ref(pkg, version), Asset: pkg + "-" + version + ".tgz",
		Published: func(context.Context, artifact.ExternalSource) (time.Time, error) { return published, nil },
		Fetch: func(ctx context.Context, _ artifact.ExternalSource) (blob.Digests, bool, error) {
			e.fetches.Add(1)
			st, err := e.blobs.Stage(ctx, strings.NewReader("tarball of "+pkg+"@"+version), 0)
			if err != nil {
				return blob.Digests{}, false, err
			}
			defer st.Discard()
			created, err := st.Commit(ctx)
			return st.Digests(), created, err
		}}
	res, err := e.svc.ReadAsset(ctx, req)
	if err != nil {
		return "", err
	}
	defer res.Object.Close()
	b, err := io.ReadAll(res.Object.Reader())
	return string(b), err
}

func (e *env) view(pkg string) *artifact.PackageView {
	e.t.Helper()
	v, err := e.svc.ViewPackage(ctx, ref(pkg, "").PackageRef, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func versions(v *artifact.PackageView) []string {
	var out []string
	for _, x := range v.Versions {
		out = append(out, x.Version.Version)
	}
	return out
}

func wantRefused(t *testing.T, err error, reason string) {
	t.Helper()
	if fault.KindOf(err) != fault.KindAccessDenied || !strings.Contains(err.Error(), reason) {
		t.Fatalf("got %v, want a refusal saying %q", err, reason)
	}
}

// A cooldown counts from the registry's publish time, refuses before
// fetching, keeps the publish time with the ingested version, and fails
// closed when the registry does not say.
func TestCooldownOnReadsAndViews(t *testing.T) {
	e := newEnv(t)
	e.rule(rules.Rule{Kind: rules.KindCooldown, Cooldown: "72h"})
	now := time.Now()
	oldTime, freshTime := now.Add(-100*time.Hour).Truncate(time.Second), now.Add(-time.Hour)

	if got, err := e.read("lib", "1.0.0", oldTime); err != nil || got != "tarball of lib@1.0.0" {
		t.Fatalf("old version: %q, %v", got, err)
	}
	_, err := e.read("lib", "2.0.0", freshTime)
	wantRefused(t, err, "in cooldown of 72h0m0s until")
	_, err = e.read("lib", "3.0.0", time.Time{})
	wantRefused(t, err, "in cooldown")
	if n := e.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1: a refused version must not be fetched", n)
	}
	d, err := e.svc.DescribePackageVersion(ctx, ref("lib", "1.0.0"))
	if err != nil || !d.UpstreamPublishedTime.Equal(oldTime) {
		t.Fatalf("ingested version keeps upstream time %v (err %v), want %v", d.UpstreamPublishedTime, err, oldTime)
	}

	v := e.view("lib")
	if got := versions(v); len(got) != 1 || got[0] != "1.0.0" {
		t.Fatalf("view: %v", got)
	}
	src := v.External[0]
	if v.Admit(src, "2.0.0", freshTime) || !v.Admit(src, "0.9.0", oldTime) {
		t.Fatal("Admit ignores the cooldown")
	}
	if d := v.Decide(src, "4.0.0", time.Time{}); d.Allowed || d.AvailableAt.IsZero() {
		t.Fatalf("a version first seen now: %+v", d)
	}

	// An exemption of the exact version lifts the cooldown; deleting the
	// cooldown lets everything through, and the stamp follows the rules.
	stamp1, _, _ := e.svc.ViewStamp(ctx, ref("lib", "").PackageRef)
	ex := e.rule(rules.Rule{Kind: rules.KindExempt, Package: "/npm//lib$", Version: "2.0.0", Reason: "INC-7"})
	if got, err := e.read("lib", "2.0.0", freshTime); err != nil || got != "tarball of lib@2.0.0" {
		t.Fatalf("exempt version: %q, %v", got, err)
	}
	stamp2, _, _ := e.svc.ViewStamp(ctx, ref("lib", "").PackageRef)
	if stamp1 == stamp2 {
		t.Fatal("the view stamp did not change with the rules")
	}
	e.deleteRule(ex)
	if got := versions(e.view("lib")); len(got) != 1 {
		t.Fatalf("after the exemption went, the view shows %v", got)
	}
	if len(e.view("lib").Refused) != 1 || e.view("lib").Refused[0].Version != "2.0.0" {
		t.Fatalf("Refused: %+v", e.view("lib").Refused)
	}
}

// A freeze withholds what was published after it, in-house versions too.
func TestFreeze(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-100 * time.Hour)
	if _, err := e.read("lib", "1.0.0", old); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: ref("own", "1.0.0"), Asset: "own-1.0.0.tgz",
		NewStatus: artifact.StatusPublished}, strings.NewReader("ours")); err != nil {
		t.Fatal(err)
	}
	e.rule(rules.Rule{Kind: rules.KindFreeze, FreezeAt: time.Now().Add(-50 * time.Hour).UTC().Format(time.RFC3339)})
	if _, err := e.read("lib", "1.0.0", old); err != nil {
		t.Fatalf("a version published before the freeze: %v", err)
	}
	_, err := e.read("own", "1.0.0", time.Time{})
	wantRefused(t, err, "after the freeze")
	if v := e.view("own"); len(v.Versions) != 0 || len(v.Refused) != 1 || v.Refused[0].Decision.Rule == "" {
		t.Fatalf("frozen view: %v, refused %+v", versions(v), v.Refused)
	}
}

// A cached version that an imported advisory marks malicious is
// quarantined: neither listed nor served, recorded in the audit log once.
// A severity rule blocks vulnerable versions at or above its class.
func TestQuarantineAndSeverity(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-1000 * time.Hour)
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		if _, err := e.read("lib", v, old); err != nil {
			t.Fatal(err)
		}
	}
	idx := osv.NewIndex(ecosystems.Table())
	for _, doc := range []string{
		`{"id":"MAL-2026-9","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lib"},"versions":["1.1.0"]}]}`,
		`{"id":"GHSA-aaaa-bbbb-cccc","modified":"2026-01-01T00:00:00Z","database_specific":{"severity":"HIGH"},
		  "affected":[{"package":{"ecosystem":"npm","name":"lib"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.2.0"},{"fixed":"1.3.0"}]}]}]}`,
	} {
		rec, err := osv.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		idx.Add(rec)
	}
	e.adv.idx.Store(idx)
	e.adv.stamp.Add(1)

	for range 2 {
		_, err := e.read("lib", "1.1.0", old)
		wantRefused(t, err, "malicious: MAL-2026-9")
	}
	if n := strings.Count(e.auditW.String(), "coffer:QuarantinePackageVersion"); n != 1 {
		t.Fatalf("%d quarantine audit events, want 1: %s", n, e.auditW)
	}
	// The control plane's download is refused too.
	_, _, _, err := e.svc.GetPackageVersionAsset(ctx, ref("lib", "1.1.0"), "lib-1.1.0.tgz", "")
	wantRefused(t, err, "malicious: MAL-2026-9")
	if got := versions(e.view("lib")); strings.Join(got, ",") != "1.0.0,1.2.0" {
		t.Fatalf("view with a malicious version: %v", got)
	}
	if _, err := e.read("lib", "1.2.0", old); err != nil {
		t.Fatalf("vulnerable without a severity rule: %v", err)
	}
	e.rule(rules.Rule{Kind: rules.KindSeverity, Severity: "critical"})
	if _, err := e.read("lib", "1.2.0", old); err != nil {
		t.Fatalf("HIGH under a CRITICAL threshold: %v", err)
	}
	e.rule(rules.Rule{Kind: rules.KindSeverity, Severity: "moderate"}) // replaces it: one per scope
	_, err = e.read("lib", "1.2.0", old)
	wantRefused(t, err, "vulnerable: GHSA-aaaa-bbbb-cccc (HIGH")
	// A pattern exemption does not lift an advisory; the exact version does.
	e.rule(rules.Rule{Kind: rules.KindExempt, Package: "/npm//lib$", Reason: "all of lib"})
	_, err = e.read("lib", "1.1.0", old)
	wantRefused(t, err, "malicious")
	e.rule(rules.Rule{Kind: rules.KindExempt, Package: "/npm//lib$", Version: "1.1.0", Reason: "false positive, OSV issue 12"})
	if _, err := e.read("lib", "1.1.0", old); err != nil {
		t.Fatalf("exempt exact version: %v", err)
	}
}

// A sweep quarantines what new advisories mark malicious before anyone
// downloads it, and releases it when an exemption names it.
func TestSweep(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-1000 * time.Hour)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if _, err := e.read("lib", v, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.gate.Sweep(ctx, e.svc); err != nil {
		t.Fatal(err)
	}
	if q, err := e.gate.Quarantined(ctx, account, domain); err != nil || len(q) != 0 {
		t.Fatalf("quarantined without advisories: %v %v", q, err)
	}
	idx := osv.NewIndex(ecosystems.Table())
	rec, err := osv.Parse([]byte(`{"id":"MAL-2026-77","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"lib"},"versions":["1.1.0"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	idx.Add(rec)
	e.adv.idx.Store(idx)
	e.adv.stamp.Add(1)
	for range 2 {
		if err := e.gate.Sweep(ctx, e.svc); err != nil {
			t.Fatal(err)
		}
	}
	q, err := e.gate.Quarantined(ctx, account, domain)
	if err != nil || len(q) != 1 || q[0].Version != "1.1.0" || q[0].Repository != "ci" || q[0].Advisory != "MAL-2026-77" {
		t.Fatalf("quarantined after the advisory: %+v %v", q, err)
	}
	if n := strings.Count(e.auditW.String(), "coffer:QuarantinePackageVersion"); n != 1 {
		t.Fatalf("%d quarantine audit events after two sweeps, want 1", n)
	}
	e.rule(rules.Rule{Kind: rules.KindExempt, Package: "/npm//lib$", Version: "1.1.0", Reason: "false positive"})
	if err := e.gate.Sweep(ctx, e.svc); err != nil {
		t.Fatal(err)
	}
	if q, _ := e.gate.Quarantined(ctx, account, domain); len(q) != 0 {
		t.Fatalf("still quarantined after an exemption: %+v", q)
	}
	if !strings.Contains(e.auditW.String(), "coffer:ReleasePackageVersion") {
		t.Fatal("no release in the audit log")
	}
}

// Without rules or advisories the engine is not gated at all.
func TestNoGateWithoutRules(t *testing.T) {
	e := newEnv(t)
	if _, err := e.read("lib", "1.0.0", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if v := e.view("lib"); v.Gated() || len(v.Versions) != 1 {
		t.Fatalf("ungated view: gated %v, %v", v.Gated(), versions(v))
	}
}

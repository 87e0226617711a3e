package npm_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"coffer/internal/artifact"
	"coffer/internal/format/npm/npmtest"
)

func TestPublishThenInstall(t *testing.T) {
	e := newEnv(t)
	p := pkg{name: "fx-a", version: "1.0.0", deps: map[string]string{"@fx/dep": "^2.0.0", "left-pad": "1.x"}}
	e.publish("solo", p)

	doc := e.packument("solo", "fx-a", fullDoc)
	if doc["_id"] != "fx-a" || doc["name"] != "fx-a" || distTags(doc)["latest"] != "1.0.0" || doc["readme"] != "# fx-a\n" {
		t.Fatalf("packument %v", doc)
	}
	v, _ := docVersions(doc)["1.0.0"].(map[string]any)
	dist, _ := v["dist"].(map[string]any)
	tgz := p.tarball()
	wantTarball := e.base + "solo/fx-a/-/fx-a-1.0.0.tgz"
	if v["name"] != "fx-a" || v["version"] != "1.0.0" || v["_id"] != "fx-a@1.0.0" || v["readme"] != nil ||
		dist["tarball"] != wantTarball || dist["integrity"] != npmtest.Integrity(tgz) || dist["shasum"] != npmtest.Shasum(tgz) {
		t.Fatalf("version document %v", v)
	}
	// What the registry records itself: the tarball's files and the publisher.
	files, unpacked := tarballContents(t, tgz)
	if dist["fileCount"] != float64(files) || dist["unpackedSize"] != float64(unpacked) {
		t.Errorf("dist.fileCount %v, dist.unpackedSize %v; the tarball has %d files, %d bytes", dist["fileCount"], dist["unpackedSize"], files, unpacked)
	}
	if u, _ := v["_npmUser"].(map[string]any); u["name"] != "alice" {
		t.Errorf("_npmUser %v", v["_npmUser"])
	}
	times, _ := doc["time"].(map[string]any)
	if times["1.0.0"] == nil || times["created"] == nil || times["modified"] == nil {
		t.Errorf("time %v", times)
	}

	// The abbreviated document keeps only what an install needs.
	r := e.get("solo", "fx-a", "Accept", corgi)
	if r.status != 200 || r.header.Get("Content-Type") != "application/vnd.npm.install-v1+json" {
		t.Fatalf("corgi: %d %s", r.status, r.header.Get("Content-Type"))
	}
	ab := r.json(t)
	av, _ := docVersions(ab)["1.0.0"].(map[string]any)
	if ab["readme"] != nil || ab["time"] != nil || ab["modified"] == nil || av["description"] != nil || av["main"] != nil ||
		av["dependencies"] == nil || av["license"] != "MIT" || av["dist"].(map[string]any)["tarball"] != wantTarball {
		t.Fatalf("abbreviated %s", r.body)
	}

	// The tarball comes back byte for byte, at the URL the document gives.
	r = e.get("solo", "fx-a/-/fx-a-1.0.0.tgz")
	if r.status != 200 || !bytes.Equal(r.body, tgz) {
		t.Fatalf("tarball: %d, %d bytes (want %d)", r.status, len(r.body), len(tgz))
	}
	if r = e.do("HEAD", "solo", "fx-a/-/fx-a-1.0.0.tgz", nil); r.status != 200 || r.header.Get("Content-Length") != "" && r.header.Get("Content-Length") != itoa(len(tgz)) {
		t.Fatalf("HEAD tarball: %d %v", r.status, r.header)
	}
	if r = e.get("solo", "fx-a/-/fx-a-9.9.9.tgz"); r.status != 404 || r.json(t)["error"] != "not_found" {
		t.Fatalf("missing tarball: %d %s", r.status, r.body)
	}

	// The control plane sees the version: one asset package.tgz, the
	// description, the dependencies with their types.
	assets, err := e.svc.ListPackageVersionAssets(bg, e.verRef("solo", "fx-a", "1.0.0"), artifact.PageRequest{})
	if err != nil || len(assets.Assets) != 1 || assets.Assets[0].Name != "package.tgz" || assets.Assets[0].Blob.Size != int64(len(tgz)) {
		t.Fatalf("assets %+v %v", assets, err)
	}
	ver, err := e.svc.DescribePackageVersion(bg, e.verRef("solo", "fx-a", "1.0.0"))
	if err != nil || ver.Summary != "fixture package fx-a" || ver.DisplayName != "fx-a" || ver.Readme != "# fx-a\n" ||
		len(ver.Licenses) != 1 || ver.Licenses[0].Name != "MIT" || ver.Status != artifact.StatusPublished {
		t.Fatalf("version %+v %v", ver, err)
	}
	deps := map[string]string{}
	for _, d := range ver.Dependencies {
		deps[d.Namespace+"/"+d.Package] = d.DependencyType + " " + d.VersionRequirement
	}
	if deps["fx/dep"] != "regular ^2.0.0" || deps["/left-pad"] != "regular 1.x" || len(deps) != 2 {
		t.Errorf("dependencies %v", deps)
	}
	pk, err := e.svc.DescribePackage(bg, e.pkgRef("solo", "fx-a"))
	if err != nil || pk.Publish != artifact.Allow || pk.Upstream != artifact.Block {
		t.Errorf("package %+v %v", pk, err)
	}

	// One version document, by version and by tag.
	for _, spec := range []string{"1.0.0", "latest"} {
		r = e.get("solo", "fx-a/"+spec)
		if r.status != 200 || r.json(t)["version"] != "1.0.0" {
			t.Fatalf("GET fx-a/%s: %d %s", spec, r.status, r.body)
		}
	}
	if r = e.get("solo", "fx-a/2.0.0"); r.status != 404 {
		t.Fatalf("GET missing version: %d", r.status)
	}
	// A second version shows up at once; latest follows the publish.
	e.publish("solo", pkg{name: "fx-a", version: "1.1.0"})
	doc = e.packument("solo", "fx-a", fullDoc)
	if len(docVersions(doc)) != 2 || distTags(doc)["latest"] != "1.1.0" {
		t.Fatalf("after a second publish: %v", doc["dist-tags"])
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestScopedNames(t *testing.T) {
	e := newEnv(t)
	p := pkg{name: "@fx/util", version: "1.2.0"}
	e.publish("solo", p)
	if r := e.do("PUT", "solo", "@fx/util", pkg{name: "@fx/util", version: "1.3.0"}.body()); r.status != 201 {
		t.Fatalf("publish with an unencoded slash: %d %s", r.status, r.body)
	}
	for _, path := range []string{"@fx%2futil", "@fx%2Futil", "@fx/util"} {
		doc := e.packument("solo", path, fullDoc)
		if doc["name"] != "@fx/util" || len(docVersions(doc)) != 2 {
			t.Fatalf("GET %s: %v", path, doc)
		}
		v := docVersions(doc)["1.2.0"].(map[string]any)
		if got := v["dist"].(map[string]any)["tarball"]; got != e.base+"solo/@fx/util/-/util-1.2.0.tgz" {
			t.Fatalf("tarball URL %v", got)
		}
	}
	if r := e.get("solo", "@fx/util/-/util-1.2.0.tgz"); r.status != 200 || !bytes.Equal(r.body, p.tarball()) {
		t.Fatalf("scoped tarball: %d", r.status)
	}
	if r := e.get("solo", "@fx%2futil/latest"); r.status != 200 || r.json(t)["version"] != "1.3.0" {
		t.Fatalf("scoped version by tag: %d %s", r.status, r.body)
	}
	if r := e.get("solo", "@fx/util/1.2.0"); r.status != 200 || r.json(t)["name"] != "@fx/util" {
		t.Fatalf("scoped version: %d %s", r.status, r.body)
	}
	// In CodeArtifact terms the scope is the namespace, without "@".
	ver, err := e.svc.DescribePackageVersion(bg, artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: e.repoRef("solo"),
		Format: artifact.FormatNpm, Namespace: "fx", Package: "util"}, Version: "1.2.0"})
	if err != nil || ver.DisplayName != "@fx/util" {
		t.Fatalf("namespace fx, package util: %+v %v", ver, err)
	}
	asked := strings.Join(e.az.reset(), "\n")
	if !strings.Contains(asked, "codeartifact:PublishPackageVersion arn:aws:codeartifact:us-east-1:"+account+":package/dx/solo/npm/fx/util") {
		t.Errorf("publish authorized on the wrong ARN:\n%s", asked)
	}
	// Invalid names change nothing.
	for _, path := range []string{"@fx%2fUpper", "Upper", ".dot", "@fx%2f_x"} {
		name := strings.Replace(path, "%2f", "/", 1)
		if r := e.do("PUT", "solo", path, pkg{name: name, version: "1.0.0"}.body()); r.status != 400 {
			t.Errorf("PUT %s: %d %s", path, r.status, r.body)
		}
	}
}

func TestPublishIsVerifiedBeforeAnythingIsStored(t *testing.T) {
	e := newEnv(t)
	p := pkg{name: "fx-bad", version: "1.0.0"}
	tgz := p.tarball()
	other := pkg{name: "fx-bad", version: "1.0.0", padding: 10}.tarball()
	attachmentFirst := func(b []byte) []byte {
		// Move "_attachments" before "versions".
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		out := []byte(`{"_attachments":` + string(m["_attachments"]))
		for _, k := range []string{"_id", "name", "dist-tags", "versions"} {
			out = append(out, `,"`+k+`":`+string(m[k])...)
		}
		return append(out, '}')
	}
	cases := map[string][]byte{
		"integrity mismatch": p.bodyWith(other, func(m map[string]any) {
			m["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz), "tarball": "x"}
		}),
		"shasum mismatch": p.bodyWith(tgz, func(m map[string]any) {
			m["dist"] = map[string]any{"shasum": npmtest.Shasum(other)}
		}),
		"no digest":             p.bodyWith(tgz, func(m map[string]any) { m["dist"] = map[string]any{"tarball": "x"} }),
		"bad base64":            bytes.Replace(p.body(), []byte(`"data":"`), []byte(`"data":"!!`), 1),
		"truncated":             p.body()[:len(p.body())-40],
		"cut after the tarball": p.body()[:len(p.body())-2],
		"trailing":              append(p.body(), []byte(`{"x":1}`)...),
		"length":                bytes.Replace(p.body(), []byte(`"length":`+itoa(len(tgz))), []byte(`"length":7`), 1),
		"mismatch, attachment first": attachmentFirst(p.bodyWith(other, func(m map[string]any) {
			m["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz)}
		})),
		"two versions": bytes.Replace(p.body(), []byte(`"versions":{`), []byte(`"versions":{"0.0.1":{"dist":{}},`), 1),
		"bad version":  bytes.ReplaceAll(p.body(), []byte(`1.0.0`), []byte(`1.0`)),
		"wrong name":   bytes.Replace(p.body(), []byte(`"name":"fx-bad","description"`), []byte(`"name":"fx-other","description"`), 1),
		"bad tag":      bytes.Replace(p.body(), []byte(`"dist-tags":{"latest"`), []byte(`"dist-tags":{"1.0"`), 1),
	}
	for name, body := range cases {
		r := e.do("PUT", "solo", "fx-bad", body)
		if r.status != 400 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		if msg, _ := r.json(t)["error"].(string); msg == "" {
			t.Errorf("%s: no error message: %s", name, r.body)
		}
	}
	if vs := e.versions("solo", "fx-bad"); vs != nil {
		t.Fatalf("a refused publish left versions %v", vs)
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Fatalf("a refused publish left blobs %v", files)
	}
	if left, _ := os.ReadDir(e.tmpDir); len(left) != 0 {
		t.Fatalf("a refused publish left temporary files %v", left)
	}
	// The tarball before its document is spooled, then published.
	if r := e.do("PUT", "solo", "fx-bad", attachmentFirst(p.body())); r.status != 201 {
		t.Fatalf("attachment first: %d %s", r.status, r.body)
	}
	if r := e.get("solo", "fx-bad/-/fx-bad-1.0.0.tgz"); !bytes.Equal(r.body, tgz) {
		t.Fatal("the spooled tarball differs")
	}
	if left, _ := os.ReadDir(e.tmpDir); len(left) != 0 {
		t.Fatalf("the spool was left behind: %v", left)
	}
}

func TestRepublishIsConflict(t *testing.T) {
	e := newEnv(t)
	p := pkg{name: "fx-re", version: "1.0.0"}
	e.publish("solo", p)
	for name, body := range map[string][]byte{
		"same bytes":  p.body(),
		"other bytes": pkg{name: "fx-re", version: "1.0.0", padding: 3}.body(),
	} {
		r := e.do("PUT", "solo", "fx-re", body)
		if r.status != 409 || !strings.Contains(r.json(t)["error"].(string), "cannot publish over the previously published versions: 1.0.0") {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := e.get("solo", "fx-re/-/fx-re-1.0.0.tgz"); !bytes.Equal(r.body, p.tarball()) {
		t.Fatal("the stored tarball changed")
	}
	// Denied publishes change nothing either.
	e.az.set("codeartifact:PublishPackageVersion", true)
	if r := e.do("PUT", "solo", "fx-re", pkg{name: "fx-re", version: "2.0.0"}.body()); r.status != 403 {
		t.Fatalf("denied publish: %d %s", r.status, r.body)
	}
	if vs := e.versions("solo", "fx-re"); !slices.Equal(vs, []string{"1.0.0"}) {
		t.Fatalf("versions %v", vs)
	}
}

func TestDistTags(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "fx-t", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-t", version: "2.0.0-beta.1", tags: map[string]string{"beta": "2.0.0-beta.1"}})
	r := e.get("solo", "-/package/fx-t/dist-tags")
	if r.status != 200 || string(r.body) != `{"beta":"2.0.0-beta.1","latest":"1.0.0"}` {
		t.Fatalf("dist-tags: %d %s", r.status, r.body)
	}
	e.az.reset()
	if r = e.do("PUT", "solo", "-/package/fx-t/dist-tags/next", []byte(`"2.0.0-beta.1"`)); r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	if asked := e.az.reset(); !slices.Contains(asked, "codeartifact:PutPackageMetadata arn:aws:codeartifact:us-east-1:"+account+":package/dx/solo/npm//fx-t") {
		t.Errorf("asked %v", asked)
	}
	if doc := e.packument("solo", "fx-t", corgi); distTags(doc)["next"] != "2.0.0-beta.1" {
		t.Fatalf("tag not in the packument: %v", doc["dist-tags"])
	}
	for path, body := range map[string]string{"next": `"9.9.9"`, "1.2": `"1.0.0"`, "bad": `{}`} {
		if r = e.do("PUT", "solo", "-/package/fx-t/dist-tags/"+path, []byte(body)); r.status != 404 && r.status != 400 {
			t.Errorf("PUT tag %s=%s: %d %s", path, body, r.status, r.body)
		}
	}
	if r = e.do("DELETE", "solo", "-/package/fx-t/dist-tags/next", nil); r.status != 200 {
		t.Fatalf("rm: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "solo", "-/package/fx-t/dist-tags/next", nil); r.status != 404 {
		t.Fatalf("rm again: %d %s", r.status, r.body)
	}
	if r = e.do("DELETE", "solo", "-/package/fx-t/dist-tags/latest", nil); r.status != 400 {
		t.Fatalf("rm latest: %d %s", r.status, r.body)
	}
	if r = e.get("solo", "-/package/fx-t/dist-tags"); string(r.body) != `{"beta":"2.0.0-beta.1","latest":"1.0.0"}` {
		t.Fatalf("dist-tags at the end: %s", r.body)
	}
	e.az.set("codeartifact:PutPackageMetadata", true)
	if r = e.do("PUT", "solo", "-/package/fx-t/dist-tags/x", []byte(`"1.0.0"`)); r.status != 403 {
		t.Fatalf("denied add: %d", r.status)
	}
	// Scoped, both spellings.
	e.az.set("codeartifact:PutPackageMetadata", false)
	e.publish("solo", pkg{name: "@fx/t", version: "1.0.0"})
	if r = e.do("PUT", "solo", "-/package/@fx%2ft/dist-tags/stable", []byte(`"1.0.0"`)); r.status != 201 {
		t.Fatalf("scoped add: %d %s", r.status, r.body)
	}
	if r = e.get("solo", "-/package/@fx/t/dist-tags"); string(r.body) != `{"latest":"1.0.0","stable":"1.0.0"}` {
		t.Fatalf("scoped list: %s", r.body)
	}
}

// deprecate does what npm deprecate does: GET ?write=true, set
// "deprecated" on the versions, PUT the document back (saying, as npm
// does, which command sends it).
func (e *env) deprecate(repo, name, msg string, versions ...string) response {
	e.t.Helper()
	r := e.get(repo, escaped(name)+"?write=true", "Accept", fullDoc)
	if r.status != 200 {
		e.t.Fatalf("GET ?write=true: %d %s", r.status, r.body)
	}
	doc := r.json(e.t)
	for _, v := range versions {
		docVersions(doc)[v].(map[string]any)["deprecated"] = msg
	}
	b, _ := json.Marshal(doc)
	return e.do("PUT", repo, escaped(name), b, "npm-command", "deprecate")
}

func TestDeprecate(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "fx-d", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-d", version: "1.1.0"})
	e.packument("solo", "fx-d", corgi) // cached before the change
	e.az.reset()
	if r := e.deprecate("solo", "fx-d", "use 2.x", "1.0.0"); r.status != 200 {
		t.Fatalf("deprecate: %d %s", r.status, r.body)
	}
	asked := e.az.reset()
	if !slices.Contains(asked, "codeartifact:PutPackageMetadata arn:aws:codeartifact:us-east-1:"+account+":package/dx/solo/npm//fx-d") ||
		slices.ContainsFunc(asked, func(s string) bool { return strings.Contains(s, "Publish") || strings.Contains(s, "Delete") }) {
		t.Errorf("asked %v", asked)
	}
	for _, accept := range []string{corgi, fullDoc} {
		vs := docVersions(e.packument("solo", "fx-d", accept))
		if vs["1.0.0"].(map[string]any)["deprecated"] != "use 2.x" || vs["1.1.0"].(map[string]any)["deprecated"] != nil {
			t.Fatalf("%s: %v", accept, vs)
		}
	}
	// An empty message undeprecates.
	if r := e.deprecate("solo", "fx-d", "", "1.0.0"); r.status != 200 {
		t.Fatalf("undeprecate: %d %s", r.status, r.body)
	}
	if vs := docVersions(e.packument("solo", "fx-d", corgi)); vs["1.0.0"].(map[string]any)["deprecated"] != nil {
		t.Fatalf("still deprecated: %v", vs["1.0.0"])
	}
	e.az.set("codeartifact:PutPackageMetadata", true)
	if r := e.deprecate("solo", "fx-d", "no", "1.1.0"); r.status != 403 {
		t.Fatalf("denied deprecate: %d", r.status)
	}
	if r := e.deprecate("solo", "fx-d", "", "1.1.0"); r.status != 200 {
		t.Fatalf("a no-op needs no permission: %d %s", r.status, r.body)
	}
	if r := e.get("solo", "fx-nope?write=true"); r.status != 404 {
		t.Fatalf("write document of a missing package: %d", r.status)
	}
}

// unpublish does what npm unpublish <name>@<version> does.
func (e *env) unpublish(repo, name, version string) {
	e.t.Helper()
	r := e.get(repo, escaped(name)+"?write=true")
	doc := r.json(e.t)
	rev, _ := doc["_rev"].(string)
	vs := docVersions(doc)
	tarball := vs[version].(map[string]any)["dist"].(map[string]any)["tarball"].(string)
	if len(vs) == 1 {
		if r := e.do("DELETE", repo, escaped(name)+"/-rev/"+rev, nil); r.status != 200 {
			e.t.Fatalf("DELETE -rev: %d %s", r.status, r.body)
		}
		return
	}
	delete(vs, version)
	tags := distTags(doc)
	for tag, v := range tags {
		if v == version {
			delete(tags, tag)
		}
	}
	b, _ := json.Marshal(doc)
	if r := e.do("PUT", repo, escaped(name)+"/-rev/"+rev, b); r.status != 200 {
		e.t.Fatalf("PUT -rev: %d %s", r.status, r.body)
	}
	rev = e.get(repo, escaped(name)+"?write=true").json(e.t)["_rev"].(string)
	path := strings.TrimPrefix(tarball, e.base+repo+"/")
	if r := e.do("DELETE", repo, path+"/-rev/"+rev, nil); r.status != 200 {
		e.t.Fatalf("DELETE tarball: %d %s", r.status, r.body)
	}
}

func TestUnpublish(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "@fx/u", version: "1.0.0"})
	e.publish("solo", pkg{name: "@fx/u", version: "1.1.0"})
	e.publish("solo", pkg{name: "@fx/u", version: "1.2.0", tags: map[string]string{"next": "1.2.0"}})
	e.az.reset()
	e.unpublish("solo", "@fx/u", "1.2.0")
	for _, a := range e.az.reset() {
		if strings.Contains(a, "Publish") {
			t.Errorf("asked %s", a)
		}
	}
	if vs := e.versions("solo", "@fx/u"); !slices.Equal(vs, []string{"1.0.0", "1.1.0"}) {
		t.Fatalf("versions after unpublishing 1.2.0: %v", vs)
	}
	doc := e.packument("solo", "@fx%2fu", fullDoc)
	if distTags(doc)["next"] != nil || len(docVersions(doc)) != 2 {
		t.Fatalf("packument %v", doc["dist-tags"])
	}
	// A stale _rev is a conflict and changes nothing.
	if r := e.do("DELETE", "solo", "@fx%2fu/-rev/1-0", nil); r.status != 409 {
		t.Fatalf("stale rev: %d %s", r.status, r.body)
	}
	e.az.set("codeartifact:DeletePackageVersions", true)
	rev := e.get("solo", "@fx%2fu?write=true").json(t)["_rev"].(string)
	if r := e.do("DELETE", "solo", "@fx%2fu/-rev/"+rev, nil); r.status != 403 {
		t.Fatalf("denied unpublish: %d", r.status)
	}
	e.az.set("codeartifact:DeletePackageVersions", false)
	// The version can be published again (CodeArtifact allows it).
	e.publish("solo", pkg{name: "@fx/u", version: "1.2.0"})
	e.unpublish("solo", "@fx/u", "1.0.0")
	e.unpublish("solo", "@fx/u", "1.1.0")
	e.unpublish("solo", "@fx/u", "1.2.0") // the last one: the package goes
	if vs := e.versions("solo", "@fx/u"); vs != nil {
		t.Fatalf("versions after unpublishing everything: %v", vs)
	}
	if r := e.get("solo", "@fx%2fu"); r.status != 404 {
		t.Fatalf("packument after unpublish: %d", r.status)
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Fatalf("blobs left: %v", files)
	}
}

// allowUpstream gives app's package both origins, as an administrator
// does to publish into a repository that also reads upstream.
func (e *env) allowUpstream(repo, name string) {
	e.t.Helper()
	must(e.t, func() error {
		_, err := e.svc.PutPackageOriginConfiguration(bg, e.pkgRef(repo, name), artifact.Allow, artifact.Allow)
		return err
	})
}

func TestUpstreamDistTagsWin(t *testing.T) {
	e := newEnv(t)
	e.publish("store", pkg{name: "fx-m", version: "1.0.0"})
	e.publish("store", pkg{name: "fx-m", version: "1.0.1"})
	e.allowUpstream("app", "fx-m")
	e.publish("app", pkg{name: "fx-m", version: "1.0.2", tags: map[string]string{"latest": "1.0.2", "next": "1.0.2"}})
	doc := e.packument("app", "fx-m", fullDoc)
	if len(docVersions(doc)) != 3 {
		t.Fatalf("versions %v", docVersions(doc))
	}
	// The upstream's latest shadows the downstream's (spec 3.4); a tag
	// only downstream stays.
	if tags := distTags(doc); tags["latest"] != "1.0.1" || tags["next"] != "1.0.2" {
		t.Fatalf("dist-tags %v", tags)
	}
	v := docVersions(doc)["1.0.0"].(map[string]any)
	if got := v["dist"].(map[string]any)["tarball"]; got != e.base+"app/fx-m/-/fx-m-1.0.0.tgz" {
		t.Fatalf("an upstream version's tarball points at %v", got)
	}
	if r := e.get("app", "fx-m/-/fx-m-1.0.0.tgz"); r.status != 200 {
		t.Fatalf("tarball through the upstream: %d", r.status)
	}
	if vs := e.versions("app", "fx-m"); !slices.Equal(vs, []string{"1.0.0", "1.0.2"}) {
		t.Fatalf("retained %v", vs)
	}
	// Without upstream=ALLOW, the upstream's versions and tags are not shown.
	must(t, func() error {
		_, err := e.svc.PutPackageOriginConfiguration(bg, e.pkgRef("app", "fx-m"), artifact.Allow, artifact.Block)
		return err
	})
	doc = e.packument("app", "fx-m", fullDoc)
	if tags := distTags(doc); len(docVersions(doc)) != 2 || tags["latest"] != "1.0.2" {
		t.Fatalf("blocked: versions %v, tags %v", docVersions(doc), tags)
	}
}

func TestExternalRegistry(t *testing.T) {
	e := newEnv(t)
	e.reg.Add(npmtest.Package{Name: "fx-up", Version: "1.0.0"})
	e.reg.Add(npmtest.Package{Name: "fx-up", Version: "1.1.0", Dependencies: map[string]string{"fx-a": "^1.0.0"}})
	e.reg.Add(npmtest.Package{Name: "fx-up", Version: "2.0.0-rc.1"})
	e.reg.SetDistTag("fx-up", "next", "2.0.0-rc.1")
	e.reg.Add(npmtest.Package{Name: "@ext/pkg", Version: "3.0.0"})

	for range 3 {
		doc := e.packument("app", "fx-up", corgi)
		if len(docVersions(doc)) != 3 || distTags(doc)["latest"] != "1.1.0" || distTags(doc)["next"] != "2.0.0-rc.1" {
			t.Fatalf("packument %v", doc)
		}
		v := docVersions(doc)["1.1.0"].(map[string]any)
		if got := v["dist"].(map[string]any)["tarball"]; got != e.base+"app/fx-up/-/fx-up-1.1.0.tgz" {
			t.Fatalf("tarball URL not rewritten: %v", got)
		}
		e.packument("app", "fx-up", fullDoc)
		e.packument("store", "fx-up", fullDoc)
	}
	if n := e.reg.Count("/fx-up"); n != 1 {
		t.Fatalf("the upstream packument was fetched %d times", n)
	}
	for range 2 {
		r := e.get("app", "fx-up/-/fx-up-1.1.0.tgz")
		if r.status != 200 || !bytes.Equal(r.body, e.reg.Get("fx-up", "1.1.0").Tarball) {
			t.Fatalf("tarball: %d", r.status)
		}
	}
	if n := e.reg.Count("/fx-up/-/fx-up-1.1.0.tgz"); n != 1 {
		t.Fatalf("the upstream tarball was fetched %d times", n)
	}
	// Ingested into the connection's holder and the requested repository,
	// with the upstream's metadata and the ingested origin controls.
	for _, repo := range []string{"store", "app"} {
		if vs := e.versions(repo, "fx-up"); !slices.Equal(vs, []string{"1.1.0"}) {
			t.Fatalf("%s holds %v", repo, vs)
		}
		ps, _, err := e.svc.ListPackages(bg, e.repoRef(repo), artifact.PackageFilter{Format: artifact.FormatNpm}, artifact.PageRequest{})
		if err != nil || len(ps) != 1 || ps[0].Publish != artifact.Block || ps[0].Upstream != artifact.Allow {
			t.Fatalf("%s packages %+v %v", repo, ps, err)
		}
		v, err := e.svc.DescribePackageVersion(bg, e.verRef(repo, "fx-up", "1.1.0"))
		if err != nil || v.OriginType != artifact.OriginExternal || v.Summary != "fixture package fx-up" ||
			len(v.Dependencies) != 1 || v.Dependencies[0].Package != "fx-a" {
			t.Fatalf("%s version %+v %v", repo, v, err)
		}
	}
	// The packument still lists every upstream version, the ingested one
	// from the store now, with the registry's publish time.
	doc := e.packument("app", "fx-up", fullDoc)
	if len(docVersions(doc)) != 3 || doc["time"].(map[string]any)["1.1.0"] != e.reg.Get("fx-up", "1.1.0").Time.Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("after ingestion: %v", doc["time"])
	}
	// Publishing a version the public registry has is refused (upstream=ALLOW).
	if r := e.do("PUT", "app", "fx-up", pkg{name: "fx-up", version: "1.0.0"}.body()); r.status != 409 {
		t.Fatalf("publish over a public version: %d %s", r.status, r.body)
	}
	// Scoped names through the registry.
	if doc := e.packument("app", "@ext%2fpkg", corgi); len(docVersions(doc)) != 1 {
		t.Fatalf("scoped upstream %v", doc)
	}
	if r := e.get("app", "@ext/pkg/-/pkg-3.0.0.tgz"); r.status != 200 || !bytes.Equal(r.body, e.reg.Get("@ext/pkg", "3.0.0").Tarball) {
		t.Fatalf("scoped upstream tarball: %d", r.status)
	}
	// A repository without the connection shows none of it.
	if r := e.get("solo", "fx-up"); r.status != 404 {
		t.Fatalf("solo: %d %s", r.status, r.body)
	}
	// A failing registry hides nothing that is stored.
	e.restart()
	e.reg.Down.Store(true)
	if r := e.get("app", "fx-up/-/fx-up-1.1.0.tgz"); r.status != 200 {
		t.Fatalf("stored tarball with the registry down: %d", r.status)
	}
	if r := e.get("app", "fx-up/-/fx-up-1.0.0.tgz"); r.status != 503 && r.status != 404 {
		t.Fatalf("unstored tarball with the registry down: %d %s", r.status, r.body)
	}
	if doc := e.packument("app", "fx-up", fullDoc); len(docVersions(doc)) != 1 {
		t.Fatalf("packument with the registry down: %v", docVersions(doc))
	}
	if r := e.get("app", "fx-never"); r.status != 503 {
		t.Fatalf("unknown package with the registry down: %d %s", r.status, r.body)
	}
}

func TestStatuses(t *testing.T) {
	e := newEnv(t)
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		e.publish("solo", pkg{name: "fx-s", version: v})
	}
	setStatus := func(repo, version, status string) {
		t.Helper()
		_, err := e.svc.UpdatePackageVersionsStatus(bg, e.pkgRef(repo, "fx-s"), artifact.StatusUpdate{Versions: []string{version}, TargetStatus: status})
		if err != nil {
			t.Fatal(err)
		}
	}
	e.packument("solo", "fx-s", corgi)
	setStatus("solo", "1.1.0", artifact.StatusUnlisted)
	setStatus("solo", "1.2.0", artifact.StatusArchived)
	doc := e.packument("solo", "fx-s", corgi)
	if vs := docVersions(doc); len(vs) != 1 || vs["1.0.0"] == nil || distTags(doc)["latest"] != "1.0.0" {
		t.Fatalf("versions %v tags %v", vs, doc["dist-tags"])
	}
	if r := e.get("solo", "fx-s/-/fx-s-1.1.0.tgz"); r.status != 200 {
		t.Fatalf("unlisted tarball: %d", r.status)
	}
	if r := e.get("solo", "fx-s/-/fx-s-1.2.0.tgz"); r.status != 404 {
		t.Fatalf("archived tarball: %d", r.status)
	}
	// A version the public registry has too stays hidden when the
	// repository holding the connection archived it.
	e.reg.Add(npmtest.Package{Name: "fx-s", Version: "1.0.0"})
	e.reg.Add(npmtest.Package{Name: "fx-s", Version: "1.2.0"})
	e.reg.Add(npmtest.Package{Name: "fx-s", Version: "1.3.0"})
	e.allowUpstream("store", "fx-s")
	for _, v := range []string{"1.1.0", "1.2.0"} {
		_, err := e.svc.CopyPackageVersions(bg, artifact.CopyRequest{Domain: artifact.DomainRef{Name: "dx"}, SourceRepository: "solo",
			DestinationRepository: "store", Format: artifact.FormatNpm, Package: "fx-s", VersionSelection: artifact.VersionSelection{Versions: []string{v}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	vs := docVersions(e.packument("app", "fx-s", fullDoc))
	if len(vs) != 2 || vs["1.0.0"] == nil || vs["1.3.0"] == nil {
		t.Fatalf("through app: %v", vs)
	}
}

func TestConditionalAndEncodings(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "fx-c", version: "1.0.0"})
	ident := e.get("solo", "fx-c", "Accept", corgi)
	tag := ident.header.Get("ETag")
	if ident.status != 200 || tag == "" || ident.header.Get("Content-Length") != itoa(len(ident.body)) ||
		!strings.Contains(ident.header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("identity: %d %v", ident.status, ident.header)
	}
	if r := e.get("solo", "fx-c", "Accept", corgi, "If-None-Match", tag); r.status != 304 || len(r.body) != 0 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	gz := e.get("solo", "fx-c", "Accept", corgi, "Accept-Encoding", "gzip,deflate")
	if gz.header.Get("Content-Encoding") != "gzip" || gz.header.Get("ETag") == tag {
		t.Fatalf("gzip: %v", gz.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(zr); !bytes.Equal(b, ident.body) {
		t.Fatal("gzip does not decode to the identity bytes")
	}
	zs := e.get("solo", "fx-c", "Accept", corgi, "Accept-Encoding", "gzip;q=0.5, zstd")
	if zs.header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("zstd: %v", zs.header)
	}
	dec, _ := zstd.NewReader(nil)
	if b, err := dec.DecodeAll(zs.body, nil); err != nil || !bytes.Equal(b, ident.body) {
		t.Fatalf("zstd does not decode to the identity bytes: %v", err)
	}
	if r := e.get("solo", "fx-c", "Accept", corgi, "Accept-Encoding", "zstd", "If-None-Match", zs.header.Get("ETag")); r.status != 304 {
		t.Fatalf("zstd If-None-Match: %d", r.status)
	}
	if r := e.do("HEAD", "solo", "fx-c", nil, "Accept", corgi); r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != itoa(len(ident.body)) {
		t.Fatalf("HEAD: %d %v", r.status, r.header)
	}
	// A change gives another ETag.
	e.publish("solo", pkg{name: "fx-c", version: "1.0.1"})
	if r := e.get("solo", "fx-c", "Accept", corgi, "If-None-Match", tag); r.status != 200 || r.header.Get("ETag") == tag {
		t.Fatalf("after a publish: %d", r.status)
	}
	// The full and abbreviated documents differ.
	if r := e.get("solo", "fx-c", "Accept", fullDoc); r.header.Get("ETag") == e.get("solo", "fx-c", "Accept", corgi).header.Get("ETag") {
		t.Fatal("full and abbreviated share an ETag")
	}
}

func TestSmallRoutes(t *testing.T) {
	e := newEnv(t)
	if r := e.get("solo", "-/ping?write=true"); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("ping: %d %s", r.status, r.body)
	}
	if r := e.get("solo", "-/whoami"); r.status != 200 || r.json(t)["username"] != "alice" {
		t.Fatalf("whoami: %d %s", r.status, r.body)
	}
	e.publish("solo", pkg{name: "fx-search-one", version: "1.0.0"})
	// A newer version under another tag: search shows what latest names.
	e.publish("solo", pkg{name: "fx-search-one", version: "1.1.0", tags: map[string]string{"next": "1.1.0"}})
	e.publish("solo", pkg{name: "@fx/search-two", version: "2.0.0"})
	e.publish("solo", pkg{name: "other", version: "0.1.0"})
	r := e.get("solo", "-/v1/search?text=search&size=20&from=0")
	var res struct {
		Objects []struct {
			Package struct{ Name, Scope, Version, Description, Date string }
		}
		Total int
	}
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 || res.Total != 2 || len(res.Objects) != 2 {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	got := map[string]string{}
	for _, o := range res.Objects {
		got[o.Package.Name] = o.Package.Scope + " " + o.Package.Version + " " + o.Package.Description
	}
	if got["fx-search-one"] != "unscoped 1.0.0 fixture package fx-search-one" || got["@fx/search-two"] != "fx 2.0.0 fixture package @fx/search-two" {
		t.Fatalf("search results %v", got)
	}
	if r = e.get("solo", "-/v1/search?text=search&size=1&from=1"); !strings.Contains(string(r.body), `"total":2`) || strings.Count(string(r.body), `"searchScore"`) != 1 {
		t.Fatalf("search page: %s", r.body)
	}
	// Audit: an empty report where no public registry is reachable.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"name":"x","version":"1.0.0","requires":{"a":"1"},"dependencies":{"a":{"version":"1.0.0"},"b":{"version":"2.0.0"}}}`))
	zw.Close()
	r = e.do("POST", "solo", "-/npm/v1/security/audits/quick", gz.Bytes(), "Content-Encoding", "gzip")
	if r.status != 200 || !strings.Contains(string(r.body), `"totalDependencies":2`) || !strings.Contains(string(r.body), `"advisories":{}`) {
		t.Fatalf("quick audit: %d %s", r.status, r.body)
	}
	if r = e.do("POST", "solo", "-/npm/v1/security/advisories/bulk", []byte(`{"a":["1.0.0"]}`)); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("bulk audit: %d %s", r.status, r.body)
	}
	// Relayed where public:npmjs is reachable (the fixture answers {});
	// the fixture has no quick audit: an empty report then.
	if r = e.do("POST", "app", "-/npm/v1/security/advisories/bulk", []byte(`{"a":["1.0.0"]}`)); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("relayed bulk audit: %d %s", r.status, r.body)
	}
	if n := e.reg.Count("/-/npm/v1/security/advisories/bulk"); n != 1 {
		t.Fatalf("the bulk audit reached the registry %d times", n)
	}
	if r = e.do("POST", "app", "-/npm/v1/security/audits/quick", []byte(`{"dependencies":{}}`)); r.status != 200 || !strings.Contains(string(r.body), `"totalDependencies":0`) {
		t.Fatalf("quick audit with a failing upstream: %d %s", r.status, r.body)
	}
	// Unknown routes, methods and reads without permission.
	if r = e.get("solo", "-/nope"); r.status != 404 {
		t.Fatalf("unknown route: %d", r.status)
	}
	if r = e.do("DELETE", "solo", "fx-search-one", nil); r.status != 405 {
		t.Fatalf("DELETE package: %d", r.status)
	}
	e.az.set("codeartifact:ReadFromRepository", true)
	for _, path := range []string{"other", "other/-/other-0.1.0.tgz", "-/ping", "-/v1/search?text=x", "-/package/other/dist-tags"} {
		if r = e.get("solo", path); r.status != 403 {
			t.Errorf("GET %s without ReadFromRepository: %d", path, r.status)
		}
	}
	// The update notifier's GET <registry>npm is a packument GET.
	e.az.set("codeartifact:ReadFromRepository", false)
	if r = e.get("solo", "npm", "Accept", corgi); r.status != 404 || r.json(t)["error"] != "not_found" {
		t.Fatalf("GET npm: %d %s", r.status, r.body)
	}
}

func TestConcurrency(t *testing.T) {
	e := newEnv(t)
	e.reg.Add(npmtest.Package{Name: "fx-cc", Version: "1.0.0", Padding: 200 << 10})
	// Concurrent cold reads of one upstream tarball share one download:
	// the registry holds it until the other seven readers have joined.
	var joins atomic.Int32
	e.onJoin = func(string) { joins.Add(1) }
	e.restart()
	e.packument("app", "fx-cc", corgi)
	release := e.reg.Block("/fx-cc/-/fx-cc-1.0.0.tgz")
	var wg sync.WaitGroup
	bodies := make([][]byte, 8)
	for i := range bodies {
		wg.Go(func() { bodies[i] = e.get("app", "fx-cc/-/fx-cc-1.0.0.tgz").body })
	}
	for deadline := time.Now().Add(20 * time.Second); joins.Load() < 7 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, e.reg.Get("fx-cc", "1.0.0").Tarball) {
			t.Fatalf("reader %d got %d bytes", i, len(b))
		}
	}
	if n := e.reg.Count("/fx-cc/-/fx-cc-1.0.0.tgz"); n != 1 {
		t.Fatalf("the tarball was downloaded %d times", n)
	}
	// Concurrent publishes of one package, each with its own tag, while
	// the packument is read: every version and every tag lands.
	e.publish("solo", pkg{name: "fx-many", version: "0.0.1"})
	for i := range 8 {
		wg.Go(func() {
			v := "1.0." + itoa(i)
			if r := e.do("PUT", "solo", "fx-many", pkg{name: "fx-many", version: v, tags: map[string]string{"t" + itoa(i): v}}.body()); r.status != 201 {
				t.Errorf("publish %s: %d %s", v, r.status, r.body)
			}
		})
		wg.Go(func() { e.get("solo", "fx-many", "Accept", corgi) })
	}
	wg.Wait()
	doc := e.packument("solo", "fx-many", corgi)
	if len(docVersions(doc)) != 9 || len(distTags(doc)) != 9 {
		t.Fatalf("versions %d, tags %v", len(docVersions(doc)), distTags(doc))
	}
}

// A version whose Metadata is not a document this protocol wrote (an
// empty one here) still appears, its dist made from the stored tarball.
func TestVersionWithoutDocument(t *testing.T) {
	e := newEnv(t)
	tgz := []byte("not really a tarball")
	_, err := e.svc.PutAsset(bg, artifact.PutAssetRequest{VersionRef: e.verRef("solo", "fx-raw", "1.0.0"), Asset: "package.tgz",
		NewStatus: artifact.StatusPublished}, bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	for _, accept := range []string{fullDoc, corgi} {
		doc := e.packument("solo", "fx-raw", accept)
		v, _ := docVersions(doc)["1.0.0"].(map[string]any)
		dist, _ := v["dist"].(map[string]any)
		if v["name"] != "fx-raw" || v["version"] != "1.0.0" || dist["integrity"] != npmtest.Integrity(tgz) || dist["shasum"] != npmtest.Shasum(tgz) ||
			dist["tarball"] != e.base+"solo/fx-raw/-/fx-raw-1.0.0.tgz" || distTags(doc)["latest"] != "1.0.0" {
			t.Fatalf("%s: %v", accept, doc)
		}
	}
}

// tarballContents counts a .tgz's regular files and their bytes.
func tarballContents(t *testing.T, tgz []byte) (int, int64) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files, size := 0, int64(0)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, size
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files++
			size += h.Size
		}
	}
}

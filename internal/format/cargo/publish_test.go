package cargo

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// checkDemoMetadata checks the metadata cargo sent for the demo crate
// (realcargo_test.go). yIndex is registry y's index URL as cargo gives
// it, "" when unknown (any sparse URL of a registry at /y/).
func checkDemoMetadata(t *testing.T, m *Metadata, yIndex string) {
	t.Helper()
	if m.Name != "Demo_Crate" || m.Vers != "0.1.0" || m.Description != "demo crate" || m.License != "MIT" ||
		m.Readme != demoReadme || m.ReadmeFile != "README.md" || m.Links != "demo" || m.RustVersion != "1.70" ||
		!slices.Equal(m.Keywords, []string{"demo"}) || m.Homepage != "" || m.Documentation != "" {
		t.Errorf("metadata: %+v", m)
	}
	if yIndex == "" {
		for _, d := range m.Deps {
			if d.Registry != "" {
				yIndex = d.Registry
			}
		}
		if !strings.HasPrefix(yIndex, "sparse+http://127.0.0.1:") || !strings.HasSuffix(yIndex, "/y/") {
			t.Errorf("registry of oth: %q", yIndex)
		}
	}
	want := []PublishDep{
		{Name: "dep-a", VersionReq: "^0.1", Features: []string{"extra"}, Optional: true, Kind: "normal"},
		{Name: "oth", VersionReq: "^1.2", Features: []string{}, DefaultFeatures: true, Kind: "normal", Registry: yIndex},
		{Name: "dep-b", VersionReq: "^0.1.0", Features: []string{}, DefaultFeatures: true, Kind: "normal", ExplicitNameInToml: "renamed"},
		{Name: "dep-a", VersionReq: "^0.1", Features: []string{}, DefaultFeatures: true, Kind: "dev"},
		{Name: "oth", VersionReq: "^1", Features: []string{}, DefaultFeatures: true, Kind: "build", Registry: yIndex},
		{Name: "oth", VersionReq: "=1.2.0", Features: []string{}, DefaultFeatures: true, Target: "cfg(unix)", Kind: "normal", Registry: yIndex},
	}
	if !slices.EqualFunc(m.Deps, want, func(a, b PublishDep) bool {
		return a.Name == b.Name && a.VersionReq == b.VersionReq && slices.Equal(a.Features, b.Features) &&
			a.Optional == b.Optional && a.DefaultFeatures == b.DefaultFeatures && a.Target == b.Target &&
			a.Kind == b.Kind && a.Registry == b.Registry && a.ExplicitNameInToml == b.ExplicitNameInToml
	}) {
		t.Errorf("deps:\n got %+v\nwant %+v", m.Deps, want)
	}
	wantFeatures := map[string][]string{"default": {"std"}, "std": {}, "a": {"dep:dep-a", "renamed/extra"}, "b": {"dep-a?/extra", "std"}}
	if len(m.Features) != len(wantFeatures) {
		t.Errorf("features: %v", m.Features)
	}
	for k, v := range wantFeatures {
		if !slices.Equal(m.Features[k], v) {
			t.Errorf("feature %s: %v, want %v", k, m.Features[k], v)
		}
	}
}

// fixtureBody is the publish body cargo 1.95 sent for the demo crate
// (written by TestRealCargo with COFFER_UPDATE_CARGO_FIXTURES=1).
func fixtureBody(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/publish-demo.bin")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitBody takes a well-formed publish body apart.
func splitBody(b []byte) (meta, crate []byte) {
	n := binary.LittleEndian.Uint32(b)
	meta = b[4 : 4+n]
	return meta, b[8+n:]
}

// frame builds a publish body.
func frame(meta, crate []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(meta)))
	b = append(b, meta...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(crate)))
	return append(b, crate...)
}

func TestReadPublishFixture(t *testing.T) {
	body := fixtureBody(t)
	meta, crate := splitBody(body)
	var got bytes.Buffer
	up, err := ReadPublish(bytes.NewReader(body), int64(len(meta)), int64(len(crate)), &got)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(crate)
	if !bytes.Equal(got.Bytes(), crate) || up.CrateSize != int64(len(crate)) || up.Cksum != hex.EncodeToString(sum[:]) {
		t.Errorf("crate: %d bytes, size %d, cksum %s", got.Len(), up.CrateSize, up.Cksum)
	}
	checkDemoMetadata(t, &up.Metadata, "")

	// The index line it makes: deps renamed, sorted, the other registry
	// kept; dep: and ?/ features in features2 with v 2.
	var y string
	for _, d := range up.Metadata.Deps {
		if d.Registry != "" {
			y = d.Registry
		}
	}
	self := strings.Replace(y, "/y/", "/x/", 1)
	e := NewIndexEntry(&up.Metadata, up.Cksum, self)
	want := `{"name":"Demo_Crate","vers":"0.1.0","deps":[` +
		`{"name":"dep-a","req":"^0.1","features":["extra"],"optional":true,"default_features":false,"target":null,"kind":"normal"},` +
		`{"name":"dep-a","req":"^0.1","features":[],"optional":false,"default_features":true,"target":null,"kind":"dev"},` +
		`{"name":"oth","req":"=1.2.0","features":[],"optional":false,"default_features":true,"target":"cfg(unix)","kind":"normal","registry":"Y"},` +
		`{"name":"oth","req":"^1.2","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal","registry":"Y"},` +
		`{"name":"oth","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"build","registry":"Y"},` +
		`{"name":"renamed","req":"^0.1.0","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal","package":"dep-b"}],` +
		`"cksum":"` + up.Cksum + `","features":{"default":["std"],"std":[]},"features2":{"a":["dep:dep-a","renamed/extra"],"b":["dep-a?/extra","std"]},` +
		`"yanked":false,"links":"demo","rust_version":"1.70","v":2}`
	want = strings.ReplaceAll(want, `"Y"`, `"`+y+`"`)
	if got := string(e.AppendJSON(nil)); got != want {
		t.Errorf("index line\n%s\nwant\n%s", got, want)
	}
	roundTrip(t, []byte(want))
	// Published to registry y itself, oth's registry is this one: none.
	for _, d := range IndexDeps(up.Metadata.Deps, strings.TrimPrefix(y, "sparse+")) {
		if d.Registry != "" {
			t.Errorf("dependency %s keeps registry %s", d.Name, d.Registry)
		}
	}
}

// Every truncation of the fixture is refused as a validation fault, and
// so is a byte after it.
func TestReadPublishTruncatedAndTrailing(t *testing.T) {
	body := fixtureBody(t)
	for n := 0; n < len(body); n++ {
		_, err := ReadPublish(bytes.NewReader(body[:n]), 1<<20, 1<<20, io.Discard)
		if fault.KindOf(err) != fault.KindValidation {
			t.Fatalf("%d of %d bytes: %v", n, len(body), err)
		}
	}
	_, err := ReadPublish(bytes.NewReader(append(bytes.Clone(body), 0)), 1<<20, 1<<20, io.Discard)
	if fault.KindOf(err) != fault.KindValidation || !strings.Contains(err.Error(), "after") {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestReadPublishLimits(t *testing.T) {
	body := fixtureBody(t)
	meta, crate := splitBody(body)
	var w countingWriter
	if _, err := ReadPublish(bytes.NewReader(body), int64(len(meta))-1, 1<<20, &w); fault.KindOf(err) != fault.KindQuotaExceeded || w.n != 0 {
		t.Errorf("JSON over its limit: %v, %d bytes written", err, w.n)
	}
	if _, err := ReadPublish(bytes.NewReader(body), 1<<20, int64(len(crate))-1, &w); fault.KindOf(err) != fault.KindQuotaExceeded || w.n != 0 {
		t.Errorf("crate over its limit: %v, %d bytes written", err, w.n)
	}
	// A declared length of 4 GiB is refused before anything is allocated.
	huge := binary.LittleEndian.AppendUint32(nil, 0xffffffff)
	if _, err := ReadPublish(bytes.NewReader(huge), 10<<20, 10<<20, &w); fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("4 GiB JSON: %v", err)
	}
	if _, err := ReadPublish(bytes.NewReader(frame(meta, nil)), 1<<20, 1<<20, &w); fault.KindOf(err) != fault.KindValidation {
		t.Errorf("empty crate: %v", err)
	}
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// The crate is streamed: a 64 MiB crate goes through ReadPublish with a
// bounded buffer, never whole in memory.
func TestReadPublishStreams(t *testing.T) {
	meta, _ := splitBody(fixtureBody(t))
	const size = 64 << 20
	head := binary.LittleEndian.AppendUint32(nil, uint32(len(meta)))
	head = append(head, meta...)
	head = binary.LittleEndian.AppendUint32(head, size)
	var w countingWriter
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	up, err := ReadPublish(io.MultiReader(bytes.NewReader(head), &repeatReader{left: size}), 1<<20, size, &w)
	runtime.ReadMemStats(&ms1)
	if err != nil || w.n != size || up.CrateSize != size {
		t.Fatalf("%v, %d written", err, w.n)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 4<<20 {
		t.Errorf("%d bytes allocated for a %d-byte crate", alloc, size)
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

// Errors of the writer and of the body come back as themselves, not as a
// fault of the client's data.
func TestReadPublishPassesErrorsThrough(t *testing.T) {
	body := fixtureBody(t)
	_, err := ReadPublish(bytes.NewReader(body), 1<<20, 1<<20, failingWriter{})
	if !errors.Is(err, errDiskFull) || fault.KindOf(err) != fault.KindInternal {
		t.Errorf("writer error: %v", err)
	}
	for _, n := range []int{2, 100, len(body) - 10} {
		_, err = ReadPublish(&failingReader{data: body[:n]}, 1<<20, 1<<20, io.Discard)
		if !errors.Is(err, errFailingReader) {
			t.Errorf("reader error after %d bytes: %v", n, err)
		}
	}
	// A body limited by its caller reports the caller's error.
	tooBig := fault.Quota("asset", "", "body too large")
	_, err = ReadPublish(&failingReader{data: body[:50], err: tooBig}, 1<<20, 1<<20, io.Discard)
	if fault.KindOf(err) != fault.KindQuotaExceeded {
		t.Errorf("caller's limit: %v", err)
	}
}

func TestParseMetadata(t *testing.T) {
	meta, _ := splitBody(fixtureBody(t))
	base := map[string]any{}
	if err := json.Unmarshal(meta, &base); err != nil {
		t.Fatal(err)
	}
	with := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(meta, &m)
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	dep := func(m map[string]any) map[string]any { return m["deps"].([]any)[0].(map[string]any) }
	for name, raw := range map[string][]byte{
		"not json":          []byte("{"),
		"not an object":     []byte("[]"),
		"trailing data":     append(bytes.Clone(meta), []byte(" {}")...),
		"invalid UTF-8":     bytes.Replace(meta, []byte("demo crate"), []byte("demo \xff"), 1),
		"name missing":      with(func(m map[string]any) { delete(m, "name") }),
		"name reserved":     with(func(m map[string]any) { m["name"] = "std" }),
		"name invalid":      with(func(m map[string]any) { m["name"] = "a/b" }),
		"name a number":     with(func(m map[string]any) { m["name"] = 5 }),
		"version invalid":   with(func(m map[string]any) { m["vers"] = "1.0" }),
		"deps not array":    with(func(m map[string]any) { m["deps"] = map[string]any{} }),
		"dep name invalid":  with(func(m map[string]any) { dep(m)["name"] = "../x" }),
		"dep rename":        with(func(m map[string]any) { dep(m)["explicit_name_in_toml"] = "a b" }),
		"dep no req":        with(func(m map[string]any) { dep(m)["version_req"] = "" }),
		"dep kind":          with(func(m map[string]any) { dep(m)["kind"] = "runtime" }),
		"dep target ctrl":   with(func(m map[string]any) { dep(m)["target"] = "cfg(unix)\n" }),
		"dep feature":       with(func(m map[string]any) { dep(m)["features"] = []string{"a b"} }),
		"feature name":      with(func(m map[string]any) { m["features"] = map[string]any{"a/b": []string{}} }),
		"feature name dep:": with(func(m map[string]any) { m["features"] = map[string]any{"dep:x": []string{}} }),
		"feature value":     with(func(m map[string]any) { m["features"] = map[string]any{"a": []string{"x/y/z"}} }),
		"feature value dep": with(func(m map[string]any) { m["features"] = map[string]any{"a": []string{"dep:"}} }),
		"links long":        with(func(m map[string]any) { m["links"] = strings.Repeat("l", 2000) }),
	} {
		_, err := ParseMetadata(raw)
		if fault.KindOf(err) != fault.KindValidation {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, raw := range map[string][]byte{
		"fixture":       meta,
		"no kind":       with(func(m map[string]any) { delete(dep(m), "kind") }),
		"unknown field": with(func(m map[string]any) { m["future"] = []int{1} }),
		"nulls":         with(func(m map[string]any) { m["deps"], m["features"], m["keywords"], m["badges"] = nil, nil, nil, nil }),
		"features": with(func(m map[string]any) {
			m["features"] = map[string]any{"c++17": []string{"x?/y", "dep:_z", "128bit", "a.b"}}
		}),
	} {
		m, err := ParseMetadata(raw)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if name == "no kind" && m.Deps[0].Kind != "normal" {
			t.Errorf("kind defaults to %q", m.Deps[0].Kind)
		}
	}
}

// ReadMetadata reads nothing past the metadata, so that a handler can
// authorize the publish before any of the crate is read; ReadCrate then
// takes the rest.
func TestReadMetadataThenCrate(t *testing.T) {
	body := fixtureBody(t)
	meta, crate := splitBody(body)
	r := bytes.NewReader(body)
	m, err := ReadMetadata(r, 1<<20)
	if err != nil || m.Name != "Demo_Crate" {
		t.Fatal(m, err)
	}
	if read := len(body) - r.Len(); read != 4+len(meta) {
		t.Errorf("ReadMetadata read %d bytes, want %d", read, 4+len(meta))
	}
	var out bytes.Buffer
	size, cksum, err := ReadCrate(r, 1<<20, &out)
	sum := sha256.Sum256(crate)
	if err != nil || size != int64(len(crate)) || cksum != hex.EncodeToString(sum[:]) || !bytes.Equal(out.Bytes(), crate) {
		t.Errorf("ReadCrate: %d %s %v", size, cksum, err)
	}
}

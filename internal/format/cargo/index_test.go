package cargo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// roundTrip checks that an index line parses and renders back to the same
// bytes, whitespace aside (the public index is written without any; the
// copy in testdata has a space after each separator).
func roundTrip(t *testing.T, line []byte) {
	t.Helper()
	e, err := ParseIndexLine(line)
	if err != nil {
		t.Fatalf("%s: %v", line[:min(len(line), 80)], err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, line); err != nil {
		t.Fatal(err)
	}
	if got := e.AppendJSON(nil); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("rendered\n%s\nwant\n%s", got, want.Bytes())
	}
}

// The lines of the public sparse index (index.crates.io, fetched with
// curl: serde, clap, openssl-sys, rustls, log; old and new versions, a
// yanked one, features2 with v 2, links, renamed and target-specific
// dependencies, pubtime) render back to the same bytes.
func TestIndexLinesOfThePublicIndex(t *testing.T) {
	data, err := os.ReadFile("testdata/crates-io-index.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) < 10 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		roundTrip(t, l)
	}
	clap, err := ParseIndexLine(lines[4])
	if err != nil {
		t.Fatal(err)
	}
	if clap.Name != "clap" || clap.V != 2 || len(clap.Features2["derive"]) != 1 || clap.Pubtime.IsZero() || clap.RustVersion == "" {
		t.Errorf("clap: %+v", clap)
	}
}

// COFFER_CARGO_INDEX_DIR=<dir of index files> round-trips every line of
// each file (index files downloaded from the public index).
func TestIndexFilesFromEnv(t *testing.T) {
	dir := os.Getenv("COFFER_CARGO_INDEX_DIR")
	if dir == "" {
		t.Skip("COFFER_CARGO_INDEX_DIR not set")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			roundTrip(t, sc.Bytes())
			n++
		}
	}
	t.Logf("%d lines of %d files", n, len(files))
}

func TestAppendJSON(t *testing.T) {
	e := IndexEntry{
		Name: "foo-bar", Vers: "1.0.0-rc.1+build",
		Deps: []IndexDep{
			{Name: "a", Req: "^1", DefaultFeatures: true, Kind: "normal"},
			{Name: "b_alias", Req: "=2.0.0", Features: []string{"x", "<&>"}, Optional: true, Target: "cfg(unix)", Kind: "build", Registry: "https://github.com/rust-lang/crates.io-index", Package: "b"},
			{Name: "c", Req: "*"},
		},
		Cksum:    strings.Repeat("ab", 32),
		Features: map[string][]string{"z": nil, "default": {"a"}, "B": {}},
		Yanked:   true, Links: "foo", RustVersion: "1.74.1",
		Pubtime: time.Date(2024, 2, 3, 4, 5, 6, 7, time.FixedZone("x", 3600)),
	}
	want := `{"name":"foo-bar","vers":"1.0.0-rc.1+build","deps":[` +
		`{"name":"a","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"normal"},` +
		`{"name":"b_alias","req":"=2.0.0","features":["x","<&>"],"optional":true,"default_features":false,"target":"cfg(unix)","kind":"build","registry":"https://github.com/rust-lang/crates.io-index","package":"b"},` +
		`{"name":"c","req":"*","features":[],"optional":false,"default_features":false,"target":null,"kind":null}],` +
		`"cksum":"` + strings.Repeat("ab", 32) + `","features":{"B":[],"default":["a"],"z":[]},"yanked":true,"links":"foo","rust_version":"1.74.1","pubtime":"2024-02-03T03:05:06Z"}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	roundTrip(t, []byte(want))

	bare := IndexEntry{Name: "a", Vers: "0.0.0", Cksum: strings.Repeat("0", 64)}
	if got, want := string(bare.AppendJSON(nil)), `{"name":"a","vers":"0.0.0","deps":[],"cksum":"`+strings.Repeat("0", 64)+`","features":{},"yanked":false}`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestSplitFeatures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         map[string][]string
		plain, new map[string][]string
	}{
		{"none", map[string][]string{"f1": {"v1", "v2"}, "f2": {"v3"}}, map[string][]string{"f1": {"v1", "v2"}, "f2": {"v3"}}, nil},
		{"all", map[string][]string{"f1": {"dep:v1", "v2"}, "f2": {"v3", "v4?/v5"}}, map[string][]string{}, map[string][]string{"f1": {"dep:v1", "v2"}, "f2": {"v3", "v4?/v5"}}},
		{"mixed", map[string][]string{"f1": {"v1"}, "f2": {"dep:v3"}, "f3": {"v4", "v5?/v6"}}, map[string][]string{"f1": {"v1"}}, map[string][]string{"f2": {"dep:v3"}, "f3": {"v4", "v5?/v6"}}},
		{"nested plain", map[string][]string{"f1": {"f2"}, "f2": {}, "f3": {"f1"}}, map[string][]string{"f1": {"f2"}, "f2": {}, "f3": {"f1"}}, nil},
		// A feature enabling a features2 feature must move too, or cargo
		// before 1.60 would see a reference to a missing feature.
		{"nested mixed", map[string][]string{"f1": {"f2"}, "f2": {"f3"}, "f3": {"dep:foo"}, "f4": {"x/y"}}, map[string][]string{"f4": {"x/y"}}, map[string][]string{"f1": {"f2"}, "f2": {"f3"}, "f3": {"dep:foo"}}},
		{"weak without slash is plain", map[string][]string{"f": {"a?b"}}, map[string][]string{"f": {"a?b"}}, nil},
	} {
		plain, new := SplitFeatures(tc.in)
		if !reflect.DeepEqual(plain, tc.plain) || !reflect.DeepEqual(new, tc.new) {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, plain, new, tc.plain, tc.new)
		}
	}
}

func TestParseIndexLineRefuses(t *testing.T) {
	ck := strings.Repeat("a", 64)
	ok := `{"name":"x","vers":"1.0.0","deps":[],"cksum":"` + ck + `","features":{}}`
	if e, err := ParseIndexLine([]byte(ok)); err != nil || e.Yanked || e.V != 0 || e.Features == nil {
		t.Fatalf("minimal line: %+v %v", e, err)
	}
	// Defaults as cargo reads them.
	e, err := ParseIndexLine([]byte(`{"name":"x","vers":"1.0.0","deps":[{"name":"d","req":"^1"}],"cksum":"` + ck + `","yanked":null,"v":1}`))
	if err != nil || !e.Deps[0].DefaultFeatures || e.Deps[0].Optional || e.Deps[0].Features == nil || e.V != 1 {
		t.Errorf("defaults: %+v %v", e, err)
	}
	for _, bad := range []string{
		``, `[]`, `{"name":"x"`, `not json`,
		strings.Replace(ok, `"x"`, `"1x"`, 1),
		strings.Replace(ok, `"x"`, `"x y"`, 1),
		strings.Replace(ok, `"1.0.0"`, `"1.0"`, 1),
		strings.Replace(ok, `"1.0.0"`, `"v1.0.0"`, 1),
		strings.Replace(ok, ck, strings.ToUpper(ck), 1),
		strings.Replace(ok, ck, ck[1:], 1),
		strings.Replace(ok, `"deps":[]`, `"deps":[{"name":"","req":"^1"}]`, 1),
		strings.Replace(ok, `"deps":[]`, `"deps":[{"name":"d","req":""}]`, 1),
		strings.Replace(ok, `"deps":[]`, `"deps":[{"name":"d","req":"1","kind":"weird"}]`, 1),
		strings.Replace(ok, `"deps":[]`, `"deps":[{"name":"d","req":"1","package":"a b"}]`, 1),
		strings.Replace(ok, `"deps":[]`, `"deps":{}`, 1),
		strings.Replace(ok, `}`, `,"v":3}`, 1),
		strings.Replace(ok, `"features":{}`, `"features":{},"v":0`, 1),
		strings.Replace(ok, `"features":{}`, `"features":{},"pubtime":"2024-01-01 00:00:00Z"`, 1),
		strings.Replace(ok, `"features":{}`, `"features":{},"pubtime":"2024-1-01T00:00:00Z"`, 1),
		strings.Replace(ok, `"features":{}`, `"features":{"a":"b"}`, 1),
		strings.Replace(ok, `"features":{}`, `"features":{},"yanked":"no"`, 1),
	} {
		if _, err := ParseIndexLine([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestReadIndex(t *testing.T) {
	ck := strings.Repeat("a", 64)
	line := func(v string) string {
		return `{"name":"x","vers":"` + v + `","deps":[],"cksum":"` + ck + `","features":{},"yanked":false}`
	}
	long := `{"name":"x","vers":"9.9.9","deps":[],"cksum":"` + ck + `","features":{"f":["` + strings.Repeat("a", 200_000) + `"]}}`
	in := line("1.0.0") + "\n\n  \r\n" + "garbage\n" + long + "\n" + line("1.0.1") + "\r\n" + `{"name":"x","vers":"2.0.0","v":3}` + "\n" + line("1.0.2") // no final newline
	var got []string
	var raws []string
	st, err := ReadIndex(strings.NewReader(in), IndexLimits{MaxLine: 100_000}, func(e *IndexEntry, raw []byte) error {
		got = append(got, e.Vers)
		raws = append(raws, string(raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "1.0.0,1.0.1,1.0.2" || st.Entries != 3 || st.Skipped != 3 || st.Err == nil {
		t.Errorf("got %v, %+v", got, st)
	}
	if raws[1] != line("1.0.1") {
		t.Errorf("raw line %q", raws[1])
	}
	// The same file with a limit that fits the long line.
	st, err = ReadIndex(strings.NewReader(in), IndexLimits{}, func(*IndexEntry, []byte) error { return nil })
	if err != nil || st.Entries != 4 || st.Skipped != 2 {
		t.Errorf("default limits: %+v %v", st, err)
	}
	// Too many lines.
	many := strings.Repeat(line("1.0.0")+"\n", 11)
	if _, err := ReadIndex(strings.NewReader(many), IndexLimits{MaxEntries: 10}, func(*IndexEntry, []byte) error { return nil }); !errors.Is(err, ErrIndexTooLarge) {
		t.Errorf("11 lines, limit 10: %v", err)
	}
	if st, err := ReadIndex(strings.NewReader(many[:len(many)-1]), IndexLimits{MaxEntries: 11}, func(*IndexEntry, []byte) error { return nil }); err != nil || st.Entries != 11 {
		t.Errorf("11 lines, limit 11: %+v %v", st, err)
	}
	// fn's error ends the read; so does the reader's.
	stop := errors.New("stop")
	if _, err := ReadIndex(strings.NewReader(many), IndexLimits{}, func(*IndexEntry, []byte) error { return stop }); err != stop {
		t.Errorf("fn error: %v", err)
	}
	if _, err := ReadIndex(&failingReader{data: []byte(line("1.0.0") + "\n" + line("1.0.1"))}, IndexLimits{}, func(*IndexEntry, []byte) error { return nil }); !errors.Is(err, errFailingReader) {
		t.Errorf("reader error: %v", err)
	}
}

var errFailingReader = errors.New("read failed")

// failingReader returns data, then err (errFailingReader if nil).
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		return 0, errFailingReader
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A long line is dropped as it is read, never held: reading a file of
// one 64 MiB line allocates far less than the line.
func TestReadIndexLongLineBounded(t *testing.T) {
	r := &repeatReader{left: 64 << 20}
	allocs := testing.AllocsPerRun(1, func() {
		r.left = 64 << 20
		st, err := ReadIndex(r, IndexLimits{MaxLine: 1 << 10}, func(*IndexEntry, []byte) error { return nil })
		if err != nil || st.Skipped != 1 {
			t.Errorf("%+v %v", st, err)
		}
	})
	if allocs > 100 {
		t.Errorf("%v allocations", allocs)
	}
}

// repeatReader reads as left bytes of 'a'.
type repeatReader struct{ left int }

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.left -= n
	return n, nil
}

func TestIndexDepsAndNewIndexEntry(t *testing.T) {
	m := &Metadata{
		Name: "Demo", Vers: "1.0.0", Links: "z", RustVersion: "1.80",
		Deps: []PublishDep{
			{Name: "b", VersionReq: "^1", Kind: "dev", DefaultFeatures: true},
			{Name: "b", VersionReq: "^1", Kind: "normal", Optional: true},
			{Name: "real", VersionReq: "=2", Kind: "build", ExplicitNameInToml: "alias", Registry: "https://github.com/rust-lang/crates.io-index"},
			{Name: "own", VersionReq: "^3", Kind: "normal", Registry: "sparse+https://h/cargo/r/"},
			{Name: "a", VersionReq: "^1", Kind: "normal", Target: "x86_64-unknown-linux-gnu"},
		},
		Features: map[string][]string{"default": {"x"}, "x": {"dep:b"}, "y": {}},
	}
	e := NewIndexEntry(m, strings.Repeat("c", 64), "https://h/cargo/r")
	want := `{"name":"Demo","vers":"1.0.0","deps":[` +
		`{"name":"a","req":"^1","features":[],"optional":false,"default_features":false,"target":"x86_64-unknown-linux-gnu","kind":"normal"},` +
		`{"name":"alias","req":"=2","features":[],"optional":false,"default_features":false,"target":null,"kind":"build","registry":"https://github.com/rust-lang/crates.io-index","package":"real"},` +
		`{"name":"b","req":"^1","features":[],"optional":true,"default_features":false,"target":null,"kind":"normal"},` +
		`{"name":"b","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"dev"},` +
		`{"name":"own","req":"^3","features":[],"optional":false,"default_features":false,"target":null,"kind":"normal"}],` +
		`"cksum":"` + strings.Repeat("c", 64) + `","features":{"y":[]},"features2":{"default":["x"],"x":["dep:b"]},"yanked":false,"links":"z","rust_version":"1.80","v":2}`
	if got := string(e.AppendJSON(nil)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if e2 := NewIndexEntry(&Metadata{Name: "a", Vers: "1.0.0"}, strings.Repeat("c", 64), ""); e2.V != 0 || e2.Features2 != nil || e2.Deps == nil {
		t.Errorf("plain entry: %+v", e2)
	}
}

package cargo

// Fuzz targets for every parser of what cargo clients and upstream
// registries send: the publish body, index lines and files, .crate
// archives, and request paths. CI runs each with
//
//	go test -run XXX -fuzz '^FuzzName$' -fuzztime 20s ./internal/format/cargo/

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// FuzzParsePublish: ReadPublish never panics, refuses with a fault of the
// client's data, and what it accepts makes an index line that reads back
// and renders to the same bytes.
func FuzzParsePublish(f *testing.F) {
	// Small seeds (the fixture's shapes, not its 2.8 KB): the fuzzer
	// minimises every new input, which costs in proportion to its size.
	crate := []byte("\x1f\x8b\x08\x00crate")
	f.Add(frame([]byte(`{"name":"Demo_Crate","vers":"0.1.0","deps":[{"optional":true,"default_features":false,"name":"dep-a","features":["extra"],"version_req":"^0.1","target":null,"kind":"normal"},{"name":"dep-b","features":[],"version_req":"^0.1.0","target":"cfg(unix)","kind":"build","registry":"sparse+http://h/y/","explicit_name_in_toml":"renamed"}],"features":{"a":["dep:dep-a","renamed/extra"],"b":["dep-a?/extra","std"],"std":[]},"readme":null,"links":"demo","rust_version":"1.70"}`), crate))
	f.Add(frame([]byte(`{"name":"a","vers":"1.0.0-rc.1+b","deps":[{"name":"b","version_req":"^1","kind":"dev","explicit_name_in_toml":"c"}],"features":{"x":["dep:b","b?/y"],"y":["x"]}}`), crate))
	f.Add(frame([]byte(`{"name":"a","vers":"1.0.0"}`), crate[:1]))
	f.Add(frame([]byte(`{"name":"a","vers":"1.0.0"}`), nil))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		up, err := ReadPublish(bytes.NewReader(data), 1<<16, 1<<16, &out)
		if err != nil {
			if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
				t.Fatalf("%v is a fault of kind %v", err, k)
			}
			return
		}
		sum := sha256.Sum256(out.Bytes())
		if up.CrateSize != int64(out.Len()) || up.Cksum != hex.EncodeToString(sum[:]) {
			t.Fatalf("crate of %d bytes reported as %d, %s", out.Len(), up.CrateSize, up.Cksum)
		}
		e := NewIndexEntry(&up.Metadata, up.Cksum, "https://self/")
		line := e.AppendJSON(nil)
		back, err := ParseIndexLine(line)
		if err != nil {
			t.Fatalf("index line %s does not read back: %v", line, err)
		}
		if again := back.AppendJSON(nil); !bytes.Equal(again, line) {
			t.Fatalf("index line\n%s\nrenders back as\n%s", line, again)
		}
	})
}

// FuzzParseIndexLine: a line that parses renders to a line that parses
// to the same rendering.
func FuzzParseIndexLine(f *testing.F) {
	if data, err := os.ReadFile("testdata/crates-io-index.txt"); err == nil {
		for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			f.Add(l)
		}
	}
	ck := strings.Repeat("a", 64)
	f.Add([]byte(`{"name":"x","vers":"1.0.0","deps":[{"name":"d","req":"^1","kind":null,"registry":"r","package":"p"}],"cksum":"` + ck + `","features":{"a":null},"yanked":null,"v":2,"pubtime":"2024-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"name":"x\u00e9","vers":"1.0.0-\u0041","cksum":"` + ck + `"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseIndexLine(line)
		if err != nil {
			return
		}
		out := e.AppendJSON(nil)
		e2, err := ParseIndexLine(out)
		if err != nil {
			t.Fatalf("%s renders as %s, which does not parse: %v", line, out, err)
		}
		if out2 := e2.AppendJSON(nil); !bytes.Equal(out, out2) {
			t.Fatalf("%s renders as\n%s\nthen\n%s", line, out, out2)
		}
	})
}

// FuzzReadIndex: ReadIndex agrees with a plain split into lines, and
// hands over each valid line's own bytes.
func FuzzReadIndex(f *testing.F) {
	ck := strings.Repeat("a", 64)
	l := `{"name":"x","vers":"1.0.0","deps":[],"cksum":"` + ck + `","features":{}}`
	f.Add([]byte(l + "\n" + l + "\r\n\n  \ngarbage\n" + l))
	f.Add([]byte(strings.Repeat(l+"\n", 3)))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxLine = 200
		wantEntries, wantSkipped := 0, 0
		for _, s := range bytes.Split(data, []byte("\n")) {
			text := bytes.TrimSpace(s)
			switch {
			case len(s) > maxLine:
				wantSkipped++
			case len(text) == 0:
			default:
				if _, err := ParseIndexLine(text); err != nil {
					wantSkipped++
				} else {
					wantEntries++
				}
			}
		}
		st, err := ReadIndex(bytes.NewReader(data), IndexLimits{MaxLine: maxLine, MaxEntries: 1 << 20}, func(e *IndexEntry, raw []byte) error {
			if _, err := ParseIndexLine(raw); err != nil || !bytes.Contains(data, raw) {
				t.Fatalf("handed %q", raw)
			}
			return nil
		})
		if err != nil || st.Entries != wantEntries || st.Skipped != wantSkipped {
			t.Fatalf("%+v %v, want %d entries, %d skipped", st, err, wantEntries, wantSkipped)
		}
	})
}

// FuzzVerifyCrate: any archive is accepted or refused with a fault of the
// client's data, within the limits.
func FuzzVerifyCrate(f *testing.F) {
	f.Add(makeCrate(f, manifestEntry(fooManifest), entry{name: "foo-0.1.0/README.md", body: "hi"}), "foo", "0.1.0", "README.md")
	f.Add(makeCrate(f, manifestEntry(fooManifest+"readme = \"r.md\"\n"), entry{name: "foo-0.1.0/r.md", body: "r"}), "foo", "0.1.0", "")
	f.Add(makeCrate(f, entry{name: "foo-0.1.0/src/", typ: '5'}, manifestEntry("[project]\nname='foo'\nversion='0.1.0'\n")), "foo", "0.1.0", "../x")
	f.Fuzz(func(t *testing.T, data []byte, name, vers, readme string) {
		lim := CrateLimits{MaxUnpacked: 1 << 20, MaxEntries: 100, MaxManifest: 1 << 16, MaxReadme: 1 << 10}
		info, err := VerifyCrate(bytes.NewReader(data), name, vers, readme, lim)
		if err != nil {
			if k := fault.KindOf(err); k != fault.KindValidation && k != fault.KindQuotaExceeded {
				t.Fatalf("%v is a fault of kind %v", err, k)
			}
			return
		}
		if int64(len(info.Readme)) > lim.MaxReadme || info.Unpacked > lim.MaxUnpacked || info.Files > lim.MaxEntries {
			t.Fatalf("over the limits: %+v", info)
		}
	})
}

// FuzzParseIndexPath: a path read as a crate's is that crate's own
// IndexPath; a download path names a crate and a SemVer version.
func FuzzParseIndexPath(f *testing.F) {
	for _, s := range []string{"se/rd/serde", "1/a", "2/ab", "3/a/abc", "config.json", "api/v1/crates/serde/1.0.0/download", "de/p-/dep-a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if name, ok := ParseIndexPath(p); ok {
			if IndexPath(name) != p || strings.ToLower(name) != name || !nameSyntax(name, false) {
				t.Fatalf("%q read as %q", p, name)
			}
		}
		if name, vers, ok := ParseDownloadPath(p); ok {
			if p != "api/v1/crates/"+name+"/"+vers+"/download" || !nameSyntax(name, false) || !ValidVersion(vers) {
				t.Fatalf("%q read as %q %q", p, name, vers)
			}
		}
	})
}

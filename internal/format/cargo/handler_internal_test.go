package cargo

import (
	"bytes"
	"strings"
	"testing"
)

func TestExpandDownload(t *testing.T) {
	const sum = "abc123"
	for _, tc := range []struct{ dl, name, want string }{
		{"https://static.crates.io/crates", "serde", "https://static.crates.io/crates/serde/1.0.0/download"},
		{"https://x.test/api/v1/crates/", "serde", "https://x.test/api/v1/crates/serde/1.0.0/download"},
		{"https://x.test/{crate}/{crate}-{version}.crate", "Serde", "https://x.test/Serde/Serde-1.0.0.crate"},
		{"https://x.test/{prefix}/{lowerprefix}/{crate}", "Serde", "https://x.test/Se/rd/se/rd/Serde"},
		{"https://x.test/{prefix}/{crate}", "a", "https://x.test/1/a"},
		{"https://x.test/{prefix}/{crate}", "ab", "https://x.test/2/ab"},
		{"https://x.test/{prefix}/{lowerprefix}/{crate}", "Abc", "https://x.test/3/A/3/a/Abc"},
		{"https://x.test/{sha256-checksum}", "serde", "https://x.test/abc123"},
	} {
		if got := ExpandDownload(tc.dl, tc.name, "1.0.0", sum); got != tc.want {
			t.Errorf("ExpandDownload(%q, %q) = %q, want %q", tc.dl, tc.name, got, tc.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	ordered := []string{"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.2.0", "1.10.0", "2.0.0"}
	for i := range ordered {
		for j := range ordered {
			got := compareVersions(ordered[i], ordered[j])
			if (i < j && got >= 0) || (i > j && got <= 0) || (i == j && got != 0) {
				t.Errorf("compareVersions(%s, %s) = %d", ordered[i], ordered[j], got)
			}
		}
	}
	if compareVersions("1.0.0+a", "1.0.0+b") != 0 {
		t.Error("build metadata counts")
	}
}

// FuzzUpstreamDocuments: an upstream's config.json and index file never
// make the decoders panic, and what they accept expands to a URL.
func FuzzUpstreamDocuments(f *testing.F) {
	f.Add([]byte(`{"dl":"https://static.crates.io/crates","api":"https://crates.io"}`), []byte(`{"name":"a","vers":"1.0.0","deps":[],"cksum":"`+strings.Repeat("a", 64)+`","features":{}}`+"\n"))
	f.Add([]byte(`{"dl":"{crate}/{prefix}/{lowerprefix}/{sha256-checksum}"}`), []byte("garbage\n\n{}"))
	f.Fuzz(func(t *testing.T, config, index []byte) {
		if v, _, err := decodeConfig(bytes.NewReader(config), nil); err == nil {
			_ = ExpandDownload(v.(*upConfig).DL, "name", "1.0.0", "sum")
		}
		if v, _, err := decodeIndex(bytes.NewReader(index), nil); err == nil {
			for _, e := range v.(*upIndex).entries {
				if _, perr := ParseIndexLine(e.line); perr != nil {
					t.Errorf("an entry kept is no valid line: %v", perr)
				}
			}
		}
	})
}

package artifact_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"coffer/internal/artifact"
	"coffer/internal/fault"
)

// invisible holds one or more characters of every class that makes a name
// display like another one (or not at all): C0 and C1 controls, DEL,
// zero-width characters, bidi controls, the byte order mark, non-ASCII
// spaces and other default-ignorable code points.
var invisible = []struct{ class, char string }{
	{"NUL", "\x00"},
	{"C0 control", "\x01"},
	{"C0 escape", "\x1b"},
	{"C0 vertical tab", "\x0b"},
	{"DEL", "\x7f"},
	{"C1 next line", "\u0085"},
	{"C1 CSI", "\u009b"},
	{"zero width space", "\u200b"},
	{"zero width non-joiner", "\u200c"},
	{"zero width joiner", "\u200d"},
	{"word joiner", "\u2060"},
	{"left-to-right mark", "\u200e"},
	{"right-to-left mark", "\u200f"},
	{"left-to-right embedding", "\u202a"},
	{"right-to-left embedding", "\u202b"},
	{"pop directional formatting", "\u202c"},
	{"left-to-right override", "\u202d"},
	{"right-to-left override", "\u202e"},
	{"left-to-right isolate", "\u2066"},
	{"right-to-left isolate", "\u2067"},
	{"first strong isolate", "\u2068"},
	{"pop directional isolate", "\u2069"},
	{"byte order mark", "\ufeff"},
	{"soft hyphen", "\u00ad"},
	{"no-break space", "\u00a0"},
	{"ideographic space", "\u3000"},
	{"line separator", "\u2028"},
	{"combining grapheme joiner", "\u034f"},
	{"hangul filler", "\u3164"},
	{"variation selector", "\ufe0f"},
	{"tag character", "\U000e0041"},
	{"private use", "\ue000"},
	{"replacement character", "\ufffd"},
	{"invalid UTF-8", "\xff"},
}

// nfd is "café" decomposed (e + U+0301 COMBINING ACUTE ACCENT); nfc is the
// same text composed. They display alike and differ in bytes.
const (
	nfd = "cafe\u0301"
	nfc = "caf\u00e9"
)

// namesFor returns valid coordinates of format (namespace only where the
// format has one).
func namesFor(format string) (namespace, pkg string) {
	switch format {
	case artifact.FormatMaven, artifact.FormatGeneric, artifact.FormatSwift:
		return "org.example", "lib"
	case artifact.FormatNpm:
		return "scope", "lib"
	}
	return "", "lib"
}

// TestNameProblem is the rule itself: every invisible character, anywhere
// in a name, and a name not in NFC are refused; ordinary names, including
// non-ASCII letters in NFC, are not.
func TestNameProblem(t *testing.T) {
	for _, c := range invisible {
		for _, name := range []string{c.char + "lib", "li" + c.char + "b", "lib" + c.char} {
			if p := artifact.NameProblem(name); p == "" {
				t.Errorf("%s in %q: accepted", c.class, name)
			} else if strings.Contains(p, c.char) {
				t.Errorf("%s: the message repeats the character: %q", c.class, p)
			}
		}
	}
	if p := artifact.NameProblem(nfd); !strings.Contains(p, "NFC") {
		t.Errorf("decomposed name: %q, want a refusal naming NFC", p)
	}
	for _, ok := range []string{"lib", "@scope", "1.0.0-beta+build.5", "Foo_Bar.baz", nfc, "日本語", "ü", "emoji-🎉", "a~b!c^d"} {
		if p := artifact.NameProblem(ok); p != "" {
			t.Errorf("%q refused: %s", ok, p)
		}
	}
}

// TestInvisibleCharactersRefusedInEveryFormat sends names with each class of
// invisible character, and a decomposed (NFD) name, as namespace, package
// and version of every format through the service: each is a validation
// error naming the field. A valid name gets past validation (to NotFound).
func TestInvisibleCharactersRefusedInEveryFormat(t *testing.T) {
	f := newFixture(t)
	f.repo("rr")
	repo := artifact.RepoRef{DomainRef: dom, Repository: "rr"}
	type probe struct {
		field string
		call  func(bad string) error
	}
	bads := append([]struct{ class, char string }{}, invisible...)
	for _, format := range artifact.Formats {
		ns, pkg := namesFor(format)
		ref := func(ns, pkg string) artifact.PackageRef {
			return artifact.PackageRef{RepoRef: repo, Format: format, Namespace: ns, Package: pkg}
		}
		probes := []probe{
			{"package", func(bad string) error { _, err := f.svc.DescribePackage(ctx, ref(ns, bad)); return err }},
			{"version", func(bad string) error {
				_, err := f.svc.DescribePackageVersion(ctx, artifact.VersionRef{PackageRef: ref(ns, pkg), Version: bad})
				return err
			}},
		}
		if ns != "" {
			probes = append(probes, probe{"namespace", func(bad string) error { _, err := f.svc.DescribePackage(ctx, ref(bad, pkg)); return err }})
		}
		for _, p := range probes {
			if err := p.call("good-" + nfc); fault.KindOf(err) != fault.KindNotFound {
				t.Errorf("%s %s: a valid name: %v, want NotFound", format, p.field, err)
			}
			cases := append(bads, struct{ class, char string }{"NFD", ""})
			for _, c := range cases {
				bad := "li" + c.char + "b"
				if c.class == "NFD" {
					bad = nfd
				}
				err := p.call(bad)
				if fault.KindOf(err) != fault.KindValidation {
					t.Errorf("%s %s with %s: %v, want a validation error", format, p.field, c.class, err)
					continue
				}
				if msg := err.Error(); !strings.Contains(msg, "'"+p.field+"'") || !utf8.ValidString(msg) || (c.char != "" && strings.Contains(msg, c.char)) {
					t.Errorf("%s %s with %s: message %q must name the field and not repeat the character", format, p.field, c.class, msg)
				}
			}
		}
	}
}

// TestInvisibleCharactersRefusedOnWrites: the write paths (API publish,
// native put, batch status updates, group lookups) refuse them too, and
// nothing is stored.
func TestInvisibleCharactersRefusedOnWrites(t *testing.T) {
	f := newFixture(t)
	f.repo("rr")
	repo := artifact.RepoRef{DomainRef: dom, Repository: "rr"}
	content := []byte("content")
	sum := sha256.Sum256(content)
	for _, c := range invisible {
		gen := artifact.PackageRef{RepoRef: repo, Format: artifact.FormatGeneric, Namespace: "ns", Package: "tool" + c.char}
		_, err := f.svc.PublishPackageVersion(ctx, artifact.PublishRequest{VersionRef: artifact.VersionRef{PackageRef: gen, Version: "1.0"},
			Asset: "a.txt", SHA256: hex.EncodeToString(sum[:])}, bytes.NewReader(content))
		wantKind(t, err, fault.KindValidation, "publish generic package with "+c.class)
		npm := artifact.PackageRef{RepoRef: repo, Format: artifact.FormatNpm, Package: "lib"}
		_, err = f.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: artifact.VersionRef{PackageRef: npm, Version: "1.0.0" + c.char},
			Asset: "lib-1.0.0.tgz", NewStatus: artifact.StatusPublished}, bytes.NewReader(content))
		wantKind(t, err, fault.KindValidation, "npm put with "+c.class+" in the version")
		_, err = f.svc.UpdatePackageVersionsStatus(ctx, npm, artifact.StatusUpdate{Versions: []string{"1.0" + c.char}, TargetStatus: artifact.StatusArchived})
		wantKind(t, err, fault.KindValidation, "status update with "+c.class)
		_, _, err = f.svc.GetAssociatedPackageGroup(ctx, dom, artifact.FormatMaven, "org"+c.char, "lib")
		wantKind(t, err, fault.KindValidation, "associated group with "+c.class)
	}
	// Package group patterns hold the same names.
	for _, c := range append(invisible, struct{ class, char string }{"NFD", "e\u0301"}) {
		for _, pattern := range []string{"/generic/ns" + c.char + "/*", "/maven/org/lib" + c.char + "$", "/npm//" + c.char + "lib~"} {
			_, err := f.svc.CreatePackageGroup(ctx, dom, pattern, "", "", nil)
			wantKind(t, err, fault.KindValidation, "package group "+pattern+" with "+c.class)
		}
	}
	pkgs, _, err := f.svc.ListPackages(ctx, repo, artifact.PackageFilter{}, artifact.PageRequest{})
	if err != nil || len(pkgs) != 0 {
		t.Fatalf("packages stored: %v %v", pkgs, err)
	}
}

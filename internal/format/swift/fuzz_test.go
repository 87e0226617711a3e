package swift_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"coffer/internal/format/swift"
)

// The specification's patterns, which the hand-written checks must agree
// with (Go's regexp has no lookahead: "-(?=[a-zA-Z0-9])" is written as
// "-" followed by the next alphanumeric).
var (
	scopeRE = regexp.MustCompile(`\A[a-zA-Z0-9](?:-?[a-zA-Z0-9])*\z`)
	nameRE  = regexp.MustCompile(`\A[a-zA-Z0-9](?:[-_]?[a-zA-Z0-9])*\z`)
	// SemVer 2.0.0's recommended pattern.
	semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)
)

func FuzzIdentifiers(f *testing.F) {
	for _, s := range []string{"mona", "a-b", "a--b", "-a", "Linked_List", "a_-b", "1.0.0", "1.0.0-rc.1+b.2", "01.0.0", "1.0.0-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := swift.ValidScope(s), scopeRE.MatchString(s) && len(s) <= 39; got != want {
			t.Errorf("ValidScope(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := swift.ValidName(s), nameRE.MatchString(s) && len(s) <= 100; got != want {
			t.Errorf("ValidName(%q) = %v, the pattern says %v", s, got, want)
		}
		v, ok := swift.ParseVersion(s)
		want := semverRE.MatchString(s) && len(s) <= 255
		// The pattern allows numbers beyond uint64, which ParseVersion refuses.
		core, _, _ := strings.Cut(strings.SplitN(s, "+", 2)[0], "-")
		huge := slices.ContainsFunc(strings.Split(core, "."), func(p string) bool { return len(p) > 19 })
		if ok && !want || !ok && want && !huge {
			t.Errorf("ParseVersion(%q) ok = %v, the pattern says %v", s, ok, want)
		}
		if ok && v.Compare(v) != 0 {
			t.Errorf("%q does not equal itself", s)
		}
	})
}

func FuzzReadPublish(f *testing.F) {
	body, ct := publishBody(packageArchive("P", "1.0.0"), `{"description":"d"}`, []byte("s"), []byte("m"))
	f.Add(body, ct)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"source-archive\"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsF\r\n--b--\r\n"), "multipart/form-data; boundary=b")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		var spool bytes.Buffer
		form, err := swift.ReadPublish(bytes.NewReader(body), ct, &spool, 1<<16)
		if err != nil {
			return
		}
		if int64(spool.Len()) != form.ArchiveSize || form.ArchiveSize > 1<<16 {
			t.Errorf("spooled %d bytes, size %d", spool.Len(), form.ArchiveSize)
		}
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"description":"d","repositoryURLs":["https://x"],"author":{"name":"a"}}`))
	f.Add([]byte(`{"originalPublicationTime":"2023-02-16T04:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, compact, err := swift.ParseMetadata(b)
		if err != nil || m == nil {
			return
		}
		if !json.Valid(compact) || compact[0] != '{' {
			t.Errorf("accepted %q as %q", b, compact)
		}
	})
}

func FuzzVerifyArchive(f *testing.F) {
	f.Add(packageArchive("P", "1.0.0"))
	f.Add(zipOf(map[string]string{"P/Package.swift": "// swift-tools-version:5.9\n", "Q/x": ""}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := swift.VerifyArchive(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if swift.StatusOf(err) != 422 {
				t.Errorf("refused with %v, want 422", err)
			}
			return
		}
		if len(a.Manifests) == 0 || a.Manifests[0].Filename != "Package.swift" || a.Root == "" {
			t.Errorf("accepted without Package.swift: %+v", a)
		}
	})
}

func FuzzToolsVersion(f *testing.F) {
	f.Add([]byte("// swift-tools-version:5.9\n"))
	f.Add([]byte("//swift-tools-version: 6.0; x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := swift.ToolsVersion(b)
		if ok && (v == "" || strings.Trim(v, "0123456789.") != "") {
			t.Errorf("ToolsVersion(%q) = %q", b, v)
		}
	})
}

func FuzzCheckAccept(f *testing.F) {
	f.Add("application/vnd.swift.registry.v1+json")
	f.Add("application/vnd.swift.registry.v2+zip, */*;q=0.1")
	f.Fuzz(func(t *testing.T, accept string) {
		if err := swift.CheckAccept([]string{accept}); err != nil {
			if s := swift.StatusOf(err); s != 400 && s != 415 {
				t.Errorf("Accept %q: status %d", accept, s)
			}
		}
	})
}

func FuzzCanonicalRepoURL(f *testing.F) {
	f.Add("git@github.com:mona/LinkedList.git")
	f.Add("https://github.com/mona/LinkedList")
	f.Fuzz(func(t *testing.T, u string) {
		c := swift.CanonicalRepoURL(u)
		plain := strings.TrimSpace(u) == u && !strings.HasSuffix(u, "/") && !strings.HasSuffix(strings.ToLower(u), ".git")
		if plain && swift.CanonicalRepoURL(strings.ToLower(u)+".git") != c {
			t.Errorf("%q and its lower case with .git compare differently", u)
		}
	})
}

package lockfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// brief is a Dependency in one line: "ns/name@version (source) #hashes".
func brief(d Dependency) string {
	name := d.Name
	if d.Namespace != "" {
		name = d.Namespace + "/" + d.Name
	}
	return fmt.Sprintf("%s@%s (%s) #%d", name, d.Version, d.Source, len(d.Hashes))
}

func briefs(deps []Dependency) []string {
	out := make([]string, len(deps))
	for i, d := range deps {
		out[i] = brief(d)
	}
	return out
}

func parseFile(t *testing.T, kind, file string) ([]Dependency, []string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	deps, unpinned, err := ParseAll(kind, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ParseAll(%s, %s): %v", kind, file, err)
	}
	for _, d := range deps {
		if d.Format != Format(kind) {
			t.Errorf("%s: format %q, want %q", brief(d), d.Format, Format(kind))
		}
	}
	return deps, unpinned
}

// npmV123 is what the three lockfiles npm 11 wrote for the same
// package.json (testdata/package-lock-v*.json) hold: scoped packages, a
// nested ms, an alias (my-lodash is lodash), a linked directory and a
// file tarball.
var npmV123 = []string{
	"babel/code-frame@7.23.5 (node_modules/@babel/code-frame) #1",
	"babel/helper-validator-identifier@7.29.17 (node_modules/@babel/helper-validator-identifier) #1",
	"babel/highlight@7.25.9 (node_modules/@babel/highlight) #1",
	"ansi-styles@3.2.1 (node_modules/ansi-styles) #1",
	"chalk@2.4.2 (node_modules/chalk) #1",
	"color-convert@1.9.3 (node_modules/color-convert) #1",
	"color-name@1.1.3 (node_modules/color-name) #1",
	"debug@2.6.9 (node_modules/debug) #1",
	"ms@2.0.0 (node_modules/debug/node_modules/ms) #1",
	"escape-string-regexp@1.0.5 (node_modules/escape-string-regexp) #1",
	"has-flag@3.0.0 (node_modules/has-flag) #1",
	"js-tokens@4.0.0 (node_modules/js-tokens) #1",
	"left-pad@1.3.0 (node_modules/left-pad) #1",
	"ms@2.1.3 (node_modules/ms) #1",
	"lodash@4.17.21 (node_modules/my-lodash) #1",
	"picocolors@1.1.1 (node_modules/picocolors) #1",
	"supports-color@5.5.0 (node_modules/supports-color) #1",
}

func TestFixtures(t *testing.T) {
	mavenList := []string{
		"org.slf4j/slf4j-api@2.0.9", "com.google.guava/guava@32.1.3-jre", "com.google.guava/failureaccess@1.0.1",
		"com.google.guava/listenablefuture@9999.0-empty-to-avoid-conflict-with-guava", "com.google.code.findbugs/jsr305@3.0.2",
		"org.checkerframework/checker-qual@3.37.0", "com.google.errorprone/error_prone_annotations@2.21.1",
		"com.google.j2objc/j2objc-annotations@2.8", "io.netty/netty-transport-native-epoll@4.1.100.Final",
		"io.netty/netty-common@4.1.100.Final", "io.netty/netty-buffer@4.1.100.Final", "io.netty/netty-transport@4.1.100.Final",
		"io.netty/netty-resolver@4.1.100.Final", "io.netty/netty-transport-native-unix-common@4.1.100.Final",
		"io.netty/netty-transport-classes-epoll@4.1.100.Final", "junit/junit@4.13.2", "org.hamcrest/hamcrest-core@1.3",
		"jakarta.servlet/jakarta.servlet-api@6.0.0",
	}
	withLines := func(first int, list []string) []string {
		out := make([]string, len(list))
		for i, s := range list {
			out[i] = fmt.Sprintf("%s (line %d) #0", s, first+i)
		}
		return out
	}
	tests := []struct {
		file, kind string
		want       []string
		unpinned   []string
	}{
		{"package-lock-v1.json", KindPackageLock, npmV123, []string{"node_modules/tarball-pkg: file:local-pkg-0.1.0.tgz"}},
		{"package-lock-v2.json", KindPackageLock, npmV123, []string{"node_modules/tarball-pkg: file:local-pkg-0.1.0.tgz"}},
		{"package-lock-v3.json", KindPackageLock, npmV123, []string{"node_modules/tarball-pkg: file:local-pkg-0.1.0.tgz"}},
		{"package-lock-workspaces.json", KindPackageLock, []string{
			"types/node@20.10.5 (node_modules/@types/node) #1",
			"debug@4.3.4 (node_modules/debug) #2", // two integrity hashes; the copy under packages/ui is the same version
			"fsevents@2.3.3 (node_modules/fsevents) #1",
			"ms@2.1.2 (node_modules/ms) #1",
			"node-pre-gyp@0.17.0 (node_modules/node-pre-gyp) #1", // its bundled semver is left out
			"typescript@5.3.3 (node_modules/typescript) #1",
			"undici-types@5.26.5 (node_modules/undici-types) #1",
			"emotion/react@11.11.1 (packages/ui/node_modules/@emotion/react) #1",
		}, []string{"node_modules/internal-tool: git+ssh://git@github.com/acme/internal-tool.git#5f3b1c2a9e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a"}},
		{"requirements-mixed.txt", KindRequirements, []string{
			"Django@4.2.7 (line 8) #0",
			"uvicorn@0.24.0 (line 9) #0",
			"pywin32@306 (line 10) #0",
			"zope.interface@6.1 (line 11) #0",
			"torch@2.1.1+cpu (line 12) #0",
			"python-dateutil@2.8.2 (line 13) #2",
			"six@1.16.0 (line 16) #1",
			"idna@3.4 (line 22) #0",
			"pydantic@2.5.2 (line 23) #0",
			"httpx@0.25.2 (line 24) #0",
		}, []string{
			"line 18: requests>=2.28",
			"line 19: urllib3~=2.0",
			"line 20: numpy",
			"line 21: attrs==23.*",
			"line 25: mylib @ https://files.example.com/mylib-1.0.0-py3-none-any.whl",
			"line 26: https://files.example.com/other-2.0.tar.gz#egg=other",
			"line 27: git+https://github.com/acme/tool.git@v1.2.0#egg=tool",
			"line 28: ./vendor/localpkg",
			"line 29: -e ./packages/core",
			"line 30: --editable git+https://github.com/acme/dev.git#egg=dev",
			"line 31: cryptography==${CRYPTO_VERSION}",
		}},
		{"requirements-pip-compile.txt", KindRequirements, []string{
			"anyio@4.16.0 (line 9) #2",
			"asgiref@3.13.0 (line 13) #2",
			"certifi@2026.10.19.post1 (line 17) #1",
			"charset-normalizer@3.5.3 (line 20) #172",
			"click@8.5.1 (line 194) #2",
			"django@4.2.30 (line 198) #2",
			"h11@0.16.0 (line 202) #2",
			"httptools@0.9.0 (line 206) #118",
			"idna@3.21 (line 326) #2",
			"python-dotenv@1.2.4 (line 332) #2",
			"pyyaml@6.0.4 (line 336) #75",
			"requests@2.31.0 (line 413) #2",
			"sqlparse@0.6.1 (line 417) #2",
			"typing-extensions@4.16.0 (line 421) #2",
			"urllib3@2.8.0 (line 425) #2",
			"uvicorn@0.24.0 (line 429) #2",
			"uvloop@0.23.0 (line 433) #61",
			"watchfiles@1.3.0 (line 496) #33",
			"websockets@17.4 (line 531) #154",
		}, nil},
		{"Cargo-v1.lock", KindCargoLock, []string{
			"cfg-if@0.1.10 (line 1) #1",
			"log@0.4.8 (line 14) #1",
		}, []string{"line 22: rand 0.7.3 (git+https://github.com/rust-random/rand?tag=0.7.3#19b6ae8f09ad06eae0bb8a2ab38fb79c6be8c0e0)"}},
		{"Cargo-v3.lock", KindCargoLock, []string{
			"bytes@1.5.0 (line 5) #1",
			"internal-utils@2.1.0 (line 19) #1",
			"tokio@1.35.1 (line 35) #1", // also from the internal registry, same checksum: one entry
			"pin-project-lite@0.2.13 (line 45) #1",
		}, []string{"line 11: hyper 1.0.0-rc.4 (git+https://github.com/hyperium/hyper?branch=master#f8a1e1b9d4c1d3c9c2b0a8a7e6f5d4c3b2a1f0e9)"}},
		{"Cargo-v4.lock", KindCargoLock, []string{
			"anyhow@1.0.75 (line 5) #1",
			"itoa@0.4.8 (line 21) #1",
			"itoa@1.0.9 (line 27) #1",
			"proc-macro2@1.0.107 (line 33) #1",
			"quote@1.0.47 (line 42) #1",
			"serde@1.0.193 (line 51) #1",
			"serde_derive@1.0.193 (line 60) #1",
			"syn@2.0.119 (line 71) #1",
			"unicode-ident@1.0.27 (line 82) #1",
		}, nil},
		{"Gemfile.lock", KindGemfileLock, []string{
			"concurrent-ruby@1.2.2 (line 21) #1",
			"mini_portile2@2.8.5 (line 22) #1",
			"nio4r@2.7.0 (line 23) #1",
			"nokogiri@1.15.5 (line 24) #3", // ruby, arm64-darwin and x86_64-linux builds
			"racc@1.7.3 (line 31) #1",
			"rack@3.0.8 (line 32) #1",
			"sqlite3@1.6.9 (line 33) #1",
			"tzinfo@2.0.6 (line 34) #1",
			"acme-auth@2.3.1 (line 40) #1",
		}, []string{
			"line 6: actioncable 7.2.0.alpha (git https://github.com/rails/rails.git)",
			"line 9: rails 7.2.0.alpha (git https://github.com/rails/rails.git)",
		}},
		{"mvn-dependency-list.log", KindMaven, withLines(14, mavenList), nil},
		{"mvn-dependency-list-outputfile.txt", KindMaven, withLines(3, mavenList), nil},
		{"mvn-dependency-tree.log", KindMaven, withLines(3, mavenList), nil},
		{"mvn-reactor-color.log", KindMaven, []string{
			"org.apache.commons/commons-lang3@3.14.0 (line 13) #0",
			"org.junit.jupiter/junit-jupiter-api@5.10.1 (line 14) #0",
			"com.acme/legacy-client@0.9 (line 15) #0",
			"com.acme/acme-core@1.4.0-SNAPSHOT (line 20) #0",
			"org.apache.tomcat.embed/tomcat-embed-core@10.1.16 (line 22) #0",
			"org.lwjgl/lwjgl@3.3.3 (line 23) #0",
			"io.grpc/grpc-netty-shaded@1.59.0 (line 24) #0",
		}, nil},
		{"maven-coordinates.txt", KindMaven, []string{
			"org.springframework.boot/spring-boot-starter-web@3.2.0 (line 2) #0",
			"com.fasterxml.jackson.core/jackson-databind@2.15.3 (line 3) #0",
			"org.yaml/snakeyaml@2.2 (line 4) #0",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if kind, ok := Detect(tt.file); ok && kind != tt.kind {
				t.Errorf("Detect(%s) = %s, want %s", tt.file, kind, tt.kind)
			}
			deps, unpinned := parseFile(t, tt.kind, tt.file)
			if got := briefs(deps); !slices.Equal(got, tt.want) {
				t.Errorf("deps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if !slices.Equal(unpinned, tt.unpinned) {
				t.Errorf("unpinned:\n%s\nwant:\n%s", strings.Join(unpinned, "\n"), strings.Join(tt.unpinned, "\n"))
			}
			f, _ := os.Open(filepath.Join("testdata", tt.file))
			defer f.Close()
			plain, err := Parse(tt.kind, f)
			if err != nil || !slices.Equal(briefs(plain), tt.want) {
				t.Errorf("Parse differs from ParseAll: %v", err)
			}
		})
	}
}

func TestHashes(t *testing.T) {
	find := func(deps []Dependency, name, version string) Dependency {
		t.Helper()
		for _, d := range deps {
			if d.Name == name && d.Version == version {
				return d
			}
		}
		t.Fatalf("%s %s not found", name, version)
		return Dependency{}
	}
	tests := []struct {
		kind, file, name, version string
		want                      []string
	}{
		{KindPackageLock, "package-lock-v3.json", "left-pad", "1.3.0", []string{"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQGinBN9yTQT3bFlCBy/aVx2HrNcqQGsdot8ghrjyrvMCoEA=="}},
		{KindPackageLock, "package-lock-v1.json", "left-pad", "1.3.0", []string{"sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQGinBN9yTQT3bFlCBy/aVx2HrNcqQGsdot8ghrjyrvMCoEA=="}},
		{KindPackageLock, "package-lock-workspaces.json", "debug", "4.3.4", []string{
			"sha512-PRWFHuSU3eDtQJPvnNY7Jcket1j0t5OuOsFzPPzsekD52Zl8qUfFIPEiswXqIvHWGVHOgX+7G/vCNNhehwxfkQ==",
			"sha1-Exn2V5NX8jONMzfSzdSRS7XcyGU=",
		}},
		{KindRequirements, "requirements-mixed.txt", "python-dateutil", "2.8.2", []string{
			"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
		}},
		{KindRequirements, "requirements-mixed.txt", "six", "1.16.0", []string{"sha256:1e61c37477a1626458e36be7a26c7101c5d4f6b10b84c3a6ef0e4d4ad2f11e9e"}},
		{KindRequirements, "requirements-pip-compile.txt", "requests", "2.31.0", []string{
			"sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
			"sha256:942c5a758f98d790eaed1a29cb6eefc7ffb0d1cf7af05c3d2791656dbd6ad1e1",
		}},
		{KindCargoLock, "Cargo-v4.lock", "anyhow", "1.0.75", []string{"sha256:a4668cab20f66d8d020e1fbc0ebe47217433c1b6c8f2040faf858554e394ace6"}},
		{KindCargoLock, "Cargo-v1.lock", "log", "0.4.8", []string{"sha256:14b6052be84e6b71ab17edffc2eeabf5c2c3ae1fdb464aae35ac50c67a44e1f7"}},
		{KindGemfileLock, "Gemfile.lock", "nokogiri", "1.15.5", []string{
			"sha256:22c1e9a9ee4c3d6a26ee2fe0f5d1b35df4f1e9c3f5b4d0a2d1c5e0b3c6a9f8e7",
			"sha256:4d7b15d53c0397d131376a19875aa97dbb6a9a5f2b2a5b7d8e5b1b1e4d5c4a1f",
			"sha256:1e3ba3b6b8c1a4fbd1a2c8a2e9b2ec6fa5e1b1ec0cbe0d1d4d16a0b8e8e9b9b2",
		}},
	}
	for _, tt := range tests {
		deps, _ := parseFile(t, tt.kind, tt.file)
		if got := find(deps, tt.name, tt.version).Hashes; !slices.Equal(got, tt.want) {
			t.Errorf("%s %s %s: hashes %q, want %q", tt.file, tt.name, tt.version, got, tt.want)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		kind string
	}{
		{"package-lock.json", KindPackageLock},
		{"web/package-lock.json", KindPackageLock},
		{"npm-shrinkwrap.json", KindPackageLock},
		{`C:\src\app\Package-Lock.json`, KindPackageLock},
		{"requirements.txt", KindRequirements},
		{"requirements-dev.txt", KindRequirements},
		{"requirements_test.txt", KindRequirements},
		{"api/requirements/base.txt", KindRequirements},
		{"Cargo.lock", KindCargoLock},
		{"crates/x/Cargo.lock", KindCargoLock},
		{"Gemfile.lock", KindGemfileLock},
		{"gems.locked", KindGemfileLock},
		{"package.json", ""},
		{"yarn.lock", ""},
		{"pnpm-lock.yaml", ""},
		{"requirements.in", ""},
		{"Pipfile.lock", ""},
		{"poetry.lock", ""},
		{"Cargo.toml", ""},
		{"Gemfile", ""},
		{"pom.xml", ""},
		{"dependencies.txt", ""},
		{"notes/requirements", ""},
		{"", ""},
	}
	for _, tt := range tests {
		kind, ok := Detect(tt.name)
		if kind != tt.kind || ok != (tt.kind != "") {
			t.Errorf("Detect(%q) = %q, %v; want %q", tt.name, kind, ok, tt.kind)
		}
	}
}

func TestUnknownKind(t *testing.T) {
	_, err := Parse("yarn-lock", strings.NewReader(""))
	if !errors.Is(err, fault.ErrValidation) || !strings.Contains(err.Error(), "package-lock, requirements") {
		t.Fatalf("err = %v", err)
	}
	if Format("yarn-lock") != "" || Format(KindMaven) != "maven" {
		t.Error("Format")
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestReaderError(t *testing.T) {
	cause := fault.Quota("asset", "", "The lockfile is larger than the caller's limit")
	for _, kind := range Kinds() {
		_, err := Parse(kind, io.MultiReader(strings.NewReader("x"), failingReader{cause}))
		if !errors.Is(err, fault.ErrQuotaExceeded) || fault.As(err) != cause {
			t.Errorf("%s: err = %v, want the reader's", kind, err)
		}
	}
}

func TestLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inputs of 32 MiB")
	}
	wantLimit := func(t *testing.T, kind string, input []byte, want string) {
		t.Helper()
		_, _, err := ParseAll(kind, bytes.NewReader(input))
		if !errors.Is(err, fault.ErrValidation) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", kind, err, want)
		}
	}
	t.Run("input", func(t *testing.T) {
		big := bytes.Repeat([]byte("\n"), MaxInput+1)
		for _, kind := range Kinds() {
			wantLimit(t, kind, big, "larger than the limit of 33554432 bytes")
		}
		// Exactly MaxInput is read.
		if _, err := Parse(KindRequirements, bytes.NewReader(big[:MaxInput])); err != nil {
			t.Errorf("MaxInput bytes: %v", err)
		}
	})
	t.Run("line", func(t *testing.T) {
		long := "\n\n" + strings.Repeat("a", MaxLine+1) + "\n"
		for _, kind := range []string{KindRequirements, KindCargoLock, KindGemfileLock, KindMaven} {
			wantLimit(t, kind, []byte(long), "Line 3 of the lockfile is longer than the limit of 65536 bytes")
		}
		ok := strings.Repeat("a", MaxLine) + "\r\n" // the line ending is not counted
		if _, err := Parse(KindRequirements, strings.NewReader(ok)); err != nil {
			t.Errorf("a line of MaxLine bytes: %v", err)
		}
		// JSON has no line limit.
		if _, err := Parse(KindPackageLock, strings.NewReader(`{"lockfileVersion":3,"packages":{"":{"description":"`+strings.Repeat("a", MaxLine)+`"}}}`)); err != nil {
			t.Errorf("package-lock on one long line: %v", err)
		}
	})
	t.Run("dependencies", func(t *testing.T) {
		inputs := map[string]func(i int) string{
			KindRequirements: func(i int) string { return fmt.Sprintf("p%d==1.0\n", i) },
			KindCargoLock: func(i int) string {
				return fmt.Sprintf("[[package]]\nname = \"c%d\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n", i)
			},
			KindMaven: func(i int) string { return fmt.Sprintf("g:a%d:1.0\n", i) },
		}
		gem := func(n int) []byte {
			var b bytes.Buffer
			b.WriteString("GEM\n  remote: https://rubygems.org/\n  specs:\n")
			for i := range n {
				fmt.Fprintf(&b, "    g%d (1.0)\n", i)
			}
			return b.Bytes()
		}
		npm := func(n int) []byte {
			var b bytes.Buffer
			b.WriteString(`{"lockfileVersion":3,"packages":{"":{}`)
			for i := range n {
				fmt.Fprintf(&b, `,"node_modules/p%d":{"version":"1.0.0"}`, i)
			}
			b.WriteString("}}")
			return b.Bytes()
		}
		build := func(kind string, n int) []byte {
			switch kind {
			case KindGemfileLock:
				return gem(n)
			case KindPackageLock:
				return npm(n)
			}
			var b bytes.Buffer
			for i := range n {
				b.WriteString(inputs[kind](i))
			}
			return b.Bytes()
		}
		for _, kind := range Kinds() {
			deps, err := Parse(kind, bytes.NewReader(build(kind, MaxDependencies)))
			if err != nil || len(deps) != MaxDependencies {
				t.Errorf("%s: %d deps, %v", kind, len(deps), err)
			}
			wantLimit(t, kind, build(kind, MaxDependencies+1), "more than 100000 dependencies")
		}
		// Unpinned entries count too.
		var b bytes.Buffer
		for i := range MaxDependencies + 1 {
			fmt.Fprintf(&b, "p%d>=1\n", i)
		}
		wantLimit(t, KindRequirements, b.Bytes(), "more than 100000 dependencies")
		// Repeats do not.
		b.Reset()
		for range MaxDependencies + 1 {
			b.WriteString("p==1.0\n")
		}
		if deps, err := Parse(KindRequirements, &b); err != nil || len(deps) != 1 {
			t.Errorf("repeats: %d, %v", len(deps), err)
		}
	})
}

func TestClip(t *testing.T) {
	long := "é" + strings.Repeat("x", 300)
	deps, unpinned, err := ParseAll(KindRequirements, strings.NewReader(strings.Repeat("é", 200)+">=1\n"))
	if err != nil || len(deps) != 0 || len(unpinned) != 1 {
		t.Fatal(deps, unpinned, err)
	}
	if u := unpinned[0]; !strings.HasSuffix(u, "…") || len(u) > len("line 1: ")+maxMessage+len("…") || !strings.HasPrefix(u, "line 1: éé") {
		t.Errorf("unpinned = %q", u)
	}
	if c := clip(long); !strings.HasPrefix(c, "é") || len(c) > maxMessage+len("…") {
		t.Errorf("clip = %q", c)
	}
}

func TestBOMAndCRLF(t *testing.T) {
	for _, tt := range []struct{ kind, input, want string }{
		{KindRequirements, "\ufeffrequests==2.31.0 \\\r\n    --hash=sha256:aa\r\n", "requests@2.31.0 (line 1) #1"},
		{KindPackageLock, "\ufeff{\"lockfileVersion\":3,\"packages\":{\"node_modules/a\":{\"version\":\"1.0.0\"}}}", "a@1.0.0 (node_modules/a) #0"},
		{KindCargoLock, "\ufeffversion = 4\r\n\r\n[[package]]\r\nname = \"a\"\r\nversion = \"1.0.0\"\r\nsource = \"sparse+https://index.crates.io/\"\r\n", "a@1.0.0 (line 3) #0"},
		{KindGemfileLock, "\ufeffGEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    rack (3.0.8)\r\n", "rack@3.0.8 (line 4) #0"},
		{KindMaven, "\ufeffg:a:1.0\r\n", "g/a@1.0 (line 1) #0"},
	} {
		deps, err := Parse(tt.kind, strings.NewReader(tt.input))
		if err != nil || len(deps) != 1 || brief(deps[0]) != tt.want {
			t.Errorf("%s: %q, %v; want %s", tt.kind, briefs(deps), err, tt.want)
		}
	}
}

func TestEmpty(t *testing.T) {
	for _, kind := range []string{KindRequirements, KindGemfileLock, KindMaven, KindCargoLock} {
		deps, unpinned, err := ParseAll(kind, strings.NewReader(""))
		if err != nil || deps != nil || unpinned != nil {
			t.Errorf("%s: %v %v %v", kind, deps, unpinned, err)
		}
	}
	if _, err := Parse(KindPackageLock, strings.NewReader("")); !errors.Is(err, fault.ErrValidation) {
		t.Errorf("package-lock: %v", err)
	}
}

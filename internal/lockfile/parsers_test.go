package lockfile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"coffer/internal/fault"
)

// parseCase is one input of a parser: the deps it gives (brief), the
// unpinned entries, or an error containing err.
type parseCase struct {
	name     string
	input    string
	want     []string
	unpinned []string
	err      string
}

func runCases(t *testing.T, kind string, cases []parseCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			deps, unpinned, err := ParseAll(kind, strings.NewReader(tt.input))
			if tt.err != "" {
				if !errors.Is(err, fault.ErrValidation) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want a validation error with %q", err, tt.err)
				}
				if deps != nil || unpinned != nil {
					t.Errorf("results with an error: %v %v", deps, unpinned)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := briefs(deps); !slices.Equal(got, tt.want) {
				t.Errorf("deps = %q, want %q", got, tt.want)
			}
			if !slices.Equal(unpinned, tt.unpinned) {
				t.Errorf("unpinned = %q, want %q", unpinned, tt.unpinned)
			}
		})
	}
}

func TestPackageLock(t *testing.T) {
	runCases(t, KindPackageLock, []parseCase{
		{name: "not JSON", input: "lockfileVersion: 3", err: "The package-lock.json is not valid"},
		{name: "not an object", input: `[1]`, err: "not valid"},
		{name: "wrong type", input: `{"lockfileVersion":3,"packages":{"node_modules/a":{"version":1}}}`, err: "not valid"},
		{name: "future version", input: `{"lockfileVersion":4,"packages":{}}`, err: "lockfileVersion 4: only 1, 2 and 3"},
		{name: "nothing", input: `{"name":"x"}`, err: `neither "packages" nor "dependencies"`},
		{name: "no packages", input: `{"lockfileVersion":3,"packages":{"":{"name":"x"}}}`},
		{name: "v1 without dependencies", input: `{"lockfileVersion":1}`},
		{name: "bad scoped name", input: `{"lockfileVersion":3,"packages":{"node_modules/@scope":{"version":"1.0.0"}}}`, err: `invalid package name "@scope"`},
		{name: "bad name field", input: `{"lockfileVersion":3,"packages":{"node_modules/a":{"name":"a/b/c","version":"1.0.0"}}}`, err: "invalid package name"},
		{name: "empty scope", input: `{"lockfileVersion":3,"packages":{"node_modules/@/a":{"version":"1.0.0"}}}`, err: "invalid package name"},
		{
			name: "v2 prefers packages",
			input: `{"lockfileVersion":2,
				"packages":{"":{},"node_modules/a":{"version":"2.0.0"}},
				"dependencies":{"a":{"version":"1.0.0"}}}`,
			want: []string{"a@2.0.0 (node_modules/a) #0"},
		},
		{
			name: "nested scoped and aliased",
			input: `{"lockfileVersion":3,"packages":{
				"node_modules/x/node_modules/@s/y":{"version":"1.0.0","resolved":"https://registry.npmjs.org/@s/y/-/y-1.0.0.tgz"},
				"node_modules/alias":{"name":"@s/real","version":"3.1.4","resolved":"HTTP://r.example/@s/real/-/real-3.1.4.tgz"},
				"node_modules/x":{"version":"0.1.0"}}}`,
			want: []string{"s/real@3.1.4 (node_modules/alias) #0", "x@0.1.0 (node_modules/x) #0", "s/y@1.0.0 (node_modules/x/node_modules/@s/y) #0"},
		},
		{
			name: "not registry",
			input: `{"lockfileVersion":3,"packages":{
				"node_modules/a":{"version":"1.0.0","resolved":"git+https://github.com/u/a.git#0123456"},
				"node_modules/b":{"version":"1.0.0","resolved":"github:u/b#0123456"},
				"node_modules/c":{"resolved":"../c","link":true},
				"node_modules/d":{"resolved":"file:d-1.0.0.tgz","version":"1.0.0"},
				"node_modules/e":{},
				"node_modules/f":{"version":"1.0.0","inBundle":true},
				"workspace/g":{"name":"g","version":"1.0.0"},
				"x_node_modules/h":{"version":"1.0.0"}}}`,
			unpinned: []string{
				"node_modules/a: git+https://github.com/u/a.git#0123456",
				"node_modules/b: github:u/b#0123456",
				"node_modules/d: file:d-1.0.0.tgz",
				"node_modules/e: no version",
			},
		},
		{
			name: "v1 nested, aliases and specs",
			input: `{"lockfileVersion":1,"dependencies":{
				"a":{"version":"1.0.0","integrity":"sha512-A","dependencies":{
					"b":{"version":"2.0.0","bundled":true,"dependencies":{"c":{"version":"3.0.0"}}},
					"al":{"version":"npm:@s/z@9.9.9"}}},
				"g":{"version":"git+https://github.com/u/g.git#0123456","from":"git+https://github.com/u/g.git"},
				"h":{"version":"https://example.com/h.tgz"},
				"i":{"version":"1.0.0","resolved":"file:i.tgz"},
				"j":{"version":""},
				"k":{"version":"file:../k"},
				"l":{"version":"file:l.tgz","integrity":"sha512-L"}}}`,
			want: []string{
				"a@1.0.0 (node_modules/a) #1",
				"s/z@9.9.9 (node_modules/a/node_modules/al) #0",
				"c@3.0.0 (node_modules/a/node_modules/b/node_modules/c) #0",
			},
			unpinned: []string{
				"node_modules/g: git+https://github.com/u/g.git#0123456",
				"node_modules/h: https://example.com/h.tgz",
				"node_modules/i: file:i.tgz",
				"node_modules/j: no version",
				"node_modules/l: file:l.tgz",
			},
		},
		{name: "v1 bad alias", input: `{"lockfileVersion":1,"dependencies":{"a":{"version":"npm:1.0.0"}}}`, err: "invalid alias"},
		{
			name: "dedup merges hashes",
			input: `{"lockfileVersion":3,"packages":{
				"node_modules/a":{"version":"1.0.0","integrity":"sha512-X"},
				"node_modules/b/node_modules/a":{"version":"1.0.0","integrity":"sha512-X sha1-Y"},
				"node_modules/c/node_modules/a":{"version":"1.0.1"}}}`,
			want: []string{"a@1.0.0 (node_modules/a) #2", "a@1.0.1 (node_modules/c/node_modules/a) #0"},
		},
	})
}

func TestRequirements(t *testing.T) {
	runCases(t, KindRequirements, []parseCase{
		{name: "comments and blanks", input: "# top\n\n   \n\t# indented\nrequests==2.31.0 # pinned\nflask==3.0.0#not-a-comment\n", want: []string{"requests@2.31.0 (line 5) #0"}, unpinned: []string{"line 6: flask==3.0.0#not-a-comment"}},
		{name: "spaces and parens", input: "A.B_c-d [x, y] ( == 1.0 )\nold (==2.0)\n", want: []string{"A.B_c-d@1.0 (line 1) #0", "old@2.0 (line 2) #0"}},
		{name: "epoch and local", input: "a==1!2.0.post1+local.7\n", want: []string{"a@1!2.0.post1+local.7 (line 1) #0"}},
		{name: "arbitrary equality", input: "a===foobar\n", want: []string{"a@foobar (line 1) #0"}},
		{name: "two pins", input: "a==1.0,==2.0\n", unpinned: []string{"line 1: a==1.0,==2.0"}},
		{name: "unknown operator", input: "a==1.0,=>2\n", unpinned: []string{"line 1: a==1.0,=>2"}},
		{name: "single equals", input: "a=1.0\n", unpinned: []string{"line 1: a=1.0"}},
		{name: "unclosed extras", input: "a[x==1.0\n", unpinned: []string{"line 1: a[x==1.0"}},
		{name: "bad name", input: "-a==1.0\n_a==1.0\na-==1.0\n", unpinned: []string{"line 2: _a==1.0", "line 3: a-==1.0"}},
		{name: "marker only", input: "a ; python_version < '3.8'\n", unpinned: []string{"line 1: a ; python_version < '3.8'"}},
		{name: "marker with pin", input: "a==1.0; python_version<'3.8'\n", want: []string{"a@1.0 (line 1) #0"}},
		{name: "bad version characters", input: "a==1.0/2\na==v1\na==.1\n", want: []string{"a@v1 (line 2) #0"}, unpinned: []string{"line 1: a==1.0/2", "line 3: a==.1"}},
		{
			name:  "continuations",
			input: "a==1.0 \\\n  --hash=sha256:aa \\\n  --hash sha256:bb \\\n  --hash=sha256:aa\nb==2.0\\\n\n",
			want:  []string{"a@1.0 (line 1) #2", "b@2.0 (line 5) #0"},
		},
		{name: "continuation at the end", input: "a==1.0 \\\n  --hash=sha256:aa \\", want: []string{"a@1.0 (line 1) #1"}},
		{name: "continued name", input: "reque\\\nsts==1.0\n", want: []string{"requests@1.0 (line 1) #0"}},
		{
			// pip: a comment line ends the continued line, backslash or not.
			name:  "comment ends a continuation",
			input: "a==1.0 \\\n# note \\\nb==2.0\n",
			want:  []string{"a@1.0 (line 1) #0", "b@2.0 (line 3) #0"},
		},
		{
			name:  "options ignored",
			input: "-r base.txt\n--requirement=dev.txt\n-c c.txt\n-i https://x/simple\n--index-url=https://x/simple\n--extra-index-url https://y\n-f ./wheels\n--no-binary :all:\n--prefer-binary\n--require-hashes\n--pre\n--trusted-host x\n--use-feature=truststore\n",
		},
		{
			name:     "editable",
			input:    "-e .\n-e git+https://x/y.git#egg=y\n-egit+https://x/z.git#egg=z\n--editable=./a\n",
			unpinned: []string{"line 1: -e .", "line 2: -e git+https://x/y.git#egg=y", "line 3: -egit+https://x/z.git#egg=z", "line 4: --editable=./a"},
		},
		{name: "per-requirement options", input: "a==1.0 --config-settings=x=y --hash=md5:00 --global-option=--x\n", want: []string{"a@1.0 (line 1) #1"}},
		{name: "hash without value", input: "a==1.0 --hash\n", want: []string{"a@1.0 (line 1) #0"}},
		{name: "tabs", input: "a\t==\t1.0\t--hash=sha256:aa\n", want: []string{"a@1.0 (line 1) #1"}},
		{name: "names as written", input: "Django==4.2\ndjango==4.2\n", want: []string{"Django@4.2 (line 1) #0", "django@4.2 (line 2) #0"}},
	})
}

func TestCargoLock(t *testing.T) {
	const crates = "registry+https://github.com/rust-lang/crates.io-index"
	runCases(t, KindCargoLock, []parseCase{
		{name: "not TOML", input: "[[package]\nname = 1", err: "The Cargo.lock is not valid"},
		{name: "wrong type", input: "[[package]]\nname = 1\n", err: "not valid"},
		{name: "future version", input: "version = 5\n", err: "version 5: only 1 to 4"},
		{name: "negative version", input: "version = -1\n", err: "version -1"},
		{name: "no name", input: "[[package]]\nversion = \"1.0.0\"\nsource = \"" + crates + "\"\n", err: "line 1 has no name or no version"},
		{name: "no version", input: "version = 3\n\n[[package]]\nname = \"a\"\n", err: "line 3 has no name or no version"},
		{name: "deep arrays", input: "a = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", err: "not valid"},
		{name: "deep tables", input: "a = " + strings.Repeat("{b=", 12000) + "1" + strings.Repeat("}", 12000) + "\n", err: "not valid"},
		{
			name: "sources",
			input: "version = 4\n[[package]]\nname = \"ws\"\nversion = \"0.1.0\"\n" +
				"[[package]]\nname = \"g\"\nversion = \"1.0.0\"\nsource = \"git+https://github.com/u/g#abc\"\n" +
				"[[package]]\nname = \"s\"\nversion = \"1.0.0\"\nsource = \"sparse+https://index.crates.io/\"\nchecksum = \"ab\"\n" +
				"[[package]]\nname = \"o\"\nversion = \"1.0.0\"\nsource = \"directory+/vendor\"\n",
			want:     []string{"s@1.0.0 (line 9) #1"},
			unpinned: []string{"line 5: g 1.0.0 (git+https://github.com/u/g#abc)", "line 14: o 1.0.0 (directory+/vendor)"},
		},
		{
			// Not as Cargo writes it: the entries are numbered, not lined.
			name:  "inline array of tables",
			input: "package = [{name = \"a\", version = \"1.0.0\", source = \"" + crates + "\"}, {name = \"b\", version = \"2.0.0\", source = \"" + crates + "\"}]\n",
			want:  []string{"a@1.0.0 ([[package]] 1) #0", "b@2.0.0 ([[package]] 2) #0"},
		},
		{
			name:  "headers with spaces and comments",
			input: "[[ package ]] # first\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"" + crates + "\"\n\n  [[package]]\nname = \"b\"\nversion = \"1.0.0\"\nsource = \"" + crates + "\"\n",
			want:  []string{"a@1.0.0 (line 1) #0", "b@1.0.0 (line 6) #0"},
		},
		{name: "unknown keys", input: "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"" + crates + "\"\nfuture = [1, 2]\n[patch.unused]\nx = 1\n", want: []string{"a@1.0.0 (line 1) #0"}},
	})
}

func TestIsPackageHeader(t *testing.T) {
	for s, want := range map[string]bool{
		"[[package]]": true, " [[ package ]] ": true, "[[package]]#x": true, "[[package]] # x": true,
		"[package]": false, "[[packages]]": false, "[[package]] x": false, "[[package.x]]": false, "[[package]": false, "": false,
	} {
		if isPackageHeader(s) != want {
			t.Errorf("isPackageHeader(%q) != %v", s, want)
		}
	}
}

func TestGemfileLock(t *testing.T) {
	runCases(t, KindGemfileLock, []parseCase{
		{name: "not a lockfile", input: "source 'https://rubygems.org'\ngem 'rails'\n", err: "none of Bundler's sections"},
		{name: "bad spec", input: "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 3.0.8\n", err: "Line 4 of the Gemfile.lock is not a gem specification"},
		{name: "spec without version", input: "GEM\n  specs:\n    rack ()\n", err: "Line 3"},
		{name: "trailing text", input: "GEM\n  specs:\n    rack (3.0.8) x\n", err: "Line 3"},
		{name: "bad checksum", input: "CHECKSUMS\n  rack sha256=00\n", err: "Line 2 of the Gemfile.lock is not a checksum entry"},
		{
			name:  "platforms and checksums",
			input: "GEM\n  remote: https://rubygems.org/\n  specs:\n    ffi (1.16.3-x86_64-linux-gnu)\n    ffi (1.16.3-java)\n    grpc (1.60.0-x86_64-linux)\n      google-protobuf (~> 3.25)\n\nCHECKSUMS\n  ffi (1.16.3-java) sha256=aa,sha512=bb\n  ffi (1.16.3-x86_64-linux-gnu) sha256=cc\n  grpc (1.60.0-x86_64-linux)\n  other (1.0) sha256=dd\n",
			want:  []string{"ffi@1.16.3 (line 4) #3", "grpc@1.60.0 (line 6) #0"},
		},
		{
			name:     "sections",
			input:    "PLUGIN SOURCE\n  remote: https://github.com/acme/source\n  type: acme\n  specs:\n    x (1.0)\n\nPATH\n  remote: engines/admin\n  specs:\n    admin (0.1.0)\n\nGIT\n  remote: https://github.com/u/g.git\n  revision: abc\n  specs:\n    g (2.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    a (1.0)\n      b (>= 0)\n        c\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  a (= 1.0)\n  g!\n\nBUNDLED WITH\n   2.4.22\n",
			want:     []string{"a@1.0 (line 21) #0"},
			unpinned: []string{"line 5: x 1.0 (plugin source https://github.com/acme/source)", "line 16: g 2.0 (git https://github.com/u/g.git)"},
		},
		{name: "specs only under specs:", input: "GEM\n  remote: https://rubygems.org/\n    a (1.0)\n  specs:\n    b (1.0)\n", want: []string{"b@1.0 (line 5) #0"}},
		{name: "unknown section", input: "GEM\n  specs:\n    a (1.0)\nFUTURE\n  specs:\n    z (9)\n", want: []string{"a@1.0 (line 3) #0"}},
	})
}

func TestMaven(t *testing.T) {
	runCases(t, KindMaven, []parseCase{
		{name: "not maven", input: "<project>\n  <groupId>x</groupId>\n</project>\n", err: "no Maven coordinates"},
		{name: "none", input: "[INFO] The following files have been resolved:\n[INFO]    none\n"},
		{name: "blank", input: "\n  \n"},
		{
			name: "forms",
			input: "g:a:jar:1.0:compile\n" +
				"g:b:test-jar:tests:1.1:test\n" +
				"g:c:jar:1.2:runtime:/home/u/.m2/c.jar\n" +
				"g:d:jar:natives:1.3:system:C:\\m2\\d.jar\n" +
				"g:e:pom:1.4:import (optional)\n" +
				"g:f:1.5\n" +
				"g:parent:jar:1.0-SNAPSHOT\n" + // dependency:tree's root
				"g:h:jar:1.6:weird\n" +
				"g:i:1.7 trailing\n" +
				"g:j:[1.0,2.0)\n" +
				"g::1.0\n" +
				"g:k:jar:2.0:compile -- module k [auto]\n",
			want: []string{"g/a@1.0 (line 1) #0", "g/b@1.1 (line 2) #0", "g/c@1.2 (line 3) #0", "g/d@1.3 (line 4) #0", "g/e@1.4 (line 5) #0", "g/f@1.5 (line 6) #0", "g/k@2.0 (line 12) #0"},
		},
		{
			name:  "levels",
			input: "[WARNING] g:w:jar:1.0:compile\n[ERROR] g:e:jar:1.0:compile\n[DEBUG] g:d:jar:1.0:compile\n[INFO] g:i:jar:1.0:compile\n[INFO]g:j:1.0\n[INFO broken g:k:1.0\n",
			want:  []string{"g/i@1.0 (line 4) #0", "g/j@1.0 (line 5) #0"},
		},
		{
			name:  "tree",
			input: "[INFO] g:root:jar:1.0\n[INFO] +- g:a:jar:1.0:compile\n[INFO] |  \\- g:b:jar:2.0:compile\n[INFO] |     \\- g:c:jar:3.0:compile (optional)\n[INFO] \\- (g:a:jar:1.0:compile - omitted for duplicate)\n",
			want:  []string{"g/a@1.0 (line 2) #0", "g/b@2.0 (line 3) #0", "g/c@3.0 (line 4) #0"},
		},
		{name: "dedup", input: "g:a:jar:1.0:compile\ng:a:jar:sources:1.0:compile\ng:a:pom:1.0:test\n", want: []string{"g/a@1.0 (line 1) #0"}},
		{name: "ansi", input: "\x1b[0m\x1b[0m[\x1b[1;34mINFO\x1b[m]    g:a:jar:1.0:compile\n\x1b[", want: []string{"g/a@1.0 (line 1) #0"}},
	})
}

func TestStripANSI(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "\x1b[1;34mINFO\x1b[m": "INFO", "a\x1b[": "a\x1b[", "a\x1b[12": "a\x1b[12", "\x1b[0mx": "x", "\x1bx": "\x1bx",
	} {
		if got := stripANSI(in); got != want {
			t.Errorf("stripANSI(%q) = %q, want %q", in, got, want)
		}
	}
}

// Package ruby_test drives a real coffer process with Debian's ruby, gem
// and bundler: gem build and gem push of two gems (one depending on the
// other and on a gem that only a fixture "rubygems.org" has: a compact
// index — versions, names, info files — and .gem files served on
// loopback, made in the test), gem install through the compact index and
// through the full index (a proxy that hides the compact index, as
// CodeArtifact serves none), bundle install from a Gemfile with a source block (and bundle lock
// --update, which revalidates the versions file: a 304 when unchanged, a
// Range request appended to Bundler's copy when it grew), bundle install
// of a gem only the registry lists and no stored gem depends on (the
// versions file relays the registry's), gem yank; then the installs again
// with the fixture registry stopped, from what coffer kept. The aws CLI
// creates the repositories and checks what coffer recorded.
//
// TestLiveRubygemsOrg (live_test.go) installs rack through coffer from the
// real rubygems.org, only with COFFER_LIVE_RUBY=1.
//
// A missing ruby, gem or bundle fails the test when CI is set and skips it
// otherwise.
package ruby_test

import (
	"os"
	"os/exec"
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *testproc.Coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

// needTool returns a client program's path: a missing one fails the test
// when CI is set and skips it elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required for this test and is not installed (scripts/test.sh installs ruby and ruby-bundler)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

var (
	get = testproc.Get
	str = testproc.Str
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

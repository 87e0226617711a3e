// Package cargo_test drives a real coffer process with the real cargo:
// cargo publishes two crates to a sparse registry on coffer, one depending
// on the other and on a crate that only a fixture "crates.io" (a sparse
// index and .crate files served on loopback, made in the test) has; cargo
// builds an application using both from a clean CARGO_HOME, through
// coffer's public:crates-io external connection; cargo yank, yank --undo
// and search run against it; the build runs again, from another clean
// CARGO_HOME, with the fixture registry stopped, from what coffer kept.
// The aws CLI creates the repositories and checks what coffer recorded.
//
// A missing cargo fails the test when CI is set and skips it otherwise.
// TestLiveCargo, which builds through the real crates.io, runs only with
// COFFER_LIVE_CARGO=1.
package cargo_test

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

// needCargo returns cargo's path: a missing cargo fails the test in CI
// and skips it elsewhere.
func needCargo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("cargo")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cargo is required for this test and is not installed (scripts/test.sh installs it)")
		}
		t.Skip("cargo is not installed")
	}
	return p
}

var (
	get  = testproc.Get
	str  = testproc.Str
	tail = testproc.Tail
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

// Package hardening attacks a real coffer process on a loopback port the way
// a hostile client or a hostile upstream would, and checks that each attack
// is refused in the protocol's own shape and changes nothing. One file per
// fault class; every test here failed against the code before its fix.
package hardening

import (
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *testproc.Coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

// Package npm_test drives a real coffer process with the real npm, pnpm
// and yarn (classic): npm publishes scoped and unscoped packages, the three
// clients install a project whose dependencies come partly from coffer's
// public:npmjs external connection, which points at an npmtest fixture
// registry on loopback (the public registry is no test dependency). The
// real aws CLI creates the repositories, runs `aws codeartifact login
// --tool npm` and checks what coffer recorded.
//
// npm and node are the machine's; pnpm and yarn are pinned and installed by
// .ci/run into test/npm/tools (gitignored), or given by $COFFER_PNPM and
// $COFFER_YARN. A missing client fails the test. TestLiveNPM, the only
// test that skips, installs from the public registry when
// COFFER_LIVE_NPM=1.
package npm_test

import (
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

type coffer = testproc.Coffer

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

func need(t *testing.T, program string) string { t.Helper(); return testproc.Need(t, program) }

var (
	get  = testproc.Get
	str  = testproc.Str
	tail = testproc.Tail
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

// Package pypi_test drives a real coffer process with the real Python
// clients: twine (Debian's) uploads wheels and sdists, pip installs them in
// fresh venvs, and public:pypi points at a static PEP 691/503 index of
// wheels built in the test (PyPI itself is unreachable). The aws CLI
// creates the repositories and runs `aws codeartifact login --tool pip`
// and `--tool twine`. A missing client fails the test: .ci/run installs
// them.
package pypi_test

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

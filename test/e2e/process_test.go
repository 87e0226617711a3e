// Package e2e runs the real coffer binary as a process on a loopback port
// and drives it with the real clients (the aws CLI, boto3, ...). A missing
// client fails the test: these tests are the proof that the clients work.
package e2e

import (
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the whole package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

type coffer = testproc.Coffer

func startCoffer(t *testing.T, dataDir string, extraArgs ...string) *coffer {
	t.Helper()
	return testproc.Start(t, cofferBin, dataDir, extraArgs...)
}

func need(t *testing.T, program string) string { t.Helper(); return testproc.Need(t, program) }

var (
	get = testproc.Get
	str = testproc.Str
)

// Package nuget_test drives a real coffer process as the NuGet clients
// do. No NuGet V3 client can run here (Debian ships nuget 2.8.7 on mono,
// which predates V3 feeds, and no dotnet): a scripted client replays,
// request by request, what dotnet restore, dotnet nuget push, dotnet
// nuget delete and nuget install send and expect, each request annotated
// with where in the NuGet client or the protocol's documentation it comes
// from. The .nupkg files are built in the test (zip + .nuspec), malformed
// ones included; a fixture "nuget.org" (service index, flat container,
// registrations, catalog leaves with the packages' SHA-512) served on
// loopback backs public:nuget-org. aws codeartifact login --tool nuget and
// --tool dotnet run against recording stand-ins of nuget and dotnet on
// PATH, which check the exact arguments the aws CLI passes; the source and
// credentials they recorded are what the scripted client then uses.
package nuget_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// cofferBin is the binary built once for the package.
var cofferBin string

func TestMain(m *testing.M) { testproc.Main(m, &cofferBin) }

// clientEnv is the aws CLI's environment: a home of its own, the root
// credentials coffer writes in dataDir, nothing of the caller's AWS or
// NuGet settings, and no proxy for loopback.
func clientEnv(t *testing.T, dataDir string, path string) []string {
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "aws-config"), []byte("[profile coffer]\nregion = us-east-1\n"), 0o600)
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "NUGET_"), k == "HOME", k == "PATH",
			strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"), strings.EqualFold(k, "no_proxy"):
		default:
			env = append(env, e)
		}
	}
	return append(env, "HOME="+home, "PATH="+path, "AWS_CONFIG_FILE="+filepath.Join(home, "aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dataDir, "root-credentials"), "AWS_PROFILE=coffer", "AWS_DEFAULT_REGION=us-east-1",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
}

var (
	get = testproc.Get
	str = testproc.Str
)

func list(v any, path ...any) []any { l, _ := get(v, path...).([]any); return l }

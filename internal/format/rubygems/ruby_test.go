package rubygems

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// needRuby returns the path of ruby. The tests that check this codec
// against the real Ruby, RubyGems and Bundler skip without it on a
// developer's machine, and fail in CI (CI set), where ruby is installed
// (apt-get install -y ruby ruby-bundler).
func needRuby(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ruby")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ruby is required in CI (apt-get install -y ruby ruby-bundler): %v", err)
		}
		t.Skip("ruby is not installed")
	}
	return p
}

// needTool is needRuby for the gem and bundle commands.
func needTool(t testing.TB, name string) string {
	t.Helper()
	needRuby(t)
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (apt-get install -y ruby ruby-bundler): %v", name, err)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// runRuby runs a Ruby script with arguments and returns its standard
// output; a failure fails the test with the script's standard error.
func runRuby(t testing.TB, script string, args ...string) string {
	t.Helper()
	ruby := needRuby(t)
	cmd := exec.Command(ruby, append([]string{"-e", script}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ruby: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}

// writeTemp writes data to a file named name in a temporary directory.
func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeedWithBoto3 runs the seed's generic flow with the real boto3.
func TestSeedWithBoto3(t *testing.T) {
	py := need(t, "python3")
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Fatalf("boto3 is required for this test: %v\n%s", err, out)
	}
	c := startCoffer(t, t.TempDir())
	cmd := exec.Command(py, "testdata/seed_boto3.py", c.URL, filepath.Join(c.DataDir, "root-credentials"), t.TempDir())
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(c.DataDir, "root-credentials"), "AWS_CONFIG_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 seed flow: ok") {
		t.Fatalf("boto3 flow failed: %v\n%s", err, out)
	}
}

package cluster_test

import (
	"coffer/internal/testproc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterMasterKey: every node needs the master key the store was first
// used with. A node started with another one, or with none at all, refuses
// to start and says why; the running nodes are not disturbed.
func TestClusterMasterKey(t *testing.T) {
	c := newCluster(t, 1)
	other := testproc.MasterKeyFile(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"another key", []string{"--master-key-file", other}, "the master key cannot open the secrets stored in the metadata store"},
		{"no key", []string{"--master-key-file", filepath.Join(t.TempDir(), "missing.key")}, "every node needs the same master key"},
	} {
		cmd := exec.Command(cofferBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
			"--metadata", c.metadata, "--blobs", c.blobs}, tc.args...)...)
		cmd.Env = append(os.Environ(), c.env...)
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%s: the node did not refuse to start", tc.name)
		}
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Fatalf("%s: exit %v, want a refusal saying %q:\n%s", tc.name, err, tc.want, out)
		}
		if strings.Contains(string(out), strings.TrimSpace(readFile(t, other))) {
			t.Fatalf("%s: the output shows the key", tc.name)
		}
	}
	if got := status(c.nodes[0].URL + "/readyz"); got != 200 {
		t.Fatalf("the running node answers readyz %d", got)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

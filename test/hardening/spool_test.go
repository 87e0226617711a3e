package hardening

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSpoolEmptiedAtStart: what a killed process left in <data-dir>/spool
// (an npm tarball or a PyPI file that was being received) is removed when
// coffer starts again, so uploads cut by kill -9 do not pile up.
func TestSpoolEmptiedAtStart(t *testing.T) {
	dataDir := t.TempDir()
	c := startCoffer(t, dataDir)
	spool := filepath.Join(dataDir, "spool")
	if fi, err := os.Stat(spool); err != nil || !fi.IsDir() {
		t.Fatalf("no spool directory under the data dir: %v", err)
	}
	c.Stop()
	left := filepath.Join(spool, "coffer-npm-publish-123")
	if err := os.WriteFile(left, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	startCoffer(t, dataDir)
	entries, err := os.ReadDir(spool)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("spool after restart holds %v", entries)
	}
}

package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOSVSettings(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.OSVSyncInterval != 24*time.Hour || c.MaxOSVImportSize != 1<<30 || len(c.OSVSync) != 0 {
		t.Fatalf("defaults: %+v", c.OSVSettings)
	}
	file := filepath.Join(t.TempDir(), "c.toml")
	toml := "osv-sync = [\"https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip\"]\nosv-sync-interval = \"12h\"\nmax-osv-import-size = 1000\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load([]string{"--config", file, "--osv-sync", "http://127.0.0.1:9000/all.zip", "--osv-sync-interval", "6h"},
		env(map[string]string{"COFFER_OSV_SYNC": "https://example.com/PyPI/all.zip", "COFFER_MAX_OSV_IMPORT_SIZE": "2000"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.OSVSyncInterval != 6*time.Hour || c.MaxOSVImportSize != 2000 || strings.Join(c.OSVSync, " ") !=
		"https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip https://example.com/PyPI/all.zip http://127.0.0.1:9000/all.zip" {
		t.Fatalf("file, env and flags: %+v", c.OSVSettings)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--osv-sync", "http://example.com/all.zip"}, "loopback"},
		{[]string{"--osv-sync", "ftp://example.com/all.zip"}, "osv-sync"},
		{[]string{"--osv-sync-interval", "soon"}, "osv-sync-interval"},
		{[]string{"--osv-sync-interval", "1s"}, "less than a minute"},
	} {
		if _, err := Load(tc.args, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, err := Load(nil, env(map[string]string{"COFFER_MAX_OSV_IMPORT_SIZE": "lots"}), io.Discard); err == nil {
		t.Error("COFFER_MAX_OSV_IMPORT_SIZE=lots accepted")
	}
}

package cluster_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/testproc"
)

// TestClusterMigrate: an embedded deployment (SQLite and files) populated
// with the aws CLI is stopped, copied with `coffer migrate` into
// PostgreSQL and S3, and served by three nodes: every asset downloads
// byte-identical through the balancer, with the old root credentials.
func TestClusterMigrate(t *testing.T) {
	c := newServers(t)
	key, err := os.ReadFile(c.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	// The embedded deployment uses the cluster's master key file as its own.
	if err := os.WriteFile(filepath.Join(src, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	one := testproc.Start(t, cofferBin, src)
	r := (&cluster{t: t, dataDirs: []string{src}}).runner()
	r.AWS(one.URL, "create-domain", "--domain", "acme")
	r.AWS(one.URL, "create-repository", "--domain", "acme", "--repository", "releases")
	type asset struct{ pkg, version, name string }
	contents := map[asset][]byte{}
	dir := t.TempDir()
	for i := range 12 {
		a := asset{fmt.Sprintf("tool-%d", i%3), fmt.Sprintf("1.%d.0", i/3), fmt.Sprintf("file-%d.bin", i)}
		b := make([]byte, 1000+i*40_000)
		_, _ = rand.Read(b)
		contents[a] = b
		path := filepath.Join(dir, a.name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		r.AWS(one.URL, "publish-package-version", "--domain", "acme", "--repository", "releases", "--format", "generic",
			"--namespace", "ns", "--package", a.pkg, "--package-version", a.version, "--asset-content", path,
			"--asset-name", a.name, "--asset-sha256", hex.EncodeToString(sum[:]))
	}
	one.Stop()

	migrate := exec.Command(cofferBin, "migrate",
		"--from", "sqlite://"+filepath.Join(src, "metadata.db")+",file://"+filepath.Join(src, "blobs"),
		"--to", c.metadata+","+c.blobs)
	migrate.Env = append(os.Environ(), c.env...)
	out, err := migrate.CombinedOutput()
	if err != nil {
		t.Fatalf("coffer migrate: %v\n%s", err, out)
	}
	t.Logf("coffer migrate:\n%s", out)

	c.startNodes(3)
	if c.credentialsOrEmpty() != "" {
		t.Fatal("a node created a root key although the migrated account has one")
	}
	// The old root credentials, through the balancer.
	cl := (&cluster{t: t, dataDirs: []string{src}}).runner()
	for a, want := range contents {
		path := filepath.Join(dir, "dl-"+a.name)
		cl.AWS(c.URL, "get-package-version-asset", "--domain", "acme", "--repository", "releases", "--format", "generic",
			"--namespace", "ns", "--package", a.pkg, "--package-version", a.version, "--asset", a.name, path)
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Fatalf("%+v: %d bytes after the migration, want the %d published", a, len(got), len(want))
		}
	}
	if !strings.Contains(string(out), "12") {
		t.Errorf("the report does not count the 12 assets:\n%s", out)
	}
}

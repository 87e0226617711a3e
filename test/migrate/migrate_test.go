package migrate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/backend"
	"coffer/internal/migrate"
	"coffer/internal/migrate/migratetest"
	"coffer/internal/testproc"
)

// TestMigrate fills an embedded deployment through the real clients, stops
// it, migrates it into a second embedded deployment and serves that with
// the same master key: everything is found again, with the source's root
// credentials. Then the same through PostgreSQL and S3 and back.
func TestMigrate(t *testing.T) {
	keyFile := testproc.MasterKeyFile(t)
	// A comma in the path: --from splits at the comma that starts the blob setting.
	srcDir := filepath.Join(t.TempDir(), "source,1")
	src := testproc.Start(t, cofferBin, srcDir, "--master-key-file", keyFile)
	credentials := filepath.Join(t.TempDir(), "root-credentials")
	copyFile(t, filepath.Join(srcDir, "root-credentials"), credentials)
	cl := newClients(t, credentials)
	w := publish(t, cl, src.URL)
	src.Stop()

	dstDir := t.TempDir()
	reportFile := filepath.Join(t.TempDir(), "report.json")
	out, errOut, err := runCoffer(t, nil, "migrate", "--from", embedded(srcDir), "--to", embedded(dstDir), "--report", reportFile)
	if err != nil {
		t.Fatalf("coffer migrate: %v\n%s\n%s", err, out, errOut)
	}
	t.Logf("coffer migrate:\n%s", out)
	rep := readReport(t, reportFile)
	if r := rep.Records; r.Domains != 1 || r.Repositories != 2 || r.Packages != 3 || r.Versions != 5 || r.Assets != 7 ||
		r.Users != 1 || r.Policies != 1 || r.Attachments != 1 || r.AccessKeys != 2 || r.PackageGroups != 1 || r.Tags != 4 {
		t.Errorf("report records %+v", r)
	}
	// Seven assets, six blobs (NOTICE is shared).
	if b := rep.Blobs; b.Referenced != 6 || b.Copied != 6 || b.AlreadyPresent != 0 {
		t.Errorf("report blobs %+v", b)
	}
	for _, want := range []string{"records copied", "package versions", "bytes copied", "master key"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report printed lacks %q", want)
		}
	}
	// The target is no longer empty: a second run is refused.
	if _, errOut, err := runCoffer(t, nil, "migrate", "--from", embedded(srcDir), "--to", embedded(dstDir)); err == nil ||
		!strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "--force") {
		t.Errorf("second migration into the same target: %v\n%s", err, errOut)
	}
	sameDumps(t, metadataSpec(t, embeddedMetadata(srcDir)), metadataSpec(t, embeddedMetadata(dstDir)))

	dst := testproc.Start(t, cofferBin, dstDir, "--master-key-file", keyFile)
	w.check(t, cl, dst.URL)
	dst.Stop()

	t.Run("PostgreSQLAndS3", func(t *testing.T) { throughPostgresAndS3(t, cl, w, srcDir, keyFile) })
}

// throughPostgresAndS3 migrates the source into a new PostgreSQL database
// and S3 prefix, serves them, then migrates them back into a new embedded
// deployment and serves that.
func throughPostgresAndS3(t *testing.T, cl *clients, w *world, srcDir, keyFile string) {
	pg, s3 := os.Getenv("COFFER_TEST_POSTGRES"), os.Getenv("COFFER_TEST_S3")
	if pg == "" || s3 == "" {
		if skip := os.Getenv("COFFER_TEST_SKIP"); strings.Contains(skip, "postgres") || strings.Contains(skip, "s3") {
			t.Skipf("COFFER_TEST_SKIP=%s", skip)
		}
		t.Fatal("COFFER_TEST_POSTGRES (a PostgreSQL URL allowed to CREATE DATABASE) and COFFER_TEST_S3 (an s3:// URL) " +
			"are required (scripts/postgres.sh and scripts/s3server.sh print them), or COFFER_TEST_SKIP=postgres,s3")
	}
	metadata := createDatabase(t, pg)
	blobs := s3Prefix(t, s3)
	env := []string{"AWS_EC2_METADATA_DISABLED=true"}

	out, errOut, err := runCoffer(t, env, "migrate", "--from", embedded(srcDir), "--to-metadata", metadata, "--to-blobs", blobs)
	if err != nil {
		t.Fatalf("coffer migrate into PostgreSQL and S3: %v\n%s\n%s", err, out, errOut)
	}
	sameDumps(t, metadataSpec(t, embeddedMetadata(srcDir)), metadataSpec(t, metadata))
	node := testproc.StartEnv(t, cofferBin, t.TempDir(), env, "--metadata", metadata, "--blobs", blobs, "--master-key-file", keyFile)
	w.check(t, cl, node.URL)
	node.Stop()

	// Serving changed the keys' last use: compare what is migrated back
	// with the database as it is now.
	backDir := t.TempDir()
	out, errOut, err = runCoffer(t, env, "migrate", "--from-metadata", metadata, "--from-blobs", blobs, "--to", embedded(backDir))
	if err != nil {
		t.Fatalf("coffer migrate back from PostgreSQL and S3: %v\n%s\n%s", err, out, errOut)
	}
	sameDumps(t, metadataSpec(t, metadata), metadataSpec(t, embeddedMetadata(backDir)))
	back := testproc.Start(t, cofferBin, backDir, "--master-key-file", keyFile)
	w.check(t, cl, back.URL)
	back.Stop()
}

func readReport(t *testing.T, path string) *migrate.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep migrate.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report %s: %v\n%s", path, err, b)
	}
	return &rep
}

func embeddedMetadata(dataDir string) string {
	return "sqlite://" + filepath.Join(dataDir, "metadata.db")
}

// metadataSpec parses a metadata setting as coffer does.
func metadataSpec(t *testing.T, setting string) backend.Spec {
	t.Helper()
	spec, err := backend.ParseMetadata(setting, "")
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// sameDumps requires the two metadata stores to hold the same records
// (migratetest.Dump: everything but the generated ids).
func sameDumps(t *testing.T, a, b backend.Spec) {
	t.Helper()
	da, db := dumpOf(t, a), dumpOf(t, b)
	for i := range max(len(da), len(db)) {
		var x, y string
		if i < len(da) {
			x = da[i]
		}
		if i < len(db) {
			y = db[i]
		}
		if x != y {
			t.Fatalf("%s and %s differ at line %d:\n%s\n%s", a, b, i+1, x, y)
		}
	}
	t.Logf("%s and %s hold the same %d records", a, b, len(da))
}

func dumpOf(t *testing.T, spec backend.Spec) []string {
	t.Helper()
	ctx := context.Background()
	s, err := backend.OpenMetadata(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines, err := migratetest.Dump(ctx, s, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

package osv

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const withdrawnRecord = `{"id":"GHSA-gone","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z",
"affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":["1.0.0"]}]}`

func makeZip(t *testing.T, files map[string]string, order []string) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range order {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

func collect(ids *[]string) func(*Record) error {
	return func(r *Record) error {
		id := r.ID
		if r.IsWithdrawn() {
			id += "(withdrawn)"
		}
		*ids = append(*ids, id)
		return nil
	}
}

func TestReadZip(t *testing.T) {
	files := map[string]string{
		"GHSA-xxxx-yyyy-zzzz.json": ghsaRecord,
		"MAL-2024-1234.json":       malRecord,
		"GHSA-gone.json":           withdrawnRecord,
		"README.txt":               "not a record",
	}
	order := []string{"GHSA-xxxx-yyyy-zzzz.json", "README.txt", "MAL-2024-1234.json", "GHSA-gone.json"}
	z := makeZip(t, files, order)
	var ids []string
	if err := ReadZip(z, z.Size(), collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, " "); got != "GHSA-xxxx-yyyy-zzzz MAL-2024-1234 GHSA-gone(withdrawn)" {
		t.Fatalf("read %s", got)
	}

	// A malformed record ends a strict read, naming its file ...
	files["BAD-1.json"] = `{"id": "BAD-1", "affected": [`
	order = []string{"MAL-2024-1234.json", "BAD-1.json", "GHSA-xxxx-yyyy-zzzz.json"}
	z = makeZip(t, files, order)
	ids = nil
	err := ReadZip(z, z.Size(), collect(&ids))
	var re *RecordError
	if !errors.As(err, &re) || re.File != "BAD-1.json" || len(ids) != 1 {
		t.Fatalf("err %v, read %v", err, ids)
	}
	// ... and is reported and passed over with Skip.
	var skipped []string
	ids = nil
	opt := ReadOptions{Skip: func(e *RecordError) { skipped = append(skipped, e.File) }}
	if err := ReadZipOptions(z, z.Size(), opt, collect(&ids)); err != nil || len(ids) != 2 || len(skipped) != 1 {
		t.Fatalf("err %v, read %v, skipped %v", err, ids, skipped)
	}

	// Oversized records, by header and by content.
	files["BIG.json"] = `{"id":"BIG","details":"` + strings.Repeat("x", 2000) + `"}`
	z = makeZip(t, files, []string{"BIG.json"})
	err = ReadZipOptions(z, z.Size(), ReadOptions{MaxRecordSize: 1000}, collect(&ids))
	if !errors.As(err, &re) || re.File != "BIG.json" || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}

	// An error from fn ends the read and comes back as is.
	stop := errors.New("stop")
	z = makeZip(t, files, []string{"MAL-2024-1234.json", "GHSA-gone.json"})
	if err := ReadZip(z, z.Size(), func(*Record) error { return stop }); err != stop {
		t.Fatalf("fn error: %v", err)
	}

	if err := ReadZip(bytes.NewReader([]byte("no zip")), 6, collect(&ids)); err == nil {
		t.Fatal("not a zip: no error")
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("osv/malicious/npm/evil-pkg/MAL-2024-1234.json", malRecord)
	write("osv/withdrawn/npm/x/GHSA-gone.json", withdrawnRecord)
	write("advisories/GHSA-xxxx-yyyy-zzzz.json", ghsaRecord)
	write("README.md", "# not a record")
	var ids []string
	if err := ReadDir(dir, collect(&ids)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, " "); got != "GHSA-xxxx-yyyy-zzzz MAL-2024-1234 GHSA-gone(withdrawn)" {
		t.Fatalf("read %s", got)
	}

	write("osv/malicious/npm/bad/MAL-bad.json", `{"affected": []}`)
	ids = nil
	err := ReadDir(dir, collect(&ids))
	var re *RecordError
	if !errors.As(err, &re) || !strings.HasSuffix(re.File, "MAL-bad.json") || !strings.Contains(err.Error(), "no id") {
		t.Fatalf("malformed: %v", err)
	}
	n := 0
	if err := ReadDirOptions(dir, ReadOptions{Skip: func(*RecordError) { n++ }}, collect(&ids)); err != nil || n != 1 {
		t.Fatalf("skip: %v, %d skipped", err, n)
	}

	write("big/BIG.json", `{"id":"BIG","details":"`+strings.Repeat("x", 2000)+`"}`)
	err = ReadDirOptions(filepath.Join(dir, "big"), ReadOptions{MaxRecordSize: 1000}, collect(&ids))
	if !errors.As(err, &re) || !strings.HasSuffix(re.File, "BIG.json") || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	if err := ReadDir(filepath.Join(dir, "missing"), collect(&ids)); err == nil {
		t.Fatal("missing dir: no error")
	}
}

package hardening

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"coffer/internal/format/pypi/pypitest"
)

// Fault class: a full disk answered as the client's fault. A PyPI upload
// whose spool write failed with ENOSPC was a 400. Now every surface
// answers the server's full disk as a server failure: 507 Insufficient
// Storage on the native protocols, InternalServerException (500) with a
// message that says so on the CodeArtifact API, and what was written of
// the upload is removed, so the next one fits.

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted
// at the end of the test (after anything started later is stopped). It
// skips the test where mounting is not allowed: the unit tests cover the
// same paths with an injected ENOSPC.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; internal/format/pypi TestUploadOnFullDisk and internal/blob/fs TestStageOnFullDisk inject ENOSPC instead")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the unit tests inject ENOSPC instead", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestFullDiskIsAServerError runs coffer on a 24 MiB tmpfs and uploads
// 40 MiB through PyPI, Maven and PublishPackageVersion.
func TestFullDiskIsAServerError(t *testing.T) {
	dataDir := mountTmpfs(t, "24m")
	e := newUploadEnv(t, dataDir)
	spool, staging := filepath.Join(dataDir, "spool"), filepath.Join(dataDir, "blobs", "tmp")
	const size = 40 << 20
	empty := func(what string) {
		t.Helper()
		for _, d := range []string{spool, staging} {
			if f := filesUnder(t, d); len(f) > 0 {
				t.Errorf("%s: left behind %v", what, f)
			}
		}
	}

	// PyPI: the spool fills up.
	ct, head, tail := twineForm(t, "big-project", "1.0", "big_project-1.0.tar.gz")
	got := streamBody(t, http.MethodPost, e.endpoint("pypi"), e.rootToken, ct, head, size, tail, false)
	if got.status != http.StatusInsufficientStorage || !strings.Contains(got.body, "insufficient storage") || strings.Contains(got.body, dataDir) {
		t.Errorf("PyPI upload on a full disk: %d %q, want 507 naming no path", got.status, got.body)
	}
	empty("PyPI")

	// Maven: the blob store's staging fills up.
	got = streamBody(t, http.MethodPut, e.endpoint("maven")+"com/example/big/1.0/big-1.0.jar", e.rootToken, "application/java-archive", nil, size, nil, false)
	if got.status != http.StatusInsufficientStorage || !strings.Contains(got.body, "insufficient storage") || strings.Contains(got.body, dataDir) {
		t.Errorf("Maven PUT on a full disk: %d %q, want 507 naming no path", got.status, got.body)
	}
	empty("Maven")

	// npm: the tarball's spool fills up (its base64 is "AAAA…").
	integrity := sha512.Sum512(nil)
	head = []byte(`{"_id":"big","name":"big","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{"name":"big","version":"1.0.0",` +
		`"_id":"big@1.0.0","dist":{"integrity":"sha512-` + base64.StdEncoding.EncodeToString(integrity[:]) + `","tarball":"http://localhost/big/-/big-1.0.0.tgz"}}},` +
		`"_attachments":{"big-1.0.0.tgz":{"content_type":"application/octet-stream","data":"`)
	tail = []byte(`","length":` + strconv.Itoa(size) + `}}}`)
	got = streamRequest(t, func(body io.Reader) *http.Request {
		req, err := http.NewRequest(http.MethodPut, e.endpoint("npm")+"big", body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.rootToken)
		req.Header.Set("Content-Type", "application/json")
		return req
	}, head, int64(len(head))+size/3*4+int64(len(tail)), tail, 'A')
	if got.status != http.StatusInsufficientStorage || !strings.Contains(got.body, "insufficient storage") || strings.Contains(got.body, dataDir) {
		t.Errorf("npm publish on a full disk: %d %q, want 507 naming no path", got.status, got.body)
	}
	empty("npm")

	// The CodeArtifact API: PublishPackageVersion.
	got = streamRequest(t, e.publishRequest(t, "big", size), nil, size, nil, 0)
	var apiErr struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal([]byte(got.body), &apiErr)
	if got.status != http.StatusInternalServerError || apiErr.Type != "InternalServerException" || !strings.Contains(apiErr.Message, "insufficient storage") ||
		strings.Contains(got.body, dataDir) {
		t.Errorf("PublishPackageVersion on a full disk: %d %q, want 500 InternalServerException saying insufficient storage", got.status, got.body)
	}
	empty("PublishPackageVersion")

	// The space is back: small uploads go through.
	wn, wheel := pypitest.Dist{Name: "small", Version: "1.0"}.Wheel()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	m5 := md5.Sum(wheel)
	for _, f := range [][2]string{{"name", "small"}, {"version", "1.0"}, {"filetype", "bdist_wheel"}, {"pyversion", "py3"},
		{"md5_digest", hex.EncodeToString(m5[:])}, {"sha256_digest", pypitest.SHA256(wheel)}, {":action", "file_upload"}, {"protocol_version", "1"}} {
		mw.WriteField(f[0], f[1])
	}
	fw, _ := mw.CreateFormFile("content", wn)
	fw.Write(wheel)
	mw.Close()
	if status, body := sendWhole(t, http.MethodPost, e.endpoint("pypi"), e.rootToken, mw.FormDataContentType(), buf.Bytes()); status != http.StatusOK {
		t.Errorf("small PyPI upload after the failures: %d %s", status, body)
	}
	if status, body := sendWhole(t, http.MethodPut, e.endpoint("maven")+"com/example/small/1.0/small-1.0.jar", e.rootToken, "application/java-archive", []byte("jar")); status != http.StatusCreated {
		t.Errorf("small Maven PUT after the failures: %d %s", status, body)
	}
}

// sendWhole is a plain request with a whole body.
func sendWhole(t *testing.T, method, url, token, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("aws", token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

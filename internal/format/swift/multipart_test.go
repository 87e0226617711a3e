package swift_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"coffer/internal/fault"
	"coffer/internal/format/swift"
)

func TestReadPublish(t *testing.T) {
	archive := packageArchive("LinkedList", "1.0.0")
	meta := `{"description":"a=b","licenseURL":"https://x.example/?q=3D"}`
	body, ct := publishBody(archive, meta, []byte("sig\x00"), []byte("msig"))
	var spool bytes.Buffer
	f, err := swift.ReadPublish(bytes.NewReader(body), ct, &spool, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(archive)
	if !bytes.Equal(spool.Bytes(), archive) || f.ArchiveSize != int64(len(archive)) || f.ArchiveSHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("archive: %d bytes spooled, size %d, sha %s", spool.Len(), f.ArchiveSize, f.ArchiveSHA256)
	}
	// The metadata is labelled quoted-printable but is the JSON as is.
	if string(f.Metadata) != meta || !f.HasMetadata {
		t.Errorf("metadata %q", f.Metadata)
	}
	if string(f.Signature) != "sig\x00" || string(f.MetadataSignature) != "msig" {
		t.Errorf("signatures %q %q", f.Signature, f.MetadataSignature)
	}
}

// TestReadPublishBase64 reads the specification's example shape: sections
// in base64.
func TestReadPublishBase64(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"source-archive\"\r\nContent-Type: application/zip\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\ngHUFBgAAAAAA\r\nAAAAAAAAAAAAAAAAAA==\r\n--b\r\n" +
		"Content-Disposition: form-data; name=\"other\"\r\n\r\nignored\r\n--b--\r\n"
	var spool bytes.Buffer
	f, err := swift.ReadPublish(strings.NewReader(body), "multipart/form-data;boundary=\"b\"", &spool, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if f.ArchiveSize != 22 || spool.Len() != 22 || f.HasMetadata {
		t.Errorf("size %d, spooled %d", f.ArchiveSize, spool.Len())
	}
}

func TestReadPublishRefuses(t *testing.T) {
	archive := packageArchive("P", "1.0.0")
	good, ct := publishBody(archive, "", nil, nil)
	dup := strings.Replace(string(good), "--\r\n", "\r\nContent-Disposition: form-data; name=\"source-archive\"\r\n\r\nx\r\n--7D4C1B6E-8D42-4C5B-9A3A-2C1F0E9D8B7A--\r\n", 1)
	for name, tc := range map[string]struct {
		body, ct string
		kind     fault.Kind
	}{
		"not multipart":    {string(good), "application/zip", fault.KindValidation},
		"no boundary":      {string(good), "multipart/form-data", fault.KindValidation},
		"no archive":       {"--b\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{}\r\n--b--\r\n", "multipart/form-data; boundary=b", fault.KindValidation},
		"truncated":        {string(good[:len(good)/2]), ct, fault.KindValidation},
		"repeated section": {dup, ct, fault.KindValidation},
		"bad encoding":     {"--b\r\nContent-Disposition: form-data; name=\"source-archive\"\r\nContent-Transfer-Encoding: x-zip\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", fault.KindValidation},
		"too large":        {string(good), ct, fault.KindQuotaExceeded},
	} {
		limit := int64(1 << 20)
		if name == "too large" {
			limit = 10
		}
		_, err := swift.ReadPublish(strings.NewReader(tc.body), tc.ct, &bytes.Buffer{}, limit)
		if err == nil || fault.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want kind %v", name, err, tc.kind)
		}
	}
}

package swift

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"coffer/internal/fault"
	"coffer/internal/format"
)

// PublishForm is what a publish request's multipart body carries
// (Registry.md §4.6): the source archive (spooled by ReadPublish, with its
// size and SHA-256), its signature, the metadata and its signature.
type PublishForm struct {
	ArchiveSize       int64
	ArchiveSHA256     string
	Signature         []byte
	Metadata          []byte
	HasMetadata       bool
	MetadataSignature []byte
}

func badForm(why string) error { return fault.Validation("invalid publish request: %s", why) }

// ReadPublish reads the multipart/form-data body of a publish, writing
// the source-archive section to archive (at most maxArchive bytes) and
// keeping the others (bounded). Sections are read raw: SwiftPM labels the
// metadata "quoted-printable" but sends the JSON as it is, which decoding
// would corrupt wherever it has a "="; a section labelled base64 (the
// specification's example) is decoded. Unknown sections are skipped; a
// repeated one is refused.
func ReadPublish(body io.Reader, contentType string, archive io.Writer, maxArchive int64) (*PublishForm, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, badForm("the body must be multipart/form-data with a boundary")
	}
	mr := multipart.NewReader(body, params["boundary"])
	f := &PublishForm{}
	seen := map[string]bool{}
	sawArchive := false
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, passLimit(err, badForm("malformed multipart body"))
		}
		name := p.FormName()
		switch name {
		case "source-archive", "source-archive-signature", "metadata", "metadata-signature":
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, passLimit(err, badForm("malformed multipart body"))
			}
			continue
		}
		if seen[name] {
			return nil, badForm("section " + name + " appears more than once")
		}
		seen[name] = true
		var r io.Reader = p
		switch strings.ToLower(strings.TrimSpace(p.Header.Get("Content-Transfer-Encoding"))) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, newlineStripper{p})
		case "", "binary", "8bit", "7bit", "quoted-printable":
		default:
			return nil, badForm("section " + name + " has an unsupported Content-Transfer-Encoding")
		}
		switch name {
		case "source-archive":
			sawArchive = true
			h := sha256.New()
			n, err := io.Copy(io.MultiWriter(archive, h), io.LimitReader(r, maxArchive+1))
			if err != nil {
				return nil, passLimit(err, badForm("the source archive section cannot be read"))
			}
			if n > maxArchive {
				return nil, format.TooLarge("source archive", maxArchive)
			}
			f.ArchiveSize, f.ArchiveSHA256 = n, hex.EncodeToString(h.Sum(nil))
		case "metadata":
			f.HasMetadata = true
			if f.Metadata, err = readBounded(r, maxMetadata, name); err != nil {
				return nil, err
			}
		case "source-archive-signature":
			if f.Signature, err = readBounded(r, maxSignature, name); err != nil {
				return nil, err
			}
		case "metadata-signature":
			if f.MetadataSignature, err = readBounded(r, maxSignature, name); err != nil {
				return nil, err
			}
		}
	}
	if !sawArchive {
		return nil, badForm("the source-archive section is missing")
	}
	return f, nil
}

func readBounded(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, passLimit(err, badForm("section "+name+" cannot be read"))
	}
	if int64(len(b)) > limit {
		return nil, format.TooLarge(name+" section", limit)
	}
	return b, nil
}

// passLimit keeps the error of the request body's limit (413) and of a
// client gone away; any other read failure is the body's fault.
func passLimit(err, otherwise error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return otherwise
}

// newlineStripper drops CR and LF, which base64 sections wrap lines with.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		j := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

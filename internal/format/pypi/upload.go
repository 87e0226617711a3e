package pypi

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// maxFieldSize bounds one form field that coffer reads (the others,
// description included, are skipped: the file's own metadata is what
// counts).
const maxFieldSize = 64 << 10

// formOverhead is what a legacy upload may carry beside its file: the
// metadata fields, of which the description (a README) is the largest. A
// body may be at most the file limit plus this.
const formOverhead = 1 << 20

// maxBeforeName bounds what is read of an upload before its name field,
// that is before the publish is authorized. twine (repository.py _upload:
// metadata_dictionary() begins with name and version, the content part is
// appended last), poetry, uv, flit and hatch all send the metadata fields
// first and name among the first few of them, so this is ample; a form
// that puts its file (or megabytes of anything) before the name is
// refused with 400 without being read, rather than spooled for a caller
// who may not publish at all.
const maxBeforeName = 256 << 10

// uploadFields are the form fields coffer reads.
var uploadFields = map[string]bool{
	":action": true, "protocol_version": true, "name": true, "version": true, "filetype": true,
	"pyversion": true, "metadata_version": true, "sha256_digest": true, "md5_digest": true, "blake2_256_digest": true,
}

// upload is one file of the legacy upload API, spooled to a temporary file.
type upload struct {
	fields   map[string]string
	filename string
	file     *os.File
	size     int64
	sha256   string
	md5      string
	blake2   string
}

// cleanup removes the spooled file; it may be called more than once.
func (u *upload) cleanup() {
	if u != nil && u.file != nil {
		u.file.Close()
		os.Remove(u.file.Name())
		u.file = nil
	}
}

func badUpload(format string, args ...any) error {
	return fault.Validation(format, args...)
}

// bodyError is the error of a failed read of the form: the limit's error
// when the body crossed a limit (format.Body), else a malformed or
// interrupted upload (the client's side).
func bodyError(err error, what string) error {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return fe
	}
	return badUpload("%s: %v", what, err)
}

// upload serves POST on the repository endpoint: twine's legacy upload
// (multipart/form-data, ":action=file_upload"). The whole file is received
// and checked (digests, file name, the wheel's METADATA or the sdist's
// PKG-INFO) before anything is stored; then the file, and for a wheel its
// METADATA as <file>.metadata, are recorded with PutAsset. The spooled
// file is removed before the answer is written, whatever the outcome.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	t := c.Target
	u, err := h.readUpload(r, t)
	defer u.cleanup() // a panic below still removes it
	if err == nil {
		err = h.storeUpload(r.Context(), t, u)
	}
	u.cleanup()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "OK\n")
	return nil
}

// readUpload parses the form, authorizes the publish as soon as the
// project is known, and spools the content while hashing it. Nothing is
// read of a body whose Content-Length is over the limit; at most
// maxBeforeName bytes are read before the name field (so before the
// publish is authorized); a file part before the name field is refused;
// the body may be at most the file limit plus formOverhead. The returned
// upload is never nil, so that its cleanup can always be called.
func (h *Handler) readUpload(r *http.Request, t *format.Target) (*upload, error) {
	u := &upload{fields: map[string]string{}}
	tooLarge := fault.Quota("asset", "", "The upload is larger than the limit of %d bytes for a file plus %d bytes for the other form fields", h.maxUpload, formOverhead)
	if r.ContentLength > h.maxUpload+formOverhead {
		return u, tooLarge
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return u, badUpload("Expected a multipart/form-data upload (the legacy upload API that twine uses)")
	}
	body := format.LimitBody(r, maxBeforeName, badUpload(
		"The name field must come before the file and within the first %d bytes of the form (twine, uv, poetry, flit and hatch send it first)", maxBeforeName))
	mr, err := r.MultipartReader()
	if err != nil {
		return u, badUpload("Malformed multipart upload: %v", err)
	}
	authorized := false
	authorize := func() error {
		if authorized {
			return nil
		}
		name := u.fields["name"]
		if !ValidName(name) {
			return badUpload("Invalid project name %q: it must match PEP 508 (letters, digits, '.', '_' and '-', starting and ending with a letter or digit)", name)
		}
		if err := h.authz.Authorize(r.Context(), actionPublish, h.packageARN(t, name)); err != nil {
			return err
		}
		authorized = true
		body.SetLimit(h.maxUpload+formOverhead, tooLarge)
		return nil
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return u, bodyError(err, "Malformed multipart upload")
		}
		name := part.FormName()
		switch {
		case name == "content":
			if u.file != nil {
				return u, badUpload("More than one content part")
			}
			if part.FileName() == "" {
				return u, badUpload("The content part has no file name")
			}
			if _, ok := u.fields["name"]; !ok {
				return u, badUpload("The content part came before the name field; send the metadata fields before the file (twine, uv, poetry, flit and hatch do)")
			}
			if err := authorize(); err != nil {
				return u, err
			}
			if err := h.spool(u, part); err != nil {
				return u, err
			}
		case uploadFields[name]:
			b, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
			if err != nil {
				return u, bodyError(err, "Malformed multipart upload")
			}
			if len(b) > maxFieldSize {
				return u, badUpload("Form field %s is too long", name)
			}
			if _, dup := u.fields[name]; !dup {
				u.fields[name] = strings.TrimSpace(string(b))
			}
			if name == "name" {
				// Authorized before anything else is read.
				if err := authorize(); err != nil {
					return u, err
				}
			}
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return u, bodyError(err, "Malformed multipart upload")
			}
		}
	}
	if a, ok := u.fields[":action"]; !ok || a != "file_upload" {
		if !ok {
			return u, badUpload("Missing :action field; this endpoint takes :action=file_upload")
		}
		return u, badUpload("Unsupported :action %q; this endpoint takes :action=file_upload", a)
	}
	if v, ok := u.fields["protocol_version"]; ok && v != "1" {
		return u, badUpload("Unsupported protocol_version %q (1 is supported)", v)
	}
	for _, f := range []string{"name", "version", "filetype"} {
		if u.fields[f] == "" {
			return u, badUpload("Missing form field %q", f)
		}
	}
	if err := authorize(); err != nil {
		return u, err
	}
	if u.file == nil {
		return u, badUpload("Missing the content part (the distribution file)")
	}
	return u, nil
}

// spool copies the file into a temporary file, hashing it on the way. A
// failed write is the server's storage (507 when it is full), a failed
// read the client's body.
func (h *Handler) spool(u *upload, part *multipart.Part) error {
	u.filename = ""
	f, err := os.CreateTemp(h.tempDir, "coffer-pypi-upload-")
	if err != nil {
		return fault.Storage(err, "could not receive the upload")
	}
	u.file = f
	dst := &format.FailedWriter{W: f}
	if h.wrapSpool != nil {
		dst.W = h.wrapSpool(f)
	}
	s256, m5, b2 := sha256.New(), md5.New(), newBlake2b256()
	n, err := io.Copy(io.MultiWriter(dst, s256, m5, b2), io.LimitReader(part, h.maxUpload+1))
	if dst.Err != nil {
		return fault.Storage(dst.Err, "could not receive the upload")
	}
	if err != nil {
		return bodyError(err, "The upload was interrupted")
	}
	if n > h.maxUpload {
		return fault.Quota("asset", "", "The file is larger than the limit of %d bytes", h.maxUpload)
	}
	u.size = n
	u.sha256, u.md5, u.blake2 = hexSum(s256), hexSum(m5), hexSum(b2)
	u.filename = part.FileName()
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// checked is an upload that passed every check.
type checked struct {
	project  string // normalised
	version  Version
	file     File
	metaFile []byte // METADATA / PKG-INFO
	meta     *CoreMetadata
}

// check validates an upload: digests, file name against name, version and
// filetype, and the distribution's own metadata against them.
func (u *upload) check() (*checked, error) {
	name, version, filetype := u.fields["name"], u.fields["version"], u.fields["filetype"]
	digests := 0
	for _, d := range []struct{ field, got string }{
		{"sha256_digest", u.sha256}, {"md5_digest", u.md5}, {"blake2_256_digest", u.blake2},
	} {
		want := strings.ToLower(u.fields[d.field])
		if want == "" {
			continue
		}
		digests++
		if want != d.got {
			return nil, badUpload("The %s of %s does not match its content: the form says %s, the file's is %s", d.field, u.filename, want, d.got)
		}
	}
	if digests == 0 {
		return nil, badUpload("Include at least one digest of the file: sha256_digest, md5_digest or blake2_256_digest")
	}
	if filetype != KindWheel && filetype != KindSdist {
		return nil, badUpload("Unsupported filetype %q: only bdist_wheel and sdist files can be uploaded", filetype)
	}
	pv, ok := ParseVersion(version)
	if !ok {
		return nil, badUpload("Invalid version %q: it is not a PEP 440 version", version)
	}
	f, ok := ParseFileName(u.filename, name)
	if !ok {
		return nil, badUpload("Invalid distribution file name %q for project %s: expected %s-<version>-<tags>.whl or %s-<version>.tar.gz",
			u.filename, name, strings.ReplaceAll(NormalizeName(name), "-", "_"), strings.ReplaceAll(NormalizeName(name), "-", "_"))
	}
	if (f.Kind == KindWheel) != (filetype == KindWheel) {
		return nil, badUpload("Filetype %s does not match the file name %s", filetype, u.filename)
	}
	if !sameVersion(f.Version, version) {
		return nil, badUpload("The version in the file name %s (%s) is not the uploaded version %s", u.filename, f.Version, version)
	}
	spooled := &failedReaderAt{r: u.file}
	mb, err := DistributionMetadata(spooled, u.size, f)
	if spooled.err != nil {
		return nil, fault.Internal(spooled.err, "could not read the upload back")
	}
	if err != nil {
		return nil, badUpload("Invalid distribution %s: %v", u.filename, err)
	}
	m, err := ParseCoreMetadata(mb)
	if err != nil {
		return nil, badUpload("Invalid core metadata in %s: %v", u.filename, err)
	}
	if NormalizeName(m.Name) != NormalizeName(name) {
		return nil, badUpload("The metadata of %s names project %q, not %q", u.filename, m.Name, name)
	}
	if !sameVersion(m.Version, version) {
		return nil, badUpload("The metadata of %s gives version %q, not %q", u.filename, m.Version, version)
	}
	return &checked{project: NormalizeName(name), version: pv, file: f, metaFile: mb, meta: m}, nil
}

// failedReaderAt remembers the first error of its ReaderAt other than
// io.EOF, so that a spooled file that cannot be read back is not taken for
// a malformed distribution.
type failedReaderAt struct {
	r   io.ReaderAt
	err error
}

func (f *failedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.r.ReadAt(p, off)
	if err != nil && err != io.EOF && f.err == nil {
		f.err = err
	}
	return n, err
}

// storeUpload records a checked upload.
func (h *Handler) storeUpload(ctx context.Context, t *format.Target, u *upload) error {
	c, err := u.check()
	if err != nil {
		return err
	}
	version, err := h.releaseVersion(ctx, t, c.project, c.version)
	if err != nil {
		return err
	}
	ref := versionRef(t, c.project, version)
	// File names of a release are one file whatever their case, as on
	// PyPI: an upload of Foo-1.0.tar.gz when foo-1.0.tar.gz is stored is
	// stored under the existing spelling, so that the usual rule applies
	// to it (the same bytes again succeed without change, other bytes are
	// a conflict, 409). Two first uploads of case variants racing each
	// other can both be stored: the check and the write are not one
	// transaction.
	if c.file.Name, err = h.storedSpelling(ctx, ref, c.file.Name); err != nil {
		return err
	}
	if _, err := u.file.Seek(0, io.SeekStart); err != nil {
		return fault.Internal(err, "could not read the upload back")
	}
	m := c.meta
	req := artifact.PutAssetRequest{VersionRef: ref, Asset: c.file.Name, NewStatus: artifact.StatusPublished,
		Verify: sameSHA256(u.sha256), Offered: h.offers(ref.Package, ref.Version),
		NewVersion: func(v *store.Version) {
			m.Apply(v, false)
			v.Metadata = versionMeta{RequiresPython: m.RequiresPython, DescriptionType: m.DescriptionType}.encode()
		},
		UpdateVersion: func(v *store.Version) {
			m.Apply(v, true)
			vm := parseVersionMeta(v.Metadata)
			switch {
			case vm.RequiresPython == "" && len(vm.Files) == 0:
				vm.RequiresPython = m.RequiresPython
			case vm.RequiresPython != m.RequiresPython:
				if vm.Files == nil {
					vm.Files = map[string]fileMeta{}
				}
				rp := m.RequiresPython
				fm := vm.Files[c.file.Name]
				fm.RequiresPython = &rp
				vm.Files[c.file.Name] = fm
			}
			if vm.DescriptionType == "" {
				vm.DescriptionType = m.DescriptionType
			}
			v.Metadata = vm.encode()
		}}
	if _, err := h.svc.PutAsset(ctx, req, u.file); err != nil {
		return err
	}
	if c.file.Kind != KindWheel {
		return nil
	}
	// The wheel's METADATA as its PEP 658 file. It goes second, so that
	// the page offers it only once it is there.
	ms := sha256.Sum256(c.metaFile)
	_, err = h.svc.PutAsset(ctx, artifact.PutAssetRequest{VersionRef: ref, Asset: c.file.Name + metadataSuffix,
		NewStatus: artifact.StatusPublished, Verify: sameSHA256(hex.EncodeToString(ms[:]))}, bytes.NewReader(c.metaFile))
	return err
}

// storedSpelling returns the name under which the version stores a file
// whose name equals name but for case, else name itself.
func (h *Handler) storedSpelling(ctx context.Context, ref artifact.VersionRef, name string) (string, error) {
	page := artifact.PageRequest{Max: 1000}
	for {
		l, err := h.svc.ListPackageVersionAssets(ctx, ref, page)
		if fault.KindOf(err) == fault.KindNotFound {
			return name, nil // a new version
		}
		if err != nil {
			return "", err
		}
		for _, a := range l.Assets {
			if strings.EqualFold(a.Name, name) {
				return a.Name, nil
			}
		}
		if l.Next == "" {
			return name, nil
		}
		page.After = l.Next
	}
}

func sameSHA256(want string) func(blob.Digests) error {
	return func(d blob.Digests) error {
		if d.SHA256 != want {
			return fmt.Errorf("its SHA-256 is %s, expected %s", d.SHA256, want)
		}
		return nil
	}
}

// releaseVersion returns the version an upload of pv joins: an equivalent
// version (same release, e.g. 1.0 for 1.0.0) that the repository stores
// in any status or shows from its upstreams, else pv's normalised form.
func (h *Handler) releaseVersion(ctx context.Context, t *format.Target, project string, pv Version) (string, error) {
	for _, cand := range pv.Equivalents() {
		_, err := h.svc.DescribePackageVersion(ctx, versionRef(t, project, cand))
		if err == nil {
			return cand, nil
		}
		if fault.KindOf(err) != fault.KindNotFound {
			return "", err
		}
		if errors.Is(err, fault.ErrNotFound) && fault.As(err).ResourceType == "package" {
			break // no package yet: nothing to join here
		}
	}
	view, err := h.svc.ViewPackage(ctx, packageRef(t, project), true)
	if err != nil {
		if fault.KindOf(err) == fault.KindNotFound {
			return pv.String(), nil
		}
		return "", err
	}
	key := pv.Key()
	for _, v := range view.Versions {
		if k, ok := VersionKey(v.Version.Version); ok && k == key {
			return v.Version.Version, nil
		}
	}
	return pv.String(), nil
}

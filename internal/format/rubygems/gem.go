package rubygems

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"coffer/internal/fault"
)

// Limits bound what reading a .gem may decompress and count. A zero field
// takes its default.
type Limits struct {
	// MaxMetadata bounds metadata.gz, compressed and decompressed
	// (default 8 MiB; the YAML of gems with the longest file lists is
	// about 2 MiB).
	MaxMetadata int64
	// MaxChecksums bounds checksums.yaml.gz decompressed (default 64 KiB;
	// it is a few hundred bytes).
	MaxChecksums int64
	// MaxData bounds data.tar.gz decompressed (default 1 GiB).
	MaxData int64
	// MaxDataEntries bounds the entries of data.tar.gz (default 100000).
	MaxDataEntries int
	// MaxMembers bounds the members of the .gem archive itself
	// (default 16: there are three, and three signatures).
	MaxMembers int
}

func (l Limits) withDefaults() Limits {
	if l.MaxMetadata <= 0 {
		l.MaxMetadata = 8 << 20
	}
	if l.MaxChecksums <= 0 {
		l.MaxChecksums = 64 << 10
	}
	if l.MaxData <= 0 {
		l.MaxData = 1 << 30
	}
	if l.MaxDataEntries <= 0 {
		l.MaxDataEntries = 100000
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = 16
	}
	return l
}

// maxSignature bounds a member's .sig (a PKCS#7 signature of a few KiB).
const maxSignature = 64 << 10

// Members of a .gem archive.
const (
	memberMetadataGz = "metadata.gz"
	memberMetadata   = "metadata" // uncompressed, from old RubyGems
	memberData       = "data.tar.gz"
	memberChecksums  = "checksums.yaml.gz"
)

// Gem is a verified .gem file.
type Gem struct {
	Spec *Spec
	// MetadataYAML is the gemspec as the gem carries it (metadata.gz,
	// decompressed).
	MetadataYAML []byte
	// Size and SHA256 (hex) are those of the whole .gem file: the
	// compact index's checksum.
	Size   int64
	SHA256 string
	// Checksums are the digests checksums.yaml.gz lists, all verified:
	// algorithm ("SHA256", "SHA512", "SHA1") -> member -> hex. Nil when
	// the gem has no checksums.yaml.gz, which RubyGems accepts.
	Checksums map[string]map[string]string
	// Signatures are the members that come with a .sig (signed gems);
	// they are kept, not verified: that is the installing client's
	// policy.
	Signatures []string
	// DataEntries is the number of entries of data.tar.gz.
	DataEntries int
}

// FileName is the .gem file name its spec gives it.
func (g *Gem) FileName() string { return g.Spec.FileName() }

// digester computes the digests checksums.yaml.gz may list of a member.
type digester struct {
	sums map[string]hash.Hash
	w    io.Writer
}

func newDigester() *digester {
	d := &digester{sums: map[string]hash.Hash{"SHA1": sha1.New(), "SHA256": sha256.New(), "SHA512": sha512.New()}}
	d.w = io.MultiWriter(d.sums["SHA1"], d.sums["SHA256"], d.sums["SHA512"])
	return d
}

// source reads the .gem, counting and hashing every byte, and keeps the
// first error of the underlying reader so that it is returned as it is (a
// body over the upload limit, a failing disk) rather than as a malformed
// gem.
type source struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

func invalidGem(format string, args ...any) error {
	return fault.Validation("The gem is invalid: "+format, args...)
}

// errLimit marks a decompressed stream that went over its limit.
var errLimit = errors.New("over the limit")

type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One byte more tells whether there is more.
		var b [1]byte
		n, err := l.r.Read(b[:])
		if n > 0 {
			return 0, errLimit
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// gunzip reads one gzip member of r whole, at most max bytes of it.
func gunzip(r io.Reader, max int64, what string) ([]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, invalidGem("%s is not gzip data", what)
	}
	zr.Multistream(false)
	b, err := io.ReadAll(&limitReader{r: zr, n: max})
	if errors.Is(err, errLimit) {
		return nil, invalidGem("%s decompresses to more than %d bytes", what, max)
	}
	if err != nil {
		return nil, invalidGem("%s is not valid gzip data", what)
	}
	return b, nil
}

// ReadGem reads a pushed .gem from r once, front to back, holding no more
// than its metadata in memory: a tar archive of metadata.gz (the YAML
// gemspec), data.tar.gz (the files), checksums.yaml.gz and optional .sig
// signatures. It checks what Gem::Package#verify checks: the metadata is
// there and is a Gem::Specification, data.tar.gz is there and is sound
// gzip (here also a sound tar), no member appears twice, and every digest
// checksums.yaml.gz lists matches its member. Decompressed sizes and
// entry counts are bounded by lim. The spec is validated (Spec.Validate).
// Errors reading r are returned as they are; anything wrong with the gem
// is a validation fault.
func ReadGem(r io.Reader, lim Limits) (*Gem, error) { return ReadGemChecked(r, lim, nil) }

// ReadGemChecked is ReadGem that calls check with the gem's spec as soon as
// the metadata is read — gem build writes it before the content — so that
// a push is authorized before the content is received. An error of check
// ends the read and is returned as it is.
func ReadGemChecked(r io.Reader, lim Limits, check func(*Spec) error) (*Gem, error) {
	lim = lim.withDefaults()
	src := &source{r: r, h: sha256.New()}
	g, err := readGem(src, lim, check)
	if src.err != nil {
		return nil, src.err
	}
	if err != nil {
		return nil, err
	}
	// The end-of-archive blocks and anything after them belong to the
	// file's size and digest.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return nil, err
	}
	if src.err != nil {
		return nil, src.err
	}
	g.Size = src.n
	g.SHA256 = hex.EncodeToString(src.h.Sum(nil))
	return g, nil
}

func readGem(src io.Reader, lim Limits, check func(*Spec) error) (*Gem, error) {
	g := &Gem{}
	tr := tar.NewReader(src)
	digests := map[string]*digester{}
	seen := map[string]bool{}
	var checksums []byte
	haveChecksums := false
	for members := 0; ; members++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if members == 0 {
				return nil, invalidGem("it is not a tar archive")
			}
			return nil, invalidGem("its tar archive is malformed")
		}
		if members >= lim.MaxMembers {
			return nil, invalidGem("it has more than %d members", lim.MaxMembers)
		}
		name := hdr.Name
		if seen[name] {
			return nil, invalidGem("duplicate files in the package: %q", clip(name))
		}
		seen[name] = true
		regular := hdr.Typeflag == tar.TypeReg || hdr.Typeflag == 0
		switch name {
		case memberMetadataGz, memberMetadata, memberData, memberChecksums:
			if !regular {
				return nil, invalidGem("%s is not a regular file", name)
			}
		}
		switch name {
		case memberMetadataGz, memberMetadata:
			if g.MetadataYAML != nil {
				return nil, invalidGem("it has both metadata and metadata.gz")
			}
			if hdr.Size > lim.MaxMetadata {
				return nil, invalidGem("%s is larger than %d bytes", name, lim.MaxMetadata)
			}
			d := newDigester()
			body := io.TeeReader(tr, d.w)
			var y []byte
			if name == memberMetadataGz {
				y, err = gunzip(body, lim.MaxMetadata, name)
			} else {
				y, err = io.ReadAll(body)
			}
			if err != nil {
				return nil, err
			}
			if _, err := io.Copy(io.Discard, body); err != nil {
				return nil, invalidGem("%s is truncated", name)
			}
			digests[name] = d
			if y == nil {
				y = []byte{}
			}
			g.MetadataYAML = y
			if g.Spec, err = checkedSpec(y, check); err != nil {
				return nil, err
			}
		case memberData:
			d := newDigester()
			body := io.TeeReader(tr, d.w)
			if g.DataEntries, err = verifyData(body, lim); err != nil {
				return nil, err
			}
			if _, err := io.Copy(io.Discard, body); err != nil {
				return nil, invalidGem("data.tar.gz is truncated")
			}
			digests[name] = d
		case memberChecksums:
			if hdr.Size > lim.MaxChecksums {
				return nil, invalidGem("%s is larger than %d bytes", name, lim.MaxChecksums)
			}
			if checksums, err = gunzip(tr, lim.MaxChecksums, name); err != nil {
				return nil, err
			}
			haveChecksums = true
		default:
			if base, ok := strings.CutSuffix(name, ".sig"); ok && regular {
				if hdr.Size > maxSignature {
					return nil, invalidGem("%s is larger than %d bytes", name, maxSignature)
				}
				g.Signatures = append(g.Signatures, base)
			}
			// Other members are skipped, as RubyGems ignores them.
		}
	}
	if g.MetadataYAML == nil {
		return nil, invalidGem("package metadata is missing")
	}
	if digests[memberData] == nil {
		return nil, invalidGem("package content (data.tar.gz) is missing")
	}
	if haveChecksums {
		sums, err := parseChecksums(checksums)
		if err != nil {
			return nil, err
		}
		if err := verifyChecksums(sums, digests); err != nil {
			return nil, err
		}
		g.Checksums = sums
	}
	sort.Strings(g.Signatures)
	return g, nil
}

// checkedSpec parses and validates the gem's spec and passes it to check.
func checkedSpec(metadata []byte, check func(*Spec) error) (*Spec, error) {
	spec, err := ParseSpecYAML(metadata)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(spec); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// verifyData reads data.tar.gz through: sound gzip (its CRC is checked at
// the end) around a sound tar, within the limits.
func verifyData(r io.Reader, lim Limits) (int, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, invalidGem("data.tar.gz is not gzip data")
	}
	zr.Multistream(false)
	lr := &limitReader{r: zr, n: lim.MaxData}
	tr := tar.NewReader(lr)
	n := 0
	for {
		_, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, dataErr(err, lim)
		}
		n++
		if n > lim.MaxDataEntries {
			return 0, invalidGem("data.tar.gz has more than %d entries", lim.MaxDataEntries)
		}
	}
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return 0, dataErr(err, lim)
	}
	return n, nil
}

func dataErr(err error, lim Limits) error {
	switch {
	case errors.Is(err, errLimit):
		return invalidGem("data.tar.gz decompresses to more than %d bytes", lim.MaxData)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return invalidGem("data.tar.gz is not valid gzip data")
	}
	return invalidGem("data.tar.gz is not a valid tar archive")
}

// parseChecksums reads checksums.yaml: algorithm -> member -> hex digest.
func parseChecksums(data []byte) (sums map[string]map[string]string, err error) {
	defer func() {
		if r := recover(); r != nil {
			sums, err = nil, invalidGem("checksums.yaml.gz is not valid YAML")
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, invalidGem("checksums.yaml.gz is not valid YAML")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = resolve(root)
	switch {
	case root == nil || root.Kind == 0 || root.Kind == yaml.DocumentNode || root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		// An empty document: no checksums, which RubyGems accepts.
		return map[string]map[string]string{}, nil
	case root.Kind != yaml.MappingNode:
		return nil, invalidGem("checksums.yaml.gz is not a mapping of digests")
	}
	sums = map[string]map[string]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		algo := scalar(root.Content[i])
		files := resolve(root.Content[i+1])
		if files == nil || files.Kind != yaml.MappingNode {
			return nil, invalidGem("checksums.yaml.gz has no digests for %q", clip(algo))
		}
		m := map[string]string{}
		for j := 0; j+1 < len(files.Content); j += 2 {
			m[scalar(files.Content[j])] = scalar(files.Content[j+1])
		}
		sums[algo] = m
	}
	return sums, nil
}

// verifyChecksums compares each listed digest with the member's, as
// Gem::Package#verify_checksums does (exact lower-case hex).
func verifyChecksums(sums map[string]map[string]string, digests map[string]*digester) error {
	for _, algo := range sortedAlgos(sums) {
		files := sums[algo]
		for _, file := range sortedKeys(files) {
			d := digests[file]
			if d == nil {
				return invalidGem("checksums.yaml.gz lists %q, which the gem does not have", clip(file))
			}
			h := d.sums[algo]
			if h == nil {
				return invalidGem("checksums.yaml.gz uses the unknown digest algorithm %q", clip(algo))
			}
			if hex.EncodeToString(h.Sum(nil)) != files[file] {
				return invalidGem("%s checksum mismatch for %s", algo, file)
			}
		}
	}
	return nil
}

func sortedAlgos(m map[string]map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package pypi

import (
	"archive/tar"
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"coffer/internal/store"
)

// MaxMetadataSize bounds a core-metadata file (METADATA, PKG-INFO).
const MaxMetadataSize = 4 << 20

// CoreMetadata is a distribution's core metadata (METADATA in a wheel,
// PKG-INFO in an sdist), parsed from its email-header form.
type CoreMetadata struct {
	MetadataVersion string
	Name            string
	Version         string
	Summary         string
	Description     string
	DescriptionType string
	HomePage        string
	License         string
	LicenseExpr     string
	RequiresPython  string
	RequiresDist    []string
	ProjectURLs     [][2]string // label, URL
	Classifiers     []string
}

// ParseCoreMetadata parses core metadata: "Key: value" headers (continued
// on lines that start with white space), then, after an empty line, the
// description as the message body (Metadata 2.1 and later). The older
// Description header with its "|"-prefixed continuation lines is read too.
func ParseCoreMetadata(data []byte) (*CoreMetadata, error) {
	if len(data) > MaxMetadataSize {
		return nil, fmt.Errorf("core metadata is larger than %d bytes", MaxMetadataSize)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("core metadata is not UTF-8")
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	m := &CoreMetadata{}
	var key string
	var val []string
	flush := func() {
		if key == "" {
			return
		}
		v := strings.Join(val, "\n")
		switch strings.ToLower(key) {
		case "metadata-version":
			m.MetadataVersion = strings.TrimSpace(v)
		case "name":
			m.Name = strings.TrimSpace(v)
		case "version":
			m.Version = strings.TrimSpace(v)
		case "summary":
			m.Summary = strings.TrimSpace(v)
		case "description":
			m.Description = unfoldDescription(val)
		case "description-content-type":
			m.DescriptionType = strings.TrimSpace(v)
		case "home-page":
			m.HomePage = strings.TrimSpace(v)
		case "license":
			m.License = strings.TrimSpace(v)
		case "license-expression":
			m.LicenseExpr = strings.TrimSpace(v)
		case "requires-python":
			m.RequiresPython = strings.TrimSpace(v)
		case "requires-dist":
			m.RequiresDist = append(m.RequiresDist, strings.TrimSpace(v))
		case "project-url":
			label, u, ok := strings.Cut(v, ",")
			if ok {
				m.ProjectURLs = append(m.ProjectURLs, [2]string{strings.TrimSpace(label), strings.TrimSpace(u)})
			}
		case "classifier":
			m.Classifiers = append(m.Classifiers, strings.TrimSpace(v))
		}
		key, val = "", nil
	}
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			i++
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key == "" {
				return nil, fmt.Errorf("line %d: continuation line without a header", i+1)
			}
			val = append(val, line)
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: %q is not a metadata header", i+1, truncate(line, 60))
		}
		key, val = k, []string{strings.TrimLeft(v, " \t")}
	}
	flush()
	if i < len(lines) {
		if body := strings.TrimRight(strings.Join(lines[i:], "\n"), "\n"); body != "" {
			m.Description = body
		}
	}
	if m.Name == "" {
		return nil, errors.New("core metadata has no Name")
	}
	if m.Version == "" {
		return nil, errors.New("core metadata has no Version")
	}
	return m, nil
}

// unfoldDescription undoes the folding of a Description header: setuptools
// prefixes continuation lines with 7 or 8 spaces and a "|".
func unfoldDescription(val []string) string {
	out := make([]string, len(val))
	for i, l := range val {
		if i > 0 {
			l = strings.TrimPrefix(strings.TrimLeft(l, " \t"), "|")
		}
		out[i] = l
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var reqNamePattern = regexp.MustCompile(`^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$`)

// dependencyType is PackageDependency.dependencyType for every PyPI dependency.
const dependencyType = "Requires-Dist"

// Dependencies turns Requires-Dist into the service's dependency records:
// the normalised project as Package, the specifier (with the environment
// marker after "; " when there is one, which is where an extra shows) as
// VersionRequirement, and the dependency type "Requires-Dist", the one value
// the model documents for PyPI.
func (m *CoreMetadata) Dependencies() []store.Dependency {
	var out []store.Dependency
	for _, rd := range m.RequiresDist {
		spec, marker, _ := strings.Cut(rd, ";")
		g := reqNamePattern.FindStringSubmatch(spec)
		if g == nil {
			continue
		}
		req := strings.TrimSpace(g[3])
		if strings.HasPrefix(req, "(") && strings.HasSuffix(req, ")") {
			req = strings.TrimSpace(req[1 : len(req)-1])
		}
		if marker = strings.TrimSpace(marker); marker != "" {
			req = strings.TrimSpace(req + "; " + marker)
		}
		if len(req) > 255 {
			req = req[:255]
		}
		out = append(out, store.Dependency{Package: NormalizeName(g[1]), DependencyType: dependencyType, VersionRequirement: req})
	}
	return out
}

// Apply fills a version's metadata from the core metadata. Fields already
// set are kept when keep is true (a second file of a release does not
// overwrite what the first one recorded).
func (m *CoreMetadata) Apply(v *store.Version, keep bool) {
	set := func(dst *string, val string) {
		if val != "" && (!keep || *dst == "") {
			*dst = val
		}
	}
	if !keep || v.DisplayName == "" || v.DisplayName == NormalizeName(m.Name) {
		set(&v.DisplayName, m.Name)
	}
	set(&v.Summary, truncate(m.Summary, 1000))
	set(&v.Readme, m.Description)
	home := m.HomePage
	source := ""
	for _, pu := range m.ProjectURLs {
		switch strings.ToLower(strings.ReplaceAll(pu[0], " ", "")) {
		case "homepage", "home":
			if home == "" {
				home = pu[1]
			}
		case "source", "sourcecode", "repository", "code", "github":
			if source == "" {
				source = pu[1]
			}
		}
	}
	set(&v.HomePage, home)
	set(&v.SourceCodeRepository, source)
	if !keep || len(v.Licenses) == 0 {
		if l := m.licenses(); len(l) > 0 {
			v.Licenses = l
		}
	}
	if !keep || len(v.Dependencies) == 0 {
		if d := m.Dependencies(); len(d) > 0 {
			v.Dependencies = d
		}
	}
}

func (m *CoreMetadata) licenses() []store.License {
	if m.LicenseExpr != "" {
		return []store.License{{Name: m.LicenseExpr}}
	}
	var out []store.License
	for _, c := range m.Classifiers {
		if rest, ok := strings.CutPrefix(c, "License :: "); ok {
			parts := strings.Split(rest, " :: ")
			out = append(out, store.License{Name: parts[len(parts)-1]})
		}
	}
	if len(out) == 0 && m.License != "" && !strings.Contains(m.License, "\n") && len(m.License) <= 100 {
		out = append(out, store.License{Name: m.License})
	}
	return out
}

// readLimited reads at most MaxMetadataSize bytes of r.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMetadataSize {
		return nil, fmt.Errorf("core metadata is larger than %d bytes", MaxMetadataSize)
	}
	return b, nil
}

// WheelMetadata returns the METADATA file of a wheel: the one in the
// top-level "<name>-<version>.dist-info" directory whose name matches the
// file name (f), or the only top-level .dist-info directory.
func WheelMetadata(r io.ReaderAt, size int64, f File) ([]byte, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a valid wheel (zip): %v", err)
	}
	var found []*zip.File
	for _, zf := range z.File {
		dir, base := path.Split(zf.Name)
		dir = strings.TrimSuffix(dir, "/")
		if base == "METADATA" && strings.HasSuffix(dir, ".dist-info") && !strings.Contains(dir, "/") {
			found = append(found, zf)
		}
	}
	var pick *zip.File
	for _, zf := range found {
		stem := strings.TrimSuffix(path.Dir(zf.Name), ".dist-info")
		i := strings.LastIndexByte(stem, '-')
		if i > 0 && NormalizeName(stem[:i]) == NormalizeName(f.Project) && sameVersion(stem[i+1:], f.Version) {
			pick = zf
			break
		}
	}
	if pick == nil && len(found) == 1 {
		pick = found[0]
	}
	if pick == nil {
		return nil, errors.New("the wheel has no <name>-<version>.dist-info/METADATA")
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", pick.Name, err)
	}
	defer rc.Close()
	b, err := readLimited(rc)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", pick.Name, err)
	}
	return b, nil
}

func sameVersion(a, b string) bool {
	ka, ok1 := VersionKey(a)
	kb, ok2 := VersionKey(b)
	return ok1 && ok2 && ka == kb
}

// SdistMetadata returns the PKG-INFO of a source distribution: the file
// "<top>/PKG-INFO" one directory deep (tar.gz, tar.bz2, tar, zip).
func SdistMetadata(r io.ReaderAt, size int64, f File) ([]byte, error) {
	lower := strings.ToLower(f.Name)
	if strings.HasSuffix(lower, ".zip") {
		z, err := zip.NewReader(r, size)
		if err != nil {
			return nil, fmt.Errorf("not a valid zip sdist: %v", err)
		}
		for _, zf := range z.File {
			if isTopPKGInfo(zf.Name) {
				rc, err := zf.Open()
				if err != nil {
					return nil, err
				}
				defer rc.Close()
				return readLimited(rc)
			}
		}
		return nil, errors.New("the sdist has no <name>-<version>/PKG-INFO")
	}
	var in io.Reader = io.NewSectionReader(r, 0, size)
	switch {
	case strings.HasSuffix(lower, ".tar.gz") || strings.HasSuffix(lower, ".tgz"):
		gz, err := gzip.NewReader(in)
		if err != nil {
			return nil, fmt.Errorf("not a valid gzip sdist: %v", err)
		}
		defer gz.Close()
		in = gz
	case strings.HasSuffix(lower, ".tar.bz2") || strings.HasSuffix(lower, ".tbz"):
		in = bzip2.NewReader(in)
	case strings.HasSuffix(lower, ".tar"):
	default:
		return nil, fmt.Errorf("%s: unsupported sdist archive format (use .tar.gz)", f.Name)
	}
	tr := tar.NewReader(in)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, errors.New("the sdist has no <name>-<version>/PKG-INFO")
		}
		if err != nil {
			return nil, fmt.Errorf("not a valid tar sdist: %v", err)
		}
		if h.Typeflag == tar.TypeReg && isTopPKGInfo(h.Name) {
			return readLimited(tr)
		}
	}
}

func isTopPKGInfo(name string) bool {
	name = strings.TrimPrefix(name, "./")
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	return base == "PKG-INFO" && dir != "" && !strings.Contains(dir, "/")
}

// DistributionMetadata returns the core metadata file of a distribution.
func DistributionMetadata(r io.ReaderAt, size int64, f File) ([]byte, error) {
	if f.Kind == KindWheel {
		return WheelMetadata(r, size, f)
	}
	return SdistMetadata(r, size, f)
}

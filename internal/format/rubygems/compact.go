package rubygems

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// The compact index, as Bundler (and RubyGems ≥ 3.5's gem install) reads
// it:
//
//	names          "---\n" then one gem name a line
//	versions       "created_at: <time>\n---\n" then "name v1,v2-platform,-v3 <md5 of info/name>" lines
//	info/<name>    "---\n" then one line per build of a version:
//	               "ver[-platform] dep:req&req,dep2:req|checksum:<sha256>,ruby:<req>,rubygems:<req>"
//
// Bundler fetches versions and info files with a Range request for what
// was appended since its copy and checks the result against the ETag (an
// MD5 of the whole body) or, from Bundler 2.5, the Repr-Digest (SHA-256);
// on a mismatch it fetches the whole file. Files that only grow at the end
// are therefore cheapest to follow: info lines in push order, versions
// lines appended as gems are pushed and yanked (a leading "-" marks a
// yanked version, and the line's MD5 is that of the info file after the
// change). A versions file written afresh is correct too; it only costs
// clients a second request when it changed in the middle. The info MD5 a
// versions line carries tells Bundler whether its cached info file is
// current, so it must be the MD5 of exactly the bytes served as
// info/<name>; Bundler takes the last line of a gem.

// MD5Hex is the hex MD5 of a body: the info checksum of a versions line
// and the value of the ETag.
func MD5Hex(body []byte) string {
	s := md5.Sum(body)
	return hex.EncodeToString(s[:])
}

// ETag is the ETag of a compact index file, as rubygems.org sends it and
// Bundler compares it: the quoted hex MD5 of the body.
func ETag(body []byte) string { return `"` + MD5Hex(body) + `"` }

// ReprDigest is the Repr-Digest header value of a body (RFC 9530):
// "sha-256=:<base64>:", which Bundler 2.5+ checks.
func ReprDigest(body []byte) string {
	s := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

// LegacyDigest is the older Digest header value rubygems.org still sends:
// "sha-256=<base64>".
func LegacyDigest(body []byte) string {
	s := sha256.Sum256(body)
	return "sha-256=" + base64.StdEncoding.EncodeToString(s[:])
}

// Names is the names file: the names sorted byte-wise.
func Names(names []string) []byte {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, n := range sorted {
		b.WriteString(n)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// InfoField is a field of an info line's requirements part that has no
// field of its own in InfoVersion (rubygems.org adds created_at, size…).
type InfoField struct {
	Key, Value string
}

// InfoVersion is one line of an info file: one build of a version.
type InfoVersion struct {
	Version  string
	Platform string // "ruby" or "" for a pure-Ruby gem
	// Dependencies are the runtime dependencies (development ones are
	// left out when writing).
	Dependencies []Dependency
	// Checksum is the hex SHA-256 of the .gem file.
	Checksum string
	// RequiredRuby and RequiredRubygems are written unless they are the
	// default ">= 0".
	RequiredRuby     Requirement
	RequiredRubygems Requirement
	// Extra are further fields, written after the others in their order.
	Extra []InfoField
}

// File is the line's name tuple for gem name.
func (v InfoVersion) File(name string) GemFile {
	return GemFile{Name: name, Version: v.Version, Platform: NormalizePlatform(v.Platform)}
}

// InfoFromSpec is the info line of a gem from its spec and the SHA-256
// of its .gem file.
func InfoFromSpec(s *Spec, sha256Hex string) InfoVersion {
	return InfoVersion{
		Version:          s.Version,
		Platform:         NormalizePlatform(s.Platform),
		Dependencies:     s.RuntimeDependencies(),
		Checksum:         sha256Hex,
		RequiredRuby:     s.RequiredRubyVersion,
		RequiredRubygems: s.RequiredRubygemsVersion,
	}
}

// versionToken is "version" or "version-platform".
func versionToken(version, platform string) string {
	if p := NormalizePlatform(platform); p != PlatformRuby {
		return version + "-" + p
	}
	return version
}

// Line is the info line, as rubygems.org writes it: runtime dependencies
// sorted by name, each requirement's constraints sorted and joined by "&"
// (a dependency without constraints is ">= 0"), then the checksum and the
// non-default ruby and rubygems requirements.
func (v InfoVersion) Line() string {
	var b strings.Builder
	b.WriteString(versionToken(v.Version, v.Platform))
	b.WriteByte(' ')
	var deps []Dependency
	for _, d := range v.Dependencies {
		if d.Type != Development {
			deps = append(deps, d)
		}
	}
	sort.SliceStable(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	for i, d := range deps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(d.Name)
		b.WriteByte(':')
		b.WriteString(d.Requirement.CompactString())
	}
	b.WriteString("|checksum:")
	b.WriteString(v.Checksum)
	if !v.RequiredRuby.IsDefault() {
		b.WriteString(",ruby:")
		b.WriteString(v.RequiredRuby.CompactString())
	}
	if !v.RequiredRubygems.IsDefault() {
		b.WriteString(",rubygems:")
		b.WriteString(v.RequiredRubygems.CompactString())
	}
	for _, f := range v.Extra {
		b.WriteByte(',')
		b.WriteString(f.Key)
		b.WriteByte(':')
		b.WriteString(f.Value)
	}
	return b.String()
}

// Info is an info file: "---\n" and one line per build, in the given
// order (push order keeps the file append-only).
func Info(versions []InfoVersion) []byte {
	var b bytes.Buffer
	b.WriteString("---\n")
	for _, v := range versions {
		b.WriteString(v.Line())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// VersionEntry is one version token of a versions line.
type VersionEntry struct {
	Version  string
	Platform string // "ruby" or "" for a pure-Ruby gem
	// Yanked writes the token with a leading "-": the build is withdrawn
	// (Bundler removes it from what the earlier lines listed).
	Yanked bool
}

// VersionsLine is one line of the versions file.
type VersionsLine struct {
	Name     string
	Versions []VersionEntry
	// InfoChecksum is MD5Hex of the gem's info file as served.
	InfoChecksum string
}

// String is "name v1,v2-platform,-v3 md5".
func (l VersionsLine) String() string {
	var b strings.Builder
	b.WriteString(l.Name)
	b.WriteByte(' ')
	for i, v := range l.Versions {
		if i > 0 {
			b.WriteByte(',')
		}
		if v.Yanked {
			b.WriteByte('-')
		}
		b.WriteString(versionToken(v.Version, v.Platform))
	}
	b.WriteByte(' ')
	b.WriteString(l.InfoChecksum)
	return b.String()
}

// createdAtLayout is how the versions file's header writes its time
// (Time#iso8601 in UTC).
const createdAtLayout = "2006-01-02T15:04:05Z"

// Versions is a versions file: the created_at header (the time the base
// of the file was made; clients compare nothing with it) and the lines in
// the given order. Lines without versions are left out: Bundler would
// read them as a gem with none.
func Versions(createdAt time.Time, lines []VersionsLine) []byte {
	var b bytes.Buffer
	b.WriteString("created_at: ")
	b.WriteString(createdAt.UTC().Format(createdAtLayout))
	b.WriteString("\n---\n")
	for _, l := range lines {
		if len(l.Versions) == 0 {
			continue
		}
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// GemVersions is what the versions file says of one gem.
type GemVersions struct {
	Name string
	// Builds are the gem's visible builds (yanked ones left out), in the
	// order its info file lists them.
	Builds []InfoVersion
}

// VersionsLines is the versions file written afresh: one line per gem, in
// the given order, listing its builds, with the MD5 of the info file
// Info(builds) makes. Gems with no builds are left out.
func VersionsLines(gems []GemVersions) []VersionsLine {
	var out []VersionsLine
	for _, g := range gems {
		if len(g.Builds) == 0 {
			continue
		}
		l := VersionsLine{Name: g.Name, InfoChecksum: MD5Hex(Info(g.Builds))}
		for _, v := range g.Builds {
			l.Versions = append(l.Versions, VersionEntry{Version: v.Version, Platform: v.Platform})
		}
		out = append(out, l)
	}
	return out
}

// ParseLimits bound the parsing of an upstream compact index file. A zero
// field takes its default.
type ParseLimits struct {
	// MaxBytes bounds the whole file (default 64 MiB).
	MaxBytes int64
	// MaxLines bounds the lines (default 500000).
	MaxLines int
	// MaxLineBytes bounds one line (default 64 KiB); longer lines are
	// skipped as malformed.
	MaxLineBytes int
}

func (l ParseLimits) withDefaults() ParseLimits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxLines <= 0 {
		l.MaxLines = 500000
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = 64 << 10
	}
	return l
}

// ErrIndexTooLarge is wrapped by the error of a file that exceeds its
// ParseLimits: an upstream serving that much is failing, not malformed.
var ErrIndexTooLarge = errors.New("compact index file too large")

// lineReader yields the lines of r within the limits: overlong lines are
// reported (ok false) and skipped, the whole is bounded.
type lineReader struct {
	br    *bufio.Reader
	lim   ParseLimits
	read  int64
	lines int
}

func newLineReader(r io.Reader, lim ParseLimits) *lineReader {
	lim = lim.withDefaults()
	return &lineReader{br: bufio.NewReaderSize(io.LimitReader(r, lim.MaxBytes+1), lim.MaxLineBytes), lim: lim}
}

// next returns the next line without its end, ok false for an overlong
// one, and io.EOF at the end.
func (lr *lineReader) next() (line string, ok bool, err error) {
	lr.lines++
	if lr.lines > lr.lim.MaxLines {
		return "", false, fmt.Errorf("%w: more than %d lines", ErrIndexTooLarge, lr.lim.MaxLines)
	}
	b, err := lr.br.ReadSlice('\n')
	lr.read += int64(len(b))
	over := false
	for err == bufio.ErrBufferFull {
		over = true
		b, err = lr.br.ReadSlice('\n')
		lr.read += int64(len(b))
	}
	if lr.read > lr.lim.MaxBytes {
		return "", false, fmt.Errorf("%w: more than %d bytes", ErrIndexTooLarge, lr.lim.MaxBytes)
	}
	if err != nil && err != io.EOF {
		return "", false, err
	}
	if err == io.EOF && len(b) == 0 && !over {
		return "", false, io.EOF
	}
	if over {
		return "", false, nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), true, nil
}

// ParseInfo reads an info file as rubygems.org serves it (info/<gem> of
// an upstream), bounded by lim. Lines that are not valid (a bad version,
// platform, dependency, requirement or checksum; an overlong line) are
// skipped and counted, as Bundler would choke on them. Lines before a
// leading "---" are ignored. Writing the result with Info gives the same
// bytes for every line kept from a file rubygems.org wrote.
func ParseInfo(r io.Reader, lim ParseLimits) (versions []InfoVersion, skipped int, err error) {
	lr := newLineReader(r, lim)
	first := true
	for {
		line, ok, err := lr.next()
		if err == io.EOF {
			return versions, skipped, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if first {
			first = false
			if ok && line == "---" {
				continue
			}
		}
		if !ok {
			skipped++
			continue
		}
		v, ok := ParseInfoLine(line)
		if !ok {
			skipped++
			continue
		}
		versions = append(versions, v)
	}
}

// ParseInfoLine reads one line of an info file.
func ParseInfoLine(line string) (InfoVersion, bool) {
	var v InfoVersion
	head, rest, _ := strings.Cut(line, " ")
	version, platform, hasPlatform := strings.Cut(head, "-")
	if !ValidVersion(version) {
		return v, false
	}
	v.Version = version
	v.Platform = PlatformRuby
	if hasPlatform {
		if platform == PlatformRuby || ValidatePlatform(platform) != nil {
			return v, false
		}
		v.Platform = platform
	}
	deps, reqs, _ := strings.Cut(rest, "|")
	if deps != "" {
		for _, d := range strings.Split(deps, ",") {
			name, req, ok := strings.Cut(d, ":")
			if !ok || !allowedChars(name) || len(name) > maxField {
				return v, false
			}
			r, err := parseRequirement(req, "&")
			if err != nil || req == "" {
				return v, false
			}
			v.Dependencies = append(v.Dependencies, Dependency{Name: name, Requirement: r, Type: Runtime})
		}
	}
	if reqs == "" {
		return v, false
	}
	for _, f := range strings.Split(reqs, ",") {
		key, val, ok := strings.Cut(f, ":")
		if !ok || key == "" {
			return v, false
		}
		switch key {
		case "checksum":
			if !validSHA256Hex(val) || v.Checksum != "" {
				return v, false
			}
			v.Checksum = strings.ToLower(val)
		case "ruby", "rubygems":
			r, err := parseRequirement(val, "&")
			if err != nil || val == "" {
				return v, false
			}
			if key == "ruby" {
				v.RequiredRuby = r
			} else {
				v.RequiredRubygems = r
			}
		default:
			if !safeField(key) || !safeField(val) {
				return v, false
			}
			v.Extra = append(v.Extra, InfoField{Key: key, Value: val})
		}
	}
	if v.Checksum == "" {
		return v, false
	}
	return v, true
}

// safeField reports whether s can be written back into an info line: no
// separators, no white space or control characters.
func safeField(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == ',' || c == '|' {
			return false
		}
	}
	return true
}

func validSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ParseVersions reads a versions file (an upstream's), bounded by lim:
// the created_at header and the lines, malformed ones skipped and
// counted.
func ParseVersions(r io.Reader, lim ParseLimits) (createdAt string, lines []VersionsLine, skipped int, err error) {
	lr := newLineReader(r, lim)
	header := true
	for {
		line, ok, err := lr.next()
		if err == io.EOF {
			return createdAt, lines, skipped, nil
		}
		if err != nil {
			return "", nil, 0, err
		}
		if header {
			if ok && line == "---" {
				header = false
			} else if ok && strings.HasPrefix(line, "created_at: ") {
				createdAt = strings.TrimPrefix(line, "created_at: ")
			}
			continue
		}
		if !ok {
			skipped++
			continue
		}
		l, ok := ParseVersionsLine(line)
		if !ok {
			skipped++
			continue
		}
		lines = append(lines, l)
	}
}

// ParseVersionsLine reads one line of a versions file.
func ParseVersionsLine(line string) (VersionsLine, bool) {
	var l VersionsLine
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !ValidName(parts[0]) || parts[1] == "" {
		return l, false
	}
	l.Name = parts[0]
	l.InfoChecksum = parts[2]
	if len(l.InfoChecksum) != 32 {
		return l, false
	}
	if _, err := hex.DecodeString(l.InfoChecksum); err != nil {
		return l, false
	}
	for _, tok := range strings.Split(parts[1], ",") {
		var e VersionEntry
		tok, e.Yanked = strings.CutPrefix(tok, "-")
		version, platform, hasPlatform := strings.Cut(tok, "-")
		if !ValidVersion(version) {
			return l, false
		}
		e.Version, e.Platform = version, PlatformRuby
		if hasPlatform {
			if platform == PlatformRuby || ValidatePlatform(platform) != nil {
				return l, false
			}
			e.Platform = platform
		}
		l.Versions = append(l.Versions, e)
	}
	return l, true
}

package rubygems

import (
	"sort"
	"strings"

	"coffer/internal/fault"
)

// PlatformRuby is the platform of a pure-Ruby gem (Gem::Platform::RUBY).
const PlatformRuby = "ruby"

// ValidateName applies rubygems.org's rule for a gem name (its
// NameFormatValidator, also Gem::SpecificationPolicy#validate_name): at
// most 255 characters of A-Z a-z 0-9 . - _, at least one letter, not
// beginning with a period, dash or underscore. rubygems.org's list of
// reserved names (default gems such as "set" or "rubygems") is not
// applied: it protects a public namespace, and a private repository may
// well host its own builds of such gems.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fault.Validation("The gem name must not be empty")
	case len(name) > maxField:
		return fault.Validation("The gem name %q is longer than %d characters", clip(name), maxField)
	case !allowedChars(name):
		return fault.Validation("The gem name %q can only include letters, numbers, dashes, and underscores", clip(name))
	case strings.IndexFunc(name, isLetter) < 0:
		return fault.Validation("The gem name %q must include at least one letter", name)
	case strings.ContainsRune(".-_", rune(name[0])):
		return fault.Validation("The gem name %q can not begin with a period, dash, or underscore", name)
	}
	return nil
}

// ValidName reports whether ValidateName accepts name.
func ValidName(name string) bool { return ValidateName(name) == nil }

// allowedChars reports whether s is made of rubygems.org's name
// characters only (Patterns::ALLOWED_CHARACTERS).
func allowedChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// NameKey is the identity under which gem names collide: the name in
// lower case. Gem names are case-sensitive everywhere a client uses them
// (info/Rack is not info/rack, and the .gem file name keeps the case), so a
// repository keeps the name as it was first pushed and answers only to
// that spelling; but rubygems.org refuses a new gem whose name differs from
// an existing one only in case (uniqueness, case_sensitive: false), and so
// should a repository: two packages with equal keys are a conflict.
func NameKey(name string) string { return strings.ToLower(name) }

// ValidatePlatform accepts "ruby" and what rubygems.org accepts as a
// version's platform: at most 255 of A-Z a-z 0-9 . - _ ("x86_64-linux",
// "java", "x64-mingw-ucrt"), with neither an empty dash-separated part
// (which Gem::Platform would drop, renaming the file) nor a leading
// period.
func ValidatePlatform(p string) error {
	if p == PlatformRuby {
		return nil
	}
	if len(p) > maxField || !allowedChars(p) || p[0] == '-' || p[0] == '.' || p[len(p)-1] == '-' || strings.Contains(p, "--") {
		return fault.Validation("The gem platform %q is not valid", clip(p))
	}
	return nil
}

// NormalizePlatform makes "" (no platform) "ruby".
func NormalizePlatform(p string) string {
	if p == "" {
		return PlatformRuby
	}
	return p
}

// platformParts splits a platform string into Gem::Platform's cpu, os and
// version so that joining the non-empty parts with "-" (Gem::Platform#to_s)
// gives the string back: one part is an os ("java"), two are cpu and os
// ("x86_64-linux"), more are cpu, os and a version ("x86_64-linux-musl",
// "x64-mingw-ucrt", "universal-darwin-21"). That is how current RubyGems
// reads the platforms gems are built for; keeping to_s equal to the string
// matters more than RubyGems' table of historic aliases, because a client
// names the .gem file it downloads after to_s.
func platformParts(p string) (cpu, os, version string) {
	parts := strings.SplitN(p, "-", 3)
	switch len(parts) {
	case 1:
		return "", parts[0], ""
	case 2:
		return parts[0], parts[1], ""
	}
	return parts[0], parts[1], parts[2]
}

// GemFile names one build of a gem version: what rubygems calls a name
// tuple.
type GemFile struct {
	Name     string
	Version  string
	Platform string // "ruby" for a pure-Ruby gem
}

// FullName is Gem::NameTuple#full_name: "name-version", and "-platform"
// unless the platform is ruby.
func (g GemFile) FullName() string {
	if p := NormalizePlatform(g.Platform); p != PlatformRuby {
		return g.Name + "-" + g.Version + "-" + p
	}
	return g.Name + "-" + g.Version
}

// FileName is the .gem file's name (gems/<FileName>).
func (g GemFile) FileName() string { return g.FullName() + ".gem" }

// SpecFileName is the name of the quick spec
// (quick/Marshal.4.8/<SpecFileName>).
func (g GemFile) SpecFileName() string { return g.FullName() + ".gemspec.rz" }

// QuickSpecDir is where the full index keeps the quick specs.
const QuickSpecDir = "quick/Marshal.4.8/"

// SplitFullName lists the ways full ("name-version[-platform]", a .gem or
// .gemspec.rz file name without its suffix) splits into a valid name,
// version and platform. A name may contain "-" followed by digits and a
// platform may have several dashes, so one string can have more than one
// reading ("a-2-1.0" is a 2 on platform 1.0, or a-2 1.0); readings
// without a platform come first, then longer names first. Callers look
// each up and take the first that exists.
func SplitFullName(full string) []GemFile {
	var out []GemFile
	for i := 1; i < len(full); i++ {
		if full[i] != '-' {
			continue
		}
		name, rest := full[:i], full[i+1:]
		if !ValidName(name) {
			continue
		}
		version, platform, hasPlatform := strings.Cut(rest, "-")
		if !hasPlatform {
			platform = PlatformRuby
		} else if platform == PlatformRuby || ValidatePlatform(platform) != nil {
			continue
		}
		if !ValidVersion(version) {
			continue
		}
		out = append(out, GemFile{Name: name, Version: version, Platform: platform})
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := out[i].Platform == PlatformRuby, out[j].Platform == PlatformRuby
		if ri != rj {
			return ri
		}
		return len(out[i].Name) > len(out[j].Name)
	})
	return out
}

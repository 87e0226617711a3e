package lockfile

import (
	"strings"

	"coffer/internal/fault"
)

// Gemfile.lock, as Bundler writes it: sections headed by a line at
// column 0 (GEM, GIT, PATH, PLUGIN SOURCE, PLATFORMS, DEPENDENCIES,
// CHECKSUMS, RUBY VERSION, BUNDLED WITH). A source section lists its
// gems under "  specs:", one "    name (version)" at four spaces, each
// followed by its own requirements at six, which are not read.
//
// The gems of the GEM sections (there is one per rubygems source) are
// pinned. Bundler writes a gem built for a platform as "name
// (version-platform)", "nokogiri (1.15.5-x86_64-linux)", and reads
// everything after the first "-" as the platform; so does this parser,
// whose Version is the part before it. The same version for several
// platforms is one Dependency. The CHECKSUMS section (Bundler 2.5 and
// later) gives Hashes, "sha256=hex" written "sha256:hex", those of every
// platform of the version. The gems of GIT and PLUGIN SOURCE sections are
// unpinned; PATH gems are the project's own and are left out.

func parseGemfileLock(c *collector, data []byte) error {
	type checksum struct{ name, version string }
	var (
		section  string // the current section's header
		remote   string // its remote:
		inSpecs  bool
		known    bool // a Bundler section was seen
		nonBlank bool
		sums     = map[checksum][]string{}
	)
	err := eachLine(data, func(n int, text string) error {
		if strings.TrimSpace(text) == "" {
			return nil
		}
		nonBlank = true
		if text[0] != ' ' {
			section, remote, inSpecs = strings.TrimSpace(text), "", false
			switch section {
			case "GEM", "GIT", "PATH", "PLUGIN SOURCE", "PLATFORMS", "DEPENDENCIES", "CHECKSUMS", "RUBY VERSION", "BUNDLED WITH":
				known = true
			}
			return nil
		}
		indent := len(text) - len(strings.TrimLeft(text, " "))
		body := strings.TrimSpace(text)
		switch section {
		case "GEM", "GIT", "PLUGIN SOURCE":
		case "CHECKSUMS":
			if indent != 2 {
				return nil
			}
			name, version, rest, ok := gemNameVersion(body)
			if !ok {
				return fault.Validation("Line %d of the Gemfile.lock is not a checksum entry", n)
			}
			for _, s := range strings.Split(strings.TrimSpace(rest), ",") {
				if algo, sum, ok := strings.Cut(strings.TrimSpace(s), "="); ok && algo != "" && sum != "" {
					k := checksum{name, version}
					sums[k] = append(sums[k], algo+":"+sum)
				}
			}
			return nil
		default:
			return nil
		}
		if indent == 2 {
			if r, ok := strings.CutPrefix(body, "remote:"); ok {
				remote = strings.TrimSpace(r)
			}
			inSpecs = body == "specs:"
			return nil
		}
		if indent != 4 || !inSpecs {
			return nil // a gem's own requirements, or what this parser does not read
		}
		name, version, rest, ok := gemNameVersion(body)
		if !ok || strings.TrimSpace(rest) != "" {
			return fault.Validation("Line %d of the Gemfile.lock is not a gem specification \"name (version)\"", n)
		}
		if section != "GEM" {
			what := name + " " + version + " (" + strings.ToLower(section)
			if remote != "" {
				what += " " + remote
			}
			return c.skip(lineSource(n), what+")")
		}
		return c.add("", name, version, nil, lineSource(n))
	})
	if err != nil {
		return err
	}
	if nonBlank && !known {
		return fault.Validation("The Gemfile.lock has none of Bundler's sections (GEM, DEPENDENCIES, ...)")
	}
	for i := range c.deps {
		d := &c.deps[i]
		for _, h := range sums[checksum{d.Name, d.Version}] {
			if !contains(d.Hashes, h) {
				d.Hashes = append(d.Hashes, h)
			}
		}
	}
	return nil
}

// gemNameVersion reads "name (version[-platform])rest" as Bundler's
// lockfile parser does; version is the part before the platform.
func gemNameVersion(s string) (name, version, rest string, ok bool) {
	name, v, ok := strings.Cut(s, " (")
	if !ok || name == "" || strings.ContainsAny(name, " ()") {
		return "", "", "", false
	}
	v, rest, ok = strings.Cut(v, ")")
	if !ok {
		return "", "", "", false
	}
	version, _, _ = strings.Cut(v, "-")
	if version == "" || strings.ContainsAny(version, " (") {
		return "", "", "", false
	}
	return name, version, rest, true
}

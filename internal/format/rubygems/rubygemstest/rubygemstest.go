// Package rubygemstest builds .gem files for tests: well-formed gems as
// gem build writes them (a tar of metadata.gz, data.tar.gz and
// checksums.yaml.gz), with the gemspec YAML Ruby loads.
package rubygemstest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Dep is a dependency: Name, its requirement's constraints ("~> 1.0",
// ">= 0"), and Development for a development dependency.
type Dep struct {
	Name        string
	Constraints []string
	Development bool
}

// Gem describes a gem to build.
type Gem struct {
	Name, Version string
	Platform      string // "" is ruby
	Summary       string
	Homepage      string
	Licenses      []string
	Deps          []Dep
	// Lib is the content of lib/<name>.rb (default a module).
	Lib string
}

// FileName is the .gem's file name.
func (g Gem) FileName() string {
	if g.Platform != "" && g.Platform != "ruby" {
		return g.Name + "-" + g.Version + "-" + g.Platform + ".gem"
	}
	return g.Name + "-" + g.Version + ".gem"
}

func requirementYAML(indent string, cons []string) string {
	if len(cons) == 0 {
		cons = []string{">= 0"}
	}
	var b strings.Builder
	b.WriteString("!ruby/object:Gem::Requirement\n" + indent + "requirements:\n")
	for _, c := range cons {
		op, v, _ := strings.Cut(strings.TrimSpace(c), " ")
		fmt.Fprintf(&b, "%s- - %q\n%s  - !ruby/object:Gem::Version\n%s    version: '%s'\n", indent, op, indent, indent, strings.TrimSpace(v))
	}
	return b.String()
}

// SpecYAML is the gem's metadata (its gemspec as YAML).
func (g Gem) SpecYAML() string {
	platform := g.Platform
	if platform == "" {
		platform = "ruby"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- !ruby/object:Gem::Specification\nname: %s\nversion: !ruby/object:Gem::Version\n  version: %s\nplatform: %s\n", g.Name, g.Version, platform)
	b.WriteString("authors:\n- Test\nautorequire:\nbindir: bin\ncert_chain: []\ndate: 2024-01-02 00:00:00.000000000 Z\n")
	if len(g.Deps) == 0 {
		b.WriteString("dependencies: []\n")
	} else {
		b.WriteString("dependencies:\n")
		for _, d := range g.Deps {
			typ := "runtime"
			if d.Development {
				typ = "development"
			}
			req := requirementYAML("    ", d.Constraints)
			fmt.Fprintf(&b, "- !ruby/object:Gem::Dependency\n  name: %s\n  requirement: %s  type: :%s\n  prerelease: false\n  version_requirements: %s", d.Name, req, typ, req)
		}
	}
	fmt.Fprintf(&b, "description: %s\nemail: test@example.com\nexecutables: []\nextensions: []\nextra_rdoc_files: []\nfiles:\n- lib/%s.rb\n", g.Summary, g.Name)
	if g.Homepage != "" {
		fmt.Fprintf(&b, "homepage: %s\n", g.Homepage)
	} else {
		b.WriteString("homepage:\n")
	}
	if len(g.Licenses) == 0 {
		b.WriteString("licenses: []\n")
	} else {
		b.WriteString("licenses:\n")
		for _, l := range g.Licenses {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	b.WriteString("metadata: {}\npost_install_message:\nrdoc_options: []\nrequire_paths:\n- lib\n")
	b.WriteString("required_ruby_version: " + requirementYAML("  ", nil))
	b.WriteString("required_rubygems_version: " + requirementYAML("  ", nil))
	summary := g.Summary
	if summary == "" {
		summary = "test gem " + g.Name
	}
	fmt.Fprintf(&b, "requirements: []\nrubygems_version: 3.3.15\nsigning_key:\nspecification_version: 4\nsummary: %s\ntest_files: []\n", summary)
	return b.String()
}

type member struct {
	name string
	data []byte
}

func tarOf(ms ...member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o444, Size: int64(len(m.data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)})
		tw.Write(m.data)
	}
	tw.Close()
	return buf.Bytes()
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Bytes builds the .gem.
func (g Gem) Bytes() []byte {
	lib := g.Lib
	if lib == "" {
		lib = "module " + strings.ToUpper(g.Name[:1]) + strings.ReplaceAll(g.Name[1:], "-", "_") + "; VERSION = \"" + g.Version + "\"; end\n"
	}
	meta := member{"metadata.gz", gzipOf([]byte(g.SpecYAML()))}
	data := member{"data.tar.gz", gzipOf(tarOf(member{"lib/" + g.Name + ".rb", []byte(lib)}))}
	var sums strings.Builder
	sums.WriteString("---\nSHA256:\n")
	for _, m := range []member{meta, data} {
		s := sha256.Sum256(m.data)
		fmt.Fprintf(&sums, "  %s: %x\n", m.name, s)
	}
	sums.WriteString("SHA512:\n")
	for _, m := range []member{meta, data} {
		s := sha512.Sum512(m.data)
		fmt.Fprintf(&sums, "  %s: %x\n", m.name, s)
	}
	return tarOf(meta, data, member{"checksums.yaml.gz", gzipOf([]byte(sums.String()))})
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

package lockfile

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"coffer/internal/fault"
)

// Cargo.lock, versions 1 to 4 (1 and 2 have no version key; 1 keeps the
// checksums in [metadata]). Each [[package]] is a crate version; those
// whose source is a registry ("registry+https://…", "sparse+https://…")
// are pinned, with the checksum (a SHA-256) as "sha256:hex". A crate
// without a source is the workspace's own or a path dependency and is
// left out; any other source (git+https://…#rev) is unpinned.
//
// The TOML is read by github.com/pelletier/go-toml/v2, which bounds the
// nesting of arrays and inline tables (BurntSushi/toml v1.6.0 does not:
// a few megabytes of "[" overflow the stack, which no recover catches).

type cargoLock struct {
	Version  int            `toml:"version"`
	Package  []cargoPackage `toml:"package"`
	Metadata map[string]any `toml:"metadata"`
}

type cargoPackage struct {
	Name     string `toml:"name"`
	Version  string `toml:"version"`
	Source   string `toml:"source"`
	Checksum string `toml:"checksum"`
}

func parseCargoLock(c *collector, data []byte) error {
	// The [[package]] headers give the entries' line numbers (Cargo
	// writes every package so; a hand-made file may not, and then the
	// entries are numbered instead).
	var headers []int
	err := eachLine(data, func(n int, text string) error {
		if isPackageHeader(text) {
			headers = append(headers, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var lock cargoLock
	if err := toml.Unmarshal(data, &lock); err != nil {
		return fault.Validation("The Cargo.lock is not valid: %s", clip(err.Error()))
	}
	if lock.Version < 0 || lock.Version > 4 {
		return fault.Validation("The Cargo.lock has version %d: only 1 to 4 are supported", lock.Version)
	}
	for i, p := range lock.Package {
		source := "[[package]] " + strconv.Itoa(i+1)
		if len(headers) == len(lock.Package) {
			source = lineSource(headers[i])
		}
		if p.Name == "" || p.Version == "" {
			return fault.Validation("The Cargo.lock's %s has no name or no version", source)
		}
		switch {
		case p.Source == "":
			continue // the workspace's own crate, or a path dependency
		case strings.HasPrefix(p.Source, "registry+") || strings.HasPrefix(p.Source, "sparse+"):
		default:
			if err := c.skip(source, p.Name+" "+p.Version+" ("+p.Source+")"); err != nil {
				return err
			}
			continue
		}
		sum := p.Checksum
		if sum == "" {
			// Version 1: "checksum NAME VERSION (SOURCE)" = "hex" in [metadata].
			sum, _ = lock.Metadata["checksum "+p.Name+" "+p.Version+" ("+p.Source+")"].(string)
		}
		var hashes []string
		if sum != "" && sum != "<none>" {
			hashes = []string{"sha256:" + sum}
		}
		if err := c.add("", p.Name, p.Version, hashes, source); err != nil {
			return err
		}
	}
	return nil
}

// isPackageHeader matches "[[package]]", spaces and a comment allowed.
func isPackageHeader(s string) bool {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "[[")
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "package")
	if !ok {
		return false
	}
	rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " \t"), "]]")
	if !ok {
		return false
	}
	rest = strings.TrimLeft(rest, " \t")
	return rest == "" || rest[0] == '#'
}

package lockfile

import (
	"encoding/json"
	"sort"
	"strings"

	"coffer/internal/fault"
)

// package-lock.json and npm-shrinkwrap.json.
//
// Version 2 and 3 lockfiles list every installed package under
// "packages", keyed by its path ("node_modules/a/node_modules/@s/b"); a
// version 2 file also carries version 1's nested "dependencies", which
// is read only when "packages" is absent. The root ("") and the
// workspace packages (paths without a node_modules/ segment) are the
// build's own code; "link": true entries point at them. An entry's name
// is its "name" field (npm writes one for an alias, "my-lodash":
// "npm:lodash@4.17.21") else the path's last node_modules/ segment.
//
// An entry is a registry version when its "resolved" is an http(s) URL,
// or absent (npm omits it with omit-lockfile-registry-resolved, and for
// a registry version installed by an older npm). Any other "resolved"
// (git+ssh:, git+https:, github:, file:) is unpinned. A remote tarball
// dependency ("foo": "https://example.com/foo-1.0.0.tgz" in package.json)
// also has an http(s) "resolved" and is read as a registry version of
// its name: the lockfile does not tell the two apart. Bundled
// dependencies ("inBundle" / "bundled": true) come inside their
// parent's tarball, never from a registry, and are left out.
//
// In a version 1 file, whose entries are keyed by name and nested,
// the "version" of a dependency that is not a registry version is its
// spec: "git+https://…#sha" and "file:x.tgz" are unpinned, while a
// "file:dir" without an integrity is a linked directory (version 2's
// link) and is left out; "npm:lodash@4.17.21" is an alias.
// "dev", "optional", "peer" and "extraneous" entries are kept.

type npmLock struct {
	LockfileVersion *int                `json:"lockfileVersion"`
	Packages        map[string]npmEntry `json:"packages"`
	Dependencies    map[string]npmV1Dep `json:"dependencies"`
}

type npmEntry struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Resolved  string `json:"resolved"`
	Integrity string `json:"integrity"`
	Link      bool   `json:"link"`
	InBundle  bool   `json:"inBundle"`
}

type npmV1Dep struct {
	Version      string              `json:"version"`
	Resolved     string              `json:"resolved"`
	Integrity    string              `json:"integrity"`
	Bundled      bool                `json:"bundled"`
	Dependencies map[string]npmV1Dep `json:"dependencies"`
}

func parsePackageLock(c *collector, data []byte) error {
	var lock npmLock
	if err := json.Unmarshal(data, &lock); err != nil {
		return fault.Validation("The package-lock.json is not valid: %s", clip(err.Error()))
	}
	if v := lock.LockfileVersion; v != nil && (*v < 1 || *v > 3) {
		return fault.Validation("The package-lock.json has lockfileVersion %d: only 1, 2 and 3 are supported", *v)
	}
	if lock.Packages != nil {
		return npmPackages(c, lock.Packages)
	}
	if lock.LockfileVersion == nil && lock.Dependencies == nil {
		return fault.Validation("The package-lock.json has neither \"packages\" nor \"dependencies\"")
	}
	return npmV1(c, "", lock.Dependencies)
}

func npmPackages(c *collector, pkgs map[string]npmEntry) error {
	paths := make([]string, 0, len(pkgs))
	for p := range pkgs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		e := pkgs[p]
		i := strings.LastIndex(p, "node_modules/")
		if i < 0 || e.Link || e.InBundle {
			continue // the root, a workspace package, a link to one, a bundled package
		}
		if i > 0 && p[i-1] != '/' {
			continue // not a node_modules directory ("x_node_modules/")
		}
		name := e.Name
		if name == "" {
			name = p[i+len("node_modules/"):]
		}
		scope, bare, ok := splitNpmName(name)
		if !ok {
			return fault.Validation("The package-lock.json entry %q has an invalid package name %q", clip(p), clip(name))
		}
		if e.Resolved != "" && !httpURL(e.Resolved) {
			if err := c.skip(p, e.Resolved); err != nil {
				return err
			}
			continue
		}
		if e.Version == "" {
			if err := c.skip(p, "no version"); err != nil {
				return err
			}
			continue
		}
		if err := c.add(scope, bare, e.Version, strings.Fields(e.Integrity), p); err != nil {
			return err
		}
	}
	return nil
}

// npmV1 walks version 1's nested "dependencies": parent is the path of
// the enclosing package's directory ("" at the top).
func npmV1(c *collector, parent string, deps map[string]npmV1Dep) error {
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, key := range names {
		d := deps[key]
		p := parent + "node_modules/" + key
		if !d.Bundled {
			if err := npmV1Entry(c, p, key, d); err != nil {
				return err
			}
		}
		if len(d.Dependencies) > 0 {
			if err := npmV1(c, p+"/", d.Dependencies); err != nil {
				return err
			}
		}
	}
	return nil
}

func npmV1Entry(c *collector, p, name string, d npmV1Dep) error {
	version := d.Version
	if alias, ok := strings.CutPrefix(version, "npm:"); ok {
		// An alias: "my-lodash": {"version": "npm:lodash@4.17.21"}.
		at := strings.LastIndex(alias, "@")
		if at <= 0 {
			return fault.Validation("The package-lock.json entry %q has an invalid alias %q", clip(p), clip(version))
		}
		name, version = alias[:at], alias[at+1:]
	}
	scope, bare, ok := splitNpmName(name)
	if !ok {
		return fault.Validation("The package-lock.json entry %q has an invalid package name %q", clip(p), clip(name))
	}
	switch {
	case version == "":
		return c.skip(p, "no version")
	case strings.HasPrefix(version, "file:") && d.Integrity == "":
		return nil // a directory, which npm links: what version 2 writes as "link": true
	case strings.ContainsAny(version, ":/"):
		// git+https://…#sha, file:../x, github:u/r#sha, a tarball URL
		return c.skip(p, version)
	case d.Resolved != "" && !httpURL(d.Resolved):
		return c.skip(p, d.Resolved)
	}
	return c.add(scope, bare, version, strings.Fields(d.Integrity), p)
}

// splitNpmName splits "@scope/name" into "scope" and "name"; an unscoped
// name has no slash.
func splitNpmName(s string) (scope, name string, ok bool) {
	if rest, scoped := strings.CutPrefix(s, "@"); scoped {
		scope, name, ok = strings.Cut(rest, "/")
		return scope, name, ok && scope != "" && name != "" && !strings.Contains(name, "/")
	}
	return "", s, s != "" && !strings.Contains(s, "/")
}

func httpURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://")
}

package cargo

import (
	"strings"

	"coffer/internal/jsonstr"
)

// DownloadTemplate is the dl of config.json relative to the endpoint:
// cargo replaces {crate} with the crate's name as the index spells it and
// {version} with its version, literally (no escaping; SemVer build
// metadata keeps its "+"). Without any marker cargo would append
// /{crate}/{version}/download itself; the markers make the URL explicit.
const DownloadTemplate = "api/v1/crates/{crate}/{version}/download"

// Config renders the sparse registry's config.json for a repository
// endpoint (ending in "/"): downloads per DownloadTemplate, the web API at
// the endpoint (without its trailing "/", since cargo appends
// "/api/v1/..." to it), and "auth-required": true, so that cargo sends its
// token on index and download requests too, not only on publish.
func Config(endpoint string) []byte {
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	b := []byte(`{"dl":`)
	b = jsonstr.Append(b, endpoint+DownloadTemplate)
	b = append(b, `,"api":`...)
	b = jsonstr.Append(b, strings.TrimSuffix(endpoint, "/"))
	return append(b, `,"auth-required":true}`...)
}

// ParseDownloadPath reads a download request's path relative to the
// endpoint, "api/v1/crates/<name>/<version>/download", as DownloadTemplate
// makes it. The name is as the index spells it (any case); ok is false
// for a path of another shape, a name no crate can have or a version that
// is not SemVer.
func ParseDownloadPath(p string) (name, version string, ok bool) {
	rest, found := strings.CutPrefix(p, "api/v1/crates/")
	if !found {
		return "", "", false
	}
	rest, found = strings.CutSuffix(rest, "/download")
	if !found {
		return "", "", false
	}
	name, version, found = strings.Cut(rest, "/")
	if !found || !nameSyntax(name, false) || !ValidVersion(version) {
		return "", "", false
	}
	return name, version, true
}

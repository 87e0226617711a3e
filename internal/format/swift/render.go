package swift

import (
	"strings"
	"time"

	"coffer/internal/jsonstr"
)

// ReleaseList renders the release list of a package (Registry.md §4.1):
// {"releases":{"<version>":{"url":"<release URL>"}}}, in the order given
// (highest precedence first).
func ReleaseList(pkgURL string, versions []string) []byte {
	b := []byte(`{"releases":{`)
	for i, v := range versions {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, v)
		b = append(b, `:{"url":`...)
		b = jsonstr.Append(b, pkgURL+"/"+v)
		b = append(b, '}')
	}
	return append(b, "}}"...)
}

// ReleaseInfo is what the release metadata document shows.
type ReleaseInfo struct {
	ID, Version string
	// Checksum is the source archive's SHA-256, hex.
	Checksum string
	Signing  *Signing
	// Metadata is the metadata recorded at publish (a compact JSON
	// object), nil for none.
	Metadata    []byte
	PublishedAt time.Time
}

// ReleaseMetadata renders a release's metadata document (Registry.md
// §4.2): id, version, the source-archive resource with its checksum and
// signing, metadata (an object, empty when none was published) and
// publishedAt, in whole seconds: SwiftPM decodes dates as ISO 8601
// without fractional seconds.
func ReleaseMetadata(ri ReleaseInfo) []byte {
	b := []byte(`{"id":`)
	b = jsonstr.Append(b, ri.ID)
	b = append(b, `,"version":`...)
	b = jsonstr.Append(b, ri.Version)
	b = append(b, `,"resources":[{"name":"source-archive","type":"application/zip","checksum":`...)
	b = jsonstr.Append(b, ri.Checksum)
	if s := ri.Signing; s != nil {
		b = append(b, `,"signing":{"signatureBase64Encoded":`...)
		b = jsonstr.Append(b, s.SignatureBase64Encoded)
		b = append(b, `,"signatureFormat":`...)
		b = jsonstr.Append(b, s.SignatureFormat)
		b = append(b, '}')
	}
	b = append(b, `}],"metadata":`...)
	if len(ri.Metadata) > 0 {
		b = append(b, ri.Metadata...)
	} else {
		b = append(b, "{}"...)
	}
	if !ri.PublishedAt.IsZero() {
		b = append(b, `,"publishedAt":`...)
		b = jsonstr.Append(b, ri.PublishedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return append(b, '}')
}

// Identifiers renders the identifiers lookup's answer (Registry.md §4.5).
func Identifiers(ids []string) []byte {
	b := []byte(`{"identifiers":[`)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstr.Append(b, id)
	}
	return append(b, "]}"...)
}

// Link is one Link header value: <url>; rel="rel" and its parameters,
// each key="value".
func Link(url, rel string, params ...string) string {
	s := "<" + url + `>; rel="` + rel + `"`
	for i := 0; i+1 < len(params); i += 2 {
		s += "; " + params[i] + `="` + params[i+1] + `"`
	}
	return s
}

// linkable reports whether a URL can go into a Link header as SwiftPM
// parses it: it splits the header on "," and each link on ";".
func linkable(u string) bool {
	return u != "" && !strings.ContainsAny(u, ",;<>\" \t\r\n")
}

// canonicalRepoURL is the form repository URLs are compared in by the
// identifiers lookup: without scheme, user and ".git", the scp-like
// "host:path" as "host/path", lower case, without trailing "/".
func canonicalRepoURL(u string) string {
	u = strings.ToLower(strings.TrimSpace(u))
	scp := true
	if i := strings.Index(u, "://"); i >= 0 {
		u, scp = u[i+3:], false
	}
	if at := strings.IndexByte(u, '@'); at >= 0 && (strings.IndexByte(u, '/') < 0 || at < strings.IndexByte(u, '/')) {
		u = u[at+1:]
	}
	if scp {
		if c := strings.IndexByte(u, ':'); c >= 0 && (strings.IndexByte(u, '/') < 0 || c < strings.IndexByte(u, '/')) {
			u = u[:c] + "/" + u[c+1:]
		}
	}
	u = strings.TrimRight(u, "/")
	u = strings.TrimSuffix(u, ".git")
	return strings.TrimRight(u, "/")
}

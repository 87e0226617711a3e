package console

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"coffer/internal/artifact"
)

// Links between pages. Domain and repository names are restricted to
// characters a path keeps as they are; package coordinates go in the query.

func domainURL(domain string) string { return Prefix + "domains/" + url.PathEscape(domain) + "/" }

func repoURL(domain, repo string) string {
	return domainURL(domain) + "repositories/" + url.PathEscape(repo) + "/"
}

func pkgQuery(format, namespace, pkg string) url.Values {
	q := url.Values{"format": {format}, "package": {pkg}}
	if namespace != "" {
		q.Set("namespace", namespace)
	}
	return q
}

func packageURL(domain, repo, format, namespace, pkg string) string {
	return repoURL(domain, repo) + "package?" + pkgQuery(format, namespace, pkg).Encode()
}

func versionURL(domain, repo, format, namespace, pkg, version string) string {
	q := pkgQuery(format, namespace, pkg)
	q.Set("version", version)
	return repoURL(domain, repo) + "version?" + q.Encode()
}

func assetURL(domain, repo, format, namespace, pkg, version, asset string) string {
	q := pkgQuery(format, namespace, pkg)
	q.Set("version", version)
	q.Set("asset", asset)
	return repoURL(domain, repo) + "asset?" + q.Encode()
}

// withQuery returns base with the query q (base has none).
func withQuery(base string, q url.Values) string {
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// Listing keys travel opaque: base64url of the service's key.

func encodeKey(k string) string { return base64.RawURLEncoding.EncodeToString([]byte(k)) }

func decodeKey(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 {
		return "", false
	}
	return string(b), true
}

// pageSize reads the "size" parameter: 25, 50 (default) or 100.
func pageSize(r *http.Request) int {
	switch n, _ := strconv.Atoi(r.URL.Query().Get("size")); n {
	case 25, 100:
		return n
	}
	return 50
}

// refs of the request's path.

func domainRef(r *http.Request) artifact.DomainRef {
	return artifact.DomainRef{Name: r.PathValue("domain")}
}

func repoRef(r *http.Request) artifact.RepoRef {
	return artifact.RepoRef{DomainRef: domainRef(r), Repository: r.PathValue("repo")}
}

// packageRef reads a package's coordinates from q (the query or the form).
func packageRef(r *http.Request, q url.Values) artifact.PackageRef {
	return artifact.PackageRef{RepoRef: repoRef(r), Format: q.Get("format"), Namespace: q.Get("namespace"), Package: q.Get("package")}
}

func versionRef(r *http.Request, q url.Values) artifact.VersionRef {
	return artifact.VersionRef{PackageRef: packageRef(r, q), Version: q.Get("version")}
}

// ARNs, as the control plane builds them (normalised package names).

func (c *Console) domainARN(d artifact.DomainRef) string {
	return c.svc.DomainARN(c.svc.AccountID(), d.Name)
}

func (c *Console) repoARN(r artifact.RepoRef) string {
	return c.svc.RepositoryARN(c.svc.AccountID(), r.Name, r.Repository)
}

func (c *Console) packageARN(p artifact.PackageRef) string {
	ns, name := artifact.Normalize(p.Format, p.Namespace, p.Package)
	return c.svc.PackageARN(c.svc.AccountID(), p.Name, p.Repository, p.Format, ns, name)
}

// humanBytes renders a size in binary units ("1.5 MiB").
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// stamp is a time as pages show it.
type stamp struct {
	Text string // "2024-05-01 12:00:00 UTC"
	ISO  string // for <time datetime>
}

func stampOf(t time.Time) stamp {
	if t.IsZero() {
		return stamp{}
	}
	t = t.UTC()
	return stamp{Text: t.Format("2006-01-02 15:04:05 UTC"), ISO: t.Format(time.RFC3339)}
}

// displayName is how a package manager shows a package (the format
// table's ClientName): npm "@scope/name", Maven "group:artifact", generic
// and swift "namespace/name".
func displayName(format, namespace, name string) string {
	return artifact.ClientName(format, namespace, name)
}

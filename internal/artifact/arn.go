package artifact

import (
	"fmt"
	"strings"
)

// DomainARN is arn:aws:codeartifact:<region>:<owner>:domain/<domain>.
func (s *Service) DomainARN(owner, domain string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:domain/%s", s.cfg.Region, owner, domain)
}

// RepositoryARN is arn:aws:codeartifact:<region>:<owner>:repository/<domain>/<repository>.
func (s *Service) RepositoryARN(owner, domain, repository string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:repository/%s/%s", s.cfg.Region, owner, domain, repository)
}

// PackageARN is arn:aws:codeartifact:<region>:<owner>:package/<domain>/<repository>/<format>/<namespace>/<package>;
// an empty namespace gives "//". Names are the normalised ones.
func (s *Service) PackageARN(owner, domain, repository, format, namespace, pkg string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package/%s/%s/%s/%s/%s", s.cfg.Region, owner, domain, repository, format, namespace, pkg)
}

// ParsedARN is a CodeArtifact resource ARN split into its parts.
type ParsedARN struct {
	Region, Account string
	Type            string // "domain", "repository", "package", "package-group"
	Domain          string
	Repository      string // repository and package ARNs
	Pattern         string // package-group ARNs: the decoded, unvalidated pattern
}

// ParseResourceARN parses a domain, repository, package or package-group
// ARN. ok is false for anything else.
func ParseResourceARN(arn string) (p ParsedARN, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "codeartifact" {
		return p, false
	}
	p.Region, p.Account = parts[3], parts[4]
	typ, rest, found := strings.Cut(parts[5], "/")
	if !found {
		return p, false
	}
	p.Type = typ
	switch typ {
	case "domain":
		if rest == "" || strings.Contains(rest, "/") {
			return p, false
		}
		p.Domain = rest
	case "repository":
		d, r, found := strings.Cut(rest, "/")
		if !found || d == "" || r == "" || strings.Contains(r, "/") {
			return p, false
		}
		p.Domain, p.Repository = d, r
	case "package":
		segs := strings.Split(rest, "/")
		if len(segs) != 5 || segs[0] == "" || segs[1] == "" || segs[2] == "" || segs[4] == "" {
			return p, false
		}
		p.Domain, p.Repository = segs[0], segs[1]
	case "package-group":
		var found bool
		p.Region, p.Account, p.Domain, p.Pattern, found = parsePackageGroupARN(arn)
		return p, found
	default:
		return p, false
	}
	return p, true
}

// packageGroupARNPrefix starts the ARN of every package group of a domain
// (patterns begin with "/", so another domain's groups never share it).
func (s *Service) packageGroupARNPrefix(owner, domain string) string {
	return fmt.Sprintf("arn:aws:codeartifact:%s:%s:package-group/%s/", s.cfg.Region, owner, domain)
}

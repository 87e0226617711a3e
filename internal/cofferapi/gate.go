package cofferapi

import (
	"errors"
	"io"
	"net/http"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/controlplane"
	"coffer/internal/fault"
	"coffer/internal/gate"
	"coffer/internal/lockfile"
	"coffer/internal/rules"
)

// What the supply-chain gate withholds, beside ListPackageVersions (whose
// wire shape is CodeArtifact's and has no field for it):
//
//	GET  /coffer/v1/withheld?domain=D[&domain-owner=O]&repository=R&format=F[&namespace=N]&package=P
//	     answers {"versions": [{"version", "repository", "status", "state", "reason", "rule", "advisory", "availableAt"}]}
//	     authorized as codeartifact:ListPackageVersions on the package
//	POST /coffer/v1/preflight?domain=D[&domain-owner=O]&repository=R&kind=K   body: a lockfile
//	     answers {"checked": N, "refused": [...], "pending": [...], "unpinned": [...]}
//	     authorized as codeartifact:ReadFromRepository on the repository
//	GET  /coffer/v1/quarantine?domain=D[&domain-owner=O]
//	     answers {"versions": [{"repository", "format", "namespace", "package", "version", "advisory", "reason", "quarantinedAt"}]}
//	     authorized as coffer:ListQuarantine on the domain
//
// A withheld version's state is "quarantined" when an advisory marks it
// malicious, else "withheld". The pre-flight reads a lockfile
// (package-lock.json, requirements.txt, Cargo.lock, Gemfile.lock or a Maven
// dependency list: package lockfile's kinds) and reports each pinned
// version the repository would refuse now, and why; "pending" lists those
// no repository stores yet that only their publish time can still refuse
// (a cooldown or a freeze: the registry says when it published them only
// when they are fetched).

// ActionListQuarantine lists a domain's quarantined versions, authorized
// on the domain.
const ActionListQuarantine = "coffer:ListQuarantine"

// ListQuarantineOutput answers GET /coffer/v1/quarantine.
type ListQuarantineOutput struct {
	Versions []gate.Quarantine `json:"versions"`
}

func (h *handler) listQuarantine(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	owner, domain := h.owner(q.Get("domain-owner")), q.Get("domain")
	if domain == "" {
		controlplane.WriteError(w, r, fault.Validation("domain is required"))
		return
	}
	if err := h.Authorizer.Authorize(r.Context(), ActionListQuarantine, h.Service.DomainARN(owner, domain)); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	if h.Gate == nil {
		writeJSON(w, ListQuarantineOutput{Versions: []gate.Quarantine{}})
		return
	}
	list, err := h.Gate.Quarantined(r.Context(), owner, domain)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	writeJSON(w, ListQuarantineOutput{Versions: list})
}

// WithheldVersion is one version the gate withholds.
type WithheldVersion struct {
	Version     string     `json:"version"`
	Repository  string     `json:"repository,omitempty"`
	Status      string     `json:"status,omitempty"`
	State       string     `json:"state"` // withheld or quarantined
	Reason      string     `json:"reason"`
	Rule        string     `json:"rule,omitempty"`
	Advisory    string     `json:"advisory,omitempty"`
	AvailableAt *time.Time `json:"availableAt,omitempty"`
}

// ListWithheldOutput answers GET /coffer/v1/withheld.
type ListWithheldOutput struct {
	Versions []WithheldVersion `json:"versions"`
}

func (h *handler) owner(o string) string {
	if o == "" {
		return h.Service.AccountID()
	}
	return o
}

func withheldOf(d rules.Decision) WithheldVersion {
	w := WithheldVersion{State: "withheld", Reason: d.Reason, Rule: d.Rule, Advisory: d.Advisory}
	if d.Malicious() {
		w.State = "quarantined"
	}
	if !d.AvailableAt.IsZero() {
		at := d.AvailableAt.UTC()
		w.AvailableAt = &at
	}
	return w
}

func (h *handler) listWithheld(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	owner := h.owner(q.Get("domain-owner"))
	ref := artifact.PackageRef{RepoRef: artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: owner, Name: q.Get("domain")},
		Repository: q.Get("repository")}, Format: q.Get("format"), Namespace: q.Get("namespace"), Package: q.Get("package")}
	if ref.Name == "" || ref.Repository == "" || ref.Format == "" || ref.Package == "" {
		controlplane.WriteError(w, r, fault.Validation("domain, repository, format and package are required"))
		return
	}
	arn := h.Service.PackageARN(owner, ref.Name, ref.Repository, ref.Format, ref.Namespace, ref.Package)
	if err := h.Authorizer.Authorize(r.Context(), "codeartifact:ListPackageVersions", arn); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	refused, err := h.Service.RefusedVersions(r.Context(), ref)
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	out := ListWithheldOutput{Versions: []WithheldVersion{}}
	for _, v := range refused {
		wv := withheldOf(v.Decision)
		wv.Version, wv.Repository, wv.Status = v.Version, v.Repository, v.Status
		out.Versions = append(out.Versions, wv)
	}
	writeJSON(w, out)
}

// PreflightDependency is one pinned version the repository would refuse.
type PreflightDependency struct {
	Format    string `json:"format"`
	Namespace string `json:"namespace,omitempty"`
	Package   string `json:"package"`
	Version   string `json:"version"`
	Source    string `json:"source,omitempty"` // where the lockfile pins it
	WithheldVersion
}

// PreflightOutput answers POST /coffer/v1/preflight.
type PreflightOutput struct {
	Checked  int                   `json:"checked"`
	Refused  []PreflightDependency `json:"refused"`
	Pending  []PreflightDependency `json:"pending"`
	Unpinned []string              `json:"unpinned"`
}

func (h *handler) preflight(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	owner := h.owner(q.Get("domain-owner"))
	repo := artifact.RepoRef{DomainRef: artifact.DomainRef{Owner: owner, Name: q.Get("domain")}, Repository: q.Get("repository")}
	kind := q.Get("kind")
	if repo.Name == "" || repo.Repository == "" || kind == "" {
		controlplane.WriteError(w, r, fault.Validation("domain, repository and kind are required"))
		return
	}
	if lockfile.Format(kind) == "" {
		controlplane.WriteError(w, r, fault.Validation("kind '%s' must be one of %v", kind, lockfile.Kinds()))
		return
	}
	if err := h.Authorizer.Authorize(r.Context(), "codeartifact:ReadFromRepository", h.Service.RepositoryARN(owner, repo.Name, repo.Repository)); err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, lockfile.MaxInput)
	deps, unpinned, err := lockfile.ParseAll(kind, body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = fault.Validation("the lockfile is larger than %d bytes", lockfile.MaxInput)
	}
	if err != nil {
		controlplane.WriteError(w, r, err)
		return
	}
	_, _ = io.Copy(io.Discard, body)
	out := PreflightOutput{Checked: len(deps), Refused: []PreflightDependency{}, Pending: []PreflightDependency{}, Unpinned: unpinned}
	if out.Unpinned == nil {
		out.Unpinned = []string{}
	}
	for _, d := range deps {
		ref := artifact.VersionRef{PackageRef: artifact.PackageRef{RepoRef: repo, Format: d.Format, Namespace: d.Namespace, Package: d.Name}, Version: d.Version}
		c, err := h.Service.CheckVersion(r.Context(), ref)
		if fault.KindOf(err) == fault.KindValidation {
			// A name the format refuses cannot be served either.
			c, err = artifact.VersionCheck{Decision: rules.Decision{Reason: "invalid: " + fault.As(err).Message}}, nil
		}
		if err != nil {
			controlplane.WriteError(w, r, err)
			return
		}
		if c.Decision.Allowed {
			continue
		}
		pd := PreflightDependency{Format: d.Format, Namespace: d.Namespace, Package: d.Name, Version: d.Version, Source: d.Source,
			WithheldVersion: withheldOf(c.Decision)}
		if c.Pending {
			out.Pending = append(out.Pending, pd)
		} else {
			out.Refused = append(out.Refused, pd)
		}
	}
	writeJSON(w, out)
}

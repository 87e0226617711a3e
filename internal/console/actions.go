package console

import (
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

// Actions are POST forms. Each is authorized with the API's action on the
// API's resource by the same Authorizer, which writes the audit record the
// API would write, then calls the same service method. Results go back to
// the page with a 303, so a reload does not repeat the action.

func itoa(n int) string { return strconv.Itoa(n) }

// attachment is a Content-Disposition that saves the asset under its base
// name, non-ASCII names included (RFC 6266 filename*).
func attachment(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": base}); v != "" {
		return v
	}
	return "attachment"
}

func (c *Console) putOrigin(w http.ResponseWriter, r *http.Request, s *state) error {
	f := r.PostForm
	ref := packageRef(r, f)
	if err := c.authorize(r.Context(), auth.ActionPutPackageOriginConfiguration, c.packageARN(ref)); err != nil {
		return err
	}
	p, err := c.svc.PutPackageOriginConfiguration(r.Context(), ref, f.Get("publish"), f.Get("upstream"))
	if err != nil {
		return err
	}
	c.log.Info("console action", "action", auth.ActionPutPackageOriginConfiguration, "resource", c.packageARN(ref), "principal", s.principal.ARN,
		"publish", p.Publish, "upstream", p.Upstream)
	http.Redirect(w, r, packageURL(ref.Name, ref.Repository, p.Format, p.Namespace, p.Name)+"&done=origin", http.StatusSeeOther)
	return nil
}

// batchError turns the failure of a one-version batch into an error.
func batchError(res *artifact.BatchResult, version string) error {
	if f, ok := res.Failed[version]; ok {
		switch f.Code {
		case artifact.ErrCodeNotFound:
			return fault.NotFound("package-version", version, "%s", f.Message)
		case artifact.ErrCodeMismatchedRevision:
			return fault.Conflict("package-version", version, "The version changed since the page was loaded (%s). Reload and try again.", f.Message)
		case artifact.ErrCodeMismatchedStatus:
			return fault.Conflict("package-version", version, "The version's status changed since the page was loaded (%s). Reload and try again.", f.Message)
		default:
			return fault.Conflict("package-version", version, "%s", f.Message)
		}
	}
	if _, ok := res.Successful[version]; !ok {
		return fault.Internal(nil, "version %s is missing from the batch result", version)
	}
	return nil
}

func (c *Console) updateStatus(w http.ResponseWriter, r *http.Request, s *state) error {
	f := r.PostForm
	ref := versionRef(r, f)
	if err := c.authorize(r.Context(), auth.ActionUpdatePackageVersionsStatus, c.packageARN(ref.PackageRef)); err != nil {
		return err
	}
	target := f.Get("status")
	if !slices.Contains([]string{artifact.StatusPublished, artifact.StatusUnlisted, artifact.StatusArchived}, target) {
		return fault.Validation("Choose Published, Unlisted or Archived.")
	}
	u := artifact.StatusUpdate{Versions: []string{ref.Version}, TargetStatus: target, ExpectedStatus: f.Get("expected_status")}
	if rev := f.Get("revision"); rev != "" {
		u.VersionRevisions = map[string]string{ref.Version: rev}
	}
	res, err := c.svc.UpdatePackageVersionsStatus(r.Context(), ref.PackageRef, u)
	if err != nil {
		return err
	}
	if err := batchError(res, ref.Version); err != nil {
		return err
	}
	c.log.Info("console action", "action", auth.ActionUpdatePackageVersionsStatus, "resource", c.packageARN(ref.PackageRef), "principal", s.principal.ARN,
		"version", ref.Version, "status", target)
	http.Redirect(w, r, versionURL(ref.Name, ref.Repository, ref.Format, ref.Namespace, ref.Package, ref.Version)+"&done=status", http.StatusSeeOther)
	return nil
}

// confirmView is the confirmation page of a destructive action posted
// without its confirmation box ticked.
type confirmView struct {
	Verb, Display, Version, Action, Explain string
	Fields                                  url.Values
	Back                                    string
}

// confirmed reports whether a destructive form was confirmed and, when it
// was, authorizes action (recording the decision). An unconfirmed form gets
// the confirmation page if the principal may do the action (asked without
// an audit record: nothing happened yet), and the refusal otherwise.
func (c *Console) confirmed(w http.ResponseWriter, r *http.Request, s *state, ref artifact.VersionRef, action, verb, explain string) (bool, error) {
	arn := c.packageARN(ref.PackageRef)
	if r.PostForm.Get("confirm") == "yes" || !c.allowed(r.Context(), action, arn) {
		return true, c.authorize(r.Context(), action, arn)
	}
	fields := url.Values{}
	for _, k := range []string{"format", "namespace", "package", "version", "revision", "expected_status"} {
		if v := r.PostForm.Get(k); v != "" {
			fields.Set(k, v)
		}
	}
	display := displayName(ref.Format, ref.Namespace, ref.Package)
	cv := confirmView{Verb: verb, Display: display, Version: ref.Version, Action: r.URL.Path, Explain: explain, Fields: fields,
		Back: versionURL(ref.Name, ref.Repository, ref.Format, ref.Namespace, ref.Package, ref.Version)}
	c.render(w, r, http.StatusOK, "confirm", &view{Title: verb + " " + display + " " + ref.Version, Principal: s.principal, CSRF: s.csrf, Body: cv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: ref.Name, Href: domainURL(ref.Name)},
			{Label: ref.Repository, Href: repoURL(ref.Name, ref.Repository)}, {Label: display + " " + ref.Version, Href: cv.Back}, {Label: verb}}})
	return false, nil
}

func (c *Console) deleteVersion(w http.ResponseWriter, r *http.Request, s *state) error {
	f := r.PostForm
	ref := versionRef(r, f)
	if ok, err := c.confirmed(w, r, s, ref, auth.ActionDeletePackageVersions, "Delete",
		"Deleting removes the version and its assets for good. The same version can be published again later."); !ok || err != nil {
		return err
	}
	res, err := c.svc.DeletePackageVersions(r.Context(), ref.PackageRef, []string{ref.Version}, f.Get("expected_status"))
	if err != nil {
		return err
	}
	if err := batchError(res, ref.Version); err != nil {
		return err
	}
	c.log.Info("console action", "action", auth.ActionDeletePackageVersions, "resource", c.packageARN(ref.PackageRef), "principal", s.principal.ARN, "version", ref.Version)
	http.Redirect(w, r, packageURL(ref.Name, ref.Repository, ref.Format, ref.Namespace, ref.Package)+"&done=deleted", http.StatusSeeOther)
	return nil
}

func (c *Console) disposeVersion(w http.ResponseWriter, r *http.Request, s *state) error {
	f := r.PostForm
	ref := versionRef(r, f)
	if ok, err := c.confirmed(w, r, s, ref, auth.ActionDisposePackageVersions, "Dispose",
		"Disposing deletes the version's assets for good and keeps the version record with status Disposed. It cannot be undone."); !ok || err != nil {
		return err
	}
	sel := artifact.VersionSelection{Versions: []string{ref.Version}, ExpectedStatus: f.Get("expected_status")}
	if rev := f.Get("revision"); rev != "" {
		sel.VersionRevisions = map[string]string{ref.Version: rev}
	}
	res, err := c.svc.DisposePackageVersions(r.Context(), ref.PackageRef, sel)
	if err != nil {
		return err
	}
	if err := batchError(res, ref.Version); err != nil {
		return err
	}
	c.log.Info("console action", "action", auth.ActionDisposePackageVersions, "resource", c.packageARN(ref.PackageRef), "principal", s.principal.ARN, "version", ref.Version)
	http.Redirect(w, r, versionURL(ref.Name, ref.Repository, ref.Format, ref.Namespace, ref.Package, ref.Version)+"&done=disposed", http.StatusSeeOther)
	return nil
}

// ---- tokens ----

// tokenView is the page that shows a freshly minted token, once.
type tokenView struct {
	Domain, Owner, Token string
	Expires              stamp
	Back                 string
	Endpoint             string
}

var tokenDurations = map[string]time.Duration{"900": 15 * time.Minute, "3600": time.Hour, "43200": 12 * time.Hour}

func (c *Console) mintToken(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := domainRef(r)
	ctx := r.Context()
	if err := c.authorize(ctx, auth.ActionGetAuthorizationToken, c.domainARN(ref)); err != nil {
		return err
	}
	if err := c.authorize(ctx, auth.ActionGetServiceBearerToken, "*"); err != nil {
		return err
	}
	dur, ok := tokenDurations[r.PostForm.Get("duration")]
	if !ok {
		dur = 12 * time.Hour
	}
	d, err := c.svc.DescribeDomain(ctx, ref)
	if err != nil {
		return err
	}
	tok, exp, err := c.cfg.MintToken(ctx, d, dur)
	if err != nil {
		return err
	}
	back := safeNext(r.PostForm.Get("return"))
	tv := tokenView{Domain: d.Name, Owner: d.Owner, Token: tok, Expires: stampOf(exp), Back: back, Endpoint: c.publicURL}
	c.render(w, r, http.StatusOK, "token", &view{Title: "Authorization token · " + d.Name, Principal: s.principal, CSRF: s.csrf, Body: tv,
		Crumbs: []crumb{{Label: "Domains", Href: Prefix}, {Label: d.Name, Href: domainURL(d.Name)}, {Label: "Authorization token"}}})
	return nil
}

// Package console is coffer's web console, served under /console/: server
// rendered pages (html/template, with a small embedded stylesheet and script
// and no build step) for browsing domains, repositories, packages, versions
// and assets, the package flow diagram, connection instructions, and the few
// actions a team does by hand (origin controls, version status, delete,
// dispose, minting a token, supply-chain rules).
//
// Every page works with JavaScript off. Sign-in takes an access key pair,
// checked against the same identity store as SigV4 callers, and yields a
// sealed, HttpOnly, SameSite=Strict session cookie (see session.go);
// sign-out revokes that session for good (see signout.go). Every
// page and action is authorized with the same policy engine and the same
// action names as the CodeArtifact API, so a read-only principal sees
// read-only pages, and every POST is checked again however the form got
// there (CSRF token, Origin and Sec-Fetch-Site, then the authorizer).
//
// Routes (all under /console/):
//
//	GET  /console/                                   domains
//	GET  /console/login, POST /console/login         sign in
//	POST /console/logout                             sign out
//	GET  /console/static/{file}                      stylesheet, script, icon
//	GET  /console/domains/{domain}/                  domain: usage, policy, repositories
//	GET  /console/domains/{domain}/groups            package groups
//	GET  /console/domains/{domain}/rules             supply-chain rules (rules.go)
//	POST /console/domains/{domain}/rules             add a rule
//	POST /console/domains/{domain}/rules/delete      delete a rule
//	POST /console/domains/{domain}/token             mint an authorization token (shown once)
//	GET  /console/domains/{domain}/repositories/{repo}/            repository, package flow, packages table
//	GET  /console/domains/{domain}/repositories/{repo}/flow.svg    package flow diagram
//	GET  /console/domains/{domain}/repositories/{repo}/connect     connection instructions (?format=)
//	GET  /console/domains/{domain}/repositories/{repo}/package     package (?format=&namespace=&package=)
//	POST /console/domains/{domain}/repositories/{repo}/package/origin   origin controls
//	GET  /console/domains/{domain}/repositories/{repo}/version     version (... &version=)
//	GET  /console/domains/{domain}/repositories/{repo}/asset       download (... &asset=)
//	POST /console/domains/{domain}/repositories/{repo}/version/status   status
//	POST /console/domains/{domain}/repositories/{repo}/version/delete   delete (confirmed)
//	POST /console/domains/{domain}/repositories/{repo}/version/dispose  dispose (confirmed)
//
// Package coordinates travel in the query string: namespaces, names and
// versions may be empty, ".", or contain characters a path would mangle.
package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/audit"
	"coffer/internal/auth"
	"coffer/internal/auth/seal"
	"coffer/internal/auth/sigv4"
	"coffer/internal/fault"
	"coffer/internal/format/guide"
	"coffer/internal/rules/ruleops"
	"coffer/internal/store"
)

// Prefix is the path the console is mounted at.
const Prefix = "/console/"

// CredentialLookup finds an access key's secret and principal, as the SigV4
// verifier does; unknown or inactive keys are fault.ErrNotFound.
// (*iam.Identity).Lookup is one.
type CredentialLookup func(ctx context.Context, accessKeyID string) (*sigv4.Credential, error)

// TokenMinter issues an authorization token for the principal in ctx, scoped
// to domain. (*iam.Identity).Mint is one.
type TokenMinter func(ctx context.Context, domain *artifact.Domain, duration time.Duration) (string, time.Time, error)

// Config holds what the console needs.
type Config struct {
	// Service is the artifact service every page reads from. Required.
	Service *artifact.Service
	// Authorizer decides (and audits) every page and action. Required.
	Authorizer auth.Authorizer
	// Probe answers "may the principal do this?" to decide which buttons
	// and forms to show. It must decide like Authorizer but should not
	// write audit records (a page view is not an attempted action). When
	// nil, Authorizer is used.
	Probe auth.Authorizer
	// Lookup checks access keys at sign-in and on every request. Required.
	Lookup CredentialLookup
	// MintToken issues tokens for the "Get a token" button. Required.
	MintToken TokenMinter
	// Sealer encrypts the session cookie. Required.
	Sealer *seal.Sealer
	// Store is the metadata store, where signed-out sessions are kept for
	// every node and every restart (signout.go). Required.
	Store store.Store
	// Guides are the connection instructions, one tab per client, in
	// order (the plug-ins' guides).
	Guides []guide.Guide
	// PublicURL is the base URL clients reach (no trailing slash); it goes
	// into connection instructions and decides the cookie's Secure flag.
	PublicURL string
	// Audit records sign-ins and failed sign-ins, and rule changes as the
	// coffer API records them (optional).
	Audit *audit.Log
	// Log receives errors (optional).
	Log *slog.Logger
	// SessionTTL is how long a session lasts (default 8 h).
	SessionTTL time.Duration
	// OnPrincipal, when set, is told the signed-in principal of each
	// request (the access log uses it).
	OnPrincipal func(r *http.Request, p *auth.Principal)
	// Now returns the current time (tests); time.Now when nil.
	Now func() time.Time
}

// Console is the console's http.Handler.
type Console struct {
	cfg       Config
	svc       *artifact.Service
	mux       *http.ServeMux
	pages     map[string]*template.Template
	log       *slog.Logger
	now       func() time.Time
	secure    bool   // cookies carry Secure
	publicURL string // without trailing slash
	origin    string // scheme://host of the public URL
	signOuts  *signOutCache
	guides    []guide.Guide
	rules     *ruleops.Service // supply-chain rules, as the coffer API manages them
}

// DefaultSessionTTL is how long a console session lasts.
const DefaultSessionTTL = 8 * time.Hour

// New returns the console.
func New(cfg Config) (*Console, error) {
	switch {
	case cfg.Service == nil:
		return nil, errors.New("console: Service is required")
	case cfg.Authorizer == nil:
		return nil, errors.New("console: Authorizer is required")
	case cfg.Lookup == nil:
		return nil, errors.New("console: Lookup is required")
	case cfg.MintToken == nil:
		return nil, errors.New("console: MintToken is required")
	case cfg.Sealer == nil:
		return nil, errors.New("console: Sealer is required")
	case cfg.Store == nil:
		return nil, errors.New("console: Store is required")
	}
	if cfg.Probe == nil {
		cfg.Probe = cfg.Authorizer
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	c := &Console{cfg: cfg, svc: cfg.Service, log: cfg.Log, now: cfg.Now, signOuts: newSignOutCache(), guides: cfg.Guides}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.publicURL = strings.TrimRight(cfg.PublicURL, "/")
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("console: PublicURL must be an absolute http(s) URL")
		}
		c.secure = u.Scheme == "https"
		c.origin = u.Scheme + "://" + u.Host
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	c.pages = pages
	c.rules = &ruleops.Service{Artifacts: cfg.Service, Store: cfg.Store, Authorizer: cfg.Authorizer, Audit: cfg.Audit, Now: c.now}
	c.mux = c.routes()
	return c, nil
}

func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	const d = "/console/domains/{domain}/"
	const r = d + "repositories/{repo}/"
	mux.HandleFunc("GET /console/static/{file}", c.static)
	mux.HandleFunc("GET /console/login", c.loginPage)
	mux.HandleFunc("POST /console/login", c.login)
	mux.Handle("POST /console/logout", c.post(c.logout))
	mux.Handle("GET /console/{$}", c.page(c.domainsPage))
	mux.Handle("GET "+d+"{$}", c.page(c.domainPage))
	mux.Handle("GET "+d+"groups", c.page(c.groupsPage))
	mux.Handle("POST "+d+"token", c.post(c.mintToken))
	mux.Handle("GET "+d+"rules", c.page(c.rulesPage))
	mux.Handle("POST "+d+"rules", c.post(c.addRule))
	mux.Handle("POST "+d+"rules/delete", c.post(c.deleteRule))
	mux.Handle("GET "+r+"{$}", c.page(c.repositoryPage))
	mux.Handle("GET "+r+"flow.svg", c.page(c.flowSVG))
	mux.Handle("GET "+r+"connect", c.page(c.connectPage))
	mux.Handle("GET "+r+"package", c.page(c.packagePage))
	mux.Handle("POST "+r+"package/origin", c.post(c.putOrigin))
	mux.Handle("GET "+r+"version", c.page(c.versionPage))
	mux.Handle("GET "+r+"asset", c.page(c.download))
	mux.Handle("POST "+r+"version/status", c.post(c.updateStatus))
	mux.Handle("POST "+r+"version/delete", c.post(c.deleteVersion))
	mux.Handle("POST "+r+"version/dispose", c.post(c.disposeVersion))
	// Paths without their trailing slash.
	mux.HandleFunc("GET /console", redirectTo(Prefix))
	mux.HandleFunc("GET "+strings.TrimSuffix(d, "/"), addSlash)
	mux.HandleFunc("GET "+strings.TrimSuffix(r, "/"), addSlash)
	mux.Handle("/console/", c.page(func(w http.ResponseWriter, r *http.Request, s *state) error {
		return fault.NotFound("page", r.URL.Path, "There is no console page at %s", r.URL.Path)
	}))
	return mux
}

func redirectTo(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusMovedPermanently) }
}

func addSlash(w http.ResponseWriter, r *http.Request) {
	u := *r.URL
	u.Path += "/"
	u.RawPath = ""
	http.Redirect(w, r, u.RequestURI(), http.StatusMovedPermanently)
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	c.mux.ServeHTTP(w, r)
}

// state is what a handler knows about the signed-in request.
type state struct {
	principal *auth.Principal
	session   *session
	csrf      string
}

// handlerFunc is a console handler for a signed-in request; it returns an
// error to have the error page rendered.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *state) error

// page wraps a GET handler: the request must carry a valid session, else
// the browser is sent to the sign-in page.
func (c *Console) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := c.authenticate(w, r)
		if err != nil {
			next := r.URL.RequestURI()
			http.Redirect(w, r, "/console/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err := h(w, r.WithContext(auth.WithPrincipal(r.Context(), s.principal)), s); err != nil {
			c.renderError(w, r, s, err)
		}
	})
}

// post wraps a form handler: same-origin request, valid session and the
// session's CSRF token, checked in that order.
func (c *Console) post(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !c.sameOrigin(r) {
			c.renderError(w, r, nil, errForbidden("This form was submitted from another site; it has been refused."))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			c.renderError(w, r, nil, fault.Validation("The form could not be read."))
			return
		}
		s, err := c.authenticate(w, r)
		if err != nil {
			c.renderError(w, r, nil, errForbidden("Your session has expired or you have signed out. Sign in again and repeat the action."))
			return
		}
		if !s.session.checkCSRF(r.PostForm.Get("csrf")) {
			c.renderError(w, r, s, errForbidden("The form's security token is missing or wrong. Reload the page and try again."))
			return
		}
		if err := h(w, r.WithContext(auth.WithPrincipal(r.Context(), s.principal)), s); err != nil {
			c.renderError(w, r, s, err)
		}
	})
}

// sameOrigin refuses cross-site form posts by the browser's own account of
// where the request comes from (Sec-Fetch-Site, Origin), when it gives one.
func (c *Console) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if origin == "null" {
		return false
	}
	if c.origin != "" && strings.EqualFold(origin, c.origin) {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(origin, scheme+"://"+r.Host)
}

// errForbidden is a 403 that is not an authorization decision.
type forbiddenError struct{ msg string }

func (e *forbiddenError) Error() string { return e.msg }

func errForbidden(msg string) error { return &forbiddenError{msg} }

// allowed asks the probe whether the principal in ctx may do action on
// resource; it writes no audit record.
func (c *Console) allowed(ctx context.Context, action, resource string) bool {
	return c.cfg.Probe.Authorize(ctx, action, resource) == nil
}

// authorize enforces action on resource for the principal in ctx.
func (c *Console) authorize(ctx context.Context, action, resource string) error {
	return c.cfg.Authorizer.Authorize(ctx, action, resource)
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// renderError maps an error to a status and renders the error page; this
// is the one place console errors become HTTP statuses.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *state, err error) {
	ep := errorPage{Status: http.StatusInternalServerError, Heading: "Something went wrong"}
	var fe *forbiddenError
	switch {
	case errors.As(err, &fe):
		ep.Status, ep.Heading, ep.Message = http.StatusForbidden, "Request refused", fe.msg
	default:
		f := fault.As(err)
		ep.Message = f.Message
		switch f.Kind {
		case fault.KindNotFound:
			ep.Status, ep.Heading = http.StatusNotFound, "Not found"
		case fault.KindAccessDenied:
			ep.Status, ep.Heading = http.StatusForbidden, "Access denied"
		case fault.KindValidation:
			ep.Status, ep.Heading = http.StatusBadRequest, "Invalid request"
		case fault.KindConflict:
			ep.Status, ep.Heading = http.StatusConflict, "Conflict"
		case fault.KindQuotaExceeded, fault.KindThrottled:
			ep.Status, ep.Heading = http.StatusTooManyRequests, "Limit exceeded"
		case fault.KindUnavailable:
			ep.Status, ep.Heading = http.StatusServiceUnavailable, "Unavailable"
		default:
			c.log.Error("console request failed", "path", r.URL.Path, "err", err)
			ep.Message = "An internal error occurred. The details are in the server log."
		}
	}
	v := &view{Title: ep.Heading, Body: ep}
	if s != nil {
		v.Principal, v.CSRF = s.principal, s.csrf
	}
	c.render(w, r, ep.Status, "error", v)
}

// view is what every page template gets.
type view struct {
	Title     string
	Crumbs    []crumb
	Principal *auth.Principal
	CSRF      string
	Notice    string
	Body      any
}

// crumb is one breadcrumb link ("" Href for the current page).
type crumb struct {
	Label string
	Href  string
}

// render executes a page template into a buffer and writes it, so a
// template error becomes a clean 500 instead of half a page. Pages are
// gzipped for clients that accept it (CSRF tokens are masked per response,
// see csrfToken).
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t := c.pages[name]
	var buf bytes.Buffer
	if t == nil {
		c.log.Error("console: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.Error("console: template failed", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	writeMaybeGzip(w, r, status, buf.Bytes())
}

// gzipMin is the smallest body worth compressing.
const gzipMin = 1024

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed); return w }}

// writeMaybeGzip writes body, gzipped when the client accepts it.
func writeMaybeGzip(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	if len(body) < gzipMin || !acceptsGzip(r) {
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	var out bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&out)
	_, _ = zw.Write(body)
	_ = zw.Close()
	gzipPool.Put(zw)
	h.Set("Content-Encoding", "gzip")
	h.Set("Content-Length", strconv.Itoa(out.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(out.Bytes())
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

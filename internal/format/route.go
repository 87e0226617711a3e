package format

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"coffer/internal/auth"
	"coffer/internal/fault"
)

// Route is one request a native protocol serves: its method, the path it
// answers under the repository endpoint, what the caller must be allowed
// before anything else happens (the body is not read yet), and the handler.
type Route struct {
	// Method is the HTTP method; a GET route answers HEAD too.
	Method string
	// Path is matched segment by segment against the path after the
	// repository endpoint: a literal, a {name} that takes one segment, a
	// {name...} that takes the rest (possibly nothing), or a parameter the
	// router's Params define (npm's package name takes one segment or two).
	// Segments are compared unescaped, so %2F stays inside its segment. A
	// trailing "/" must be present in the request; "" is the endpoint.
	Path string
	// Action is the codeartifact action checked before Handle runs, on the
	// package Package names or else on the repository.
	Action string
	// Package names the package the path addresses, for Action's ARN.
	Package func(c *Call) (namespace, name string, err error)
	// InHandler says why the handler checks (further) actions itself: when
	// the action depends on the body (npm's PUT of a package document, a
	// PyPI upload's project) or on the file (Maven's metadata files). A
	// route whose Action is "" must say it.
	InHandler string
	// Handle serves the request; an error it returns is rendered by the
	// router's Render, unless a response was begun.
	Handle func(w http.ResponseWriter, r *http.Request, c *Call) error
}

// Call is a request matched to a route.
type Call struct {
	Target *Target
	Route  *Route
	params []param
	inline [4]param // params' storage for the usual few
}

type param struct{ name, value string }

// Param is the value of the path parameter name, unescaped.
func (c *Call) Param(name string) string {
	for _, p := range c.params {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// Param reads a multi-segment parameter: given the remaining segments
// (unescaped), it returns the parameter's value and how many segments it
// took, or ok false.
type Param func(segs []string) (value string, used int, ok bool)

// Router dispatches a format's requests by its route table (NewRouter).
type Router struct {
	// Format names the format (for ARNs and logs).
	Format string
	Routes []Route
	// Params defines parameters that are not one plain segment.
	Params map[string]Param
	// Authorizer decides the routes' actions; ARNs builds their resources.
	Authorizer auth.Authorizer
	ARNs       ARNs
	// Render answers an error in the protocol's shape (its one renderer).
	Render func(w http.ResponseWriter, r *http.Request, err error)
	// NoRoute, when set, answers a path no route matches (else a
	// not-found error rendered by Render).
	NoRoute func(w http.ResponseWriter, r *http.Request, t *Target)
	// IgnoreTrailingSlash matches a path ending in "/" as if it did not.
	IgnoreTrailingSlash bool
	// patterns are the routes' paths, split once (NewRouter).
	patterns [][]patternSegment
}

// patternSegment is one segment of a route's path.
type patternSegment struct {
	text  string // the literal, or the parameter's name
	param bool
	rest  bool // {name...}
}

// ARNs names the resources actions are checked on; *artifact.Service
// implements it.
type ARNs interface {
	RepositoryARN(owner, domain, repository string) string
	PackageARN(owner, domain, repository, format, namespace, pkg string) string
}

// NewRouter returns rt after checking its table, which is the program's
// own: it panics on a route without a method or handler, with a malformed
// pattern, or without a declared authorization (an Action, or InHandler's
// reason).
func NewRouter(rt Router) *Router {
	if rt.Render == nil || rt.Authorizer == nil || rt.ARNs == nil {
		panic("format: router of " + rt.Format + " without Render, Authorizer or ARNs")
	}
	for _, route := range rt.Routes {
		rt.patterns = append(rt.patterns, compilePattern(route.Path))
		where := rt.Format + " route " + route.Method + " " + strconv.Quote(route.Path)
		switch {
		case route.Method == "" || route.Handle == nil:
			panic("format: " + where + " has no method or handler")
		case route.Action == "" && route.InHandler == "":
			panic("format: " + where + " declares no authorization")
		case route.Package != nil && route.Action == "":
			panic("format: " + where + " names a package but no action")
		}
		if route.Path == "" {
			continue
		}
		segs := strings.Split(route.Path, "/")
		for i, seg := range segs {
			name, isParam := strings.CutPrefix(seg, "{")
			name, closed := strings.CutSuffix(name, "}")
			switch {
			case isParam != closed:
				panic("format: " + where + ": malformed parameter " + seg)
			case isParam && strings.HasSuffix(name, "...") && i != len(segs)-1:
				panic("format: " + where + ": " + seg + " must end the pattern")
			case isParam && name == "":
				panic("format: " + where + ": unnamed parameter")
			}
		}
	}
	return &rt
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := TargetFrom(r.Context())
	if t == nil {
		http.Error(w, "no repository target", http.StatusInternalServerError)
		return
	}
	if t.Refused != nil {
		rt.Render(w, r, t.Refused)
		return
	}
	segs := Segments(r, t)
	if rt.IgnoreTrailingSlash && len(segs) > 0 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	var allowed []string
	c := &Call{Target: t}
	for i := range rt.Routes {
		route := &rt.Routes[i]
		if !rt.match(c, rt.patterns[i], segs) {
			continue
		}
		if route.Method != r.Method && (route.Method != http.MethodGet || r.Method != http.MethodHead) {
			allowed = append(allowed, route.Method)
			if route.Method == http.MethodGet {
				allowed = append(allowed, http.MethodHead)
			}
			continue
		}
		c.Route = route
		rt.serve(w, r, c)
		return
	}
	if len(allowed) > 0 {
		slices.Sort(allowed)
		w.Header().Set("Allow", strings.Join(slices.Compact(allowed), ", "))
		rt.Render(w, r, MethodNotAllowed(r.Method))
		return
	}
	if rt.NoRoute != nil {
		rt.NoRoute(w, r, t)
		return
	}
	rt.Render(w, r, fault.NotFound("route", t.Path, "this %s repository has nothing at %q", rt.Format, t.Path))
}

func (rt *Router) serve(w http.ResponseWriter, r *http.Request, c *Call) {
	if err := rt.authorize(r.Context(), c); err != nil {
		rt.Render(w, r, err)
		return
	}
	if err := c.Route.Handle(w, r, c); err != nil {
		rt.Render(w, r, err)
	}
}

// authorize checks the route's action before its handler runs.
func (rt *Router) authorize(ctx context.Context, c *Call) error {
	route, t := c.Route, c.Target
	if route.Action == "" {
		return nil
	}
	arn := rt.ARNs.RepositoryARN(t.DomainOwner, t.Domain, t.Repository)
	if route.Package != nil {
		ns, name, err := route.Package(c)
		if err != nil {
			return err
		}
		arn = rt.ARNs.PackageARN(t.DomainOwner, t.Domain, t.Repository, rt.Format, ns, name)
	}
	return rt.Authorizer.Authorize(ctx, route.Action, arn)
}

// compilePattern splits a route's path into its segments.
func compilePattern(path string) []patternSegment {
	if path == "" {
		return nil
	}
	var out []patternSegment
	for _, seg := range strings.Split(path, "/") {
		name, isParam := strings.CutPrefix(seg, "{")
		name, closed := strings.CutSuffix(name, "}")
		if !isParam || !closed {
			out = append(out, patternSegment{text: seg})
			continue
		}
		rest := strings.HasSuffix(name, "...")
		out = append(out, patternSegment{text: strings.TrimSuffix(name, "..."), param: true, rest: rest})
	}
	return out
}

// match matches the segments against a route's pattern, leaving the
// parameters in c.
func (rt *Router) match(c *Call, pat []patternSegment, segs []string) bool {
	c.params = c.inline[:0]
	i := 0
	for _, p := range pat {
		switch {
		case !p.param:
			if i >= len(segs) || segs[i] != p.text {
				return false
			}
			i++
		case p.rest: // the last segment (NewRouter)
			c.params = append(c.params, param{p.text, strings.Join(segs[i:], "/")})
			return true
		case rt.Params[p.text] != nil:
			v, used, ok := rt.Params[p.text](segs[i:])
			if !ok || used == 0 {
				return false
			}
			c.params = append(c.params, param{p.text, v})
			i += used
		default:
			if i >= len(segs) || segs[i] == "" {
				return false
			}
			c.params = append(c.params, param{p.text, segs[i]})
			i++
		}
	}
	return i == len(segs)
}

// Segments splits the path after the repository endpoint into unescaped
// segments, keeping an escaped "/" inside its segment (npm's
// @scope%2fname). The endpoint itself is no segment; a trailing slash is a
// last empty one.
func Segments(r *http.Request, t *Target) []string {
	if t.Path == "" {
		return nil
	}
	// /<format>/d/<domain>-<owner>/<repository>/<rest>
	rest, ok := strings.TrimPrefix(r.URL.EscapedPath(), "/"), true
	for range 4 {
		if _, rest, ok = strings.Cut(rest, "/"); !ok {
			return strings.Split(t.Path, "/")
		}
	}
	return SplitEscaped(rest, t.Path)
}

// SplitEscaped splits an escaped path into unescaped segments, so that an
// encoded slash ("%2f" or "%2F") stays inside its segment. decoded is the
// same path decoded (Target.Path), used when escaped does not decode to it.
func SplitEscaped(escaped, decoded string) []string {
	if escaped == decoded {
		return strings.Split(decoded, "/") // nothing escaped
	}
	if escaped != "" {
		segs := strings.Split(escaped, "/")
		rest, ok := decoded, true
		for i, p := range segs {
			u, err := url.PathUnescape(p)
			if err != nil {
				ok = false
				break
			}
			segs[i] = u
			// The segments must spell decoded, "/" between them.
			if i > 0 {
				if rest, ok = strings.CutPrefix(rest, "/"); !ok {
					break
				}
			}
			if rest, ok = strings.CutPrefix(rest, u); !ok {
				break
			}
		}
		if ok && rest == "" {
			return segs
		}
	}
	return strings.Split(decoded, "/")
}

// MethodNotAllowed is the error of a method a path does not serve (405,
// with the Allow header the router sets).
func MethodNotAllowed(method string) error {
	return &fault.Error{Kind: fault.KindMethodNotAllowed, Message: "method " + method + " is not allowed here"}
}

package iam

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"coffer/internal/auth"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// call is one Query-protocol request being served.
type call struct {
	id     *Identity
	ctx    context.Context
	p      *auth.Principal
	form   url.Values
	action string // "CreateUser"
	prefix string // "iam" or "sts", for authorization actions
}

// op serves one action; a nil result means the response has no Result element.
type op func(c *call) (any, error)

// queryAPI is one Query-protocol service.
type queryAPI struct {
	prefix, namespace, version string
	ops                        map[string]op
	// unsigned are the actions served without a principal: their
	// parameters carry the credential (AssumeRoleWithWebIdentity).
	unsigned map[string]bool
}

// IAMHandler serves the IAM Query API (Version 2010-05-08). The principal
// must already be in the request context (auth.WithPrincipal), put there by
// the server after verifying SigV4.
func (id *Identity) IAMHandler() http.Handler { return id.queryHandler(iamAPI) }

// STSHandler serves the STS Query API (Version 2011-06-15): AssumeRole,
// AssumeRoleWithWebIdentity and GetCallerIdentity. The principal must
// already be in the request context, except for AssumeRoleWithWebIdentity,
// which is served unsigned as in STS (IsUnsignedAction).
func (id *Identity) STSHandler() http.Handler { return id.queryHandler(stsAPI) }

// IsUnsignedAction reports whether the STS action is served without a
// signature: the server hands such requests to STSHandler unauthenticated.
func IsUnsignedAction(action string) bool { return stsAPI.unsigned[action] }

func (id *Identity) queryHandler(api *queryAPI) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodGet {
			writeError(w, r, api.namespace, coded(fault.KindValidation, codeInvalidAction, "Only POST and GET requests are supported"))
			return
		}
		if err := r.ParseForm(); err != nil {
			writeError(w, r, api.namespace, coded(fault.KindValidation, "MalformedQueryString", "The request body or query string is not well formed"))
			return
		}
		action := r.Form.Get("Action")
		fn, ok := api.ops[action]
		if v := r.Form.Get("Version"); !ok || v != "" && v != api.version {
			if action == "" {
				writeError(w, r, api.namespace, coded(fault.KindValidation, "MissingAction", "Missing Action"))
				return
			}
			writeError(w, r, api.namespace, coded(fault.KindValidation, codeInvalidAction, "Could not find operation %s for version %s", action, r.Form.Get("Version")))
			return
		}
		p := auth.PrincipalFrom(r.Context())
		if p == nil && !api.unsigned[action] {
			writeError(w, r, api.namespace, fault.Unauthenticated("MissingAuthenticationToken", "Missing Authentication Token"))
			return
		}
		c := &call{id: id, ctx: r.Context(), p: p, form: r.Form, action: action, prefix: api.prefix}
		res, err := fn(c)
		if err == nil {
			err = writeResponse(w, r, api.namespace, action, res)
		}
		if err != nil {
			if fault.KindOf(err) == fault.KindInternal {
				id.log.Error("identity request failed", "action", api.prefix+":"+action, "err", err)
			}
			writeError(w, r, api.namespace, err)
		}
	})
}

// str returns an optional parameter, validated when present.
func (c *call) str(p param) (string, error) {
	if !c.form.Has(p.name) {
		return "", nil
	}
	v := c.form.Get(p.name)
	return v, p.check(v)
}

// required returns a parameter that must be present.
func (c *call) required(p param) (string, error) {
	if !c.form.Has(p.name) {
		return "", missing(p)
	}
	v := c.form.Get(p.name)
	return v, p.check(v)
}

// path returns the Path parameter, "/" when absent.
func (c *call) path() (string, error) {
	v, err := c.str(pPath)
	if v == "" {
		v = "/"
	}
	return v, err
}

// pathPrefix returns the PathPrefix parameter, "/" when absent.
func (c *call) pathPrefix() (string, error) {
	v, err := c.str(pPathPrefix)
	if v == "" {
		v = "/"
	}
	return v, err
}

// intParam returns an optional integer parameter within [min, max].
func (c *call) intParam(name string, min, max, def int) (int, error) {
	if !c.form.Has(name) {
		return def, nil
	}
	field := param{name: name}.field()
	n, err := strconv.Atoi(c.form.Get(name))
	switch {
	case err != nil:
		return 0, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a number", c.form.Get(name), field)
	case n < min:
		return 0, validationError("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, field, min)
	case n > max:
		return 0, validationError("1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, field, max)
	}
	return n, nil
}

// boolParam returns an optional boolean parameter.
func (c *call) boolParam(name string) (bool, error) {
	if !c.form.Has(name) {
		return false, nil
	}
	b, err := strconv.ParseBool(c.form.Get(name))
	if err != nil {
		return false, validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", c.form.Get(name), param{name: name}.field())
	}
	return b, nil
}

// Paging: MaxItems (1-1000, default 100) and an opaque Marker that holds the
// key of the last item returned.

const defaultMaxItems = 100

type pageReq struct {
	after string
	max   int
}

func (c *call) page() (pageReq, error) {
	max, err := c.intParam("MaxItems", 1, 1000, defaultMaxItems)
	if err != nil {
		return pageReq{}, err
	}
	pr := pageReq{max: max}
	if m := c.form.Get("Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil || len(b) == 0 {
			return pageReq{}, validationError("Invalid Marker: %s", m)
		}
		pr.after = string(b)
	}
	return pr, nil
}

func marker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// storePage asks the store for one more item than a page holds, to learn
// whether the list goes on.
func (pr pageReq) storePage() store.Page { return store.Page{After: pr.after, Limit: pr.max + 1} }

// cut trims items fetched with storePage to the page and says where the
// next one starts.
func cut[T any](items []T, pr pageReq, key func(*T) string) ([]T, paged) {
	if len(items) <= pr.max {
		return items, paged{}
	}
	items = items[:pr.max]
	return items, paged{IsTruncated: true, Marker: marker(key(&items[len(items)-1]))}
}

// pageOf pages a list held in memory: sorted by key, the items after the
// marker, at most max of them.
func pageOf[T any](items []T, pr pageReq, key func(*T) string) ([]T, paged) {
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b T) int { return cmp.Compare(key(&a), key(&b)) })
	start := 0
	if pr.after != "" {
		start, _ = slices.BinarySearchFunc(items, pr.after, func(e T, t string) int {
			if key(&e) <= t {
				return -1
			}
			return 1
		})
	}
	return cut(items[start:], pr, key)
}

// read and write run fn in a store transaction.
func (c *call) read(fn func(store.Tx) error) error  { return c.id.meta.Read(c.ctx, fn) }
func (c *call) write(fn func(store.Tx) error) error { return c.id.meta.Write(c.ctx, fn) }

// notFound maps the store's NotFound to the IAM error made by fn, leaving
// other errors alone.
func notFound(err error, fn func() error) error {
	if errors.Is(err, fault.ErrNotFound) {
		return fn()
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, fault.ErrNotFound) }

// conflict maps the store's Conflict to the IAM error made by fn.
func conflict(err error, fn func() error) error {
	if errors.Is(err, fault.ErrConflict) {
		return fn()
	}
	return err
}

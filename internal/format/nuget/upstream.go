package nuget

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/upstream"
)

// upService is what coffer reads of an upstream's service index: where
// its flat container and its registrations are.
type upService struct {
	flat, reg string // both end in "/"
}

// maxUpstreamDoc bounds an upstream JSON document (the Fetcher bounds it
// too); a registration of thousands of versions is paged well below it.
const maxUpstreamDoc = 32 << 20

// DecodeServiceIndex reads a service index: PackageBaseAddress/3.0.0 and
// the registrations that include SemVer 2.0.0 versions when offered
// (RegistrationsBaseUrl/3.6.0), else the plainer ones.
func DecodeServiceIndex(body io.Reader) (flat, reg string, err error) {
	var doc struct {
		Resources []struct {
			ID   string          `json:"@id"`
			Type json.RawMessage `json:"@type"`
		} `json:"resources"`
	}
	if err := json.NewDecoder(io.LimitReader(body, maxUpstreamDoc)).Decode(&doc); err != nil {
		return "", "", fault.Validation("the upstream service index is not valid JSON: %v", err)
	}
	rank := map[string]int{"RegistrationsBaseUrl/3.6.0": 4, "RegistrationsBaseUrl/Versioned": 3, "RegistrationsBaseUrl/3.4.0": 2, "RegistrationsBaseUrl": 1}
	best := 0
	for _, r := range doc.Resources {
		var types []string
		var one string
		if json.Unmarshal(r.Type, &one) == nil {
			types = []string{one}
		} else {
			json.Unmarshal(r.Type, &types)
		}
		for _, t := range types {
			switch {
			case t == "PackageBaseAddress/3.0.0" && flat == "":
				flat = r.ID
			case rank[t] > best:
				best, reg = rank[t], r.ID
			}
		}
	}
	if flat == "" {
		return "", "", fault.Validation("the upstream service index has no PackageBaseAddress/3.0.0")
	}
	slash := func(s string) string {
		if s != "" && !strings.HasSuffix(s, "/") {
			s += "/"
		}
		return s
	}
	return slash(flat), slash(reg), nil
}

func decodeService(body io.Reader, d *upstream.Document) (any, int64, error) {
	flat, reg, err := DecodeServiceIndex(body)
	if err != nil {
		return nil, 0, err
	}
	return &upService{flat: flat, reg: reg}, int64(len(flat)+len(reg)) + 32, nil
}

// DecodeFlatIndex reads a flat container {id}/index.json: the version
// keys it lists that are valid versions.
func DecodeFlatIndex(body io.Reader) ([]string, error) {
	var doc struct {
		Versions []string `json:"versions"`
	}
	if err := json.NewDecoder(io.LimitReader(body, maxUpstreamDoc)).Decode(&doc); err != nil {
		return nil, fault.Validation("the upstream version list is not valid JSON: %v", err)
	}
	var out []string
	for _, v := range doc.Versions {
		if k := NormalizeVersion(v); k != "" {
			out = append(out, k)
		}
	}
	return out, nil
}

type upFlat struct{ keys []string }

func decodeFlat(body io.Reader, d *upstream.Document) (any, int64, error) {
	keys, err := DecodeFlatIndex(body)
	if err != nil {
		return nil, 0, err
	}
	var cost int64 = 32
	for _, k := range keys {
		cost += int64(len(k)) + 16
	}
	return &upFlat{keys: keys}, cost, nil
}

// UpLeaf is one version of an upstream registration: its entry, whether
// it is listed, and where the catalog leaf (with the package's hash) is.
type UpLeaf struct {
	Entry     *Entry
	Key       string
	Listed    bool
	Published string
	Catalog   string // the catalog leaf's URL, "" when unknown
}

// upReg is an upstream registration: its inlined leaves and the URLs of
// its pages that are not inlined.
type upReg struct {
	leaves []UpLeaf
	pages  []upPage
}

// upPage is a page an upstream registration links without inlining it.
type upPage struct{ url, lower, upper string }

type rawLeaf struct {
	CatalogEntry json.RawMessage `json:"catalogEntry"`
}

type rawEntry struct {
	AtID                     string          `json:"@id"`
	ID                       string          `json:"id"`
	Version                  string          `json:"version"`
	Title                    string          `json:"title"`
	Authors                  json.RawMessage `json:"authors"`
	Description              string          `json:"description"`
	Summary                  string          `json:"summary"`
	Tags                     json.RawMessage `json:"tags"`
	ProjectURL               string          `json:"projectUrl"`
	IconURL                  string          `json:"iconUrl"`
	LicenseURL               string          `json:"licenseUrl"`
	LicenseExpression        string          `json:"licenseExpression"`
	Language                 string          `json:"language"`
	MinClientVersion         string          `json:"minClientVersion"`
	RequireLicenseAcceptance bool            `json:"requireLicenseAcceptance"`
	Listed                   *bool           `json:"listed"`
	Published                string          `json:"published"`
	DependencyGroups         []struct {
		TargetFramework string `json:"targetFramework"`
		Dependencies    []struct {
			ID    string `json:"id"`
			Range string `json:"range"`
		} `json:"dependencies"`
	} `json:"dependencyGroups"`
	Deprecation     json.RawMessage `json:"deprecation"`
	Vulnerabilities json.RawMessage `json:"vulnerabilities"`
}

// stringList reads a member that is a string or an array of strings.
func stringList(raw json.RawMessage, sep string) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if sep == "" {
			return []string{one}
		}
		return strings.Fields(strings.ReplaceAll(one, sep, " "))
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}

// DecodeRegistration reads an upstream registration index or page: its
// inlined leaves (valid id and version only) and the pages it links
// without inlining them.
func DecodeRegistration(body io.Reader) ([]UpLeaf, []string, error) {
	leaves, pages, err := decodeRegistration(body)
	var urls []string
	for _, p := range pages {
		urls = append(urls, p.url)
	}
	return leaves, urls, err
}

// rawItem is an item of a registration index (a page, with its leaves
// or linked) or of a page document (a leaf, with its catalogEntry).
type rawItem struct {
	ID           string          `json:"@id"`
	CatalogEntry json.RawMessage `json:"catalogEntry"`
	Items        []rawLeaf       `json:"items"`
	Lower        string          `json:"lower"`
	Upper        string          `json:"upper"`
}

func decodeRegistration(body io.Reader) ([]UpLeaf, []upPage, error) {
	var doc struct {
		Items []rawItem `json:"items"`
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxUpstreamDoc))
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fault.Validation("the upstream registration is not valid JSON: %v", err)
	}
	var leaves []UpLeaf
	var pages []upPage
	for _, it := range doc.Items {
		items := it.Items
		switch {
		case len(it.CatalogEntry) > 0: // a leaf of a page document
			items = []rawLeaf{{CatalogEntry: it.CatalogEntry}}
		case len(items) == 0: // a page linked, not inlined
			if it.ID != "" {
				pages = append(pages, upPage{url: it.ID, lower: it.Lower, upper: it.Upper})
			}
			continue
		}
		for _, l := range items {
			var re rawEntry
			if json.Unmarshal(l.CatalogEntry, &re) != nil {
				continue // a catalogEntry given by URL only is of no use
			}
			v, ok := ParseVersion(re.Version)
			if !ok || !ValidID(re.ID) {
				continue
			}
			e := &Entry{ID: re.ID, Version: v.Normalized(), Verbatim: re.Version, Title: re.Title,
				Authors: strings.Join(stringList(re.Authors, ""), ", "), Description: re.Description, Summary: re.Summary,
				Tags: stringList(re.Tags, ","), ProjectURL: re.ProjectURL, IconURL: re.IconURL, LicenseURL: re.LicenseURL,
				LicenseExpression: re.LicenseExpression, Language: re.Language, MinClientVersion: re.MinClientVersion,
				RequireLicenseAcceptance: re.RequireLicenseAcceptance}
			if len(re.Deprecation) > 0 && !bytes.Equal(re.Deprecation, []byte("null")) {
				e.Deprecation = re.Deprecation
			}
			if len(re.Vulnerabilities) > 0 && !bytes.Equal(re.Vulnerabilities, []byte("null")) {
				e.Vulnerabilities = re.Vulnerabilities
			}
			for _, g := range re.DependencyGroups {
				dg := DependencyGroup{TargetFramework: g.TargetFramework}
				for _, d := range g.Dependencies {
					if ValidID(d.ID) {
						dg.Dependencies = append(dg.Dependencies, Dependency{ID: d.ID, Range: d.Range})
					}
				}
				e.DependencyGroups = append(e.DependencyGroups, dg)
			}
			listed := re.Listed == nil || *re.Listed
			if strings.HasPrefix(re.Published, "1900-") {
				listed = false
			}
			catalog := re.AtID
			if !strings.HasPrefix(catalog, "http://") && !strings.HasPrefix(catalog, "https://") {
				catalog = ""
			}
			leaves = append(leaves, UpLeaf{Entry: e, Key: v.Key(), Listed: listed, Published: re.Published, Catalog: catalog})
		}
	}
	return leaves, pages, nil
}

func decodeReg(body io.Reader, d *upstream.Document) (any, int64, error) {
	leaves, pages, err := decodeRegistration(body)
	if err != nil {
		return nil, 0, err
	}
	cost := int64(64)
	for _, l := range leaves {
		cost += 512 + int64(len(l.Entry.Description))
	}
	return &upReg{leaves: leaves, pages: pages}, cost, nil
}

// DecodeCatalogHash reads a catalog leaf's packageHash, as hex, when its
// algorithm is SHA512 ("" otherwise).
func DecodeCatalogHash(body io.Reader) (string, error) {
	var doc struct {
		Hash string `json:"packageHash"`
		Alg  string `json:"packageHashAlgorithm"`
	}
	if err := json.NewDecoder(io.LimitReader(body, maxUpstreamDoc)).Decode(&doc); err != nil {
		return "", fault.Validation("the upstream catalog leaf is not valid JSON: %v", err)
	}
	if !strings.EqualFold(doc.Alg, "SHA512") || doc.Hash == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(doc.Hash)
	if err != nil || len(b) != 64 {
		return "", fault.Validation("the upstream catalog leaf's packageHash is not a SHA-512")
	}
	return hex.EncodeToString(b), nil
}

func decodeCatalog(body io.Reader, d *upstream.Document) (any, int64, error) {
	h, err := DecodeCatalogHash(body)
	if err != nil {
		return nil, 0, err
	}
	return h, int64(len(h)) + 16, nil
}

// service reads an external source's service index (index.json under
// its base URL).
func (h *Handler) service(ctx context.Context, src artifact.ExternalSource) (*upService, error) {
	res, err := h.up.Get(ctx, src.BaseURL+"index.json", upstream.WithDecode("nuget-service", decodeService))
	if err != nil {
		return nil, err
	}
	s, ok := res.Value.(*upService)
	if !ok {
		return nil, fault.Internal(nil, "the upstream service index %s is unreadable", res.URL)
	}
	return s, nil
}

// upstreamVersions is the flat container's version list of a package at
// an external source, with its document.
func (h *Handler) upstreamVersions(ctx context.Context, src artifact.ExternalSource, lowerID string) (*upstream.Response, []string, error) {
	s, err := h.service(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	res, err := h.up.Get(ctx, s.flat+escapeSeg(lowerID)+"/index.json", upstream.WithDecode("nuget-flat", decodeFlat))
	if err != nil {
		return nil, nil, err
	}
	f, ok := res.Value.(*upFlat)
	if !ok {
		return nil, nil, fault.Internal(nil, "the upstream version list %s is unreadable", res.URL)
	}
	return res, f.keys, nil
}

// maxUpstreamPages bounds the pages of one upstream registration read.
const maxUpstreamPages = 64

// upstreamLeaves is an external source's registration of a package, its
// pages read, with the documents read.
func (h *Handler) upstreamLeaves(ctx context.Context, src artifact.ExternalSource, lowerID string) ([]*upstream.Response, []UpLeaf, error) {
	s, err := h.service(ctx, src)
	if err != nil {
		return nil, nil, err
	}
	if s.reg == "" {
		return nil, nil, fault.NotFound("package", lowerID, "%s has no registrations", src.Connection)
	}
	res, err := h.up.Get(ctx, s.reg+escapeSeg(lowerID)+"/index.json", upstream.WithDecode("nuget-registration", decodeReg))
	if err != nil {
		return nil, nil, err
	}
	r, ok := res.Value.(*upReg)
	if !ok {
		return nil, nil, fault.Internal(nil, "the upstream registration %s is unreadable", res.URL)
	}
	docs := []*upstream.Response{res}
	leaves := append([]UpLeaf(nil), r.leaves...)
	for i, p := range r.pages {
		if i >= maxUpstreamPages {
			break
		}
		pres, pl, err := h.upstreamPage(ctx, p.url)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, pres)
		leaves = append(leaves, pl...)
	}
	return docs, leaves, nil
}

func (h *Handler) upstreamPage(ctx context.Context, url string) (*upstream.Response, []UpLeaf, error) {
	res, err := h.up.Get(ctx, url, upstream.WithDecode("nuget-registration", decodeReg))
	if err != nil {
		return nil, nil, err
	}
	r, ok := res.Value.(*upReg)
	if !ok {
		return nil, nil, fault.Internal(nil, "the upstream registration page %s is unreadable", res.URL)
	}
	return res, r.leaves, nil
}

// upstreamLeaf is one version's leaf in an external source's
// registration: in the index, or in the one page whose bounds hold it
// (a download reads no other page).
func (h *Handler) upstreamLeaf(ctx context.Context, src artifact.ExternalSource, lowerID, key string) (*UpLeaf, error) {
	s, err := h.service(ctx, src)
	if err != nil {
		return nil, err
	}
	if s.reg == "" {
		return nil, fault.NotFound("package", lowerID, "%s has no registrations", src.Connection)
	}
	res, err := h.up.Get(ctx, s.reg+escapeSeg(lowerID)+"/index.json", upstream.WithDecode("nuget-registration", decodeReg))
	if err != nil {
		return nil, err
	}
	r, ok := res.Value.(*upReg)
	if !ok {
		return nil, fault.Internal(nil, "the upstream registration %s is unreadable", res.URL)
	}
	find := func(ls []UpLeaf) *UpLeaf {
		for i := range ls {
			if ls[i].Key == key {
				return &ls[i]
			}
		}
		return nil
	}
	if l := find(r.leaves); l != nil {
		return l, nil
	}
	v, _ := ParseVersion(key)
	for _, p := range r.pages {
		lo, okl := ParseVersion(p.lower)
		hi, okh := ParseVersion(p.upper)
		if okl && okh && (Compare(v, lo) < 0 || Compare(v, hi) > 0) {
			continue
		}
		_, ls, err := h.upstreamPage(ctx, p.url)
		if err != nil {
			return nil, err
		}
		if l := find(ls); l != nil {
			return l, nil
		}
	}
	return nil, fault.NotFound("package-version", key, "%s %s is not in %s's registration", lowerID, key, src.Connection)
}

// catalogHash is the SHA-512 (hex) the catalog leaf announces, "" when
// none is announced.
func (h *Handler) catalogHash(ctx context.Context, url string) (string, error) {
	if url == "" {
		return "", nil
	}
	res, err := h.up.Get(ctx, url, upstream.WithDecode("nuget-catalog", decodeCatalog))
	if err != nil {
		return "", err
	}
	s, _ := res.Value.(string)
	return s, nil
}

// offers is a push's question to an external source: does its flat
// container list the version?
func (h *Handler) offers(lowerID, key string) func(context.Context, artifact.ExternalSource) (bool, error) {
	return func(ctx context.Context, src artifact.ExternalSource) (bool, error) {
		_, keys, err := h.upstreamVersions(ctx, src, lowerID)
		if err != nil {
			return false, err
		}
		for _, k := range keys {
			if k == key {
				return true, nil
			}
		}
		return false, nil
	}
}

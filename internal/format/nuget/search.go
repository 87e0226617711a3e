package nuget

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"coffer/internal/artifact"
	"coffer/internal/format"
)

// SearchQuery is what the search and autocomplete resources read of the
// query string (q, skip, take, prerelease, semVerLevel).
type SearchQuery struct {
	Q          string
	Skip, Take int
	Prerelease bool
	SemVer2    bool
}

// ParseSearchQuery reads the query string as nuget.org does: take
// defaults to 20 and is at most 1000, prerelease and semVerLevel=2.0.0
// opt in.
func ParseSearchQuery(q map[string][]string) SearchQuery {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	s := SearchQuery{Q: strings.TrimSpace(get("q")), Take: 20}
	if n, err := strconv.Atoi(get("skip")); err == nil && n > 0 {
		s.Skip = n
	}
	if n, err := strconv.Atoi(get("take")); err == nil && n >= 0 {
		s.Take = min(n, 1000)
	}
	s.Prerelease = strings.EqualFold(get("prerelease"), "true")
	s.SemVer2 = strings.HasPrefix(get("semVerLevel"), "2")
	return s
}

// hit is one package found.
type hit struct {
	ID       string       `json:"@id"`
	Type     string       `json:"@type"`
	Reg      string       `json:"registration"`
	PkgID    string       `json:"id"`
	Version  string       `json:"version"`
	Desc     string       `json:"description"`
	Summary  string       `json:"summary"`
	Title    string       `json:"title"`
	Authors  []string     `json:"authors"`
	Tags     []string     `json:"tags"`
	Total    int          `json:"totalDownloads"`
	Verified bool         `json:"verified"`
	Types    []hitType    `json:"packageTypes"`
	Versions []hitVersion `json:"versions"`
}

type hitType struct {
	Name string `json:"name"`
}

type hitVersion struct {
	Version   string `json:"version"`
	Downloads int    `json:"downloads"`
	ID        string `json:"@id"`
}

// matching walks the repository's own packages whose id contains the
// query (any case), with the listed versions the query admits, ordered
// by precedence; fn returns false to stop.
func (h *Handler) matching(r *http.Request, c *format.Call, s SearchQuery, fn func(lowerID string, vs []known) bool) error {
	ctx := r.Context()
	q := strings.ToLower(s.Q)
	page := artifact.PageRequest{Max: 1000}
	for {
		pkgs, next, err := h.svc.ListPackages(ctx, c.Target.Repo(), artifact.PackageFilter{Format: artifact.FormatNuget}, page)
		if err != nil {
			return err
		}
		for _, p := range pkgs {
			if !strings.Contains(p.Name, q) {
				continue
			}
			view, err := h.svc.ViewPackage(ctx, packageRef(c.Target, p.Name), false)
			if err != nil {
				continue
			}
			var vs []known
			for i := range view.Versions {
				v := &view.Versions[i]
				pv, ok := ParseVersion(v.Version.Version)
				if !ok || v.Status != artifact.StatusPublished || (pv.IsPrerelease() && !s.Prerelease) {
					continue
				}
				e := parseEntry(v.Metadata)
				if e == nil {
					e = &Entry{ID: v.DisplayName, Version: pv.Normalized(), Verbatim: v.Version.Version, Description: v.Summary}
				}
				if e.SemVer2() && !s.SemVer2 {
					continue
				}
				vs = append(vs, known{key: pv.Key(), ver: pv, entry: e, listed: true})
			}
			if len(vs) == 0 {
				continue
			}
			sortKnown(vs)
			if !fn(p.Name, vs) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		page.After = next
	}
}

// search serves SearchQueryService: the repository's own packages.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	s := ParseSearchQuery(r.URL.Query())
	base := c.Target.EndpointBase(r)
	data := []hit{}
	total := 0
	err := h.matching(r, c, s, func(id string, vs []known) bool {
		total++
		if total <= s.Skip || len(data) >= s.Take {
			return true
		}
		latest := vs[len(vs)-1].entry
		reg := base + regSV2Path + escapeSeg(id) + "/index.json"
		x := hit{ID: reg, Type: "Package", Reg: reg, PkgID: latest.ID, Version: latest.Version, Desc: latest.Description,
			Summary: latest.Summary, Title: latest.Title, Tags: latest.Tags, Authors: []string{}, Types: []hitType{{"Dependency"}}}
		if latest.Authors != "" {
			x.Authors = []string{latest.Authors}
		}
		if x.Tags == nil {
			x.Tags = []string{}
		}
		for _, v := range vs {
			x.Versions = append(x.Versions, hitVersion{Version: v.entry.Version, ID: base + regSV2Path + escapeSeg(id) + "/" + escapeSeg(v.key) + ".json"})
		}
		data = append(data, x)
		return true
	})
	if err != nil {
		return err
	}
	b, _ := json.Marshal(struct {
		Total int   `json:"totalHits"`
		Data  []hit `json:"data"`
	}{total, data})
	serveDoc(w, r, b, "application/json")
	return nil
}

// autocomplete serves SearchAutocompleteService: package ids matching q,
// or with id= the versions of that package.
func (h *Handler) autocomplete(w http.ResponseWriter, r *http.Request, c *format.Call) error {
	s := ParseSearchQuery(r.URL.Query())
	data := []string{}
	total := 0
	if id := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("id"))); id != "" {
		s.Q = id
		err := h.matching(r, c, s, func(lowerID string, vs []known) bool {
			if lowerID != id {
				return true
			}
			for _, v := range vs {
				data = append(data, v.entry.Version)
			}
			total = len(data)
			return false
		})
		if err != nil {
			return err
		}
	} else {
		err := h.matching(r, c, s, func(lowerID string, vs []known) bool {
			total++
			if total > s.Skip && len(data) < s.Take {
				data = append(data, vs[len(vs)-1].entry.ID)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	b, _ := json.Marshal(struct {
		Total int      `json:"totalHits"`
		Data  []string `json:"data"`
	}{total, data})
	serveDoc(w, r, b, "application/json")
	return nil
}

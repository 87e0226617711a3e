package npm

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/store"
)

// Search bounds.
const (
	searchDefaultSize = 20
	searchMaxSize     = 250
	// searchMaxScan bounds the packages one search reads.
	searchMaxScan = 10000
)

// searchResult is npm's search response shape (GET -/v1/search).
type searchResult struct {
	Objects []searchObject `json:"objects"`
	Total   int            `json:"total"`
	Time    string         `json:"time"`
}

type searchObject struct {
	Package     searchPackage `json:"package"`
	Score       searchScore   `json:"score"`
	SearchScore float64       `json:"searchScore"`
}

type searchPackage struct {
	Name        string            `json:"name"`
	Scope       string            `json:"scope"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Keywords    []string          `json:"keywords,omitempty"`
	Date        string            `json:"date,omitempty"`
	Links       map[string]string `json:"links"`
	Publisher   map[string]string `json:"publisher"`
	Maintainers []map[string]any  `json:"maintainers"`
}

type searchScore struct {
	Final  float64            `json:"final"`
	Detail map[string]float64 `json:"detail"`
}

// search serves GET -/v1/search?text=&size=&from= (npm search) over the
// packages stored in the requested repository (not its upstreams, nor the
// public registry): every whitespace-separated term of text must occur in
// the package name (case-insensitive). A package is described by the
// version its own "latest" dist-tag names, else its most recently
// published version.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, rq *request, n Name, c *format.Call) {
	ctx := r.Context()
	q := r.URL.Query()
	size := searchDefaultSize
	if s := q.Get("size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			h.writeError(w, r, fault.Validation("size must be a positive number"))
			return
		}
		size = min(n, searchMaxSize)
	}
	from := 0
	if s := q.Get("from"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			h.writeError(w, r, fault.Validation("from must be a number"))
			return
		}
		from = n
	}
	terms := strings.Fields(strings.ToLower(q.Get("text")))
	var matches []artifact.Package
	after := ""
	scanned := 0
	for scanned < searchMaxScan {
		ps, next, err := h.svc.ListPackages(ctx, rq.t.Repo(), artifact.PackageFilter{Format: artifact.FormatNpm}, artifact.PageRequest{After: after, Max: 1000})
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		for _, p := range ps {
			scanned++
			full := strings.ToLower(Name{Scope: p.Namespace, Base: p.Name}.String())
			ok := true
			for _, t := range terms {
				ok = ok && strings.Contains(full, t)
			}
			if ok {
				matches = append(matches, p)
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	res := searchResult{Objects: []searchObject{}, Total: len(matches), Time: time.Now().UTC().Format(time.RFC1123)}
	if from < len(matches) {
		page := matches[from:min(len(matches), from+size)]
		var ids []int64
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		latest, err := h.svc.LatestVersions(ctx, ids)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		for _, p := range page {
			// LatestVersions follows npm's rule: the version "latest" names.
			v, ok := latest[p.ID]
			if !ok {
				continue // nothing Published: not offered
			}
			res.Objects = append(res.Objects, searchObjectOf(Name{Scope: p.Namespace, Base: p.Name}, &v))
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func searchObjectOf(n Name, v *store.Version) searchObject {
	scope := n.Scope
	if scope == "" {
		scope = "unscoped"
	}
	pkg := searchPackage{Name: n.String(), Scope: scope, Version: v.Version, Description: v.Summary,
		Links: map[string]string{}, Publisher: map[string]string{"username": ""}, Maintainers: []map[string]any{}}
	if !v.PublishedTime.IsZero() {
		pkg.Date = npmTime(v.PublishedTime)
	}
	if v.HomePage != "" {
		pkg.Links["homepage"] = v.HomePage
	}
	if v.SourceCodeRepository != "" {
		pkg.Links["repository"] = v.SourceCodeRepository
	}
	var doc struct {
		Keywords []string `json:"keywords"`
		NpmUser  struct {
			Name string `json:"name"`
		} `json:"_npmUser"`
	}
	if json.Unmarshal([]byte(v.Metadata), &doc) == nil {
		pkg.Keywords = doc.Keywords
		pkg.Publisher["username"] = doc.NpmUser.Name
	}
	return searchObject{Package: pkg, Score: searchScore{Final: 1, Detail: map[string]float64{"quality": 1, "popularity": 1, "maintenance": 1}}, SearchScore: 1}
}

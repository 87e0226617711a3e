package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/fault"
)

// The package flow diagram shows where a repository's packages come from:
// its upstream repositories, their upstreams in turn, and the external
// connections at the top, with arrows in the direction packages flow. The
// server draws it as SVG (presentation attributes only, so the page's CSP
// needs no inline styles). Repositories carry their position in
// CodeArtifact's search order: depth-first, pre-order, left to right, each
// repository once, at most artifact.MaxSearchedRepositories. An upstream
// name whose repository was deleted is drawn as missing; one the principal
// may not describe is drawn without its own upstreams.

// Node kinds.
const (
	nodeThis     = "this"
	nodeRepo     = "repository"
	nodeExternal = "external"
	nodeMissing  = "missing"
	nodeHidden   = "hidden"
)

type flowNode struct {
	Kind     string
	Name     string
	URL      string
	Order    int // position in the search order (1 = this repository); 0 if not searched
	depth    int
	x        float64
	children []*flowNode // nodes drawn above, feeding this one
}

type flowEdge struct{ from, to *flowNode } // from feeds to

type flowGraph struct {
	repo      string
	root      *flowNode
	nodes     []*flowNode
	edges     []flowEdge
	truncated bool
}

// missing returns the upstream names drawn as missing.
func (g *flowGraph) missing() map[string]bool {
	out := map[string]bool{}
	for _, n := range g.nodes {
		if n.Kind == nodeMissing {
			out[n.Name] = true
		}
	}
	return out
}

// flowGraph walks the upstream graph of repo as the principal may see it.
func (c *Console) flowGraph(r *http.Request, repo *artifact.Repository) (*flowGraph, error) {
	ctx := r.Context()
	domain := repo.DomainName
	g := &flowGraph{repo: repo.Name}
	seen := map[string]*flowNode{}
	order, known := 0, true
	var visit func(n *flowNode, rp *artifact.Repository) error
	visit = func(n *flowNode, rp *artifact.Repository) error {
		for _, name := range rp.Upstreams {
			if u := seen[name]; u != nil {
				g.edges = append(g.edges, flowEdge{u, n})
				continue
			}
			if order >= artifact.MaxSearchedRepositories {
				g.truncated = true
				return nil
			}
			u := &flowNode{Kind: nodeRepo, Name: name, URL: repoURL(domain, name), depth: n.depth + 1}
			seen[name] = u
			g.nodes = append(g.nodes, u)
			n.children = append(n.children, u)
			g.edges = append(g.edges, flowEdge{u, n})
			ref := artifact.RepoRef{DomainRef: artifact.DomainRef{Name: domain}, Repository: name}
			if !c.allowed(ctx, auth.ActionDescribeRepository, c.repoARN(ref)) {
				// Searched here, but what it searches next is unknown, so
				// later positions cannot be told.
				order++
				u.Kind, u.URL = nodeHidden, ""
				if known {
					u.Order = order
				}
				known = false
				continue
			}
			up, err := c.svc.DescribeRepository(ctx, ref)
			if errors.Is(err, fault.ErrNotFound) {
				u.Kind, u.URL = nodeMissing, ""
				continue
			} else if err != nil {
				return err
			}
			order++
			if known {
				u.Order = order
			}
			if err := visit(u, up); err != nil {
				return err
			}
		}
		for _, ec := range rp.ExternalConnections {
			e := &flowNode{Kind: nodeExternal, Name: ec.Name, depth: n.depth + 1}
			g.nodes = append(g.nodes, e)
			n.children = append(n.children, e)
			g.edges = append(g.edges, flowEdge{e, n})
		}
		return nil
	}
	order = 1
	g.root = &flowNode{Kind: nodeThis, Name: repo.Name, Order: 1}
	seen[repo.Name] = g.root
	g.nodes = append(g.nodes, g.root)
	if err := visit(g.root, repo); err != nil {
		return nil, err
	}
	return g, nil
}

// Geometry of the drawing.
const (
	nodeW   = 196.0
	nodeH   = 56.0
	colW    = 220.0
	rowH    = 100.0
	marginX = 16.0
	marginY = 16.0
	legendH = 28.0
	// minWidth leaves room for the legend.
	minWidth = 600.0
)

// layout places leaves left to right in search order and each node above
// the middle of the nodes feeding it; it returns the columns and rows used.
func (g *flowGraph) layout() (cols, rows int) {
	slot := 0
	maxDepth := 0
	var place func(n *flowNode)
	place = func(n *flowNode) {
		maxDepth = max(maxDepth, n.depth)
		if len(n.children) == 0 {
			n.x = float64(slot)
			slot++
			return
		}
		for _, ch := range n.children {
			place(ch)
		}
		n.x = (n.children[0].x + n.children[len(n.children)-1].x) / 2
	}
	place(g.root)
	return slot, maxDepth + 1
}

// svg draws the graph. Every name is escaped.
func (g *flowGraph) svg() string {
	cols, rows := g.layout()
	graphW := float64(cols-1)*colW + nodeW
	width := max(marginX*2+graphW, minWidth)
	left := (width - graphW) / 2 // centred when the legend is the wider
	height := marginY*2 + float64(rows-1)*rowH + nodeH + legendH
	top := func(n *flowNode) (float64, float64) {
		return left + n.x*colW, marginY + float64(rows-1-n.depth)*rowH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" id="package-flow" class="flow" role="img" aria-labelledby="flow-title" `+
		`viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif">`,
		width, height, width, height)
	fmt.Fprintf(&b, `<title id="flow-title">Package flow into %s</title>`, xmlEscape(g.repo))
	b.WriteString(`<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">` +
		`<path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>`)
	for _, e := range g.edges {
		fx, fy := top(e.from)
		tx, ty := top(e.to)
		x1, y1 := fx+nodeW/2, fy+nodeH
		x2, y2 := tx+nodeW/2, ty-2
		dy := (y2 - y1) / 2
		if dy < 30 {
			dy = 30
		}
		fmt.Fprintf(&b, `<path class="flow-edge" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="none" stroke="#94a3b8" stroke-width="1.6" marker-end="url(#flow-arrow)"/>`,
			x1, y1, x1, y1+dy, x2, y2-dy, x2, y2)
	}
	for _, n := range g.nodes {
		x, y := top(n)
		fill, stroke, dash, sub := "#ffffff", "#94a3b8", "", "Upstream repository"
		switch n.Kind {
		case nodeThis:
			fill, stroke, sub = "#eff6ff", "#2563eb", "This repository"
		case nodeExternal:
			fill, stroke, sub = "#fffbeb", "#d97706", "External connection"
		case nodeMissing:
			fill, stroke, dash, sub = "#fef2f2", "#dc2626", ` stroke-dasharray="5 4"`, "Missing: repository deleted"
		case nodeHidden:
			fill, stroke, dash, sub = "#f8fafc", "#cbd5e1", ` stroke-dasharray="5 4"`, "Not visible to you"
		}
		fmt.Fprintf(&b, `<g class="flow-node flow-%s" data-name="%s">`, n.Kind, xmlEscape(n.Name))
		if n.URL != "" {
			fmt.Fprintf(&b, `<a href="%s">`, xmlEscape(n.URL))
		}
		fmt.Fprintf(&b, `<title>%s (%s)</title>`, xmlEscape(n.Name), xmlEscape(sub))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="8" fill="%s" stroke="%s" stroke-width="1.5"%s/>`,
			x, y, nodeW, nodeH, fill, stroke, dash)
		tx := x + 14
		if n.Order > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="11" fill="%s"/><text x="%.1f" y="%.1f" font-size="11" font-weight="600" fill="#ffffff" text-anchor="middle">%d</text>`,
				x+20, y+nodeH/2, stroke, x+20, y+nodeH/2+4, n.Order)
			tx = x + 40
		}
		nameColor := "#0f172a"
		if n.Kind == nodeMissing {
			nameColor = "#b91c1c"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="13" font-weight="600" fill="%s">%s</text>`, tx, y+24, nameColor, xmlEscape(truncate(n.Name, 22)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#64748b">%s</text>`, tx, y+41, xmlEscape(sub))
		if n.URL != "" {
			b.WriteString(`</a>`)
		}
		b.WriteString(`</g>`)
	}
	legend := "Arrows show how packages flow; numbers give the order in which requests search repositories."
	if g.truncated {
		legend = fmt.Sprintf("Only the first %d repositories of the search order are shown.", artifact.MaxSearchedRepositories)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#64748b">%s</text>`, marginX, height-12, xmlEscape(legend))
	b.WriteString(`</svg>`)
	return b.String()
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")

// xmlEscape escapes text and attribute values, dropping characters XML
// cannot carry.
func xmlEscape(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r != 0xFFFE && r != 0xFFFF && r != utf8.RuneError {
			return r
		}
		return -1
	}, s)
	return xmlReplacer.Replace(s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// flowSVG serves the diagram on its own.
func (c *Console) flowSVG(w http.ResponseWriter, r *http.Request, s *state) error {
	ref := repoRef(r)
	if err := c.authorize(r.Context(), auth.ActionDescribeRepository, c.repoARN(ref)); err != nil {
		return err
	}
	repo, err := c.svc.DescribeRepository(r.Context(), ref)
	if err != nil {
		return err
	}
	g, err := c.flowGraph(r, repo)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + g.svg()))
	return nil
}

package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticFile is an embedded asset with its content hash, which goes into
// its URL so that it can be cached for good.
type staticFile struct {
	body        []byte
	gz          []byte // body gzipped, nil when that does not pay
	hash        string
	contentType string
}

// statics are read and compressed on first use, not at start-up: the
// compression's working memory would otherwise be part of every process's
// footprint, the console used or not.
var statics = sync.OnceValue(loadStatics)

func loadStatics() map[string]staticFile {
	out := map[string]staticFile{}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err)
	}
	types := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		f := staticFile{body: b, hash: hex.EncodeToString(sum[:6]), contentType: types[path.Ext(e.Name())]}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if gz.Len() < len(b)*9/10 {
			f.gz = gz.Bytes()
		}
		out[e.Name()] = f
	}
	return out
}

// staticURL is the cache-busting URL of an embedded asset.
func staticURL(name string) (string, error) {
	f, ok := statics()[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return Prefix + "static/" + name + "?v=" + f.hash, nil
}

// static serves the embedded stylesheet, script and icon; it needs no
// session (the sign-in page uses them).
func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	f, ok := statics()[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Add("Vary", "Accept-Encoding")
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := f.body, `"`+f.hash+`"`
	if f.gz != nil && acceptsGzip(r) {
		body, etag = f.gz, `"`+f.hash+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

var funcs = template.FuncMap{
	"static": staticURL,
	"join":   strings.Join,
	"first": func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	},
	"statusClass": func(s string) string { return "status-" + strings.ToLower(s) },
}

// parseTemplates parses each page together with the layout.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", base, err)
		}
		out[base] = t
	}
	return out, nil
}

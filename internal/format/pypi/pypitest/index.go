package pypitest

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Index is a static PyPI simple index held in memory: PEP 691 JSON or PEP
// 503 HTML project pages (by the request's Accept, or HTML only), the files
// under files/, and PEP 658 metadata files for wheels added with one. It
// counts requests by path and can be taken down.
type Index struct {
	// HTMLOnly makes every page PEP 503 HTML whatever the Accept header.
	HTMLOnly atomic.Bool
	// Down makes every request fail with 502.
	Down atomic.Bool

	mu       sync.Mutex
	projects map[string][]*IndexFile
	files    map[string]*IndexFile
	counts   map[string]int
	accepts  []string
}

// IndexFile is one file of an Index.
type IndexFile struct {
	Name           string
	Data           []byte
	Metadata       []byte // served as <name>.metadata and advertised when set
	RequiresPython string
	Yanked         *string
	// UploadTime, when set, is the file's PEP 700 upload-time on JSON
	// pages (HTML pages carry none).
	UploadTime time.Time
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{projects: map[string][]*IndexFile{}, files: map[string]*IndexFile{}, counts: map[string]int{}}
}

var sep = regexp.MustCompile(`[-_.]+`)

func normalize(name string) string { return strings.ToLower(sep.ReplaceAllString(name, "-")) }

// Add adds a file to a project.
func (x *Index) Add(project string, f *IndexFile) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := normalize(project)
	x.projects[p] = append(x.projects[p], f)
	x.files[f.Name] = f
}

// AddWheel builds d's wheel and adds it, with its PEP 658 file when
// withMetadata; it returns the file.
func (x *Index) AddWheel(d Dist, withMetadata bool) *IndexFile {
	name, data := d.Wheel()
	f := &IndexFile{Name: name, Data: data, RequiresPython: d.requiresPython()}
	if withMetadata {
		f.Metadata = d.Metadata()
	}
	x.Add(d.Name, f)
	return f
}

// AddSdist builds d's sdist and adds it.
func (x *Index) AddSdist(d Dist) *IndexFile {
	name, data := d.Sdist()
	f := &IndexFile{Name: name, Data: data, RequiresPython: d.requiresPython()}
	x.Add(d.Name, f)
	return f
}

func (d Dist) requiresPython() string {
	switch d.RequiresPython {
	case "":
		return ">=3.8"
	case "-":
		return ""
	}
	return d.RequiresPython
}

// Count returns how many requests a path received.
func (x *Index) Count(path string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.counts[path]
}

// Counts returns a copy of the request counts by path.
func (x *Index) Counts() map[string]int {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]int, len(x.counts))
	for k, v := range x.counts {
		out[k] = v
	}
	return out
}

// Accepts returns the Accept headers of the page requests received.
func (x *Index) Accepts() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string{}, x.accepts...)
}

func (x *Index) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if x.Down.Load() {
		http.Error(w, "down", http.StatusBadGateway)
		return
	}
	x.mu.Lock()
	x.counts[r.URL.Path]++
	x.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/simple/"):
		x.page(w, r, strings.Trim(strings.TrimPrefix(r.URL.Path, "/simple/"), "/"))
	case strings.HasPrefix(r.URL.Path, "/files/"):
		name := strings.TrimPrefix(r.URL.Path, "/files/")
		meta := strings.HasSuffix(name, ".metadata")
		x.mu.Lock()
		f := x.files[strings.TrimSuffix(name, ".metadata")]
		x.mu.Unlock()
		switch {
		case f == nil, meta && f.Metadata == nil:
			http.NotFound(w, r)
		case meta:
			w.Header().Set("Content-Length", fmt.Sprint(len(f.Metadata)))
			w.Write(f.Metadata)
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", fmt.Sprint(len(f.Data)))
			w.Write(f.Data)
		}
	default:
		http.NotFound(w, r)
	}
}

func (x *Index) page(w http.ResponseWriter, r *http.Request, project string) {
	x.mu.Lock()
	x.accepts = append(x.accepts, r.Header.Get("Accept"))
	if project == "" {
		var names []string
		for p := range x.projects {
			names = append(names, p)
		}
		x.mu.Unlock()
		sort.Strings(names)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!DOCTYPE html><html><body>\n")
		for _, n := range names {
			fmt.Fprintf(w, "<a href=\"%s/\">%s</a>\n", n, n)
		}
		fmt.Fprint(w, "</body></html>\n")
		return
	}
	files := append([]*IndexFile{}, x.projects[project]...)
	x.mu.Unlock()
	if len(files) == 0 {
		http.NotFound(w, r)
		return
	}
	if !x.HTMLOnly.Load() && strings.Contains(r.Header.Get("Accept"), "application/vnd.pypi.simple.v1+json") {
		type jf struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython string            `json:"requires-python,omitempty"`
			Yanked         any               `json:"yanked,omitempty"`
			CoreMetadata   any               `json:"core-metadata,omitempty"`
			Size           int               `json:"size"`
			UploadTime     string            `json:"upload-time,omitempty"`
		}
		doc := struct {
			Meta  map[string]string `json:"meta"`
			Name  string            `json:"name"`
			Files []jf              `json:"files"`
		}{Meta: map[string]string{"api-version": "1.1"}, Name: project}
		for _, f := range files {
			j := jf{Filename: f.Name, URL: "../../files/" + f.Name, Hashes: map[string]string{"sha256": SHA256(f.Data)}, RequiresPython: f.RequiresPython, Size: len(f.Data)}
			if f.Yanked != nil {
				j.Yanked = *f.Yanked
			}
			if f.Metadata != nil {
				j.CoreMetadata = map[string]string{"sha256": SHA256(f.Metadata)}
			}
			if !f.UploadTime.IsZero() {
				j.UploadTime = f.UploadTime.UTC().Format("2006-01-02T15:04:05.000000Z")
			}
			doc.Files = append(doc.Files, j)
		}
		w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
		json.NewEncoder(w).Encode(doc)
		return
	}
	w.Header().Set("Content-Type", "text/html")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><head><title>Links for %s</title></head><body>\n", project)
	for _, f := range files {
		attrs := ""
		if f.RequiresPython != "" {
			attrs += fmt.Sprintf(" data-requires-python=\"%s\"", html.EscapeString(f.RequiresPython))
		}
		if f.Yanked != nil {
			attrs += fmt.Sprintf(" data-yanked=\"%s\"", html.EscapeString(*f.Yanked))
		}
		if f.Metadata != nil {
			attrs += fmt.Sprintf(" data-dist-info-metadata=\"sha256=%s\"", SHA256(f.Metadata))
		}
		fmt.Fprintf(w, "<a href=\"../../files/%s#sha256=%s\"%s>%s</a><br/>\n", f.Name, SHA256(f.Data), attrs, f.Name)
	}
	fmt.Fprint(w, "</body></html>\n")
}

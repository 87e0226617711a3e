package npm

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Media types of packuments.
const (
	MediaJSON        = "application/json"
	MediaAbbreviated = "application/vnd.npm.install-v1+json"
)

// wantsAbbreviated reports whether an Accept header prefers the abbreviated
// ("corgi") packument: its quality is positive and at least that of the
// full document (application/json, application/*, */*), as pacote asks
// with "application/vnd.npm.install-v1+json; q=1.0, application/json;
// q=0.8, */*".
func wantsAbbreviated(accept string) bool {
	if accept == "" {
		return false
	}
	abbrev, full := -1.0, -1.0
	fullSpec := -1 // specificity of the range that set full
	for _, part := range strings.Split(accept, ",") {
		mt, q := mediaRange(part)
		switch mt {
		case MediaAbbreviated:
			abbrev = q
		case MediaJSON:
			full, fullSpec = q, 2
		case "application/*":
			if fullSpec < 1 {
				full, fullSpec = q, 1
			}
		case "*/*":
			if fullSpec < 0 {
				full, fullSpec = q, 0
			}
		}
	}
	return abbrev > 0 && abbrev >= full
}

// mediaRange splits one element of an Accept or Accept-Encoding header
// into its lower-case value and quality (1 when absent, 0 when malformed).
func mediaRange(part string) (string, float64) {
	fields := strings.Split(part, ";")
	v := strings.ToLower(strings.TrimSpace(fields[0]))
	q := 1.0
	for _, p := range fields[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0
			}
			q = f
		}
	}
	return v, q
}

// negotiateCoding picks the content coding for an Accept-Encoding header:
// the highest quality among zstd, gzip and identity, zstd first on a tie.
// Identity is the answer when nothing else is acceptable (a document is
// never refused).
func negotiateCoding(header string) string {
	if strings.TrimSpace(header) == "" {
		return codingIdentity
	}
	q := map[string]float64{}
	star := -1.0
	for _, part := range strings.Split(header, ",") {
		c, v := mediaRange(part)
		switch c {
		case "*":
			star = v
		case "x-gzip":
			q[codingGzip] = v
		case codingZstd, codingGzip, codingIdentity:
			q[c] = v
		}
	}
	best, bestQ := codingIdentity, 0.0
	for _, c := range []string{codingZstd, codingGzip} {
		v, ok := q[c]
		if !ok {
			v = star
		}
		if v > bestQ {
			best, bestQ = c, v
		}
	}
	if best != codingIdentity {
		if id, ok := q[codingIdentity]; ok && id > bestQ {
			return codingIdentity
		}
	}
	return best
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// serveDocument answers a rendered document in the best content coding
// the client accepts, with its strong ETag, Content-Length and Vary; 304
// when If-None-Match names that ETag; headers only for HEAD.
func serveDocument(w http.ResponseWriter, r *http.Request, d *document) {
	coding := negotiateCoding(r.Header.Get("Accept-Encoding"))
	etag := d.etag(coding)
	hd := w.Header()
	hd.Set("Content-Type", d.contentType)
	hd.Set("Vary", "Accept, Accept-Encoding")
	hd.Set("ETag", etag)
	// Private: the document is behind authorization; no-cache: a client
	// may keep it but revalidates (a 304 when nothing changed).
	hd.Set("Cache-Control", "private, no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := d.encoded(coding)
	if coding == codingIdentity && len(body) == 0 && d.size > 0 {
		// A compacted document, for a client without gzip: decoded as
		// it is sent.
		identity, err := d.identityReader()
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		hd.Set("Content-Length", strconv.Itoa(d.size))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			io.Copy(w, identity)
		}
		return
	}
	if coding != codingIdentity {
		hd.Set("Content-Encoding", coding)
	}
	hd.Set("Content-Length", strconv.Itoa(body.size()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		body.writeTo(w)
	}
}

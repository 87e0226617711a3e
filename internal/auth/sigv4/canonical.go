package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// canonicalRequest builds the SigV4 canonical request for r as AWS defines it
// for every service but S3: method, canonical URI (escapedPath encoded once
// more), canonical query, canonical headers, signed header list and payload
// hash, joined with newlines. signedHeaders is the client's list in the
// client's order; signedHeadersRaw is that list as it appeared on the wire.
// dropSignature leaves X-Amz-Signature out of the query (presigned form).
func canonicalRequest(r *http.Request, escapedPath string, signedHeaders []string, signedHeadersRaw, payloadHash string, dropSignature bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(escapedPath))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, dropSignature))
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(signedHeadersRaw)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign is the second SigV4 step: algorithm, timestamp, scope and the
// hex SHA-256 of the canonical request.
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signature is the hex HMAC-SHA256 of the string to sign under the signing key.
func signature(key []byte, sts string) string {
	return hex.EncodeToString(hmacSHA256(key, sts))
}

// deriveSigningKey computes the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// wirePath returns the request path exactly as the client sent it. The
// signature covers those bytes, so the request line is preferred over
// r.URL.EscapedPath, which re-encodes the path when the client's encoding is
// not one Go considers valid (raw non-ASCII bytes, for instance).
func wirePath(r *http.Request) string {
	if p := r.RequestURI; strings.HasPrefix(p, "/") {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		return p
	}
	// Client-side requests and absolute-form request targets.
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// canonicalURI encodes the (already escaped) path once more, leaving '/' alone.
// This double encoding is what the AWS SDKs and botocore do for every service
// but S3: a space travels as %20 and is signed as %2520.
func canonicalURI(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	return uriEncode(escapedPath, false)
}

// normalizePath removes empty and dot segments the way botocore does before
// signing ("/a//./b/../c" becomes "/a/c"); the Go SDK signs the path as is.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := strings.Join(out, "/")
	if p[0] == '/' {
		s = "/" + s
	}
	if p[len(p)-1] == '/' && len(out) > 0 {
		s += "/"
	}
	return s
}

// canonicalQuery decodes the raw query the way the Go SDK and botocore see
// their parameters ('+' is a space; malformed pairs are dropped, as
// url.ParseQuery does), re-encodes each key and value with the RFC 3986
// unreserved set and sorts by encoded key, then encoded value.
func canonicalQuery(rawQuery string, dropSignature bool) string {
	if rawQuery == "" {
		return ""
	}
	values, _ := url.ParseQuery(rawQuery) // bad pairs are skipped, which is what signers do too
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(values))
	for k, vs := range values {
		if dropSignature && k == paramSignature {
			continue
		}
		ek := uriEncode(k, true)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, true)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - . _ ~) with upper-case hex; '/' is kept unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) && (encodeSlash || s[i] != '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (!encodeSlash && c == '/') {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// headerValue is the canonical value of a signed header: every value trimmed,
// runs of spaces collapsed, joined with ",". Go's server moves Host,
// Content-Length and Transfer-Encoding out of r.Header, so those come from the
// request fields when the header map lacks them.
func headerValue(r *http.Request, name string) string {
	vals := r.Header.Values(name)
	if len(vals) == 0 {
		switch strings.ToLower(name) {
		case "host", ":authority":
			h := r.Host
			if h == "" {
				h = r.URL.Host
			}
			vals = []string{h}
		case "content-length":
			if r.ContentLength > 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		case "transfer-encoding":
			vals = r.TransferEncoding
		}
	}
	if len(vals) == 1 {
		return trimHeader(vals[0])
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = trimHeader(v)
	}
	return strings.Join(out, ",")
}

// trimHeader trims leading and trailing whitespace and collapses internal runs
// of spaces to one, as the SigV4 specification (and the Go SDK) do.
func trimHeader(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return string(b)
}

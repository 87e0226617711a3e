package console

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Readmes are untrusted: anyone who can publish a package writes one. They
// are rendered from Markdown with goldmark (raw HTML is not passed through
// and dangerous link schemes are dropped), then sanitized again with
// bluemonday's user-generated-content policy, which keeps only inert markup
// and http(s)/mailto links, and marks every link rel="nofollow noreferrer
// noopener". The page's Content-Security-Policy forbids inline script and
// remote images as a last line.

var (
	markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))
	sanitize = newReadmePolicy()
)

func newReadmePolicy() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true) // which also adds noopener
	return p
}

// maxReadme bounds the Markdown rendered (a readme is rarely over 100 KiB).
const maxReadme = 512 << 10

// renderReadme renders untrusted Markdown to safe HTML.
func renderReadme(src string) template.HTML {
	if src == "" {
		return ""
	}
	if len(src) > maxReadme {
		src = src[:maxReadme]
	}
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		// Show the text, escaped, rather than nothing.
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(sanitize.SanitizeBytes(buf.Bytes()))
}

package rubygems_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/rubygems"
	"coffer/internal/format/rubygems/rubygemstest"
	"coffer/internal/store"
)

const confGem = "fx_gem"

func confBuild(v string) rubygemstest.Gem {
	return rubygemstest.Gem{Name: confGem, Version: v, Summary: "conformance gem", Licenses: []string{"MIT"}}
}

// confAuth puts the token where gem puts it: Basic credentials in the
// source URL for reads, the key verbatim in Authorization for a push.
func confAuth(r *http.Request, token string) {
	if r.Method == http.MethodPost {
		r.Header.Set("Authorization", token)
		return
	}
	r.SetBasicAuth("aws", token)
}

// confPush posts the .gem to api/v1/gems as gem push does.
func confPush(c *formattest.Client, v string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, c.Endpoint+"api/v1/gems", bytes.NewReader(confBuild(v).Bytes()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// confRegistry serves the gem as rubygems.org does: info/<gem> with each
// .gem's SHA-256 as its checksum, and the .gem files.
func confRegistry(u *formattest.Upstream) http.Handler {
	gems := map[string][]byte{}
	var info strings.Builder
	info.WriteString("---\n")
	for _, v := range u.Versions {
		b := confBuild(v).Bytes()
		gems[confBuild(v).FileName()] = b
		fmt.Fprintf(&info, "%s |checksum:%s\n", v, rubygemstest.SHA256(b))
	}
	doc := info.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/info/"+confGem {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, doc)
			return
		}
		b, ok := gems[strings.TrimPrefix(r.URL.Path, "/gems/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if u.Tampered() {
			b = slices.Clone(b)
			b[len(b)/2] ^= 0xff
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.Write(b)
	})
}

// confListed reports whether an info file has a line of the version.
func confListed(doc []byte, version string) bool {
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, version+" ") || strings.HasPrefix(l, version+"-") {
			return true
		}
	}
	return false
}

var confAdapter = formattest.Adapter{
	Format:  artifact.FormatRuby,
	Package: confGem,
	Auth:    confAuth,
	Publish: confPush,
	// RubyGems has no Unfinished state of its own: the gem is recorded
	// through the engine as an Unfinished version.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		g := confBuild(v)
		b := g.Bytes()
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatRuby, "", confGem), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: g.FileName(),
			NewStatus: artifact.StatusUnfinished, NewVersion: func(sv *store.Version) {
				sv.Metadata = `{"builds":[{"file":"` + g.FileName() + `","info":"` + v + ` |checksum:` + rubygemstest.SHA256(b) + `"}]}`
			}}, bytes.NewReader(b))
		return err
	},
	AssetPath:  func(v string) string { return "gems/" + confBuild(v).FileName() },
	IndexPath:  "info/" + confGem,
	Listed:     confListed,
	Connection: "public:ruby-gems-org",
	Registry:   confRegistry,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

var _ = rubygems.Protocol

package npm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/npm/npmtest"
)

const (
	confScope = "fx"
	confBase  = "pkg"
	confName  = "@" + confScope + "/" + confBase
	// confEscaped is the name as npm puts it in a URL path.
	confEscaped = "@" + confScope + "%2f" + confBase
	// confAccept is what npm install asks a packument in.
	confAccept = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
)

func confPackage(v string) npmtest.Package {
	return npmtest.Package{Name: confName, Version: v, Files: map[string]string{"README.md": "# " + confName + "\n"}}
}

// confPublishBody is what npm publish sends: the version document and the
// tarball as a base64 attachment.
func confPublishBody(v string) []byte {
	p := confPackage(v)
	tgz := npmtest.Tarball(p)
	m := p.Manifest()
	m["_id"] = confName + "@" + v
	m["readme"] = "# " + confName + "\n"
	m["_npmVersion"] = "11.19.1"
	m["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz), "shasum": npmtest.Shasum(tgz),
		"tarball": "http://localhost/" + confName + "/-/" + npmtest.TarballName(confName, v)}
	b, err := json.Marshal(map[string]any{
		"_id": confName, "name": confName, "description": "conformance fixture",
		"dist-tags": map[string]string{"latest": v}, "versions": map[string]any{v: m}, "access": nil,
		"_attachments": map[string]any{confName + "-" + v + ".tgz": map[string]any{"content_type": "application/octet-stream",
			"data": base64.StdEncoding.EncodeToString(tgz), "length": len(tgz)}},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func confPublish(c *formattest.Client, v string) (int, error) {
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+confEscaped, bytes.NewReader(confPublishBody(v)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Npm-Command", "publish")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// confRegistry serves the package as registry.npmjs.org does: the
// packument, with absolute tarball URLs, dist.integrity and dist.shasum,
// and the tarballs.
func confRegistry(u *formattest.Upstream) http.Handler {
	tarballs := map[string][]byte{}
	for _, v := range u.Versions {
		tarballs["/"+confName+"/-/"+npmtest.TarballName(confName, v)] = npmtest.Tarball(confPackage(v))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+confName {
			versions, times := map[string]any{}, map[string]string{}
			for i, v := range u.Versions {
				tgz := tarballs["/"+confName+"/-/"+npmtest.TarballName(confName, v)]
				m := confPackage(v).Manifest()
				m["_id"] = confName + "@" + v
				m["dist"] = map[string]any{"integrity": npmtest.Integrity(tgz), "shasum": npmtest.Shasum(tgz),
					"tarball": "http://" + r.Host + "/" + confName + "/-/" + npmtest.TarballName(confName, v)}
				versions[v] = m
				times[v] = time.Date(2024, 1, 2, 3, 4+i, 5, 0, time.UTC).Format(time.RFC3339Nano)
			}
			b, _ := json.Marshal(map[string]any{"_id": confName, "name": confName, "versions": versions, "time": times,
				"dist-tags": map[string]string{"latest": u.Versions[len(u.Versions)-1]}})
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
		tgz, ok := tarballs[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"Not found"}`)
			return
		}
		if u.Tampered() {
			tgz = slices.Clone(tgz)
			tgz[len(tgz)/2] ^= 0xff
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(tgz)))
		w.Write(tgz)
	})
}

func confListed(doc []byte, version string) bool {
	var m struct {
		Versions map[string]json.RawMessage `json:"versions"`
	}
	if json.Unmarshal(doc, &m) != nil {
		return false
	}
	_, ok := m.Versions[version]
	return ok
}

var confAdapter = formattest.Adapter{
	Format:    artifact.FormatNpm,
	Namespace: confScope,
	Package:   confBase,
	Auth:      formattest.Bearer,
	Publish:   confPublish,
	// npm has no Unfinished state of its own: the version's tarball is
	// recorded through the engine as an Unfinished one.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatNpm, confScope, confBase), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: "package.tgz",
			NewStatus: artifact.StatusUnfinished}, bytes.NewReader(npmtest.Tarball(confPackage(v))))
		return err
	},
	AssetPath:   func(v string) string { return confName + "/-/" + npmtest.TarballName(confName, v) },
	IndexPath:   confEscaped,
	IndexAccept: confAccept,
	Listed:      confListed,
	Connection:  "public:npmjs",
	Registry:    confRegistry,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

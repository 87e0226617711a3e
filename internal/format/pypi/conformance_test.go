package pypi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/pypi/pypitest"
)

const (
	confProject = "fx-pkg"
	// confAccept is what pip asks a simple page in.
	confAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"
)

func confDist(v string) pypitest.Dist {
	return pypitest.Dist{Name: confProject, Version: v, Description: "# " + confProject + "\n"}
}

// confUpload posts a wheel to the repository endpoint as twine upload does:
// the metadata fields first, then the file.
func confUpload(c *formattest.Client, v string) (int, error) {
	d := confDist(v)
	name, wheel := d.Wheel()
	m5 := md5.Sum(wheel)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"name", confProject}, {"version", v}, {"filetype", "bdist_wheel"}, {"pyversion", "py3"},
		{"metadata_version", "2.1"}, {"summary", "tiny test package"}, {"requires_python", ">=3.8"},
		{"md5_digest", hex.EncodeToString(m5[:])}, {"sha256_digest", pypitest.SHA256(wheel)},
		{":action", "file_upload"}, {"protocol_version", "1"}} {
		mw.WriteField(f[0], f[1])
	}
	w, _ := mw.CreateFormFile("content", name)
	w.Write(wheel)
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.Endpoint, &buf)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// confIndex serves the project as PyPI does: a PEP 691 page whose links
// carry the files' sha256, and the files.
func confIndex(u *formattest.Upstream) http.Handler {
	type file struct {
		Filename       string            `json:"filename"`
		URL            string            `json:"url"`
		Hashes         map[string]string `json:"hashes"`
		RequiresPython string            `json:"requires-python"`
		Size           int               `json:"size"`
	}
	wheels := map[string][]byte{}
	page := struct {
		Meta     map[string]string `json:"meta"`
		Name     string            `json:"name"`
		Files    []file            `json:"files"`
		Versions []string          `json:"versions"`
	}{Meta: map[string]string{"api-version": "1.1"}, Name: confProject, Versions: u.Versions}
	for _, v := range u.Versions {
		name, wheel := confDist(v).Wheel()
		wheels[name] = wheel
		page.Files = append(page.Files, file{Filename: name, URL: "../../files/" + name, Hashes: map[string]string{"sha256": pypitest.SHA256(wheel)},
			RequiresPython: ">=3.8", Size: len(wheel)})
	}
	doc, _ := json.Marshal(page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/simple/"+confProject+"/" {
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			w.Write(doc)
			return
		}
		wheel, ok := wheels[strings.TrimPrefix(r.URL.Path, "/files/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if u.Tampered() {
			wheel = slices.Clone(wheel)
			wheel[len(wheel)/2] ^= 0xff
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(wheel)))
		w.Write(wheel)
	})
}

// confListed reports whether a PEP 691 page names the version or has a
// file of it.
func confListed(doc []byte, version string) bool {
	var p struct {
		Files []struct {
			Filename string `json:"filename"`
		} `json:"files"`
		Versions []string `json:"versions"`
	}
	if json.Unmarshal(doc, &p) != nil {
		return false
	}
	if slices.Contains(p.Versions, version) {
		return true
	}
	for _, f := range p.Files {
		if strings.Contains(f.Filename, "-"+version+"-") || strings.HasSuffix(f.Filename, "-"+version+".tar.gz") {
			return true
		}
	}
	return false
}

var confAdapter = formattest.Adapter{
	Format:  artifact.FormatPypi,
	Package: confProject,
	Auth:    formattest.Basic,
	Publish: confUpload,
	// PyPI has no Unfinished state of its own: the wheel is recorded through
	// the engine as an Unfinished version.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		name, wheel := confDist(v).Wheel()
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatPypi, "", confProject), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: name,
			NewStatus: artifact.StatusUnfinished}, bytes.NewReader(wheel))
		return err
	},
	AssetPath:   func(v string) string { return "files/" + confProject + "/" + v + "/" + confDist(v).WheelName() },
	IndexPath:   "simple/" + confProject + "/",
	IndexAccept: confAccept,
	Listed:      confListed,
	Connection:  "public:pypi",
	Registry:    confIndex,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

package cargo_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/format/cargo"
	"coffer/internal/format/formattest"
)

const confCrate = "conf_fixture"

// crateFile builds the .crate of name at version: a gzip tar holding
// <name>-<version>/Cargo.toml and src/lib.rs, with fixed times so that
// the same crate is the same bytes.
func crateFile(name, version string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := []struct{ path, body string }{
		{"Cargo.toml", fmt.Sprintf("[package]\nname = %q\nversion = %q\nedition = \"2021\"\ndescription = \"conformance fixture\"\nlicense = \"MIT\"\n", name, version)},
		{"src/lib.rs", "pub fn answer() -> u32 { 42 }\n"},
		{"README.md", "# " + name + "\n"},
	}
	for _, f := range files {
		tw.WriteHeader(&tar.Header{Name: name + "-" + version + "/" + f.path, Mode: 0o644, Size: int64(len(f.body)),
			ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Typeflag: tar.TypeReg})
		io.WriteString(tw, f.body)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// publishBody is what cargo publish sends: the metadata's length and
// JSON, the crate's length and bytes.
func publishBody(name, version string, crate []byte) []byte {
	meta, _ := json.Marshal(map[string]any{"name": name, "vers": version, "deps": []any{}, "features": map[string]any{},
		"authors": []string{}, "description": "conformance fixture", "license": "MIT", "readme": "# " + name + "\n",
		"readme_file": "README.md", "keywords": []string{}, "categories": []string{}, "badges": map[string]any{}, "links": nil})
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint32(len(meta)))
	b.Write(meta)
	binary.Write(&b, binary.LittleEndian, uint32(len(crate)))
	b.Write(crate)
	return b.Bytes()
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func confPublish(c *formattest.Client, v string) (int, error) {
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+"api/v1/crates/new", bytes.NewReader(publishBody(confCrate, v, crateFile(confCrate, v))))
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// confRegistry serves the crate as index.crates.io and static.crates.io
// do: config.json whose dl is a template, the index file, the .crate
// files.
func confRegistry(u *formattest.Upstream) http.Handler {
	crates := map[string][]byte{}
	for _, v := range u.Versions {
		crates[v] = crateFile(confCrate, v)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/config.json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"dl":"http://%s/crates/{crate}/{crate}-{version}.crate","api":"http://%s"}`, r.Host, r.Host)
		case r.URL.Path == "/"+cargo.IndexPath(confCrate):
			for _, v := range u.Versions {
				e := cargo.IndexEntry{Name: confCrate, Vers: v, Cksum: sum(crates[v]), Features: map[string][]string{}}
				w.Write(append(e.AppendJSON(nil), '\n'))
			}
		case strings.HasPrefix(r.URL.Path, "/crates/"+confCrate+"/"):
			v := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/crates/"+confCrate+"/"+confCrate+"-"), ".crate")
			b, ok := crates[v]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if u.Tampered() {
				b = slices.Clone(b)
				b[len(b)/2] ^= 0xff
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b)
		default:
			http.NotFound(w, r)
		}
	})
}

// confListed reports whether an index file has a line of version.
func confListed(doc []byte, version string) bool {
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		e, err := cargo.ParseIndexLine(sc.Bytes())
		if err == nil && e.Vers == version {
			return true
		}
	}
	return false
}

// bare puts the token as cargo does: "Authorization: <token>".
func bare(r *http.Request, token string) { r.Header.Set("Authorization", token) }

var confAdapter = formattest.Adapter{
	Format:  artifact.FormatCargo,
	Package: confCrate,
	Auth:    bare,
	Publish: confPublish,
	// cargo has no Unfinished state of its own: the crate is recorded
	// through the engine as an Unfinished version.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatCargo, "", confCrate), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: confCrate + "-" + v + ".crate",
			NewStatus: artifact.StatusUnfinished}, bytes.NewReader(crateFile(confCrate, v)))
		return err
	},
	AssetPath:  func(v string) string { return "api/v1/crates/" + confCrate + "/" + v + "/download" },
	IndexPath:  cargo.IndexPath(confCrate),
	Listed:     confListed,
	Connection: "public:crates-io",
	Registry:   confRegistry,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

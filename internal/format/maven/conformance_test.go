package maven_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
)

const (
	confGroup    = "com.example.fx"
	confArtifact = "fx-lib"
	confBase     = "com/example/fx/" + confArtifact + "/"
)

func confDir(v string) string { return confBase + v + "/" }

func confJar(v string) []byte { return []byte("PK\x03\x04 " + confArtifact + " " + v + " jar\n") }

func confPOM(v string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>` + confGroup + `</groupId><artifactId>` + confArtifact + `</artifactId><version>` + v + `</version>
<name>fx-lib</name><description>A conformance fixture.</description></project>
`)
}

func confMetadata(versions ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<metadata><groupId>" + confGroup + "</groupId><artifactId>" +
		confArtifact + "</artifactId><versioning><latest>" + versions[len(versions)-1] + "</latest><release>" +
		versions[len(versions)-1] + "</release><versions>")
	for _, v := range versions {
		b.WriteString("<version>" + v + "</version>")
	}
	b.WriteString("</versions><lastUpdated>20260101000000</lastUpdated></versioning></metadata>\n")
	return []byte(b.String())
}

func confSHA1(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }

// confPut PUTs body to path under c's endpoint as mvn deploy does.
func confPut(c *formattest.Client, path string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+path, bytes.NewReader(body))
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

// confDeploy uploads each file and its .sha1, stopping at the first
// refusal.
func confDeploy(c *formattest.Client, files ...[2]any) (int, error) {
	status := 0
	for _, f := range files {
		path, body := f[0].(string), f[1].([]byte)
		for _, u := range []struct {
			path string
			body []byte
		}{{path, body}, {path + ".sha1", []byte(confSHA1(body))}} {
			var err error
			if status, err = confPut(c, u.path, u.body); err != nil || status < 200 || status > 299 {
				return status, err
			}
		}
	}
	return status, nil
}

func confFiles(v string) [][2]any {
	return [][2]any{{confDir(v) + confArtifact + "-" + v + ".pom", confPOM(v)}, {confDir(v) + confArtifact + "-" + v + ".jar", confJar(v)}}
}

// confCentral serves the package as Maven Central does: maven-metadata.xml,
// the files and their .sha1.
func confCentral(u *formattest.Upstream) http.Handler {
	files := map[string][]byte{confBase + "maven-metadata.xml": confMetadata(u.Versions...)}
	for _, v := range u.Versions {
		for _, f := range confFiles(v) {
			files[f[0].(string)] = f[1].([]byte)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		base, sum := strings.CutSuffix(p, ".sha1")
		body, ok := files[base]
		switch {
		case !ok:
			http.NotFound(w, r)
			return
		case sum:
			body = []byte(confSHA1(body))
		case strings.HasSuffix(p, ".jar") && u.Tampered():
			body = slices.Clone(body)
			body[len(body)-1] ^= 0xff
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
}

func confListed(doc []byte, version string) bool {
	var m struct {
		Versions []string `xml:"versioning>versions>version"`
	}
	return xml.Unmarshal(doc, &m) == nil && slices.Contains(m.Versions, version)
}

var confAdapter = formattest.Adapter{
	Format:    artifact.FormatMaven,
	Namespace: confGroup,
	Package:   confArtifact,
	Auth:      formattest.Basic,
	Publish: func(c *formattest.Client, v string) (int, error) {
		if status, err := confDeploy(c, confFiles(v)...); err != nil || status < 200 || status > 299 {
			return status, err
		}
		return confDeploy(c, [2]any{confBase + "maven-metadata.xml", confMetadata(v)})
	},
	// Files deployed without maven-metadata.xml stay Unfinished.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		status, err := confDeploy(c, confFiles(v)...)
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("deploying %s: status %d", v, status)
		}
		return err
	},
	AssetPath:  func(v string) string { return confDir(v) + confArtifact + "-" + v + ".jar" },
	IndexPath:  confBase + "maven-metadata.xml",
	Listed:     confListed,
	Connection: "public:maven-central",
	Registry:   confCentral,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

package swift_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/swift"
)

const (
	confScope = "conf"
	confName  = "fixture"
)

const confMetadata = `{"description":"conformance fixture","repositoryURLs":["https://example.com/conf/fixture.git"],"licenseURL":"https://example.com/LICENSE?x=1"}`

// confPublish publishes as swift package-registry publish does.
func confPublish(c *formattest.Client, v string) (int, error) {
	body, ct := publishBody(packageArchive("Fixture", v), confMetadata, nil, nil)
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+confScope+"/"+confName+"/"+v, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/vnd.swift.registry.v1+json")
	req.Header.Set("Prefer", "respond-async")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// confListed reports whether a release list has version.
func confListed(doc []byte, version string) bool {
	var l struct {
		Releases map[string]json.RawMessage `json:"releases"`
	}
	if json.Unmarshal(doc, &l) != nil {
		return false
	}
	_, ok := l.Releases[version]
	return ok
}

// basicToken is the token as curl or a script sends it, with the user
// name SwiftPM keeps it under in ~/.netrc; SwiftPM itself sends Bearer
// (formattest.Bearer), which TestProtocol uses.
func basicToken(r *http.Request, token string) { r.SetBasicAuth("token", token) }

var confAdapter = formattest.Adapter{
	Format:    artifact.FormatSwift,
	Namespace: confScope,
	Package:   confName,
	Auth:      basicToken,
	Publish:   confPublish,
	// The registry has no Unfinished state: the release is recorded
	// through the engine as an Unfinished version.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatSwift, confScope, confName), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: swift.AssetName(confName, v),
			NewStatus: artifact.StatusUnfinished}, bytes.NewReader(packageArchive("Fixture", v)))
		return err
	},
	AssetPath:   func(v string) string { return confScope + "/" + confName + "/" + v + ".zip" },
	IndexPath:   confScope + "/" + confName,
	IndexAccept: "application/vnd.swift.registry.v1+json",
	Listed:      confListed,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

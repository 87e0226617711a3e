package nuget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/format/formattest"
	"coffer/internal/format/nuget"
	"coffer/internal/format/nuget/nugettest"
)

// confID is the package the suite works with, as stored (lower case);
// the fixture registry spells it Conf.Fixture.
const confID = "conf.fixture"

func confPublish(c *formattest.Client, v string) (int, error) {
	body, ct := nugettest.Multipart(nugettest.Nupkg("Conf.Fixture", v, nil))
	req, err := http.NewRequest(http.MethodPut, c.Endpoint+"v3/package", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-NuGet-ApiKey", "ignored")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func confRegistry(u *formattest.Upstream) http.Handler {
	vs := map[string][]byte{}
	for _, v := range u.Versions {
		vs[v] = nugettest.Nupkg("Conf.Fixture", v, nil)
	}
	return &nugettest.Registry{Packages: map[string]map[string][]byte{confID: vs}, Tamper: u.Tampered}
}

func confListed(doc []byte, version string) bool {
	var d struct {
		Versions []string `json:"versions"`
	}
	return json.Unmarshal(doc, &d) == nil && slices.Contains(d.Versions, version)
}

var confAdapter = formattest.Adapter{
	Format:  artifact.FormatNuget,
	Package: confID,
	Auth:    formattest.Basic,
	Publish: confPublish,
	// NuGet has no Unfinished state of its own: the version is recorded
	// through the engine.
	PublishUnfinished: func(c *formattest.Client, v string) error {
		ref := artifact.VersionRef{PackageRef: c.PackageRef(artifact.FormatNuget, "", confID), Version: v}
		_, err := c.App.Service.PutAsset(context.Background(), artifact.PutAssetRequest{VersionRef: ref, Asset: nuget.AssetName(confID, v),
			NewStatus: artifact.StatusUnfinished}, bytes.NewReader(nugettest.Nupkg("Conf.Fixture", v, nil)))
		return err
	},
	AssetPath: func(v string) string {
		return "v3-flatcontainer/" + confID + "/" + v + "/" + confID + "." + v + ".nupkg"
	},
	IndexPath:  "v3-flatcontainer/" + confID + "/index.json",
	Listed:     confListed,
	Connection: "public:nuget-org",
	Registry:   confRegistry,
}

func TestConformance(t *testing.T) { formattest.Run(t, confAdapter) }

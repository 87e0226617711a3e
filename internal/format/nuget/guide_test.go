package nuget_test

import (
	"strings"
	"testing"

	"coffer/internal/format/guide"
	"coffer/internal/format/nuget"
)

func TestGuides(t *testing.T) {
	k := guide.Conn{Endpoint: "http://coffer.test/nuget/d/dom-111122223333/app/", API: "http://coffer.test", Domain: "dom",
		Owner: "111122223333", Repo: "app", Region: "us-east-1"}
	source := k.Endpoint + "v3/index.json"
	for _, g := range nuget.Guides {
		var all strings.Builder
		for _, s := range g.Snippets(k) {
			all.WriteString(s.Body + "\n")
		}
		if !strings.Contains(all.String(), source) {
			t.Errorf("%s does not name the source %s", g.ID, source)
		}
		if !strings.Contains(all.String(), "aws") {
			t.Errorf("%s does not give the user aws", g.ID)
		}
	}
	var cfg string
	for _, s := range nuget.Guides[2].Snippets(k) {
		cfg += s.Body
	}
	if !strings.Contains(cfg, `allowInsecureConnections="true"`) || !strings.Contains(cfg, `key="Username" value="aws"`) {
		t.Errorf("NuGet.Config: %s", cfg)
	}
}

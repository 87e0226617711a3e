package integration

import (
	"testing"

	"coffer/internal/config"
)

// --external-connection overrides reach the resolution engine: formats build
// their upstream URLs from Service.ExternalURL.
func TestExternalConnectionOverrideReachesTheEngine(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.ExternalConnections = map[string]string{"public:maven-central": "http://127.0.0.1:9000/maven2"}
	})
	for conn, want := range map[string]string{
		"public:maven-central": "http://127.0.0.1:9000/maven2/",
		"public:npmjs":         "https://registry.npmjs.org/",
	} {
		if got := e.App.Service.ExternalURL(conn); got != want {
			t.Errorf("ExternalURL(%s) = %s, want %s", conn, got, want)
		}
	}
}

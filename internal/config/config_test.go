package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"coffer/internal/quota"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./coffer-data" || c.PublicURL != "http://127.0.0.1:8080" || c.Region != "us-east-1" || c.MaxAssetSize != 5<<30 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestPrecedenceFlagOverEnvOverFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "coffer.toml")
	toml := "listen = \"127.0.0.1:7000\"\ndata-dir = \"/from/file\"\nregion = \"eu-west-1\"\nexternal-connection = [\"public:npmjs=http://127.0.0.1:9000/npm/\"]\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file, "--listen", "127.0.0.1:9999", "--external-connection", "public:pypi=http://127.0.0.1:9001/simple/"},
		env(map[string]string{"COFFER_LISTEN": "127.0.0.1:8888", "COFFER_DATA_DIR": "/from/env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || c.DataDir != "/from/env" || c.Region != "eu-west-1" || c.PublicURL != "http://127.0.0.1:9999" {
		t.Fatalf("precedence: %+v", c)
	}
	if c.ExternalConnections["public:npmjs"] != "http://127.0.0.1:9000/npm/" || c.ExternalConnections["public:pypi"] != "http://127.0.0.1:9001/simple/" {
		t.Fatalf("external connections: %v", c.ExternalConnections)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.toml")
	_ = os.WriteFile(file, []byte("public-url = \"https://artifacts.example.test/\"\n"), 0o600)
	c, err := Load(nil, env(map[string]string{"COFFER_CONFIG": file}), io.Discard)
	if err != nil || c.PublicURL != "https://artifacts.example.test" {
		t.Fatalf("COFFER_CONFIG: %+v %v", c, err)
	}
}

func TestValidationFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "nohost"}, "listen"},
		{[]string{"--account-id", "123"}, "account-id"},
		{[]string{"--region", "Mars"}, "region"},
		{[]string{"--public-url", "ftp://x"}, "public-url"},
		{[]string{"--external-connection", "npmjs=http://x"}, "external-connection"},
		{[]string{"--external-connection", "public:npmjs=notaurl"}, "external-connection"},
		{[]string{"--log-level", "loud"}, "log-level"},
		{[]string{"stray"}, "unexpected"},
	} {
		_, err := Load(tc.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v) = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
	file := filepath.Join(t.TempDir(), "bad.toml")
	_ = os.WriteFile(file, []byte("listne = \"x\"\n"), 0o600)
	if _, err := Load([]string{"--config", file}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("a misspelt setting was accepted: %v", err)
	}
}

func TestLimitDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIRates["GetAuthorizationToken"] != (quota.Rate{PerSecond: 40, Burst: 400}) || c.APIRates[quota.Writes].PerSecond != 100 {
		t.Errorf("API rates: %v", c.APIRates)
	}
	if c.DataPlaneLimit.Limited() || c.RepositoryLimit.Limited() || c.UnauthenticatedLimit.Limited() {
		t.Errorf("data-plane limits on by default: %+v %+v %+v", c.DataPlaneLimit, c.RepositoryLimit, c.UnauthenticatedLimit)
	}
	if c.MaxDomains != 10 || c.MaxRepositoriesPerDomain != 1000 || c.MaxPackageGroupsPerDomain != 1000 {
		t.Errorf("count quotas: %d %d %d", c.MaxDomains, c.MaxRepositoriesPerDomain, c.MaxPackageGroupsPerDomain)
	}
}

func TestLimitPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "coffer.toml")
	toml := "api-rate = [\"PublishPackageVersion=50\", \"reads=1000/10\"]\ndata-plane-rate = \"5\"\nrepository-rate = \"7/1\"\nmax-domains = 3\nmax-repositories-per-domain = 4\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file, "--api-rate", "reads=2", "--max-domains", "0", "--unauthenticated-rate", "9"},
		env(map[string]string{"COFFER_DATA_PLANE_RATE": "6/2", "COFFER_API_RATE": "GetAuthorizationToken=1/1,iam=0", "COFFER_MAX_REPOSITORIES_PER_DOMAIN": "5"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]quota.Rate{"PublishPackageVersion": {PerSecond: 50, Burst: 500}, quota.Reads: {PerSecond: 2, Burst: 20},
		"GetAuthorizationToken": {PerSecond: 1, Burst: 1}, quota.IAM: {}, quota.Writes: {PerSecond: 100, Burst: 1000}}
	for name, r := range want {
		if c.APIRates[name] != r {
			t.Errorf("%s: %+v, want %+v", name, c.APIRates[name], r)
		}
	}
	if c.DataPlaneLimit != (quota.Rate{PerSecond: 6, Burst: 2}) || c.RepositoryLimit != (quota.Rate{PerSecond: 7, Burst: 1}) ||
		c.UnauthenticatedLimit != (quota.Rate{PerSecond: 9, Burst: 90}) {
		t.Errorf("data plane: %+v %+v %+v", c.DataPlaneLimit, c.RepositoryLimit, c.UnauthenticatedLimit)
	}
	if c.MaxDomains != 0 || c.MaxRepositoriesPerDomain != 5 || c.MaxPackageGroupsPerDomain != 1000 {
		t.Errorf("count quotas: %d %d %d", c.MaxDomains, c.MaxRepositoriesPerDomain, c.MaxPackageGroupsPerDomain)
	}

	c, err = Load([]string{"--api-rate-limits", "off", "--api-rate", "reads=5"}, env(nil), io.Discard)
	if err != nil || c.APIRates != nil {
		t.Fatalf("off: %v %v", c.APIRates, err)
	}
	c, err = Load(nil, env(map[string]string{"COFFER_API_RATE_LIMITS": "off"}), io.Discard)
	if err != nil || c.APIRates != nil {
		t.Fatalf("off from the environment: %v %v", c.APIRates, err)
	}
}

func TestLimitValidation(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--api-rate-limits", "maybe"}, "api-rate-limits"},
		{[]string{"--api-rate", "reads"}, "api-rate"},
		{[]string{"--api-rate", "reads=fast"}, "api-rate reads"},
		{[]string{"--api-rate", "reads=5/0"}, "burst"},
		{[]string{"--data-plane-rate", "-1"}, "data-plane-rate"},
		{[]string{"--repository-rate", "x"}, "repository-rate"},
		{[]string{"--unauthenticated-rate", "1/y"}, "unauthenticated-rate"},
		{[]string{"--max-domains", "-1"}, "max-domains"},
	} {
		_, err := Load(tc.args, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v) = %v, want an error about %s", tc.args, err, tc.want)
		}
	}
}

package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

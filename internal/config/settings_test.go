package config

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, where the generated documents live.
const root = "../.."

func TestDocsAreCurrent(t *testing.T) {
	for path, want := range Docs() {
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what the settings table generates (%v): run go generate ./internal/config", path, err)
		}
	}
}

// fieldText is a setting's value in c in its environment form.
func fieldText(c *Config, s setting) string {
	switch p := s.field(c).(type) {
	case *string:
		return *p
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		return strconv.FormatInt(*p, 10)
	case *[]string:
		return strings.Join(*p, ",")
	}
	return ""
}

func TestExampleFile(t *testing.T) {
	example := filepath.Join(root, "docs/coffer.example.toml")
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if s.field != nil && !regexp.MustCompile(`(?m)^(# )?`+regexp.QuoteMeta(s.Name)+` = `).Match(data) {
			t.Errorf("%s is not in %s", s.Name, example)
		}
	}
	// The active lines are the defaults.
	c, err := Load(nil, env(map[string]string{"COFFER_CONFIG": example}), io.Discard)
	if err != nil {
		t.Fatalf("COFFER_CONFIG=%s: %v", example, err)
	}
	d, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if s.field != nil && fieldText(&c, s) != fieldText(&d, s) {
			t.Errorf("%s: %s = %q, not the default %q", example, s.Name, fieldText(&c, s), fieldText(&d, s))
		}
	}
	// The commented examples are valid and land in their fields.
	file := filepath.Join(t.TempDir(), "all.toml")
	all := regexp.MustCompile(`(?m)^# ([a-z0-9-]+ = )`).ReplaceAll(data, []byte("$1"))
	if err := os.WriteFile(file, all, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load([]string{"--config", file}, env(nil), io.Discard)
	if err != nil {
		t.Fatalf("%s with every example: %v", example, err)
	}
	for _, s := range settings {
		if s.field != nil && s.Default == "" && fieldText(&c, s) != s.Example {
			t.Errorf("%s: %q, want %q", s.Name, fieldText(&c, s), s.Example)
		}
	}
}

func TestFlagsMatchSettings(t *testing.T) {
	fs, _ := newFlagSet(io.Discard)
	flags := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { flags[f.Name] = true })
	var c Config
	fields := map[any]string{}
	for _, s := range settings {
		if !flags[s.Name] {
			t.Errorf("setting %s has no flag", s.Name)
		}
		delete(flags, s.Name)
		if s.Help == "" || s.Example == "" || s.Example == s.Default {
			t.Errorf("setting %s needs help and an example other than its default", s.Name)
		}
		if s.field == nil {
			continue
		}
		switch p := s.field(&c).(type) {
		case *string, *int, *int64, *[]string:
			if other, ok := fields[p]; ok {
				t.Errorf("settings %s and %s share a field", other, s.Name)
			}
			fields[p] = s.Name
		default:
			t.Errorf("setting %s: field of type %T", s.Name, p)
		}
	}
	for name := range flags {
		t.Errorf("flag --%s is not in the settings table", name)
	}
}

// TestEverySettingLands gives every setting its example, through the
// environment and then through flags, and finds each in its field.
func TestEverySettingLands(t *testing.T) {
	// The names DESIGN.md promises, spelt out once against the derivation.
	for name, want := range map[string]string{"config": "COFFER_CONFIG", "listen": "COFFER_LISTEN", "data-dir": "COFFER_DATA_DIR",
		"public-url": "COFFER_PUBLIC_URL", "region": "COFFER_REGION", "account-id": "COFFER_ACCOUNT_ID",
		"external-connection": "COFFER_EXTERNAL_CONNECTION", "metadata": "COFFER_METADATA", "blobs": "COFFER_BLOBS"} {
		if s, ok := lookup(name); !ok || s.env() != want {
			t.Errorf("%s: environment variable %s, want %s", name, s.env(), want)
		}
	}
	vars, args := map[string]string{}, []string{}
	for _, s := range settings {
		if s.field == nil {
			continue
		}
		vars[s.env()] = s.Example
		vals := []string{s.Example}
		if s.kind() == list {
			vals = strings.Split(s.Example, ",")
		}
		for _, v := range vals {
			args = append(args, "--"+s.Name+"="+v)
		}
	}
	for how, load := range map[string]func() (Config, error){
		"environment": func() (Config, error) { return Load(nil, env(vars), io.Discard) },
		"flags":       func() (Config, error) { return Load(args, env(nil), io.Discard) },
	} {
		c, err := load()
		if err != nil {
			t.Fatalf("%s: %v", how, err)
		}
		for _, s := range settings {
			if s.field != nil && fieldText(&c, s) != s.Example {
				t.Errorf("%s %s: %q, want %q", how, s.Name, fieldText(&c, s), s.Example)
			}
		}
	}
}

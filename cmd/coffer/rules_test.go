package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestPackagePattern(t *testing.T) {
	for _, tc := range []struct{ format, in, want string }{
		{"npm", "left-pad", "/npm//left-pad$"},
		{"npm", "@acme/ui", "/npm/acme/ui$"},
		{"maven", "org.example:lib", "/maven/org.example/lib$"},
		{"swift", "acme/kit", "/swift/acme/kit$"},
		{"", "/pypi//requests$", "/pypi//requests$"},
	} {
		if got, err := packagePattern(tc.format, tc.in); err != nil || got != tc.want {
			t.Errorf("packagePattern(%q, %q) = %q, %v; want %q", tc.format, tc.in, got, err, tc.want)
		}
	}
	if _, err := packagePattern("", "left-pad"); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("a name without --format: %v", err)
	}
}

func TestRulesUsageErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"rules"},
		{"rules", "frobnicate"},
		{"rules", "list", "--domain", "acme"},
		{"rules", "list", "--endpoint-url", "ftp://x", "--domain", "acme"},
		{"rules", "delete", "--endpoint-url", "http://127.0.0.1:1", "--domain", "acme"},
		{"rules", "set", "--endpoint-url", "http://127.0.0.1:1", "--domain", "acme", "--exempt", "left-pad@1", "--reason", "r"},
	} {
		var out, errb bytes.Buffer
		if err := run(args, env, &out, &errb); err == nil || out.Len() != 0 {
			t.Errorf("coffer %s: err %v, stdout %q", strings.Join(args, " "), err, out.String())
		}
	}
}

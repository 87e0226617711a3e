package server

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDashboardMetrics keeps docs/grafana/coffer-dashboard.json and the
// metrics coffer declares in step: every coffer_ metric a panel queries is
// declared somewhere under internal/ (a renamed metric breaks no panel
// silently), and every declared one is on the dashboard.
func TestDashboardMetrics(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/coffer-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	metric := regexp.MustCompile(`\bcoffer_[a-z_]+`)
	queried := map[string]string{} // metric → panel
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					m = strings.TrimSuffix(m, suffix)
				}
				queried[m] = p.Title
			}
		}
	}
	declared := map[string]string{} // metric → file
	decl := regexp.MustCompile(`Name:\s*"(coffer_[a-z_]+)"`)
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range decl.FindAllSubmatch(src, -1) {
			declared[string(m[1])] = path
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(declared) < 10 {
		t.Fatalf("found only %d declared metrics: %v", len(declared), declared)
	}
	for _, m := range slices.Sorted(func(yield func(string) bool) {
		for k := range queried {
			if !yield(k) {
				return
			}
		}
	}) {
		if _, ok := declared[m]; !ok {
			t.Errorf("panel %q queries %s, which no package declares", queried[m], m)
		}
	}
	for m, file := range declared {
		if _, ok := queried[m]; !ok {
			t.Errorf("%s (%s) is on no panel of the dashboard", m, file)
		}
	}
}

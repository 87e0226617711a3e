package nuget

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A registration of more than 128 versions is paged: the index links
// pages of 64 that are documents of their own.
func TestRegistrationPages(t *testing.T) {
	d := &regDocs{regBase: "https://h/reg/", flatBase: "https://h/flat/", lowerID: "big"}
	for i := range 130 {
		v := fmt.Sprintf("1.0.%d", i)
		d.versions = append(d.versions, regVersion{entry: &Entry{ID: "Big", Version: v, Verbatim: v}, key: v, listed: true, published: "2024-01-01T00:00:00.000Z"})
	}
	var idx regIndex
	if err := json.Unmarshal(d.Index(), &idx); err != nil {
		t.Fatal(err)
	}
	if idx.Count != 3 || len(idx.Items) != 3 || idx.Items[0].Items != nil || idx.Items[2].Count != 2 ||
		idx.Items[1].ID != "https://h/reg/big/page/1.0.64/1.0.127.json" || idx.Items[1].Lower != "1.0.64" {
		t.Fatalf("%+v", idx)
	}
	var page regPage
	if err := json.Unmarshal(d.Page("1.0.64", "1.0.127"), &page); err != nil {
		t.Fatal(err)
	}
	if page.Count != 64 || len(page.Items) != 64 || page.Items[0].CatalogEntry.Version != "1.0.64" {
		t.Errorf("%+v", page)
	}
	if d.Page("1.0.0", "1.0.5") != nil {
		t.Error("a page that is none is served")
	}
	small := &regDocs{regBase: "https://h/reg/", flatBase: "https://h/flat/", lowerID: "big", versions: d.versions[:128]}
	if err := json.Unmarshal(small.Index(), &idx); err != nil || idx.Count != 1 || len(idx.Items[0].Items) != 128 {
		t.Errorf("128 versions are not inlined: %v", err)
	}
}

func TestFullVersion(t *testing.T) {
	e := &Entry{Version: "2.0.0-beta.1", Verbatim: "02.0.0-beta.1+build.5"}
	if e.FullVersion() != "2.0.0-beta.1+build.5" || !e.SemVer2() {
		t.Error(e.FullVersion())
	}
}

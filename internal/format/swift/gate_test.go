package swift_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"coffer/internal/format/formattest"
)

// TestGate: Swift has no external connection, so the supply-chain gate
// judges stored releases only, in the engine: a refused release is not in
// the release list (nor its latest-version link), its metadata and
// manifest are 404 and its source archive a 403 problem with the reason;
// the others are served as before.
func TestGate(t *testing.T) {
	a := confAdapter
	a.Auth = formattest.Bearer
	c := formattest.Serve(formattest.Testing(t), a)
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if a := publishTo(t, c, "Mona/LinkedList/"+v, packageArchive("LinkedList", v), confMetadata); a.status != http.StatusCreated {
			t.Fatalf("publish %s: %d %s", v, a.status, a.body)
		}
	}
	const reason = "known malicious (test)"
	gate := formattest.NewGate(map[string]string{formattest.GateKey("mona", "linkedlist", "1.1.0"): reason})
	c.App.Service.SetGate(gate)

	list := call(t, c, http.MethodGet, "mona/linkedlist", jsonV1, nil)
	if list.status != http.StatusOK || !confListed(list.body, "1.0.0") || confListed(list.body, "1.1.0") {
		t.Errorf("release list: %d %s", list.status, list.body)
	}
	if link := list.header.Get("Link"); !strings.Contains(link, `mona/linkedlist/1.0.0>; rel="latest-version"`) {
		t.Errorf("Link: %s", link)
	}
	wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist/1.1.0", jsonV1, nil), http.StatusNotFound, "metadata of the refused 1.1.0")
	wantProblem(t, call(t, c, http.MethodGet, "mona/linkedlist/1.1.0/Package.swift", swiftV1, nil), http.StatusNotFound, "manifest of the refused 1.1.0")
	zip := call(t, c, http.MethodGet, "mona/linkedlist/1.1.0.zip", zipV1, nil)
	wantProblem(t, zip, http.StatusForbidden, "archive of the refused 1.1.0")
	var p struct{ Detail string }
	if json.Unmarshal(zip.body, &p) != nil || !strings.Contains(p.Detail, reason) {
		t.Errorf("archive of the refused 1.1.0: %s", zip.body)
	}
	if got := gate.RefusedDownloads(); len(got) != 1 || got[0].Version != "1.1.0" {
		t.Errorf("the gate was told of the refused downloads %+v", got)
	}
	if a := call(t, c, http.MethodGet, "mona/linkedlist/1.0.0.zip", zipV1, nil); a.status != http.StatusOK || a.header.Get("Content-Type") != "application/zip" {
		t.Errorf("archive of 1.0.0: %d %s", a.status, a.header.Get("Content-Type"))
	}
	if a := call(t, c, http.MethodGet, "mona/linkedlist/1.0.0", jsonV1, nil); a.status != http.StatusOK {
		t.Errorf("metadata of 1.0.0: %d %s", a.status, a.body)
	}
}

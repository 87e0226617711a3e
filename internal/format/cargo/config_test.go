package cargo

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	for _, ep := range []string{"https://d-111122223333.d.coffer.example/cargo/repo/", "https://d-111122223333.d.coffer.example/cargo/repo"} {
		got := string(Config(ep))
		want := `{"dl":"https://d-111122223333.d.coffer.example/cargo/repo/api/v1/crates/{crate}/{version}/download",` +
			`"api":"https://d-111122223333.d.coffer.example/cargo/repo","auth-required":true}`
		if got != want {
			t.Errorf("Config(%q) =\n%s\nwant\n%s", ep, got, want)
		}
	}
	// The markers expand, as cargo expands them, to a path that
	// ParseDownloadPath reads back.
	var c struct{ DL string }
	if err := json.Unmarshal(Config("http://h/cargo/r/"), &c); err != nil {
		t.Fatal(err)
	}
	url := strings.NewReplacer("{crate}", "Demo_Crate", "{version}", "1.0.0+b.1").Replace(c.DL)
	rel, ok := strings.CutPrefix(url, "http://h/cargo/r/")
	if !ok {
		t.Fatal(url)
	}
	if n, v, ok := ParseDownloadPath(rel); !ok || n != "Demo_Crate" || v != "1.0.0+b.1" {
		t.Errorf("ParseDownloadPath(%q) = %q %q %v", rel, n, v, ok)
	}
}

func TestParseDownloadPath(t *testing.T) {
	for _, p := range []string{
		"", "api/v1/crates/", "api/v1/crates/serde/1.0.0", "api/v1/crates/serde/download", "api/v1/crates/serde/1.0/download",
		"api/v1/crates/1serde/1.0.0/download", "api/v1/crates/se/rde/1.0.0/download", "api/v1/crates/serde/1.0.0/download/x",
		"api/v1/crates/serde/../1.0.0/download", "api/v1/crates/serde/1.0.0/yank", "/api/v1/crates/serde/1.0.0/download",
		"api/v1/crates/new",
	} {
		if n, v, ok := ParseDownloadPath(p); ok {
			t.Errorf("ParseDownloadPath(%q) = %q %q", p, n, v)
		}
	}
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, 403, "no \"access\" <here>\n")
	if w.Code != 403 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("%d %v", w.Code, w.Header())
	}
	// cargo's ApiErrorList shape.
	var body struct {
		Errors []struct{ Detail string } `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Detail != "no \"access\" <here>\n" {
		t.Errorf("%s: %+v %v", w.Body, body, err)
	}
	if got := string(ErrorBody("a", "b")); got != `{"errors":[{"detail":"a"},{"detail":"b"}]}` {
		t.Error(got)
	}
	if got := string(PublishResponse()); got != `{"warnings":{"invalid_categories":[],"invalid_badges":[],"other":[]}}` {
		t.Error(got)
	}
	if got := string(PublishResponse("x")); got != `{"warnings":{"invalid_categories":[],"invalid_badges":[],"other":["x"]}}` {
		t.Error(got)
	}
}

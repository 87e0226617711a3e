package format

import (
	"errors"
	"net/http/httptest"
	"testing"

	"coffer/internal/blob"
	"coffer/internal/upstream"
)

// A Tee releases the last byte only for the asset it streamed, to a client
// that is still there.
func TestTeeCompletesOnlyWhatItStreamed(t *testing.T) {
	for _, c := range []struct {
		name     string
		recorded string
		teeErr   error
		want     bool
	}{
		{"the recorded asset is the download", "aaa", nil, true},
		{"a concurrent record holds other bytes", "bbb", nil, false},
		{"the client left", "aaa", errors.New("broken pipe"), false},
	} {
		rec := httptest.NewRecorder()
		tee := NewTee(rec)
		if !tee.Enabled() || tee.Started() {
			t.Fatalf("%s: a new Tee to a client is enabled and not started", c.name)
		}
		w := tee.Begin("application/java-archive", upstream.Meta{Size: 4})
		w.Write([]byte("jar!"))
		tee.Fetched(&upstream.Result{Digests: blob.Digests{SHA256: "aaa"}, TeeErr: c.teeErr})
		if !tee.Started() || rec.Header().Get("Content-Length") != "4" || rec.Header().Get("Content-Type") != "application/java-archive" {
			t.Fatalf("%s: started %v, headers %v", c.name, tee.Started(), rec.Header())
		}
		if got := tee.Complete(c.recorded); got != c.want {
			t.Fatalf("%s: Complete = %v, want %v", c.name, got, c.want)
		}
		if wantBody := map[bool]string{true: "jar!", false: "jar"}[c.want]; rec.Body.String() != wantBody {
			t.Fatalf("%s: the client got %q, want %q", c.name, rec.Body.String(), wantBody)
		}
	}
	if NewTee(nil).Enabled() {
		t.Fatal("a Tee without a client is enabled")
	}
}

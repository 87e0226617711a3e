package npm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"coffer/internal/artifact"
	"coffer/internal/auth"
	"coffer/internal/format"
	"coffer/internal/format/npm"
	"coffer/internal/server"
)

// gatedEngine reports each ViewStamp and counts ViewPackageIndex calls (a
// packument build), holding every build until released.
type gatedEngine struct {
	*artifact.Service
	stamped chan struct{}
	release chan struct{}
	builds  atomic.Int32
}

func (g *gatedEngine) ViewStamp(ctx context.Context, ref artifact.PackageRef) (string, []artifact.ExternalSource, error) {
	g.stamped <- struct{}{}
	return g.Service.ViewStamp(ctx, ref)
}

func (g *gatedEngine) ViewPackageIndex(ctx context.Context, ref artifact.PackageRef, includeUnlisted bool) (*artifact.PackageView, error) {
	g.builds.Add(1)
	<-g.release
	return g.Service.ViewPackageIndex(ctx, ref, includeUnlisted)
}

// TestConcurrentColdReadsBuildOnce: clients asking for a packument that is
// not rendered yet share one build (its versions are in memory once).
func TestConcurrentColdReadsBuildOnce(t *testing.T) {
	e := newEnv(t)
	e.publish("solo", pkg{name: "fx-a", version: "1.0.0"})
	e.publish("solo", pkg{name: "fx-a", version: "1.1.0"})

	const clients = 8
	g := &gatedEngine{Service: e.svc, stamped: make(chan struct{}, clients), release: make(chan struct{})}
	h := npm.New(g, e.az, npm.Config{TempDir: e.tmpDir, Fetcher: format.NewFetcher(format.FetcherConfig{Blobs: e.blobs, URLs: e.svc})})
	srv := httptest.NewServer(server.DataPlane(map[string]http.Handler{artifact.FormatNpm: h}, func(ctx context.Context, tok, owner, domain string) (*auth.Principal, error) {
		return &auth.Principal{ARN: principal, Account: account, Type: "User", Username: "alice"}, nil
	}))
	defer srv.Close()
	url := srv.URL + "/npm/d/dx-" + account + "/solo/fx-a"

	var wg sync.WaitGroup
	status := make([]int, clients)
	for i := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			status[i] = resp.StatusCode
		})
	}
	// Every client has looked for a rendered document and missed before
	// the first build may finish; whoever is not in the flight by then
	// finds the document it renders.
	for range clients {
		<-g.stamped
	}
	close(g.release)
	wg.Wait()
	for i, s := range status {
		if s != http.StatusOK {
			t.Errorf("client %d: status %d", i, s)
		}
	}
	if n := g.builds.Load(); n != 1 {
		t.Errorf("%d builds for %d concurrent cold reads, want 1", n, clients)
	}
}

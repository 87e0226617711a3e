package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/auth/seal"
	"coffer/internal/events"
	"coffer/internal/fault"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
	"coffer/internal/webhook"
)

type allow struct{ denied string }

func (a allow) Authorize(_ context.Context, action, _ string) error {
	if action == a.denied {
		return fault.AccessDenied("no %s", action)
	}
	return nil
}

// receiver records what a webhook endpoint is sent, checking each
// signature; it answers fail's status while fail is set.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []events.Event
	fail   int
	tries  int
	signal chan struct{}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	sig := req.Header.Get(webhook.SignatureHeader)
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig != webhook.Sign([]byte(r.secret), time.Unix(n, 0), body) {
		r.t.Errorf("bad signature %q", sig)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries++
	if r.fail != 0 {
		w.WriteHeader(r.fail)
		return
	}
	var e events.Event
	if err := json.Unmarshal(body, &e); err != nil {
		r.t.Errorf("body: %v", err)
	}
	if req.Header.Get("Coffer-Event-Id") != e.Detail.EventDeduplicationID {
		r.t.Errorf("Coffer-Event-Id %q", req.Header.Get("Coffer-Event-Id"))
	}
	r.got = append(r.got, e)
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

func (r *receiver) versions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.got {
		out = append(out, e.Detail.RepositoryName+"/"+e.Detail.PackageName+"@"+e.Detail.PackageVersion)
	}
	return out
}

// waitFor waits until cond holds, for at most 20 s.
func waitFor(t *testing.T, what string, r *receiver, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case <-r.signal:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

type fixture struct {
	meta  store.Store
	svc   *webhook.Service
	d     *webhook.Deliverer
	eng   *artifact.Service
	stage func(repo, format, name, version string)
}

func newFixture(t *testing.T) *fixture {
	meta, err := sqlite.Open(filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	key := make([]byte, seal.KeySize)
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	eng := artifact.New(artifact.Config{Region: "us-east-1", AccountID: "123456789012"}, meta, nil, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	if _, err := eng.CreateDomain(ctx, "dx", "", nil); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"ra", "rb"} {
		if _, err := eng.CreateRepository(ctx, artifact.RepoRef{DomainRef: artifact.DomainRef{Name: "dx"}, Repository: r}, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{meta: meta, eng: eng,
		svc: &webhook.Service{Artifacts: eng, Store: meta, Sealer: sealer, Authorizer: allow{}},
		d:   &webhook.Deliverer{Store: meta, Sealer: sealer, Log: slog.New(slog.DiscardHandler), Poll: 20 * time.Millisecond, Backoff: 10 * time.Millisecond}}
	// stage appends the event of a version change as the journal does.
	f.stage = func(repo, format, name, version string) {
		e := events.Event{Version: "0", DetailType: events.DetailType, Source: events.Source,
			Detail: events.Detail{DomainName: "dx", RepositoryName: repo, PackageFormat: format, PackageName: name, PackageVersion: version,
				OperationType: events.Created, EventDeduplicationID: "id-" + repo + name + version}}
		body, _ := json.Marshal(e)
		err := meta.Write(ctx, func(tx store.Tx) error {
			d, err := tx.GetDomain("123456789012", "dx")
			if err != nil {
				return err
			}
			return tx.AppendEvent(&store.Event{DomainID: d.ID, Time: time.Now(), Format: format, Name: name, Version: version, Body: string(body)})
		})
		if err != nil {
			t.Fatal(err)
		}
		f.d.Wake()
	}
	return f
}

func (f *fixture) hook(t *testing.T, in webhook.Input) *webhook.Hook {
	t.Helper()
	h, err := f.svc.Create(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDeliveryInOrderWithFilters(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.stage("ra", "npm", "before", "1") // before any webhook: never sent
	all := &receiver{t: t, secret: "0123456789abcdef", signal: make(chan struct{}, 1)}
	onlyB := &receiver{t: t, secret: "fedcba9876543210", signal: make(chan struct{}, 1)}
	srvAll, srvB := httptest.NewServer(all), httptest.NewServer(onlyB)
	defer srvAll.Close()
	defer srvB.Close()
	f.hook(t, webhook.Input{Domain: "dx", URL: srvAll.URL, Secret: all.secret})
	h := f.hook(t, webhook.Input{Domain: "dx", Repository: "rb", URL: srvB.URL, Secret: onlyB.secret, Formats: []string{"pypi"},
		PackagePattern: "/pypi//keep~", Operations: []string{"Created"}})
	if h.Secret != nil || h.MaxRetryDuration != "1h0m0s" || h.PackagePattern != "/pypi//keep~" {
		t.Fatalf("created %+v", h)
	}
	go f.d.Run(ctx)
	var want, wantB []string
	for i := range 30 {
		repo, format, name := "ra", "npm", "lib"
		if i%3 == 0 {
			repo, format, name = "rb", "pypi", "keep-this"
		} else if i%3 == 1 {
			repo, format, name = "rb", "pypi", "other"
		}
		v := strconv.Itoa(i)
		f.stage(repo, format, name, v)
		want = append(want, repo+"/"+name+"@"+v)
		if name == "keep-this" {
			wantB = append(wantB, repo+"/"+name+"@"+v)
		}
	}
	waitFor(t, "every event", all, func() bool { return len(all.versions()) >= len(want) })
	waitFor(t, "the filtered events", onlyB, func() bool { return len(onlyB.versions()) >= len(wantB) })
	if got := all.versions(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("all: %v\nwant %v", got, want)
	}
	if got := onlyB.versions(); strings.Join(got, ",") != strings.Join(wantB, ",") {
		t.Fatalf("filtered: %v\nwant %v", got, wantB)
	}
	for i, e := range all.got[1:] {
		if e.Detail.SequenceNumber <= all.got[i].Detail.SequenceNumber {
			t.Fatalf("sequence numbers do not grow: %d then %d", all.got[i].Detail.SequenceNumber, e.Detail.SequenceNumber)
		}
	}
}

func TestReceiverDownThenUp(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &receiver{t: t, secret: "0123456789abcdef", fail: http.StatusServiceUnavailable, signal: make(chan struct{}, 1)}
	srv := httptest.NewServer(r)
	defer srv.Close()
	f.hook(t, webhook.Input{Domain: "dx", URL: srv.URL, Secret: r.secret})
	go f.d.Run(ctx)
	for i := range 5 {
		f.stage("ra", "npm", "lib", strconv.Itoa(i))
	}
	waitFor(t, "a few failed attempts", r, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return r.tries >= 3 })
	r.mu.Lock()
	r.fail = 0
	r.mu.Unlock()
	waitFor(t, "the events after the receiver came back", r, func() bool { return len(r.versions()) >= 5 })
	if got := strings.Join(r.versions(), ","); got != "ra/lib@0,ra/lib@1,ra/lib@2,ra/lib@3,ra/lib@4" {
		t.Fatalf("got %s", got)
	}
}

func TestGivenUpThenNext(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &receiver{t: t, secret: "0123456789abcdef", fail: http.StatusInternalServerError, signal: make(chan struct{}, 1)}
	srv := httptest.NewServer(r)
	defer srv.Close()
	h := f.hook(t, webhook.Input{Domain: "dx", URL: srv.URL, Secret: r.secret, MaxRetryDuration: "300ms"})
	go f.d.Run(ctx)
	f.stage("ra", "npm", "lib", "1")
	var failures []webhook.Failure
	waitFor(t, "the failure record", r, func() bool {
		var err error
		failures, err = f.svc.Failures(t.Context(), "", "dx", h.ID)
		return err == nil && len(failures) == 1
	})
	if fl := failures[0]; fl.Attempts < 2 || fl.Package != "npm//lib@1" || !strings.Contains(fl.LastError, "500") || fl.EventID != "id-ralib1" {
		t.Fatalf("failure %+v", fl)
	}
	r.mu.Lock()
	r.fail = 0
	r.mu.Unlock()
	f.stage("ra", "npm", "lib", "2")
	waitFor(t, "the next event", r, func() bool { return len(r.versions()) == 1 })
	if got := r.versions(); got[0] != "ra/lib@2" {
		t.Fatalf("got %v", got)
	}
}

func TestManagement(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, in := range []webhook.Input{
		{Domain: "dx", URL: "ftp://x", Secret: "0123456789abcdef"},
		{Domain: "dx", URL: "http://u:p@x", Secret: "0123456789abcdef"},
		{Domain: "dx", URL: "http://x", Secret: "short"},
		{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef", Formats: []string{"docker"}},
		{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef", Operations: []string{"Published"}},
		{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef", PackagePattern: "npm"},
		{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef", MaxRetryDuration: "-1s"},
	} {
		if _, err := f.svc.Create(ctx, in); !errors.Is(err, fault.ErrValidation) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	if _, err := f.svc.Create(ctx, webhook.Input{Domain: "nope", URL: "http://x", Secret: "0123456789abcdef"}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("missing domain: %v", err)
	}
	if _, err := f.svc.Create(ctx, webhook.Input{Domain: "dx", Repository: "nope", URL: "http://x", Secret: "0123456789abcdef"}); !errors.Is(err, fault.ErrNotFound) {
		t.Errorf("missing repository: %v", err)
	}
	denied := &webhook.Service{Artifacts: f.eng, Store: f.meta, Sealer: f.svc.Sealer, Authorizer: allow{denied: webhook.ActionCreate}}
	if _, err := denied.Create(ctx, webhook.Input{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef"}); !errors.Is(err, fault.ErrAccessDenied) {
		t.Errorf("denied: %v", err)
	}
	a := f.hook(t, webhook.Input{Domain: "dx", URL: "http://x", Secret: "0123456789abcdef"})
	b := f.hook(t, webhook.Input{Domain: "dx", Repository: "rb", URL: "http://y", Secret: "0123456789abcdef"})
	list, err := f.svc.List(ctx, "", "dx", "")
	if err != nil || len(list) != 2 || list[0].Secret != nil || list[1].Secret != nil {
		t.Fatalf("list %+v %v", list, err)
	}
	if list, err := f.svc.List(ctx, "", "dx", "rb"); err != nil || len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("list of b %+v %v", list, err)
	}
	if _, err := f.svc.Delete(ctx, "", "dx", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Delete(ctx, "", "dx", a.ID); !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if list, _ := f.svc.List(ctx, "", "dx", ""); len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("after delete %+v", list)
	}
	// The secret is sealed in the store, never kept in clear.
	err = f.meta.Read(ctx, func(tx store.Tx) error {
		rows, err := tx.ListSettingsPrefix("webhook/")
		for _, r := range rows {
			if strings.Contains(r.Value, "0123456789abcdef") {
				t.Errorf("%s holds the secret in clear", r.Key)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

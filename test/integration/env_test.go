// Package integration drives an in-process coffer (the same assembly as the
// binary, served by httptest) with the real AWS SDK for Go v2.
package integration

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codeartifact"

	"coffer/internal/app"
	"coffer/internal/config"
)

const (
	rootKey    = "AKIAINTEGRATIONTEST1"
	rootSecret = "integration/secret/key/0123456789abcdefghij"
	account    = "123456789012"
)

// env is one in-process coffer with an SDK client signed by its root key.
type env struct {
	t       *testing.T
	URL     string
	DataDir string
	CA      *codeartifact.Client
	App     *app.App
}

func newEnv(t *testing.T, mutate ...func(*config.Config)) *env {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.AccountID = account
	for _, m := range mutate {
		m(&cfg)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	getenv := func(k string) string {
		switch k {
		case "COFFER_ROOT_ACCESS_KEY_ID":
			return rootKey
		case "COFFER_ROOT_SECRET_ACCESS_KEY":
			return rootSecret
		}
		return ""
	}
	a, err := app.New(context.Background(), cfg, getenv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &env{t: t, URL: srv.URL, DataDir: cfg.DataDir, CA: newClient(t, srv.URL, rootKey, rootSecret, ""), App: a}
}

func newClient(t *testing.T, url, key, secret, session string) *codeartifact.Client {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, session)),
		awsconfig.WithRetryMaxAttempts(1), awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	return codeartifact.NewFromConfig(cfg, func(o *codeartifact.Options) { o.BaseEndpoint = aws.String(url) })
}

// must returns v after failing the test on err: must(call())(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantErr asserts err is of the SDK error type E and returns it.
func wantErr[E error](t *testing.T, err error) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("want %T, got %v", e, err)
	}
	return e
}

var ctx = context.Background()

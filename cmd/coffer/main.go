// Command coffer is a self-hosted artifact repository that speaks the AWS
// CodeArtifact API.
//
//	coffer serve [flags]   run the server (coffer serve -h lists the flags)
//	coffer migrate [flags] copy a deployment to other stores (coffer migrate -h)
//	coffer rules set|list|delete [flags]   manage supply-chain rules on a server (coffer rules -h)
//	coffer osv import|list|delete [flags]  manage imported OSV advisory data on a server (coffer osv -h)
//	coffer version         print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"coffer/internal/app"
	"coffer/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "coffer:", err)
		os.Exit(1)
	}
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usage(stderr)
	}
	switch args[0] {
	case "serve":
		cfg, err := config.Load(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		return serve(ctx, cfg, getenv, stderr)
	case "migrate":
		return runMigrate(args[1:], getenv, stdout, stderr)
	case "rules":
		return runRules(args[1:], getenv, stdout, stderr)
	case "check":
		return runCheck(args[1:], getenv, stdout, stderr)
	case "osv":
		return runOSV(args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "coffer", version)
		return nil
	case "help", "-h", "--help":
		_ = usage(stdout)
		return nil
	}
	_ = usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) error {
	fmt.Fprintln(w, "usage: coffer serve [flags]   (coffer serve -h lists the flags)\n"+
		"       coffer migrate --from METADATA,BLOBS --to METADATA,BLOBS [flags]   (coffer migrate -h)\n"+
		"       coffer rules set|list|delete --endpoint-url URL --domain D [flags]   (coffer rules -h)\n"+
		"       coffer osv import|list|delete --endpoint-url URL [flags]   (coffer osv -h)\n"+
		"       coffer check withheld|lockfile|quarantined --endpoint-url URL --domain D [flags]   (coffer check -h)\n"+
		"       coffer version")
	return errors.New("no command given")
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests (uploads included)
// to finish before closing the stores.
func serve(ctx context.Context, cfg config.Config, getenv func(string) string, logOut io.Writer) error {
	log := newLogger(cfg, logOut)
	started := time.Now()
	a, err := app.New(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("coffer is serving", "version", version, "listen", ln.Addr().String(), "public_url", cfg.PublicURL,
		"data_dir", cfg.DataDir, "account", a.Identity.AccountID(), "region", cfg.Region, "startup", time.Since(started).String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

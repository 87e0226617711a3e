// Command coffer is a self-hosted artifact repository that speaks the AWS
// CodeArtifact API.
//
//	coffer serve [flags]   run the server (coffer serve -h lists the flags)
//	coffer migrate [flags] copy a deployment to other stores (coffer migrate -h)
//	coffer rules set|list|delete [flags]   manage supply-chain rules on a server (coffer rules -h)
//	coffer osv import|list|delete [flags]  manage imported OSV advisory data on a server (coffer osv -h)
//	coffer webhooks create|list|delete|failures [flags]  manage event webhooks on a server (coffer webhooks -h)
//	coffer retention set|list|delete|run|runs [flags]    retention rules and runs on a server (coffer retention -h)
//	coffer backup|restore|fsck [flags]     back up, restore and check an embedded data dir (coffer backup -h)
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
	"coffer/internal/gcfloor"
	"coffer/internal/tlsreload"
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
	case "webhooks":
		return runWebhooks(args[1:], getenv, stdout, stderr)
	case "retention":
		return runRetention(args[1:], getenv, stdout, stderr)
	case "backup":
		return runBackup(args[1:], getenv, stdout, stderr)
	case "restore":
		return runRestore(args[1:], getenv, stdout, stderr)
	case "fsck":
		return runFsck(args[1:], getenv, stdout, stderr)
	case "version":
		printVersion(stdout)
		return nil
	case "healthcheck":
		return runHealthcheck(args[1:], getenv, stdout, stderr)
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
		"       coffer webhooks create|list|delete|failures --endpoint-url URL --domain D [flags]   (coffer webhooks -h)\n"+
		"       coffer retention set|list|delete|run|runs --endpoint-url URL --domain D [flags]   (coffer retention -h)\n"+
		"       coffer check withheld|lockfile|quarantined --endpoint-url URL --domain D [flags]   (coffer check -h)\n"+
		"       coffer backup --data-dir DIR --to BACKUP_DIR [flags]   (coffer backup -h)\n"+
		"       coffer restore --from BACKUP_DIR --data-dir NEW_DIR   (coffer restore -h)\n"+
		"       coffer fsck --data-dir DIR [--repair] [--json]   (coffer fsck -h)\n"+
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

// The heap goal is max(heapFloor, live heap × (1 + gcPercent/100)) (gcfloor):
// no collection while the heap is small, and above the floor less room than
// GOGC's default 100 gives, as coffer's caches are bounded and its
// footprint is part of what it offers.
const (
	heapFloor = 16 << 20
	gcPercent = 50
)

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting connections and waits for in-flight requests (uploads included)
// to finish before closing the stores.
func serve(ctx context.Context, cfg config.Config, getenv func(string) string, logOut io.Writer) error {
	log := newLogger(cfg, logOut)
	started := time.Now()
	// The heap may grow to heapFloor before a collection: a server with a
	// small live heap otherwise collects several times a second under load.
	defer gcfloor.Start(heapFloor, gcPercent)()
	certs, err := setupTLS(ctx, cfg, log) // before the stores: a missing certificate fails fast
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	// Failed TLS handshakes (anyone can cause them) are mostly logged at
	// debug level: see tlsreload.ServerErrorLog.
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: tlsreload.ServerErrorLog(log, time.Minute)}
	if certs != nil {
		srv.TLSConfig = certs.ServerConfig()
	}
	log.Info("coffer is serving", "version", version, "listen", ln.Addr().String(), "public_url", cfg.PublicURL, "tls", certs != nil,
		"data_dir", cfg.DataDir, "account", a.Identity.AccountID(), "region", cfg.Region, "startup", time.Since(started).String())
	warnPlainHTTP(log, cfg, ln.Addr(), certs != nil)

	errc := make(chan error, 1)
	go func() {
		if certs != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig.GetCertificate
			return
		}
		errc <- srv.Serve(ln)
	}()
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

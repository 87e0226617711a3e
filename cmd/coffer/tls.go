package main

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"coffer/internal/config"
	"coffer/internal/tlsreload"
)

// setupTLS loads the key pair of --tls-cert/--tls-key, sets srv.TLSConfig
// to serve it (TLS 1.2 at least, HTTP/2 by ALPN), and reloads it on SIGHUP
// until ctx ends; a renewal on disk is also picked up at a handshake (at
// most one look at the files a second). It returns nil when TLS is not
// configured. SIGHUP is caught either way: a reload (systemctl reload, a
// certbot hook) must never stop a server that has nothing to reload.
func setupTLS(ctx context.Context, cfg config.Config, log *slog.Logger) (*tlsreload.Reloader, error) {
	var r *tlsreload.Reloader
	if cfg.TLSCert != "" && cfg.TLSKey != "" {
		var err error
		if r, err = tlsreload.New(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return nil, err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if r == nil {
					log.Info("SIGHUP: no TLS certificate to reload")
					continue
				}
				_ = r.Reload("SIGHUP") // logged by the reloader; the old pair stays on failure
			}
		}
	}()
	return r, nil
}

// warnPlainHTTP logs a warning when coffer serves plain HTTP beyond the
// loopback with an http public URL: tokens and secrets would cross the
// network in clear (unless a TLS proxy is in front, which an https public
// URL says).
func warnPlainHTTP(log *slog.Logger, cfg config.Config, addr net.Addr, tlsOn bool) {
	if tlsOn {
		return
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Scheme == "https" {
		return
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return
	}
	log.Warn("coffer serves plain HTTP beyond the loopback: credentials and tokens cross the network unencrypted; "+
		"set --tls-cert and --tls-key, or put a TLS proxy in front and set an https --public-url",
		"listen", addr.String(), "public_url", cfg.PublicURL)
}

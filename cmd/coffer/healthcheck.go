package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"coffer/internal/config"
)

// runHealthcheck is `coffer healthcheck`: GET /healthz of the server that
// `coffer serve` would run with the same environment and config file, and
// exit 0 on 200, 1 otherwise. It is the container image's HEALTHCHECK: the
// image has no shell and no curl.
//
//	coffer healthcheck [--url URL] [--timeout 5s]
//
// Without --url it reads the listen address and TLS setting as `coffer
// serve` does (COFFER_* variables, COFFER_CONFIG) and asks the loopback
// address of that port. Over HTTPS it does not verify the certificate: it
// checks that this machine's own process answers, not who it is.
func runHealthcheck(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL to GET (default: /healthz on the loopback address of the configured --listen port)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected arguments %q", fs.Args())
	}
	if *url == "" {
		cfg, err := config.Load(nil, getenv, io.Discard)
		if err != nil {
			return fmt.Errorf("healthcheck: %w", err)
		}
		u, err := healthzURL(cfg.Listen, cfg.TLSCert != "")
		if err != nil {
			return err
		}
		*url = u
	}
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // loopback liveness, see above
		Proxy:           nil,
	}}
	resp, err := client.Get(*url)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s", *url, resp.Status)
	}
	fmt.Fprintf(stdout, "%s: %s", *url, body)
	return nil
}

// healthzURL is the loopback /healthz URL of a listen address: an
// unspecified or empty host (0.0.0.0, ::, ":8080") is asked on loopback.
func healthzURL(listen string, https bool) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil
}

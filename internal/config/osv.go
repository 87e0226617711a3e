package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// OSVSettings are the settings of imported OSV advisory data
// (internal/advisory), embedded in Config.
type OSVSettings struct {
	// OSVSync are OSV zips (https, or http to a loopback host) downloaded
	// and imported every OSVSyncInterval.
	OSVSync []string
	// OSVSyncIntervalText is the file/env/flag form of OSVSyncInterval
	// (a Go duration, "24h").
	OSVSyncIntervalText string
	OSVSyncInterval     time.Duration
	// MaxOSVImportSize bounds an OSV zip uploaded to
	// PUT /coffer/v1/osv/sources/{name}, in bytes.
	MaxOSVImportSize int64
}

// finishOSV parses and checks OSVSettings.
func (c *Config) finishOSV() []error {
	var errs []error
	d, err := time.ParseDuration(c.OSVSyncIntervalText)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("osv-sync-interval: %q is not a duration like 24h", c.OSVSyncIntervalText))
	case d < time.Minute:
		errs = append(errs, fmt.Errorf("osv-sync-interval: %s is less than a minute", d))
	}
	c.OSVSyncInterval = d
	if c.MaxOSVImportSize <= 0 {
		errs = append(errs, fmt.Errorf("max-osv-import-size must be positive"))
	}
	var urls []string
	for _, raw := range c.OSVSync {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		if err := checkOSVSyncURL(raw); err != nil {
			errs = append(errs, fmt.Errorf("osv-sync: %w", err))
		}
		urls = append(urls, raw)
	}
	c.OSVSync = urls
	return errs
}

// checkOSVSyncURL accepts an https URL, or an http one to a loopback host
// (the rule advisory.CheckSyncURL applies again to every download and
// redirect).
func checkOSVSyncURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q is not an absolute https URL", raw)
	}
	if u.Scheme == "http" {
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("%q: http is allowed to a loopback host only; use https", raw)
		}
	}
	return nil
}

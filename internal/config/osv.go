package config

import (
	"flag"
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
	OSVSync []string `toml:"osv-sync"`
	// OSVSyncIntervalText is the file/env/flag form of OSVSyncInterval
	// (a Go duration, "24h").
	OSVSyncIntervalText string        `toml:"osv-sync-interval"`
	OSVSyncInterval     time.Duration `toml:"-"`
	// MaxOSVImportSize bounds an OSV zip uploaded to
	// PUT /coffer/v1/osv/sources/{name}, in bytes.
	MaxOSVImportSize int64 `toml:"max-osv-import-size"`
}

func osvDefaults() OSVSettings {
	return OSVSettings{OSVSyncIntervalText: "24h", MaxOSVImportSize: 1 << 30}
}

// osvFlags are the command-line forms of OSVSettings.
type osvFlags struct {
	sync      listFlag
	interval  string
	maxImport int64
}

func addOSVFlags(fs *flag.FlagSet) *osvFlags {
	f := &osvFlags{}
	fs.Var(&f.sync, "osv-sync", "URL of an OSV zip (e.g. https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip) to import every --osv-sync-interval; https, or http to a loopback host (repeatable); env COFFER_OSV_SYNC (comma-separated)")
	fs.StringVar(&f.interval, "osv-sync-interval", "", "how often --osv-sync URLs are downloaded (default 24h); env COFFER_OSV_SYNC_INTERVAL")
	fs.Int64Var(&f.maxImport, "max-osv-import-size", 0, "largest OSV zip accepted by PUT /coffer/v1/osv/sources/{name}, in bytes (default 1 GiB); env COFFER_MAX_OSV_IMPORT_SIZE")
	return f
}

// osvEnv applies COFFER_OSV_SYNC (added to the file's), COFFER_OSV_SYNC_INTERVAL
// and COFFER_MAX_OSV_IMPORT_SIZE.
func (c *Config) osvEnv(getenv func(string) string) error {
	if v := getenv("COFFER_OSV_SYNC"); v != "" {
		c.OSVSync = append(c.OSVSync, strings.Split(v, ",")...)
	}
	if v := getenv("COFFER_OSV_SYNC_INTERVAL"); v != "" {
		c.OSVSyncIntervalText = v
	}
	if v := getenv("COFFER_MAX_OSV_IMPORT_SIZE"); v != "" {
		if _, err := fmt.Sscan(v, &c.MaxOSVImportSize); err != nil {
			return fmt.Errorf("COFFER_MAX_OSV_IMPORT_SIZE: %q is not a number", v)
		}
	}
	return nil
}

func (f *osvFlags) apply(c *Config) {
	c.OSVSync = append(c.OSVSync, f.sync...)
	if f.interval != "" {
		c.OSVSyncIntervalText = f.interval
	}
	if f.maxImport > 0 {
		c.MaxOSVImportSize = f.maxImport
	}
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

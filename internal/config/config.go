// Package config loads coffer's settings in a fixed order: defaults, then the
// config file (--config or COFFER_CONFIG), then COFFER_<NAME> environment
// variables, then command-line flags; the later wins. The result is validated
// before anything starts, so a bad setting fails fast with a clear message.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"coffer/internal/quota"
)

// Config is every setting of `coffer serve`. Each setting is declared once,
// with its flag, environment variable, file key, default and meaning, in the
// settings table (settings.go); the fields without one are derived by finish.
type Config struct {
	Listen    string
	DataDir   string
	PublicURL string
	// TLSCert and TLSKey are PEM files (the certificate with its chain,
	// and its key): when both are set coffer serves HTTPS on Listen.
	TLSCert   string
	TLSKey    string
	Region    string
	AccountID string
	// ExternalConnections overrides where public:* connections point, by
	// name; derived from ExternalConnectionList ("NAME=URL" entries).
	ExternalConnections    map[string]string
	ExternalConnectionList []string
	LogLevel               string
	LogFormat              string
	// MaxAssetSize bounds one uploaded asset in bytes.
	MaxAssetSize int64
	// Metadata selects the metadata store: "" (SQLite under the data dir),
	// sqlite:///path, postgres://… or a libpq key-value string.
	Metadata string
	// Blobs selects the blob store: "" (files under the data dir),
	// file:///path or s3://bucket/prefix?region=…&endpoint=…&path-style=true.
	Blobs string
	// MasterKeyFile holds the master key when COFFER_MASTER_KEY is not set;
	// "" means <data-dir>/master.key, created on first start.
	MasterKeyFile string
	// BlobRedirectSize: downloads of assets at least this large are answered
	// with a short-lived presigned redirect to the object store (S3 only);
	// 0 streams every download through coffer.
	BlobRedirectSize int64

	// APIRateLimits turns the per-principal rate limits of the CodeArtifact
	// API and the IAM/STS Query API "on" (the default) or "off".
	APIRateLimits string
	// APIRateList overrides API rates: "NAME=RATE[/BURST]" entries, NAME
	// an operation, reads, writes, iam or sts (see quota.APIDefaults).
	APIRateList []string
	// APIRates are the rates in effect, the defaults with the overrides
	// applied (nil when APIRateLimits is off). Operation names are checked
	// by the composition root, which knows them.
	APIRates map[string]quota.Rate
	// UpstreamMetadataTTL ("30m", a Go duration) is how long an upstream
	// index document (packument, simple page, maven-metadata.xml...) is
	// used before it is revalidated; parsed into UpstreamMetadataMaxAge.
	UpstreamMetadataTTL    string
	UpstreamMetadataMaxAge time.Duration
	// DataPlaneRate, RepositoryRate and UnauthenticatedRate ("RATE" or
	// "RATE/BURST", requests per second; "" or 0: no limit) limit native
	// requests per principal, per repository and, for requests without a
	// valid token, per source address. Parsed into the *Limit fields.
	DataPlaneRate        string
	RepositoryRate       string
	UnauthenticatedRate  string
	DataPlaneLimit       quota.Rate
	RepositoryLimit      quota.Rate
	UnauthenticatedLimit quota.Rate

	// Count quotas (0: none): domains of the account, repositories and
	// package groups per domain.
	MaxDomains                int
	MaxRepositoriesPerDomain  int
	MaxPackageGroupsPerDomain int

	// OSVSettings: imported OSV advisory data (osv.go).
	OSVSettings
}

// Load builds the configuration of `coffer serve` from args (without the
// program and sub-command names) and the environment.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Defaults()
	fs, given := newFlagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	// The file is read first so that the environment and the flags override it.
	file := given[configSetting].text
	if file == "" {
		file = getenv(setting{Name: configSetting}.env())
	}
	if file != "" {
		if err := cfg.loadFile(file); err != nil {
			return cfg, fmt.Errorf("config file %s: %w", file, err)
		}
	}
	for _, s := range settings {
		if v := getenv(s.env()); v != "" && s.field != nil {
			if err := s.setText(&cfg, v); err != nil {
				return cfg, err
			}
		}
	}
	// Only the flags given: a count flag given as 0 counts (see kind).
	fs.Visit(func(f *flag.Flag) {
		if s, ok := lookup(f.Name); ok && s.field != nil {
			s.setFlag(&cfg, given[f.Name])
		}
	})
	return cfg, cfg.finish()
}

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// finish derives the computed settings and validates everything.
func (c *Config) finish() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data-dir must not be empty"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together: give both or neither"))
	}
	if c.PublicURL == "" {
		scheme := "http://"
		if c.TLSCert != "" {
			scheme = "https://"
		}
		c.PublicURL = scheme + c.Listen
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public-url: %q is not an absolute http(s) URL", c.PublicURL))
	}
	if !regionPattern.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region: %q is not a region name like us-east-1", c.Region))
	}
	if c.AccountID != "" && !accountPattern.MatchString(c.AccountID) {
		errs = append(errs, fmt.Errorf("account-id: %q must be 12 digits", c.AccountID))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("log-format: %q is not json or text", c.LogFormat))
	}
	if c.MaxAssetSize <= 0 {
		errs = append(errs, errors.New("max-asset-size must be positive"))
	}
	if c.BlobRedirectSize < 0 {
		errs = append(errs, errors.New("blob-redirect-size must not be negative"))
	}
	if c.UpstreamMetadataTTL != "" {
		d, err := time.ParseDuration(c.UpstreamMetadataTTL)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("upstream-metadata-ttl: %q is not a positive duration such as 30m", c.UpstreamMetadataTTL))
		}
		c.UpstreamMetadataMaxAge = d
	}
	errs = append(errs, c.finishLimits()...)
	errs = append(errs, c.finishOSV()...)
	c.ExternalConnections = map[string]string{}
	for _, e := range c.ExternalConnectionList {
		name, raw, ok := strings.Cut(strings.TrimSpace(e), "=")
		u, err := url.Parse(raw)
		switch {
		case !ok || !strings.HasPrefix(name, "public:"):
			errs = append(errs, fmt.Errorf("external-connection: %q is not NAME=URL with a public:* name", e))
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("external-connection %s: %q is not an absolute http(s) URL", name, raw))
		default:
			c.ExternalConnections[name] = raw
		}
	}
	return errors.Join(errs...)
}

// finishLimits parses and checks the rate limits and count quotas.
func (c *Config) finishLimits() []error {
	var errs []error
	switch c.APIRateLimits {
	case "on":
		c.APIRates = quota.APIDefaults()
	case "off":
		c.APIRates = nil
	default:
		errs = append(errs, fmt.Errorf("api-rate-limits: %q is not on or off", c.APIRateLimits))
	}
	for _, e := range c.APIRateList {
		name, v, ok := strings.Cut(strings.TrimSpace(e), "=")
		r, err := quota.ParseRate(v)
		switch {
		case !ok || name == "":
			errs = append(errs, fmt.Errorf("api-rate: %q is not NAME=RATE[/BURST]", e))
		case err != nil:
			errs = append(errs, fmt.Errorf("api-rate %s: %w", name, err))
		case c.APIRates != nil:
			c.APIRates[name] = r
		}
	}
	for _, l := range []struct {
		name string
		in   string
		out  *quota.Rate
	}{{"data-plane-rate", c.DataPlaneRate, &c.DataPlaneLimit}, {"repository-rate", c.RepositoryRate, &c.RepositoryLimit},
		{"unauthenticated-rate", c.UnauthenticatedRate, &c.UnauthenticatedLimit}} {
		*l.out = quota.Rate{}
		if l.in == "" {
			continue
		}
		r, err := quota.ParseRate(l.in)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.name, err))
		}
		*l.out = r
	}
	for _, q := range []struct {
		name string
		n    int
	}{{"max-domains", c.MaxDomains}, {"max-repositories-per-domain", c.MaxRepositoriesPerDomain},
		{"max-package-groups-per-domain", c.MaxPackageGroupsPerDomain}} {
		if q.n < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", q.name))
		}
	}
	return errs
}

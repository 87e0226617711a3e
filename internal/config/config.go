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

	"github.com/BurntSushi/toml"

	"coffer/internal/quota"
)

// Config is every setting of `coffer serve`.
type Config struct {
	Listen    string `toml:"listen"`
	DataDir   string `toml:"data-dir"`
	PublicURL string `toml:"public-url"`
	// TLSCert and TLSKey are PEM files (the certificate with its chain,
	// and its key): when both are set coffer serves HTTPS on Listen.
	TLSCert   string `toml:"tls-cert"`
	TLSKey    string `toml:"tls-key"`
	Region    string `toml:"region"`
	AccountID string `toml:"account-id"`
	// ExternalConnections overrides where public:* connections point, by name.
	ExternalConnections map[string]string `toml:"-"`
	// ExternalConnectionList is the file/env/flag form: "NAME=URL" entries.
	ExternalConnectionList []string `toml:"external-connection"`
	LogLevel               string   `toml:"log-level"`
	LogFormat              string   `toml:"log-format"`
	// MaxAssetSize bounds one uploaded asset in bytes.
	MaxAssetSize int64 `toml:"max-asset-size"`
	// Metadata selects the metadata store: "" (SQLite under the data dir),
	// sqlite:///path, postgres://… or a libpq key-value string.
	Metadata string `toml:"metadata"`
	// Blobs selects the blob store: "" (files under the data dir),
	// file:///path or s3://bucket/prefix?region=…&endpoint=…&path-style=true.
	Blobs string `toml:"blobs"`
	// MasterKeyFile holds the master key when COFFER_MASTER_KEY is not set;
	// "" means <data-dir>/master.key, created on first start.
	MasterKeyFile string `toml:"master-key-file"`
	// BlobRedirectSize: downloads of assets at least this large are answered
	// with a short-lived presigned redirect to the object store (S3 only);
	// 0 streams every download through coffer.
	BlobRedirectSize int64 `toml:"blob-redirect-size"`

	// APIRateLimits turns the per-principal rate limits of the CodeArtifact
	// API and the IAM/STS Query API "on" (the default) or "off".
	APIRateLimits string `toml:"api-rate-limits"`
	// APIRateList overrides API rates: "NAME=RATE[/BURST]" entries, NAME
	// an operation, reads, writes, iam or sts (see quota.APIDefaults).
	APIRateList []string `toml:"api-rate"`
	// APIRates are the rates in effect, the defaults with the overrides
	// applied (nil when APIRateLimits is off). Operation names are checked
	// by the composition root, which knows them.
	APIRates map[string]quota.Rate `toml:"-"`
	// DataPlaneRate, RepositoryRate and UnauthenticatedRate ("RATE" or
	// "RATE/BURST", requests per second; "" or 0: no limit) limit native
	// requests per principal, per repository and, for requests without a
	// valid token, per source address. Parsed into the *Limit fields.
	// UpstreamMetadataTTL ("30m", a Go duration) is how long an upstream
	// index document (packument, simple page, maven-metadata.xml...) is
	// used before it is revalidated; parsed into UpstreamMetadataMaxAge.
	UpstreamMetadataTTL    string        `toml:"upstream-metadata-ttl"`
	UpstreamMetadataMaxAge time.Duration `toml:"-"`
	DataPlaneRate          string        `toml:"data-plane-rate"`
	RepositoryRate         string        `toml:"repository-rate"`
	UnauthenticatedRate    string        `toml:"unauthenticated-rate"`
	DataPlaneLimit         quota.Rate    `toml:"-"`
	RepositoryLimit        quota.Rate    `toml:"-"`
	UnauthenticatedLimit   quota.Rate    `toml:"-"`

	// Count quotas (0: none): domains of the account, repositories and
	// package groups per domain.
	MaxDomains                int `toml:"max-domains"`
	MaxRepositoriesPerDomain  int `toml:"max-repositories-per-domain"`
	MaxPackageGroupsPerDomain int `toml:"max-package-groups-per-domain"`

	// OSVSettings: imported OSV advisory data (osv.go).
	OSVSettings
}

// Defaults returns the built-in settings.
func Defaults() Config {
	return Config{
		Listen:       "127.0.0.1:8080",
		DataDir:      "./coffer-data",
		Region:       "us-east-1",
		LogLevel:     "info",
		LogFormat:    "json",
		MaxAssetSize: 5 << 30,
		// AWS's default quotas; an operator raises them as AWS would on
		// request.
		APIRateLimits:            "on",
		MaxDomains:               10,
		MaxRepositoriesPerDomain: 1000,
		// AWS publishes no such quota; every package lookup walks the
		// domain's groups, so their number is bounded too.
		MaxPackageGroupsPerDomain: 1000,
		OSVSettings:               osvDefaults(),
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Load builds the configuration of `coffer serve` from args (without the
// program and sub-command names) and the environment.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := Defaults()
	fs := flag.NewFlagSet("coffer serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		configFile                                                      string
		listen, dataDir, publicURL, region, accountID, logLevel, logFmt string
		metadata, blobs, masterKeyFile, tlsCert, tlsKey                 string
		apiLimits, dataRate, repoRate, anonRate, metadataTTL            string
		maxAsset, redirectSize                                          int64
		maxDomains, maxRepos, maxGroups                                 int
		conns, apiRates                                                 listFlag
	)
	fs.StringVar(&configFile, "config", "", "config file (TOML) with the same settings; env COFFER_CONFIG")
	fs.StringVar(&listen, "listen", "", "address to listen on (default "+cfg.Listen+"); env COFFER_LISTEN")
	fs.StringVar(&dataDir, "data-dir", "", "data directory (default "+cfg.DataDir+"); env COFFER_DATA_DIR")
	fs.StringVar(&publicURL, "public-url", "", "base URL clients reach (default http://<listen>); env COFFER_PUBLIC_URL")
	fs.StringVar(&tlsCert, "tls-cert", "", "PEM file with the server certificate and its chain: serve HTTPS (with --tls-key; reloaded when the file changes or on SIGHUP); env COFFER_TLS_CERT")
	fs.StringVar(&tlsKey, "tls-key", "", "PEM file with the private key of --tls-cert; env COFFER_TLS_KEY")
	fs.StringVar(&region, "region", "", "region in ARNs and SigV4 scopes (default "+cfg.Region+"); env COFFER_REGION")
	fs.StringVar(&accountID, "account-id", "", "12-digit account id (generated once and kept in the data dir); env COFFER_ACCOUNT_ID")
	fs.Var(&conns, "external-connection", "NAME=URL: where a public:* external connection points (repeatable); env COFFER_EXTERNAL_CONNECTION (comma-separated)")
	fs.StringVar(&logLevel, "log-level", "", "debug, info, warn or error (default info); env COFFER_LOG_LEVEL")
	fs.StringVar(&logFmt, "log-format", "", "json or text (default json); env COFFER_LOG_FORMAT")
	fs.Int64Var(&maxAsset, "max-asset-size", 0, "largest asset in bytes (default 5 GiB); env COFFER_MAX_ASSET_SIZE")
	fs.StringVar(&metadata, "metadata", "", "metadata store: sqlite:///path (default <data-dir>/metadata.db), postgres://… or a libpq key-value string; env COFFER_METADATA")
	fs.StringVar(&blobs, "blobs", "", "blob store: file:///path (default <data-dir>/blobs) or s3://bucket/prefix?region=…&endpoint=…&path-style=true; env COFFER_BLOBS")
	fs.StringVar(&masterKeyFile, "master-key-file", "", "file holding the base64 master key when COFFER_MASTER_KEY is not set (default <data-dir>/master.key); env COFFER_MASTER_KEY_FILE")
	fs.Int64Var(&redirectSize, "blob-redirect-size", 0, "redirect downloads of assets of at least this many bytes to a presigned object-store URL (S3 only; default 0: off); env COFFER_BLOB_REDIRECT_SIZE")
	fs.StringVar(&apiLimits, "api-rate-limits", "", "on or off: per-principal rate limits of the CodeArtifact API and IAM/STS (default on, AWS's published rates); env COFFER_API_RATE_LIMITS")
	fs.Var(&apiRates, "api-rate", "NAME=RATE[/BURST]: per-principal rate of an API operation, of reads, writes, iam or sts, in requests/s (0: no limit; default burst "+fmt.Sprint(quota.BurstSeconds)+" s of the rate; repeatable); env COFFER_API_RATE (comma-separated)")
	fs.StringVar(&metadataTTL, "upstream-metadata-ttl", "", "how long an upstream index document is used before it is revalidated, a Go duration (default 30m); env COFFER_UPSTREAM_METADATA_TTL")
	fs.StringVar(&dataRate, "data-plane-rate", "", "RATE[/BURST]: native-protocol requests/s per principal (default: no limit); env COFFER_DATA_PLANE_RATE")
	fs.StringVar(&repoRate, "repository-rate", "", "RATE[/BURST]: native-protocol requests/s per repository, all callers together (default: no limit); env COFFER_REPOSITORY_RATE")
	fs.StringVar(&anonRate, "unauthenticated-rate", "", "RATE[/BURST]: native-protocol requests/s without a valid token per source address (default: no limit); env COFFER_UNAUTHENTICATED_RATE")
	fs.IntVar(&maxDomains, "max-domains", 0, "most domains the account may have (default 10; 0: no limit); env COFFER_MAX_DOMAINS")
	fs.IntVar(&maxRepos, "max-repositories-per-domain", 0, "most repositories a domain may have (default 1000; 0: no limit); env COFFER_MAX_REPOSITORIES_PER_DOMAIN")
	fs.IntVar(&maxGroups, "max-package-groups-per-domain", 0, "most package groups a domain may have besides /* (default 1000; 0: no limit); env COFFER_MAX_PACKAGE_GROUPS_PER_DOMAIN")
	osvf := addOSVFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	if configFile == "" {
		configFile = getenv("COFFER_CONFIG")
	}
	if configFile != "" {
		md, err := toml.DecodeFile(configFile, &cfg)
		if err != nil {
			return cfg, fmt.Errorf("config file %s: %w", configFile, err)
		}
		if un := md.Undecoded(); len(un) > 0 {
			return cfg, fmt.Errorf("config file %s: unknown setting %q", configFile, un[0].String())
		}
	}

	env := func(name string, dst *string) {
		if v := getenv("COFFER_" + name); v != "" {
			*dst = v
		}
	}
	env("LISTEN", &cfg.Listen)
	env("DATA_DIR", &cfg.DataDir)
	env("PUBLIC_URL", &cfg.PublicURL)
	env("TLS_CERT", &cfg.TLSCert)
	env("TLS_KEY", &cfg.TLSKey)
	env("REGION", &cfg.Region)
	env("ACCOUNT_ID", &cfg.AccountID)
	env("LOG_LEVEL", &cfg.LogLevel)
	env("LOG_FORMAT", &cfg.LogFormat)
	env("METADATA", &cfg.Metadata)
	env("BLOBS", &cfg.Blobs)
	env("MASTER_KEY_FILE", &cfg.MasterKeyFile)
	env("API_RATE_LIMITS", &cfg.APIRateLimits)
	env("DATA_PLANE_RATE", &cfg.DataPlaneRate)
	env("UPSTREAM_METADATA_TTL", &cfg.UpstreamMetadataTTL)
	env("REPOSITORY_RATE", &cfg.RepositoryRate)
	env("UNAUTHENTICATED_RATE", &cfg.UnauthenticatedRate)
	if v := getenv("COFFER_API_RATE"); v != "" {
		cfg.APIRateList = append(cfg.APIRateList, strings.Split(v, ",")...)
	}
	for name, dst := range map[string]*int{"MAX_DOMAINS": &cfg.MaxDomains, "MAX_REPOSITORIES_PER_DOMAIN": &cfg.MaxRepositoriesPerDomain,
		"MAX_PACKAGE_GROUPS_PER_DOMAIN": &cfg.MaxPackageGroupsPerDomain} {
		if v := getenv("COFFER_" + name); v != "" {
			if _, err := fmt.Sscan(v, dst); err != nil {
				return cfg, fmt.Errorf("COFFER_%s: %q is not a number", name, v)
			}
		}
	}
	if v := getenv("COFFER_EXTERNAL_CONNECTION"); v != "" {
		cfg.ExternalConnectionList = append(cfg.ExternalConnectionList, strings.Split(v, ",")...)
	}
	for name, dst := range map[string]*int64{"MAX_ASSET_SIZE": &cfg.MaxAssetSize, "BLOB_REDIRECT_SIZE": &cfg.BlobRedirectSize} {
		if v := getenv("COFFER_" + name); v != "" {
			if _, err := fmt.Sscan(v, dst); err != nil {
				return cfg, fmt.Errorf("COFFER_%s: %q is not a number", name, v)
			}
		}
	}

	if err := cfg.osvEnv(getenv); err != nil {
		return cfg, err
	}

	set := func(v string, dst *string) {
		if v != "" {
			*dst = v
		}
	}
	set(listen, &cfg.Listen)
	set(dataDir, &cfg.DataDir)
	set(publicURL, &cfg.PublicURL)
	set(tlsCert, &cfg.TLSCert)
	set(tlsKey, &cfg.TLSKey)
	set(region, &cfg.Region)
	set(accountID, &cfg.AccountID)
	set(logLevel, &cfg.LogLevel)
	set(logFmt, &cfg.LogFormat)
	set(metadata, &cfg.Metadata)
	set(blobs, &cfg.Blobs)
	set(masterKeyFile, &cfg.MasterKeyFile)
	if maxAsset > 0 {
		cfg.MaxAssetSize = maxAsset
	}
	if redirectSize > 0 {
		cfg.BlobRedirectSize = redirectSize
	}
	set(apiLimits, &cfg.APIRateLimits)
	set(dataRate, &cfg.DataPlaneRate)
	set(metadataTTL, &cfg.UpstreamMetadataTTL)
	set(repoRate, &cfg.RepositoryRate)
	set(anonRate, &cfg.UnauthenticatedRate)
	// A count flag given as 0 means no limit, so what was given is read
	// from the flags set, not from the value.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "max-domains":
			cfg.MaxDomains = maxDomains
		case "max-repositories-per-domain":
			cfg.MaxRepositoriesPerDomain = maxRepos
		case "max-package-groups-per-domain":
			cfg.MaxPackageGroupsPerDomain = maxGroups
		}
	})
	cfg.ExternalConnectionList = append(cfg.ExternalConnectionList, conns...)
	cfg.APIRateList = append(cfg.APIRateList, apiRates...)
	osvf.apply(&cfg)
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

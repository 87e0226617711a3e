package config

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"coffer/internal/quota"
)

//go:generate go run ./cmd/genref

// setting declares one setting of `coffer serve`, once: the flag set, the
// environment, the config file and the reference documentation
// (docs/configuration.md, docs/coffer.example.toml) are all derived from
// the settings table, so they cannot drift apart.
type setting struct {
	// Name is the flag name and the config file key; the environment
	// variable is COFFER_ and Name in upper snake case.
	Name string
	// Default is the built-in value in its text form (as in the
	// environment); "" leaves the field empty.
	Default string
	// Shown says what the default amounts to when Default alone does not
	// (an empty value that means something, a size in bytes).
	Shown string
	// Example is a realistic value, other than the default, for the
	// example file and the tests; lists give entries comma-separated.
	Example string
	// Help is the meaning, without the default and the environment
	// variable, which are added from the fields above.
	Help string
	// field points into a Config; its type decides the kind of setting.
	// nil only for --config, which names the file and is no field.
	field func(*Config) any
}

// configSetting names the config file itself: a flag and an environment
// variable, never a key of the file.
const configSetting = "config"

var settings = []setting{
	{Name: configSetting, Example: "/etc/coffer/coffer.toml",
		Help: "config file (TOML) with the same settings, keyed by flag name"},
	{Name: "listen", Default: "127.0.0.1:8080", Example: "0.0.0.0:8443",
		Help:  "address to listen on, host:port",
		field: func(c *Config) any { return &c.Listen }},
	{Name: "public-url", Shown: "http://<listen>, https://<listen> with tls-cert", Example: "https://artifacts.example.com",
		Help:  "base URL clients reach",
		field: func(c *Config) any { return &c.PublicURL }},
	{Name: "tls-cert", Shown: "none: plain HTTP", Example: "/etc/coffer/tls/fullchain.pem",
		Help:  "PEM file with the server certificate and its chain: serve HTTPS with tls-key, reloaded when the file changes or on SIGHUP",
		field: func(c *Config) any { return &c.TLSCert }},
	{Name: "tls-key", Example: "/etc/coffer/tls/privkey.pem",
		Help:  "PEM file with the private key of tls-cert",
		field: func(c *Config) any { return &c.TLSKey }},
	{Name: "region", Default: "us-east-1", Example: "eu-west-1",
		Help:  "region in ARNs and SigV4 scopes",
		field: func(c *Config) any { return &c.Region }},
	{Name: "account-id", Shown: "a new one, kept in the data dir", Example: "123456789012",
		Help:  "12-digit account id",
		field: func(c *Config) any { return &c.AccountID }},
	{Name: "external-connection", Example: "public:maven-central=https://maven-mirror.example.com/maven2/,public:npmjs=https://npm-mirror.example.com/",
		Help:  "NAME=URL: where a public:* external connection points, e.g. to a mirror or an air-gapped copy",
		field: func(c *Config) any { return &c.ExternalConnectionList }},

	{Name: "data-dir", Default: "./coffer-data", Example: "/var/lib/coffer",
		Help:  "data directory",
		field: func(c *Config) any { return &c.DataDir }},
	{Name: "metadata", Shown: "SQLite at <data-dir>/metadata.db", Example: "postgres://coffer@db.example.com:5432/coffer?sslmode=verify-full",
		Help:  "metadata store: sqlite:///path, postgres://... or a libpq key-value string",
		field: func(c *Config) any { return &c.Metadata }},
	{Name: "blobs", Shown: "files under <data-dir>/blobs", Example: "s3://coffer-blobs/prod?region=eu-west-1",
		Help:  "blob store: file:///path or s3://bucket/prefix?region=...&endpoint=...&path-style=true, credentials from the AWS chain",
		field: func(c *Config) any { return &c.Blobs }},
	{Name: "master-key-file", Shown: "<data-dir>/master.key, created on first start", Example: "/etc/coffer/master.key",
		Help:  "file holding the base64 master key when COFFER_MASTER_KEY is not set",
		field: func(c *Config) any { return &c.MasterKeyFile }},
	{Name: "max-asset-size", Default: strconv.Itoa(5 << 30), Shown: "5 GiB", Example: strconv.Itoa(20 << 30),
		Help:  "largest asset in bytes",
		field: func(c *Config) any { return &c.MaxAssetSize }},
	{Name: "blob-redirect-size", Default: "0", Shown: "0: off", Example: strconv.Itoa(100 << 20),
		Help:  "redirect downloads of assets of at least this many bytes to a presigned object-store URL, S3 only",
		field: func(c *Config) any { return &c.BlobRedirectSize }},
	{Name: "upstream-metadata-ttl", Shown: "30m", Example: "10m",
		Help:  "how long an upstream index document is used before it is revalidated, a Go duration",
		field: func(c *Config) any { return &c.UpstreamMetadataTTL }},

	{Name: "log-level", Default: "info", Example: "debug",
		Help:  "debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel }},
	{Name: "log-format", Default: "json", Example: "text",
		Help:  "json or text",
		field: func(c *Config) any { return &c.LogFormat }},

	// AWS's default quotas; an operator raises them as AWS would on request.
	{Name: "api-rate-limits", Default: "on", Shown: "on, at AWS's published rates", Example: "off",
		Help:  "on or off: per-principal rate limits of the CodeArtifact API and IAM/STS",
		field: func(c *Config) any { return &c.APIRateLimits }},
	{Name: "api-rate", Example: "reads=200,PublishPackageVersion=20/100",
		Help: "NAME=RATE[/BURST]: per-principal rate of an API operation, of reads, writes, iam or sts, in requests/s " +
			"(0: no limit); the burst defaults to " + strconv.Itoa(quota.BurstSeconds) + " s of the rate",
		field: func(c *Config) any { return &c.APIRateList }},
	{Name: "data-plane-rate", Shown: "no limit", Example: "50/500",
		Help:  "RATE[/BURST]: native-protocol requests/s per principal",
		field: func(c *Config) any { return &c.DataPlaneRate }},
	{Name: "repository-rate", Shown: "no limit", Example: "200",
		Help:  "RATE[/BURST]: native-protocol requests/s per repository, all callers together",
		field: func(c *Config) any { return &c.RepositoryRate }},
	{Name: "unauthenticated-rate", Shown: "no limit", Example: "5/20",
		Help:  "RATE[/BURST]: native-protocol requests/s without a valid token, per source address",
		field: func(c *Config) any { return &c.UnauthenticatedRate }},
	{Name: "max-domains", Default: "10", Example: "20",
		Help:  "most domains the account may have; 0: no limit",
		field: func(c *Config) any { return &c.MaxDomains }},
	{Name: "max-repositories-per-domain", Default: "1000", Example: "200",
		Help:  "most repositories a domain may have; 0: no limit",
		field: func(c *Config) any { return &c.MaxRepositoriesPerDomain }},
	// AWS publishes no such quota; every package lookup walks the domain's
	// groups, so their number is bounded too.
	{Name: "max-package-groups-per-domain", Default: "1000", Example: "500",
		Help:  "most package groups a domain may have besides /*; 0: no limit",
		field: func(c *Config) any { return &c.MaxPackageGroupsPerDomain }},

	{Name: "osv-sync", Example: "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip,https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip",
		Help:  "URL of an OSV zip to import every osv-sync-interval; https, or http to a loopback host",
		field: func(c *Config) any { return &c.OSVSync }},
	{Name: "osv-sync-interval", Default: "24h", Example: "6h",
		Help:  "how often the osv-sync URLs are downloaded, a Go duration of at least 1m",
		field: func(c *Config) any { return &c.OSVSyncIntervalText }},
	{Name: "max-osv-import-size", Default: strconv.Itoa(1 << 30), Shown: "1 GiB", Example: strconv.Itoa(2 << 30),
		Help:  "largest OSV zip accepted by PUT /coffer/v1/osv/sources/{name}, in bytes",
		field: func(c *Config) any { return &c.MaxOSVImportSize }},
}

// kind is how a setting combines its sources, decided by its field's type.
type kind int

const (
	text  kind = iota // string: the last source given wins
	size              // int64: a flag of 0 (or less) is ignored, keeping the earlier value
	count             // int: a flag of 0 counts (it means no limit), so flags given are visited
	list              // []string: file, env (comma-separated) and repeated flags add up
)

func (s setting) kind() kind {
	if s.field == nil {
		return text
	}
	switch s.field(new(Config)).(type) {
	case *int64:
		return size
	case *int:
		return count
	case *[]string:
		return list
	}
	return text
}

// env is the setting's environment variable: COFFER_ and the name in upper
// snake case.
func (s setting) env() string {
	return "COFFER_" + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

// usage is the flag's help text.
func (s setting) usage() string {
	var notes []string
	if s.kind() == list {
		notes = append(notes, "repeatable")
	}
	if d := cmp.Or(s.Shown, s.Default); d != "" {
		notes = append(notes, "default "+d)
	}
	u := s.Help
	if notes != nil {
		u += " (" + strings.Join(notes, "; ") + ")"
	}
	u += "; env " + s.env()
	if s.kind() == list {
		u += " (comma-separated)"
	}
	return u
}

// setText applies the text form of a value (the default or the environment
// variable's) to c.
func (s setting) setText(c *Config, v string) error {
	switch p := s.field(c).(type) {
	case *string:
		*p = v
	case *[]string:
		*p = append(*p, strings.Split(v, ",")...)
	default: // *int, *int64
		if _, err := fmt.Sscan(v, p); err != nil {
			return fmt.Errorf("%s: %q is not a number", s.env(), v)
		}
	}
	return nil
}

// flagValue holds what the command line gave for one setting.
type flagValue struct {
	text string
	size int64
	n    int
	list listFlag
}

// setFlag applies a flag given on the command line to c.
func (s setting) setFlag(c *Config, v *flagValue) {
	switch p := s.field(c).(type) {
	case *string:
		if v.text != "" {
			*p = v.text
		}
	case *int64:
		if v.size > 0 {
			*p = v.size
		}
	case *int:
		*p = v.n
	case *[]string:
		*p = append(*p, v.list...)
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// newFlagSet registers a flag per setting, with zero defaults so that the
// flag package neither prints nor applies a default of its own.
func newFlagSet(stderr io.Writer) (*flag.FlagSet, map[string]*flagValue) {
	fs := flag.NewFlagSet("coffer serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	given := map[string]*flagValue{}
	for _, s := range settings {
		v := &flagValue{}
		given[s.Name] = v
		switch s.kind() {
		case text:
			fs.StringVar(&v.text, s.Name, "", s.usage())
		case size:
			fs.Int64Var(&v.size, s.Name, 0, s.usage())
		case count:
			fs.IntVar(&v.n, s.Name, 0, s.usage())
		case list:
			fs.Var(&v.list, s.Name, s.usage())
		}
	}
	return fs, given
}

func lookup(name string) (setting, bool) {
	for _, s := range settings {
		if s.Name == name {
			return s, true
		}
	}
	return setting{}, false
}

// Defaults returns the built-in settings.
func Defaults() Config {
	var c Config
	for _, s := range settings {
		if s.field != nil && s.Default != "" {
			if err := s.setText(&c, s.Default); err != nil {
				panic("config: default of " + s.Name + ": " + err.Error())
			}
		}
	}
	return c
}

// loadFile applies a TOML config file to c. Its top-level keys are the
// settings' names; an unknown key is an error, reported after the known
// keys are decoded (so a bad value is reported first, as it was).
func (c *Config) loadFile(name string) error {
	var doc map[string]toml.Primitive
	md, err := toml.DecodeFile(name, &doc)
	if err != nil {
		return err
	}
	var unknown error
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		// A dotted key (listen.x = 1) lists no key of its own for listen.
		top := k[0]
		if seen[top] {
			continue
		}
		seen[top] = true
		s, ok := lookup(top)
		if !ok || s.field == nil {
			if unknown == nil {
				unknown = fmt.Errorf("unknown setting %q", k[:1].String())
			}
			continue
		}
		if err := md.PrimitiveDecode(doc[top], s.field(c)); err != nil {
			return err
		}
	}
	return unknown
}

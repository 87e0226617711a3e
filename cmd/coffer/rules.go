package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

const rulesUsage = `usage:
  coffer rules set    --endpoint-url URL --domain D [SCOPE] RULE
  coffer rules list   --endpoint-url URL --domain D [SCOPE]
  coffer rules delete --endpoint-url URL --domain D --id ID

SCOPE is at most one of --repository R, --package-group PATTERN,
--external-connection NAME (none: the whole domain). RULE is one of
  --cooldown 72h                     versions from external connections wait this long
  --freeze 2026-01-02T15:04:05Z      nothing published after this time
  --block PATTERN [--versions RANGE] --reason TEXT
  --exempt PACKAGE[@VERSION] --reason TEXT
PATTERN is a package group pattern (/npm/*, /npm/acme/*, /pypi//requests$);
PACKAGE is a pattern or, with --format, a package as its clients write it
(left-pad, @acme/ui, org.example:lib). RANGE: ">=1.0.0,<1.4.2 || =2.0.0".

Credentials come from the AWS chain (environment, shared credentials file and
AWS_PROFILE or --profile); requests are signed with SigV4 for the service
codeartifact. Output is JSON on stdout.

flags:
`

// runRules is `coffer rules`.
func runRules(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "set" && args[0] != "list" && args[0] != "delete" {
		fmt.Fprint(stderr, rulesUsage)
		return errors.New("rules: give set, list or delete")
	}
	verb := args[0]
	fs := flag.NewFlagSet("coffer rules "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, rulesUsage); fs.PrintDefaults() }
	var endpoint, region, profile, domain, owner, repository, group, connection string
	var cooldown, freeze, block, versions, exempt, format, reason, id string
	fs.StringVar(&endpoint, "endpoint-url", getenv("COFFER_ENDPOINT_URL"), "coffer's URL (also COFFER_ENDPOINT_URL)")
	fs.StringVar(&region, "region", "", "region to sign for (default: from the AWS chain, else us-east-1)")
	fs.StringVar(&profile, "profile", "", "shared config profile (default: AWS_PROFILE)")
	fs.StringVar(&domain, "domain", "", "domain")
	fs.StringVar(&owner, "domain-owner", "", "domain owner (default: the server's account)")
	fs.StringVar(&repository, "repository", "", "scope: a repository")
	fs.StringVar(&group, "package-group", "", "scope: a package group pattern")
	fs.StringVar(&connection, "external-connection", "", "scope: an external connection, e.g. public:npmjs")
	if verb == "set" {
		fs.StringVar(&cooldown, "cooldown", "", "cooldown duration, e.g. 72h")
		fs.StringVar(&freeze, "freeze", "", "freeze time (RFC 3339)")
		fs.StringVar(&block, "block", "", "package pattern to block")
		fs.StringVar(&versions, "versions", "", "version range of --block")
		fs.StringVar(&exempt, "exempt", "", "package[@version] to exempt from cooldowns and freezes")
		fs.StringVar(&format, "format", "", "package format of a --block or --exempt given as the clients write it")
		fs.StringVar(&reason, "reason", "", "why (required with --block and --exempt)")
	}
	if verb == "delete" {
		fs.StringVar(&id, "id", "", "rule id (as set and list print it)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("rules %s: unexpected argument %q", verb, fs.Arg(0))
	}
	if endpoint == "" || domain == "" {
		return fmt.Errorf("rules %s: --endpoint-url and --domain are required", verb)
	}
	base, err := url.Parse(endpoint)
	if err != nil || base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return fmt.Errorf("rules %s: --endpoint-url %q is not an http(s) URL", verb, endpoint)
	}
	q := url.Values{"domain": {domain}}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	var method, path string
	var body []byte
	switch verb {
	case "set":
		in := map[string]string{"domain": domain, "domainOwner": owner, "repository": repository, "packageGroup": group,
			"externalConnection": connection, "cooldown": cooldown, "freezeAt": freeze, "versions": versions, "reason": reason}
		if block != "" {
			if in["block"], err = packagePattern(format, block); err != nil {
				return err
			}
		}
		if exempt != "" {
			pkg, version := splitVersion(exempt)
			if in["exempt"], err = packagePattern(format, pkg); err != nil {
				return err
			}
			in["version"] = version
		}
		for k, v := range in {
			if v == "" {
				delete(in, k)
			}
		}
		method, path, q = http.MethodPut, "/coffer/v1/rules", nil
		body, _ = json.Marshal(in)
	case "list":
		for k, v := range map[string]string{"repository": repository, "package-group": group, "external-connection": connection} {
			if v != "" {
				q.Set(k, v)
			}
		}
		method, path = http.MethodGet, "/coffer/v1/rules"
	case "delete":
		if id == "" {
			return errors.New("rules delete: --id is required")
		}
		method, path = http.MethodDelete, "/coffer/v1/rules/"+url.PathEscape(id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var opts []func(*awsconfig.LoadOptions) error
	if profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("rules %s: AWS configuration: %w", verb, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	u := base.JoinPath(path)
	u.RawQuery = q.Encode()
	out, err := signedCall(ctx, cfg, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("rules %s: %w", verb, err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "    ") != nil {
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
}

// splitVersion splits "package@version"; an npm scope's leading '@' and a
// pattern's '@' before its final '$' are part of the package.
func splitVersion(s string) (pkg, version string) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || strings.Contains(s[i:], "/") || strings.HasPrefix(s, "/") && !strings.HasSuffix(s[:i], "$") {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// packagePattern turns a package as its clients write it into an exact
// pattern for format; a pattern (starting with '/') is kept.
func packagePattern(format, pkg string) (string, error) {
	if strings.HasPrefix(pkg, "/") {
		return pkg, nil
	}
	if format == "" {
		return "", fmt.Errorf("rules set: %q is not a pattern (/format/namespace/name$); give --format for a package name", pkg)
	}
	namespace, name := "", pkg
	switch {
	case format == "npm" && strings.HasPrefix(pkg, "@"):
		namespace, name, _ = strings.Cut(pkg[1:], "/")
	case format == "maven":
		namespace, name, _ = strings.Cut(pkg, ":")
	case strings.Contains(pkg, "/"):
		i := strings.LastIndexByte(pkg, '/')
		namespace, name = pkg[:i], pkg[i+1:]
	}
	return "/" + format + "/" + namespace + "/" + name + "$", nil
}

// signedCall sends a SigV4-signed request for the service codeartifact,
// which is the scope coffer's API verifier accepts, and returns the body of
// a 2xx answer; any other answer becomes an error naming the server's
// error type and message.
func signedCall(ctx context.Context, cfg aws.Config, method, target string, body []byte) ([]byte, error) {
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "codeartifact", cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(out, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("%s (HTTP %d): %s", e.Type, resp.StatusCode, e.Message)
		}
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return out, nil
}

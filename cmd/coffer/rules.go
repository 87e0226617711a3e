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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"coffer/internal/rules/ruleops"
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
  --block-severity HIGH              versions an imported advisory marks vulnerable
                                     at this class or above (LOW, MODERATE, HIGH,
                                     CRITICAL); malicious ones are always refused
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
	api := addAPIFlags(fs, getenv)
	var domain, owner, repository, group, connection string
	var cooldown, freeze, block, versions, exempt, format, reason, id, severity string
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
		fs.StringVar(&severity, "block-severity", "", "block versions with an advisory of this severity or above: LOW, MODERATE, HIGH or CRITICAL")
	}
	if verb == "delete" {
		fs.StringVar(&id, "id", "", "rule id (as set and list print it)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base, q, err := api.domainRequest("rules "+verb, fs, domain, owner)
	if err != nil {
		return err
	}
	var method, path string
	var body []byte
	switch verb {
	case "set":
		in := map[string]string{"domain": domain, "domainOwner": owner, "repository": repository, "packageGroup": group,
			"externalConnection": connection, "cooldown": cooldown, "freezeAt": freeze, "versions": versions, "reason": reason,
			"blockSeverity": severity}
		if block != "" {
			if in["block"], err = packagePattern(format, block); err != nil {
				return err
			}
		}
		if exempt != "" {
			pkg, version := ruleops.SplitVersion(exempt)
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
	u := base.JoinPath(path)
	u.RawQuery = q.Encode()
	return callAPI("rules "+verb, api, time.Minute, method, u, body, stdout)
}

// packagePattern is ruleops.PackagePattern with the CLI's advice.
func packagePattern(format, pkg string) (string, error) {
	p, err := ruleops.PackagePattern(format, pkg)
	if errors.Is(err, ruleops.ErrNoFormat) {
		return "", fmt.Errorf("rules set: %q is not a pattern (/format/namespace/name$); give --format for a package name", pkg)
	}
	return p, err
}

// callAPI is a CLI command's one call of the coffer API: a signed request
// with the credentials of the AWS chain, within timeout, and its JSON
// answer printed; cmd names the command in errors.
func callAPI(cmd string, api *apiFlags, timeout time.Duration, method string, u *url.URL, body []byte, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cfg, err := awsConfig(ctx, api.profile, api.region)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	out, err := signedCall(ctx, cfg, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return printJSON(stdout, out)
}

// signedCall sends a SigV4-signed request with a JSON body (nil: none)
// through signedSend (signed.go).
func signedCall(ctx context.Context, cfg aws.Config, method, target string, body []byte) ([]byte, error) {
	sum := sha256.Sum256(body)
	b := &signedBody{r: bytes.NewReader(body), size: int64(len(body)), hash: hex.EncodeToString(sum[:])}
	if body != nil {
		b.contentType = "application/json"
	}
	return signedSend(ctx, cfg, nil, method, target, b)
}

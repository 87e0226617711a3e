package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"coffer/internal/webhook"
)

const webhooksUsage = `usage:
  coffer webhooks create   --endpoint-url URL --domain D [--repository R] --url HOOK_URL --secret S
                           [--format F]... [--package-pattern PATTERN] [--operation OP]...
                           [--max-retry-duration 1h]
  coffer webhooks list     --endpoint-url URL --domain D [--repository R]
  coffer webhooks delete   --endpoint-url URL --domain D --id ID
  coffer webhooks failures --endpoint-url URL --domain D --id ID

A webhook is sent, as an HTTP POST of the event's JSON, every package version
change of the domain (or of one repository) from its creation on, in the shape
of CodeArtifact's EventBridge event "CodeArtifact Package Version State Change",
in order, at least once. Each request carries the header
  Coffer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 with the secret of "<t>.<body>">
A delivery that fails is retried with exponential backoff for --max-retry-duration,
then kept as failed (webhooks failures) and the next event is sent.
Filters: --format (npm, pypi, maven, ...), --package-pattern (a package group
pattern: /npm/acme/*, /pypi//requests$), --operation (Created, Updated, Deleted).
The secret may also come from COFFER_WEBHOOK_SECRET; it is never shown again.

Credentials come from the AWS chain (environment, shared credentials file and
AWS_PROFILE or --profile); requests are signed with SigV4 for the service
codeartifact. Output is JSON on stdout.

flags:
`

// repeated collects a repeatable flag.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// runWebhooks is `coffer webhooks`.
func runWebhooks(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verbs := []string{"create", "list", "delete", "failures"}
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		fmt.Fprint(stderr, webhooksUsage)
		return errors.New("webhooks: give create, list, delete or failures")
	}
	verb := args[0]
	fs := flag.NewFlagSet("coffer webhooks "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, webhooksUsage); fs.PrintDefaults() }
	api := addAPIFlags(fs, getenv)
	var domain, owner, repository, hookURL, secret, pattern, retry, id string
	var formats, operations repeated
	fs.StringVar(&domain, "domain", "", "domain")
	fs.StringVar(&owner, "domain-owner", "", "domain owner (default: the server's account)")
	switch verb {
	case "create":
		fs.StringVar(&repository, "repository", "", "only this repository's events")
		fs.StringVar(&hookURL, "url", "", "the webhook's URL (http or https)")
		fs.StringVar(&secret, "secret", getenv("COFFER_WEBHOOK_SECRET"), "HMAC secret, 16 to 256 characters (also COFFER_WEBHOOK_SECRET)")
		fs.Var(&formats, "format", "only events of this package format (repeatable)")
		fs.StringVar(&pattern, "package-pattern", "", "only events of packages this package group pattern matches")
		fs.Var(&operations, "operation", "only events of this operation type: Created, Updated or Deleted (repeatable)")
		fs.StringVar(&retry, "max-retry-duration", "", "how long a failing delivery is retried (default 1h)")
	case "list":
		fs.StringVar(&repository, "repository", "", "only the webhooks limited to this repository")
	default:
		fs.StringVar(&id, "id", "", "webhook id (as create and list print it)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base, q, err := api.domainRequest("webhooks "+verb, fs, domain, owner)
	if err != nil {
		return err
	}
	var method, path string
	var body []byte
	switch verb {
	case "create":
		if hookURL == "" || secret == "" {
			return errors.New("webhooks create: --url and --secret are required")
		}
		body, _ = json.Marshal(webhook.Input{Domain: domain, DomainOwner: owner, Repository: repository, URL: hookURL, Secret: secret,
			Formats: formats, PackagePattern: pattern, Operations: operations, MaxRetryDuration: retry})
		method, path, q = http.MethodPost, "/coffer/v1/webhooks", nil
	case "list":
		if repository != "" {
			q.Set("repository", repository)
		}
		method, path = http.MethodGet, "/coffer/v1/webhooks"
	case "delete", "failures":
		if id == "" {
			return fmt.Errorf("webhooks %s: --id is required", verb)
		}
		method, path = http.MethodDelete, "/coffer/v1/webhooks/"+url.PathEscape(id)
		if verb == "failures" {
			method, path = http.MethodGet, path+"/failures"
		}
	}
	u := base.JoinPath(path)
	u.RawQuery = q.Encode()
	return callAPI("webhooks "+verb, api, time.Minute, method, u, body, stdout)
}

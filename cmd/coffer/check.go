package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"coffer/internal/lockfile"
)

const checkUsage = `usage:
  coffer check withheld --endpoint-url URL --domain D --repository R --format F [--namespace N] --package P
  coffer check lockfile --endpoint-url URL --domain D --repository R [--kind K] FILE
  coffer check quarantined --endpoint-url URL --domain D

withheld lists the versions of a package stored in the repository or its
upstreams that the supply-chain rules or imported advisories withhold, with
the reason (state "quarantined" for a version an advisory marks malicious).

lockfile sends a build's lockfile and lists each pinned version the
repository would refuse now, and why; "pending" lists versions not fetched
yet that a cooldown or freeze may still refuse once their publish time is
known. K is package-lock, requirements, cargo-lock, gemfile-lock or maven
(default: from FILE's name; a Maven dependency list needs --kind maven).
The exit status is 1 when a pinned version is refused (the JSON is printed).

quarantined lists the domain's stored versions that an imported advisory
marks malicious: they are neither listed nor served.

Credentials come from the AWS chain (environment, shared credentials file and
AWS_PROFILE or --profile); requests are signed with SigV4 for the service
codeartifact. Output is JSON on stdout.

flags:
`

// errRefused is the exit of a lockfile with a refused version.
var errRefused = errors.New("check lockfile: the repository refuses a pinned version")

// runCheck is `coffer check`.
func runCheck(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "withheld" && args[0] != "lockfile" && args[0] != "quarantined" {
		fmt.Fprint(stderr, checkUsage)
		return errors.New("check: give withheld, lockfile or quarantined")
	}
	verb := args[0]
	fs := flag.NewFlagSet("coffer check "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	api := addAPIFlags(fs, getenv)
	var domain, owner, repository, format, namespace, pkg, kind string
	fs.StringVar(&domain, "domain", "", "domain")
	fs.StringVar(&owner, "domain-owner", "", "domain owner (default: the server's account)")
	if verb != "quarantined" {
		fs.StringVar(&repository, "repository", "", "repository")
	}
	if verb == "withheld" {
		fs.StringVar(&format, "format", "", "package format")
		fs.StringVar(&namespace, "namespace", "", "package namespace (npm scope without '@', Maven groupId)")
		fs.StringVar(&pkg, "package", "", "package name")
	} else if verb == "lockfile" {
		fs.StringVar(&kind, "kind", "", "lockfile kind (default: from the file name)")
	}
	positional, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	base, err := api.base("check " + verb)
	if err != nil {
		return err
	}
	if domain == "" || repository == "" && verb != "quarantined" {
		return fmt.Errorf("check %s: --domain and --repository are required", verb)
	}
	q := url.Values{"domain": {domain}}
	if repository != "" {
		q.Set("repository", repository)
	}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg, err := awsConfig(ctx, api.profile, api.region)
	if err != nil {
		return fmt.Errorf("check %s: %w", verb, err)
	}
	var out []byte
	switch verb {
	case "withheld":
		if len(positional) > 0 {
			return fmt.Errorf("check withheld: unexpected argument %q", positional[0])
		}
		if format == "" || pkg == "" {
			return errors.New("check withheld: --format and --package are required")
		}
		q.Set("format", format)
		q.Set("package", pkg)
		if namespace != "" {
			q.Set("namespace", namespace)
		}
		u := base.JoinPath("/coffer/v1/withheld")
		u.RawQuery = q.Encode()
		out, err = signedSend(ctx, cfg, nil, http.MethodGet, u.String(), nil)
	case "quarantined":
		if len(positional) > 0 {
			return fmt.Errorf("check quarantined: unexpected argument %q", positional[0])
		}
		u := base.JoinPath("/coffer/v1/quarantine")
		u.RawQuery = q.Encode()
		out, err = signedSend(ctx, cfg, nil, http.MethodGet, u.String(), nil)
	case "lockfile":
		if len(positional) != 1 {
			return errors.New("check lockfile: give one FILE")
		}
		file := positional[0]
		if kind == "" {
			var ok bool
			if kind, ok = lockfile.Detect(filepath.Base(file)); !ok {
				return fmt.Errorf("check lockfile: cannot tell the kind of %s; give --kind (one of %v)", file, lockfile.Kinds())
			}
		}
		data, rerr := os.ReadFile(file)
		if rerr != nil {
			return fmt.Errorf("check lockfile: %w", rerr)
		}
		q.Set("kind", kind)
		u := base.JoinPath("/coffer/v1/preflight")
		u.RawQuery = q.Encode()
		sum := sha256.Sum256(data)
		out, err = signedSend(ctx, cfg, nil, http.MethodPost, u.String(),
			&signedBody{r: bytes.NewReader(data), size: int64(len(data)), hash: hex.EncodeToString(sum[:]), contentType: "application/octet-stream"})
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", verb, err)
	}
	if err := printJSON(stdout, out); err != nil {
		return err
	}
	if verb == "lockfile" && bytes.Contains(out, []byte(`"refused":[{`)) {
		return errRefused
	}
	return nil
}

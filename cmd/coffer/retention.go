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
	"time"

	"coffer/internal/retention"
)

const retentionUsage = `usage:
  coffer retention set    --endpoint-url URL --domain D [--repository R] [--package-group PATTERN]
                          [--keep-last N] [--unused-days D] [--snapshots-older-than D [--snapshots-keep-last N]]
  coffer retention list   --endpoint-url URL --domain D [--repository R]
  coffer retention delete --endpoint-url URL --domain D --id ID
  coffer retention run    --endpoint-url URL --domain D [--repository R] [--package-group PATTERN]
                          [--keep-last N] [--unused-days D] [--snapshots-older-than D [--snapshots-keep-last N]]
                          [--dry-run] [--as-of RFC3339]
  coffer retention runs   --endpoint-url URL --domain D

Retention removes package versions and deletes the blobs nothing references
any more before the run returns:
  --keep-last N             keep the N newest versions (by published time) of each package
  --unused-days D           remove versions cached from external connections or upstream
                            repositories that nobody downloaded (nor first fetched) for D days
  --snapshots-older-than D  remove Maven SNAPSHOT builds published more than D days ago,
                            keeping the --snapshots-keep-last newest of each SNAPSHOT (default 1)
Versions that an exempt supply-chain rule names exactly are never removed; under
a freeze, the newest versions at or before it are kept as well.

set stores a rule; the server applies the stored rules every hour. run with a
policy flag applies that policy once; run without one applies the stored rules
of the domain (or of the repository). --dry-run lists exactly what would be
removed and the bytes that would be freed, and changes nothing. --as-of
evaluates the day-based criteria as if it were then.

Output is JSON on stdout; run prints the run: "versions" (removed, or to remove)
and "bytesFreed".

flags:
`

// runRetention is `coffer retention`.
func runRetention(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	verbs := []string{"set", "list", "delete", "run", "runs"}
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		fmt.Fprint(stderr, retentionUsage)
		return errors.New("retention: give set, list, delete, run or runs")
	}
	verb := args[0]
	fs := flag.NewFlagSet("coffer retention "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, retentionUsage); fs.PrintDefaults() }
	api := addAPIFlags(fs, getenv)
	var in retention.Input
	var id, asOf string
	var dryRun bool
	fs.StringVar(&in.Domain, "domain", "", "domain")
	fs.StringVar(&in.DomainOwner, "domain-owner", "", "domain owner (default: the server's account)")
	switch verb {
	case "set", "run":
		fs.StringVar(&in.Repository, "repository", "", "only this repository (default: every repository of the domain)")
		fs.StringVar(&in.PackageGroup, "package-group", "", "only the packages this package group pattern matches (/npm/acme/*)")
		fs.IntVar(&in.KeepLast, "keep-last", 0, "keep the N newest versions of each package")
		fs.IntVar(&in.UnusedDays, "unused-days", 0, "remove cached versions not downloaded for D days")
		fs.IntVar(&in.SnapshotDays, "snapshots-older-than", 0, "remove Maven SNAPSHOT builds older than D days")
		fs.IntVar(&in.SnapshotKeep, "snapshots-keep-last", 0, "keep the N newest builds of each SNAPSHOT (default 1)")
		if verb == "run" {
			fs.BoolVar(&dryRun, "dry-run", false, "list what would be removed and freed; change nothing")
			fs.StringVar(&asOf, "as-of", "", "evaluate the day-based criteria as of this RFC 3339 time (default now)")
		}
	case "list":
		fs.StringVar(&in.Repository, "repository", "", "only the rules that apply to this repository")
	case "delete":
		fs.StringVar(&id, "id", "", "rule id (as set and list print it)")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base, q, err := api.domainRequest("retention "+verb, fs, in.Domain, in.DomainOwner)
	if err != nil {
		return err
	}
	var method, path string
	var body []byte
	timeout := time.Minute
	switch verb {
	case "set":
		body, _ = json.Marshal(in)
		method, path, q = http.MethodPut, "/coffer/v1/retention/rules", nil
	case "list":
		if in.Repository != "" {
			q.Set("repository", in.Repository)
		}
		method, path = http.MethodGet, "/coffer/v1/retention/rules"
	case "delete":
		if id == "" {
			return errors.New("retention delete: --id is required")
		}
		method, path = http.MethodDelete, "/coffer/v1/retention/rules/"+url.PathEscape(id)
	case "run":
		body, _ = json.Marshal(retention.RunInput{Input: in, DryRun: dryRun, AsOf: asOf})
		method, path, q = http.MethodPost, "/coffer/v1/retention/run", nil
		timeout = time.Hour // a large first run deletes many versions and blobs
	case "runs":
		method, path = http.MethodGet, "/coffer/v1/retention/runs"
	}
	u := base.JoinPath(path)
	u.RawQuery = q.Encode()
	return callAPI("retention "+verb, api, timeout, method, u, body, stdout)
}

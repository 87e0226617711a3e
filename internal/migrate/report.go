package migrate

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"
)

// Counts are the records copied, by kind.
type Counts struct {
	Settings            int64 `json:"settings"`
	Domains             int64 `json:"domains"`
	Repositories        int64 `json:"repositories"`
	Packages            int64 `json:"packages"`
	Versions            int64 `json:"versions"`
	Assets              int64 `json:"assets"`
	PackageGroups       int64 `json:"package_groups"`
	AllowedRepositories int64 `json:"allowed_repositories"`
	Tags                int64 `json:"tags"`
	Users               int64 `json:"iam_users"`
	Groups              int64 `json:"iam_groups"`
	Memberships         int64 `json:"iam_group_memberships"`
	Roles               int64 `json:"iam_roles"`
	Policies            int64 `json:"iam_managed_policies"`
	PolicyVersions      int64 `json:"iam_policy_versions"`
	Attachments         int64 `json:"iam_policy_attachments"`
	InlinePolicies      int64 `json:"iam_inline_policies"`
	AccessKeys          int64 `json:"access_keys"`
}

// countRow is one line of the table.
type countRow struct {
	name string
	n    int64
}

// rows are the counts in table order.
func (c Counts) rows() []countRow {
	return []countRow{
		{"settings", c.Settings}, {"domains", c.Domains}, {"repositories", c.Repositories},
		{"packages", c.Packages}, {"package versions", c.Versions}, {"assets", c.Assets},
		{"package groups", c.PackageGroups}, {"allowed repositories", c.AllowedRepositories}, {"tags", c.Tags},
		{"IAM users", c.Users}, {"IAM groups", c.Groups}, {"IAM group memberships", c.Memberships},
		{"IAM roles", c.Roles}, {"IAM managed policies", c.Policies}, {"IAM policy versions", c.PolicyVersions},
		{"IAM policy attachments", c.Attachments}, {"IAM inline policies", c.InlinePolicies}, {"access keys", c.AccessKeys},
	}
}

// Report is what a run did. From and To are the caller's to fill in (Run
// knows only the stores, not their settings).
type Report struct {
	From             string           `json:"from,omitempty"`
	To               string           `json:"to,omitempty"`
	Records          Counts           `json:"records"`
	VersionsByStatus map[string]int64 `json:"versions_by_status"`
	Blobs            BlobStats        `json:"blobs"`
	Started          time.Time        `json:"started"`
	Duration         time.Duration    `json:"-"`
	DurationSeconds  float64          `json:"duration_seconds"`
	// Error is the failure of a run that did not complete ("" otherwise);
	// the metadata was then not written.
	Error string   `json:"error,omitempty"`
	Notes []string `json:"notes"`
}

// Notes every report carries: what the operator must do beyond the copy.
var notes = []string{
	"access key secrets and the token key are copied sealed by the source's master key: " +
		"serve the target with the same master key (COFFER_MASTER_KEY or --master-key-file)",
	"temporary credentials of assumed-role sessions are not copied; their holders assume the role again",
	"files of the data dir (root-credentials, audit.log) are not in the stores and are not copied",
}

func newReport() *Report {
	return &Report{Started: time.Now().UTC(), VersionsByStatus: map[string]int64{}, Notes: notes}
}

func (r *Report) finish() {
	r.Duration = time.Since(r.Started)
	r.DurationSeconds = r.Duration.Seconds()
}

// WriteTable prints the report for a person.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.From != "" || r.To != "" {
		fmt.Fprintf(w, "from: %s\nto:   %s\n\n", r.From, r.To)
	}
	row := func(name string, v any) { fmt.Fprintf(tw, "  %s\t%12v\n", name, v) }
	fmt.Fprintln(tw, "records copied\t")
	for _, c := range r.Records.rows() {
		row(c.name, c.n)
		if c.name == "package versions" {
			for _, status := range slices.Sorted(maps.Keys(r.VersionsByStatus)) {
				row("  "+status, r.VersionsByStatus[status])
			}
		}
	}
	fmt.Fprintln(tw, "blobs\t")
	row("referenced", r.Blobs.Referenced)
	row("copied", r.Blobs.Copied)
	row("already present", r.Blobs.AlreadyPresent)
	fmt.Fprintf(tw, "  bytes copied\t%12d  %s\n", r.Blobs.BytesCopied, humanBytes(r.Blobs.BytesCopied))
	row("duration", r.Duration.Round(time.Millisecond))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the report as an indented JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// humanBytes is n with a binary prefix, e.g. "(3.4 MiB)"; "" below 1 KiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return ""
	}
	f, i := float64(n), 0
	for f >= unit && i < 4 {
		f /= unit
		i++
	}
	return fmt.Sprintf("(%.1f %ciB)", f, "KMGT"[i-1])
}

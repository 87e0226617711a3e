// Package migrate copies a whole coffer deployment, its metadata store and
// the blobs its assets reference, into another pair of stores of any driver
// (embedded SQLite and files to PostgreSQL and S3, and back). It works only
// through store.Store and blob.Store, so every driver pair is supported.
//
// The copy is resumable without bookkeeping. Blobs are copied first, each one
// verified against its SHA-256 name before it is committed, and a blob the
// target already holds is skipped: content addressing makes a present blob a
// correct one. The metadata is then written in a single target transaction,
// read from a single source transaction: an interrupted run leaves the target
// metadata as it was (empty), and the next run skips the blobs already copied
// and writes the metadata again.
//
// Records get new ids in the target; everything else (times, revisions,
// sealed secrets, ARNs) is copied verbatim. Access key secrets and the token
// key stay sealed by the source's master key, so the target must be served
// with the same master key.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/store"
)

// Stores are one side of a migration.
type Stores struct {
	Meta  store.Store
	Blobs blob.Store
}

// Options tune Run.
type Options struct {
	// Region is the region of the deployment (`coffer serve --region`): the
	// service keeps tags under resource ARNs that name it, so it is needed
	// to find them. Default us-east-1.
	Region string
	// Force lets Run write into a target whose metadata store is not empty.
	// A record that collides with one already there (a setting with another
	// value, a domain, IAM entity or access key of the same name or id, tags
	// on the same ARN) still fails the run, and then nothing is written.
	Force bool
	// Concurrency is the number of blobs copied at once (default 4).
	Concurrency int
	// PageSize is the number of records asked for per listing call (default
	// DefaultPageSize).
	PageSize int
	// Log receives progress messages; nil discards them.
	Log *slog.Logger
	// Sealer opens the data keys of the source's encrypted domains with its
	// master key, to verify their objects as they are copied; a source with
	// encrypted domains needs it (ErrNoMasterKey).
	Sealer artifact.KeySealer
}

// Errors Run returns, to be matched with errors.Is.
var (
	// ErrSameStore: the source and the target are the same metadata store.
	ErrSameStore = errors.New("the source and the target are the same metadata store")
	// ErrTargetNotEmpty: the target metadata store holds records and Force
	// is off.
	ErrTargetNotEmpty = errors.New("the target metadata store is not empty")
)

// Run copies everything from into to and reports what it did. The report is
// returned with an error too: it then tells how far the blob copy got.
func Run(ctx context.Context, from, to Stores, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	rep := newReport()
	defer rep.finish()
	if same(from.Meta, to.Meta) {
		return rep, ErrSameStore
	}
	// Fail before copying gigabytes of blobs; checked again in the write.
	if !opts.Force {
		if err := to.Meta.Read(ctx, checkEmpty); err != nil {
			return rep, err
		}
	}
	// One source snapshot for both phases: the metadata written references
	// exactly the blobs copied.
	committed := false
	err := from.Meta.Read(ctx, func(src store.Tx) error {
		opts.Log.Info("copying blobs", "concurrency", opts.Concurrency)
		if err := copyBlobs(ctx, src, from.Blobs, to.Blobs, opts, &rep.Blobs); err != nil {
			return err
		}
		opts.Log.Info("blobs copied", "copied", rep.Blobs.Copied, "already_present", rep.Blobs.AlreadyPresent,
			"bytes", rep.Blobs.BytesCopied)
		opts.Log.Info("copying metadata in one transaction")
		c := newCopier(src, opts)
		err := to.Meta.Write(ctx, func(dst store.Tx) error {
			c.reset(dst)
			if !opts.Force {
				if err := checkEmpty(dst); err != nil {
					return err
				}
			}
			return c.all()
		})
		if err != nil {
			return err
		}
		committed = true
		rep.Records, rep.VersionsByStatus = c.counts, c.byStatus
		return nil
	})
	// Once the target committed, the copy is complete: a failure to end the
	// source's read transaction afterwards changes nothing.
	if err != nil && !committed {
		return rep, err
	}
	opts.Log.Info("metadata committed", "domains", rep.Records.Domains, "versions", rep.Records.Versions)
	return rep, nil
}

// same reports whether a and b are the same store value (false rather than
// a panic for a driver type that is not comparable).
func same(a, b store.Store) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta != nil && ta.Comparable() && a == b
}

func withDefaults(o Options) Options {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// checkEmpty fails with ErrTargetNotEmpty, naming what it found, when the
// store holds any setting, domain or IAM entity (everything else hangs off
// those).
func checkEmpty(tx store.Tx) error {
	one := store.Page{Limit: 1}
	var found []string
	note := func(what string, n int, err error) error {
		if n > 0 {
			found = append(found, what)
		}
		return err
	}
	settings, err := tx.ListSettings()
	if err := note("settings", len(settings), err); err != nil {
		return err
	}
	domains, err := tx.ListDomains(one)
	if err := note("domains", len(domains), err); err != nil {
		return err
	}
	users, err := tx.ListUsers("", one)
	if err := note("IAM users", len(users), err); err != nil {
		return err
	}
	groups, err := tx.ListGroups("", one)
	if err := note("IAM groups", len(groups), err); err != nil {
		return err
	}
	roles, err := tx.ListRoles("", one)
	if err := note("IAM roles", len(roles), err); err != nil {
		return err
	}
	policies, err := tx.ListPolicies("", one)
	if err := note("IAM policies", len(policies), err); err != nil {
		return err
	}
	if len(found) > 0 {
		return fmt.Errorf("%w (it holds %s): migrate into a new, empty store, or force writing into it "+
			"(a record that collides with one already there still fails the run)", ErrTargetNotEmpty, strings.Join(found, ", "))
	}
	return nil
}

// copier writes the source snapshot into one target transaction.
type copier struct {
	src, dst store.Tx
	opts     Options
	arns     *artifact.Service // builds resource ARNs exactly as the service keys tags
	counts   Counts
	byStatus map[string]int64
	logged   time.Time // last progress message
}

func newCopier(src store.Tx, opts Options) *copier {
	// Only the ARN builders of the service are used: they need no stores.
	return &copier{src: src, opts: opts, arns: artifact.New(artifact.Config{Region: opts.Region}, nil, nil, nil)}
}

// reset starts over on a (new) target transaction.
func (c *copier) reset(dst store.Tx) {
	c.dst, c.counts, c.byStatus, c.logged = dst, Counts{}, map[string]int64{}, time.Now()
}

// progress tells now and then how far a long metadata copy got.
func (c *copier) progress() {
	if time.Since(c.logged) >= progressEvery {
		c.logged = time.Now()
		c.opts.Log.Info("copying metadata", "domains", c.counts.Domains, "repositories", c.counts.Repositories,
			"packages", c.counts.Packages, "versions", c.counts.Versions, "assets", c.counts.Assets)
	}
}

// all copies every record. IAM comes before the domains only for
// readability of a failure: nothing in one refers to the other.
func (c *copier) all() error {
	if err := c.settings(); err != nil {
		return err
	}
	if err := c.iam(); err != nil {
		return err
	}
	if err := c.accessKeys(); err != nil {
		return err
	}
	return c.domains()
}

// page lists with the configured page size.
func page[T any](c *copier, list func(store.Page) ([]T, error), key func(*T) string, fn func(*T) error) error {
	return eachPage(c.opts.PageSize, list, key, fn)
}

package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"coffer/internal/backend"
	"coffer/internal/blob"
	"coffer/internal/migrate"
	"coffer/internal/store"
)

const migrateUsage = `usage: coffer migrate --from METADATA,BLOBS --to METADATA,BLOBS [flags]

Copies a whole deployment, its metadata store and every blob its assets
reference, into another pair of stores: embedded SQLite and files to
PostgreSQL and S3, back, or any other pair. METADATA and BLOBS are what
coffer serve takes as --metadata and --blobs:

  sqlite:///srv/coffer/metadata.db,file:///srv/coffer/blobs
  postgres://coffer@db/coffer,s3://bucket/prefix?region=eu-west-1

A side is split at the first comma followed by "file:" or "s3://" (a
PostgreSQL setting may hold commas of its own); --from-metadata, --from-blobs,
--to-metadata and --to-blobs give the two settings separately instead.

Stop every coffer serving the source first; the source is then only read
(opening it brings an older schema up to date, as coffer serve would). The
target metadata store must be empty (see --force). Blobs are copied first,
each verified against its SHA-256 before it is committed; then the metadata
is written in one transaction. An interrupted run leaves the target metadata
untouched: run the same command again, and the blobs already copied are
skipped. The same blob store on both sides is allowed (a metadata-only move).

Access key secrets and the token key are copied as they are, sealed by the
master key: serve the target with the source's master key (COFFER_MASTER_KEY,
or its master.key file via --master-key-file). Temporary credentials of
assumed-role sessions are not copied, nor the files of the data dir
(root-credentials, audit.log).

The blobs of encrypted domains are copied as they are stored, encrypted,
under the same object names; each is verified as it is copied by
decrypting it with its domain's key, which needs the source's master key:
COFFER_MASTER_KEY, or --master-key-file (default: master.key beside a
SQLite source database).

flags:
`

// runMigrate is `coffer migrate`.
func runMigrate(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	var from, to, fromMeta, fromBlobs, toMeta, toBlobs, reportFile, region string
	var force bool
	var concurrency int
	fs.StringVar(&from, "from", "", "the source: METADATA,BLOBS")
	fs.StringVar(&to, "to", "", "the target: METADATA,BLOBS")
	fs.StringVar(&fromMeta, "from-metadata", "", "the source metadata store (instead of --from)")
	fs.StringVar(&fromBlobs, "from-blobs", "", "the source blob store (instead of --from)")
	fs.StringVar(&toMeta, "to-metadata", "", "the target metadata store (instead of --to)")
	fs.StringVar(&toBlobs, "to-blobs", "", "the target blob store (instead of --to)")
	fs.BoolVar(&force, "force", false, "write into a target metadata store that is not empty; a record that collides with one there still fails the run, and then nothing is written")
	fs.StringVar(&reportFile, "report", "", "also write the report as JSON to this file")
	fs.StringVar(&region, "region", "", "the deployment's region (coffer serve --region), which the ARNs of tagged resources name (default $COFFER_REGION, else us-east-1)")
	fs.IntVar(&concurrency, "concurrency", 4, "blobs copied at once")
	var masterKeyFile string
	fs.StringVar(&masterKeyFile, "master-key-file", getenv("COFFER_MASTER_KEY_FILE"), "the source's master key file, to verify the blobs of encrypted domains (default: master.key beside a SQLite source; env COFFER_MASTER_KEY_FILE, or the key itself in COFFER_MASTER_KEY)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	srcMeta, srcBlobs, err := migrateSide("from", from, fromMeta, fromBlobs)
	if err != nil {
		return err
	}
	dstMeta, dstBlobs, err := migrateSide("to", to, toMeta, toBlobs)
	if err != nil {
		return err
	}
	if sameStore(srcMeta, dstMeta) {
		return fmt.Errorf("migrate: --from and --to name the same metadata store (%s)", srcMeta)
	}
	if srcMeta.Kind == backend.SQLite {
		// Opening a missing database would create an empty one.
		if _, err := os.Stat(srcMeta.Target); err != nil {
			return fmt.Errorf("migrate: source metadata store: %w", err)
		}
	}
	if region == "" {
		region = cmp.Or(getenv("COFFER_REGION"), "us-east-1")
	}
	if masterKeyFile == "" && srcMeta.Kind == backend.SQLite {
		masterKeyFile = filepath.Join(filepath.Dir(srcMeta.Target), "master.key")
	}
	sealer, err := migrate.LoadSealer(masterKeyFile, getenv("COFFER_MASTER_KEY"))
	if err != nil {
		return fmt.Errorf("migrate: master key: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	src, dst, closeAll, err := openMigrateStores(ctx, srcMeta, srcBlobs, dstMeta, dstBlobs)
	if err != nil {
		return err
	}
	defer closeAll()

	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := migrate.Run(ctx, src, dst, migrate.Options{Region: region, Force: force, Concurrency: concurrency, Log: log, Sealer: sealer})
	rep.From, rep.To = srcMeta.String()+" + "+srcBlobs.String(), dstMeta.String()+" + "+dstBlobs.String()
	if err != nil {
		rep.Error = err.Error()
	}
	if reportFile != "" {
		var buf bytes.Buffer
		if werr := rep.WriteJSON(&buf); werr == nil {
			werr = os.WriteFile(reportFile, buf.Bytes(), 0o644)
			err = errors.Join(err, werr)
		}
	}
	switch {
	case errors.Is(err, migrate.ErrTargetNotEmpty):
		return fmt.Errorf("migrate: %w (--force)", err)
	case errors.Is(err, migrate.ErrSameStore):
		return fmt.Errorf("migrate: %w", err)
	case err != nil && rep.Error != "":
		return fmt.Errorf("migrate: %w\nnothing was written to the target metadata store; the %d blobs copied are kept, "+
			"and running the same command again skips them", err, rep.Blobs.Copied)
	case err != nil:
		return fmt.Errorf("migrate: the copy succeeded, but the report: %w", err)
	}
	return rep.WriteTable(stdout)
}

// migrateSide reads one side of a migration from --from/--to or from the
// separate flags.
func migrateSide(name, both, meta, blobs string) (backend.Spec, backend.Spec, error) {
	var none backend.Spec
	if both != "" {
		if meta != "" || blobs != "" {
			return none, none, fmt.Errorf("migrate: --%s cannot be combined with --%s-metadata or --%s-blobs", name, name, name)
		}
		var ok bool
		if meta, blobs, ok = splitSide(both); !ok {
			return none, none, fmt.Errorf("migrate: --%s: want METADATA,BLOBS with BLOBS starting file: or s3://", name)
		}
	}
	if meta == "" || blobs == "" {
		return none, none, fmt.Errorf("migrate: --%s (or both --%s-metadata and --%s-blobs) is required", name, name, name)
	}
	m, err := backend.ParseMetadata(meta, "")
	if err != nil {
		return none, none, fmt.Errorf("migrate: --%s: %w", name, err)
	}
	b, err := backend.ParseBlobs(blobs, "")
	if err != nil {
		return none, none, fmt.Errorf("migrate: --%s: %w", name, err)
	}
	return m, b, nil
}

// splitSide splits METADATA,BLOBS at the first comma that starts a blob
// setting: a PostgreSQL URL or key-value string may contain commas, a blob
// setting starts with its scheme.
func splitSide(s string) (meta, blobs string, ok bool) {
	for i := strings.IndexByte(s, ','); i >= 0; {
		rest := s[i+1:]
		if strings.HasPrefix(rest, "file:") || strings.HasPrefix(rest, "s3://") {
			return s[:i], rest, true
		}
		j := strings.IndexByte(rest, ',')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return "", "", false
}

// sameStore reports whether two settings name the same store: the same file
// (however spelled) or the same connection string. Two spellings of one
// PostgreSQL database are not recognised.
func sameStore(a, b backend.Spec) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind != backend.SQLite && a.Kind != backend.Files {
		return a.Target == b.Target
	}
	if sa, err := os.Stat(a.Target); err == nil {
		if sb, err := os.Stat(b.Target); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	pa, _ := filepath.Abs(a.Target)
	pb, _ := filepath.Abs(b.Target)
	return pa == pb
}

// openMigrateStores opens both sides; one blob store named on both sides is
// opened once (the filesystem driver must not have two owners).
func openMigrateStores(ctx context.Context, srcMeta, srcBlobs, dstMeta, dstBlobs backend.Spec) (src, dst migrate.Stores, closeAll func(), err error) {
	var closers []func() error
	closeAll = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			_ = closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	openMeta := func(spec backend.Spec, side string) (store.Store, error) {
		s, err := backend.OpenMetadata(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", side, err)
		}
		closers = append(closers, s.Close)
		return s, nil
	}
	openBlobs := func(spec backend.Spec, side string) (blob.Store, error) {
		b, err := backend.OpenBlobs(ctx, spec, backend.BlobOptions{})
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", side, err)
		}
		if c, ok := b.(io.Closer); ok {
			closers = append(closers, c.Close)
		}
		return b, nil
	}
	if src.Meta, err = openMeta(srcMeta, "source"); err != nil {
		return
	}
	if dst.Meta, err = openMeta(dstMeta, "target"); err != nil {
		return
	}
	if src.Blobs, err = openBlobs(srcBlobs, "source"); err != nil {
		return
	}
	if sameStore(srcBlobs, dstBlobs) {
		dst.Blobs = src.Blobs
		return
	}
	dst.Blobs, err = openBlobs(dstBlobs, "target")
	return
}

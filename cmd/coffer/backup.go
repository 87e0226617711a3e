package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/backend"
	"coffer/internal/backup"
)

const backupUsage = `usage: coffer backup --data-dir DIR --to BACKUP_DIR [flags]

Backs up an embedded deployment (SQLite metadata and blob files) into
BACKUP_DIR, while coffer serve may be running on DIR: the metadata is one
consistent snapshot (SQLite VACUUM INTO), then every blob the snapshot
references is copied, verified against its SHA-256 and size as it is
copied, with master.key, root-credentials and audit.log. The blobs of
encrypted domains are copied as stored, encrypted, and verified by
decrypting them with the domain's key, opened with the master key
(COFFER_MASTER_KEY, else the master key file). Backups are
incremental: blobs already in BACKUP_DIR are not copied again, and those
the new snapshot no longer references are removed once it is complete.
BACKUP_DIR/manifest.json is removed first and written last, atomically: a
directory without it holds no complete backup. A blob deleted by the server
while it was being copied makes the backup take a new snapshot (up to 5);
a referenced blob missing from the data dir fails it (see coffer fsck).
The exit status is non-zero on any problem.

A deployment on PostgreSQL and S3 is not backed up by this command: back
up the metadata with pg_dump (pg_dump --format=custom) and the blobs with
the object store's own tools (bucket versioning or replication, rclone,
aws s3 sync), the blobs after the dump; keep COFFER_MASTER_KEY with them.
See docs/operations.md.

flags:
`

const restoreUsage = `usage: coffer restore --from BACKUP_DIR --data-dir NEW_DIR

Makes the data dir NEW_DIR, which must not exist or be empty, from a backup
made by coffer backup: every file and blob is verified against the
manifest (SHA-256 and size; the encrypted objects of encrypted domains by
decrypting them, with the backup's master.key or COFFER_MASTER_KEY). Serve
it with coffer serve --data-dir NEW_DIR
(and COFFER_MASTER_KEY if the backup holds no master.key). An interrupted
restore leaves no servable data dir (its metadata.db comes last).

flags:
`

const fsckUsage = `usage: coffer fsck --data-dir DIR [--repair] [flags]

Checks an embedded deployment: the database's integrity (PRAGMA
integrity_check and foreign_key_check); that every blob the metadata
references (assets and imported advisory sources) is present and matches
its recorded SHA-256, size and other digests (an encrypted domain's object
must decrypt, with its domain's key opened by the master key, to that
content); that no orphan blob (present,
unreferenced) and no leftover staging file (blobs/tmp, spool) is there. One
line per problem on stdout (--json: a JSON report instead); the exit status
is 0 only when nothing is wrong.

It may run while coffer serve runs on DIR, which it detects (a process has
the database open): then unreferenced blobs and staging files younger than
--grace may be uploads in flight, and are only noted. With the server
stopped, every unreferenced blob and staging file is a problem.

--repair removes the orphan blobs and staging files that are problems (with
a server running, only those older than --grace, each checked again just
before it goes), and reports what it cannot fix: a missing or corrupt
referenced blob, with the package versions and assets it belongs to
(restore it from a backup, or delete those versions), or a damaged
database. The exit status is then 0 if everything found was repaired.

flags:
`

// storageFlags are the data dir and the embedded stores' settings
// (coffer serve's --metadata and --blobs, which only file stores may name here).
type storageFlags struct {
	dataDir, metadata, blobs, masterKeyFile, masterKey string
}

func (s *storageFlags) add(fs *flag.FlagSet, getenv func(string) string, keyFile bool) {
	fs.StringVar(&s.dataDir, "data-dir", getenv("COFFER_DATA_DIR"), "the data dir (env COFFER_DATA_DIR)")
	fs.StringVar(&s.metadata, "metadata", getenv("COFFER_METADATA"), "the metadata store when not <data-dir>/metadata.db: sqlite:///path (env COFFER_METADATA)")
	fs.StringVar(&s.blobs, "blobs", getenv("COFFER_BLOBS"), "the blob store when not <data-dir>/blobs: file:///path (env COFFER_BLOBS)")
	if keyFile {
		fs.StringVar(&s.masterKeyFile, "master-key-file", getenv("COFFER_MASTER_KEY_FILE"), "the master key file when not <data-dir>/master.key (env COFFER_MASTER_KEY_FILE)")
	}
	s.masterKey = getenv("COFFER_MASTER_KEY")
}

// source checks the settings: only the embedded stores can be backed up
// or checked here.
func (s *storageFlags) source(cmd string) (backup.Source, error) {
	if s.dataDir == "" {
		return backup.Source{}, fmt.Errorf("%s: --data-dir is required", cmd)
	}
	m, err := backend.ParseMetadata(s.metadata, s.dataDir)
	if err != nil {
		return backup.Source{}, fmt.Errorf("%s: %w", cmd, err)
	}
	b, err := backend.ParseBlobs(s.blobs, s.dataDir)
	if err != nil {
		return backup.Source{}, fmt.Errorf("%s: %w", cmd, err)
	}
	if m.Kind != backend.SQLite || b.Kind != backend.Files {
		return backup.Source{}, fmt.Errorf("%s: the deployment uses %s and %s; coffer %s works on the embedded stores (SQLite and files) only: "+
			"back up PostgreSQL with pg_dump and S3 with the object store's own tools (docs/operations.md)", cmd, m, b, cmd)
	}
	return backup.Source{DataDir: s.dataDir, Metadata: m.Target, Blobs: b.Target, MasterKeyFile: s.masterKeyFile, MasterKey: s.masterKey}, nil
}

func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		return errors.Is(err, flag.ErrHelp), err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%s: unexpected arguments: %s", fs.Name(), strings.Join(fs.Args(), " "))
	}
	return false, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// runBackup is `coffer backup`.
func runBackup(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage); fs.PrintDefaults() }
	var st storageFlags
	st.add(fs, getenv, true)
	var to string
	var asJSON bool
	var concurrency int
	fs.StringVar(&to, "to", "", "the backup directory (created if missing; an earlier backup there is updated)")
	fs.IntVar(&concurrency, "concurrency", 4, "blobs copied at once")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if help, err := parseFlags(fs, args); help {
		return nil
	} else if err != nil {
		return err
	}
	src, err := st.source("backup")
	if err != nil {
		return err
	}
	if to == "" {
		return errors.New("backup: --to is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := backup.Backup(ctx, src, to, backup.Options{Concurrency: concurrency, Version: version, Log: slog.New(slog.NewTextHandler(stderr, nil))})
	if err != nil {
		return fmt.Errorf("backup: %w\n%s holds no complete backup (no manifest.json)", err, to)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(stderr, "coffer backup: warning:", w)
	}
	if asJSON {
		return writeJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "backup of %s complete in %s: %s\n", src.DataDir, rep.Duration, to)
	fmt.Fprintf(stdout, "  snapshot      %s (%d taken)\n", rep.Snapshot.UTC().Format(time.RFC3339), rep.Snapshots)
	fmt.Fprintf(stdout, "  blobs         %d (%d bytes)\n", rep.Blobs, rep.BlobBytes)
	fmt.Fprintf(stdout, "  copied        %d (%d bytes)\n", rep.Copied, rep.BytesCopied)
	fmt.Fprintf(stdout, "  pruned        %d\n", rep.Pruned)
	fmt.Fprintf(stdout, "  files         %s\n", strings.Join(rep.Files, ", "))
	return nil
}

// runRestore is `coffer restore`.
func runRestore(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, restoreUsage); fs.PrintDefaults() }
	var from, dataDir string
	var asJSON bool
	var concurrency int
	fs.StringVar(&from, "from", "", "the backup directory")
	fs.StringVar(&dataDir, "data-dir", "", "the new data dir (must not exist, or be empty)")
	fs.IntVar(&concurrency, "concurrency", 4, "blobs copied at once")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if help, err := parseFlags(fs, args); help {
		return nil
	} else if err != nil {
		return err
	}
	if from == "" || dataDir == "" {
		return errors.New("restore: --from and --data-dir are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := backup.Restore(ctx, from, dataDir, backup.Options{Concurrency: concurrency, MasterKey: getenv("COFFER_MASTER_KEY")})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if asJSON {
		return writeJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "restored %s into %s in %s: snapshot of %s, %d blobs (%d bytes), files %s\n", from, dataDir, rep.Duration,
		rep.Snapshot.UTC().Format(time.RFC3339), rep.Blobs, rep.BlobBytes, strings.Join(rep.Files, ", "))
	return nil
}

// errFsckProblems is fsck's exit for problems found (the report says which).
var errFsckProblems = errors.New("fsck: problems found")

// runFsck is `coffer fsck`.
func runFsck(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("coffer fsck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fsckUsage); fs.PrintDefaults() }
	var st storageFlags
	st.add(fs, getenv, true)
	var repair, asJSON bool
	var grace time.Duration
	var concurrency int
	fs.BoolVar(&repair, "repair", false, "remove orphan blobs and leftover staging files")
	fs.DurationVar(&grace, "grace", artifact.OrphanGrace, "with a server running: how old an unreferenced blob or staging file must be to count (the orphan collector's grace period)")
	fs.IntVar(&concurrency, "concurrency", 4, "blobs verified at once")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if help, err := parseFlags(fs, args); help {
		return nil
	} else if err != nil {
		return err
	}
	src, err := st.source("fsck")
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep, err := backup.Check(ctx, src, backup.CheckOptions{Repair: repair, Grace: grace, Concurrency: concurrency})
	if err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	if asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p)
		}
		for _, p := range rep.Notes {
			fmt.Fprintln(stdout, "note:", p)
		}
		server := "no server running"
		if rep.ServerRunning {
			server = fmt.Sprintf("a server is running (pid %d)", rep.ServerPID)
		}
		fmt.Fprintf(stdout, "fsck %s: %d referenced blobs verified (%d bytes), %d present; %d problems, %d repaired; %s; %s\n",
			src.DataDir, rep.ReferencedBlobs, rep.BytesVerified, rep.PresentBlobs, len(rep.Problems), rep.Repaired, server, rep.Duration)
	}
	if !rep.OK {
		return errFsckProblems
	}
	return nil
}

package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"coffer/internal/blob"
	"coffer/internal/blob/encrypted"
	"coffer/internal/blob/fs"
	"coffer/internal/fault"
	"coffer/internal/migrate"
	"coffer/internal/store"
	"coffer/internal/store/sqlite"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// Repair removes the orphan blobs and leftover staging files found
	// (see Check); other problems are only reported.
	Repair bool
	// Grace: while a coffer serves the data dir, unreferenced blobs and
	// staging files younger than this may be uploads in flight: they are
	// noted, neither counted as problems nor removed.
	Grace time.Duration
	// Concurrency is how many blobs are verified at once (default 4).
	Concurrency int
	Log         *slog.Logger
	now         func() time.Time // tests
}

// The kinds of Problem.
const (
	KindDatabase     = "database"      // SQLite integrity or foreign-key check
	KindMissingBlob  = "missing-blob"  // referenced, absent
	KindCorruptBlob  = "corrupt-blob"  // referenced, content does not match
	KindOrphanBlob   = "orphan-blob"   // present, unreferenced
	KindStagingFile  = "staging-file"  // left in blobs/tmp or spool by an upload that never finished
	KindYoungOrphan  = "young-orphan"  // a note: unreferenced, but maybe an upload in flight
	KindYoungStaging = "young-staging" // a note: maybe an upload in flight
)

// Problem is one thing Check found.
type Problem struct {
	Kind   string `json:"kind"`
	Blob   string `json:"blob,omitempty"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail"`
	// Affects names the asset versions and advisory sources of a missing or
	// corrupt blob.
	Affects  []string `json:"affects,omitempty"`
	Repaired bool     `json:"repaired,omitempty"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Kind)
	if p.Blob != "" {
		b.WriteString(" " + p.Blob)
	} else if p.Path != "" {
		b.WriteString(" " + p.Path)
	}
	b.WriteString(": " + p.Detail)
	if len(p.Affects) > 0 {
		b.WriteString("; affects " + strings.Join(p.Affects, ", "))
	}
	if p.Repaired {
		b.WriteString(" [repaired: removed]")
	}
	return b.String()
}

// CheckReport is what Check found.
type CheckReport struct {
	DataDir string `json:"data_dir"`
	// ServerRunning: a process had the metadata database open (its pid in
	// ServerPID, -1 when that cannot be told, which counts as running).
	ServerRunning   bool      `json:"server_running"`
	ServerPID       int       `json:"server_pid,omitempty"`
	ReferencedBlobs int       `json:"referenced_blobs"`
	PresentBlobs    int       `json:"present_blobs"`
	BytesVerified   int64     `json:"bytes_verified"`
	Problems        []Problem `json:"problems"`
	Notes           []Problem `json:"notes,omitempty"`
	Repaired        int       `json:"repaired"`
	// OK: no problem is left (none found, or all repaired).
	OK       bool   `json:"ok"`
	Duration string `json:"duration"`
}

// Check verifies the deployment src: the database's integrity, that every
// blob the metadata references is present and matches its recorded SHA-256
// (and size and other digests), that no blob is present that nothing
// references, and that no staging file is left behind. It may run beside a
// coffer serving src, which it detects (the process holding the database
// open): then what is younger than opts.Grace and unreferenced may be an
// upload in flight and is only noted, and a referenced blob found missing
// counts only if the metadata still references it afterwards. With no server,
// everything unreferenced is a problem.
//
// With opts.Repair, the orphan blobs and staging files that are problems
// are removed. Beside a running server an orphan is first moved into the
// staging directory, and deleted only if it is still old and unreferenced
// there; otherwise it is put back (an upload that reuses content refreshes
// the blob's time before it records it: blob.Staged.Commit). A missing or
// corrupt blob cannot be repaired: its problem names what it affects.
//
// err is for a check that could not run; what it found is in the report.
func Check(ctx context.Context, src Source, opts CheckOptions) (*CheckReport, error) {
	start := time.Now()
	src = src.WithDefaults()
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	rep := &CheckReport{DataDir: src.DataDir, Problems: []Problem{}}
	if err := src.check(); err != nil {
		return rep, err
	}
	pid, err := openerPID(src.Metadata)
	if err != nil {
		pid = -1
	}
	rep.ServerRunning, rep.ServerPID = pid != 0, pid
	cutoff := opts.now().Add(-opts.Grace)
	young := func(t time.Time) bool { return rep.ServerRunning && !t.Before(cutoff) }

	st, err := sqlite.OpenReadOnly(src.Metadata)
	if err != nil {
		return rep, err
	}
	defer st.Close()
	lines, err := st.Check(ctx)
	if err != nil {
		return rep, err
	}
	for _, l := range lines {
		rep.Problems = append(rep.Problems, Problem{Kind: KindDatabase, Detail: l})
	}
	r, keys, err := referenced(ctx, st, src.loadSealer)
	if err != nil {
		return rep, err
	}
	rep.ReferencedBlobs = len(r)
	blobs, err := fs.Inspect(src.Blobs)
	if err != nil {
		return rep, err
	}

	bad, err := verifyBlobs(ctx, blobs, st, r, keys, rep.ServerRunning, opts.Concurrency, &rep.BytesVerified)
	if err != nil {
		return rep, err
	}
	if len(bad) > 0 {
		shas := map[string]bool{}
		for _, p := range bad {
			shas[p.Blob] = true
		}
		by, err := affected(ctx, st, shas)
		if err != nil {
			return rep, err
		}
		for i := range bad {
			bad[i].Affects = by[bad[i].Blob]
		}
		rep.Problems = append(rep.Problems, bad...)
	}

	// Orphans.
	var orphans []blob.Info
	for info, err := range blobs.List(ctx) {
		if err != nil {
			return rep, err
		}
		rep.PresentBlobs++
		if _, ok := r[info.SHA256]; !ok {
			orphans = append(orphans, info)
		}
	}
	for _, info := range orphans {
		what, err := objectRef(ctx, blobs, info.SHA256, keys)
		if errors.Is(err, fault.ErrNotFound) {
			continue // removed meanwhile
		} else if err != nil {
			return rep, err
		}
		if rep.ServerRunning {
			// Recorded since the snapshot?
			if ref, err := stillReferenced(ctx, st, what, keys); err != nil {
				return rep, err
			} else if ref {
				continue
			}
		}
		p := Problem{Kind: KindOrphanBlob, Blob: info.SHA256,
			Detail: fmt.Sprintf("nothing references it (%d bytes, last committed %s)", info.Size, info.ModTime.UTC().Format(time.RFC3339))}
		if what.Encrypted {
			p.Detail = fmt.Sprintf("nothing references it: the encrypted object of blob %s (%d bytes) under key %s, which no asset of that domain has (%d bytes stored, last committed %s)",
				what.SHA256, what.Size, what.KeyID, info.Size, info.ModTime.UTC().Format(time.RFC3339))
		}
		if young(info.ModTime) {
			p.Kind, p.Detail = KindYoungOrphan, p.Detail+"; younger than the grace period, maybe an upload in flight"
			rep.Notes = append(rep.Notes, p)
			continue
		}
		if opts.Repair {
			var rerr error
			if rep.ServerRunning {
				p.Repaired, rerr = removeOrphan(ctx, blobs, st, info.SHA256, what, keys, cutoff)
			} else {
				p.Repaired, rerr = true, blobs.Delete(ctx, info.SHA256)
			}
			if errors.Is(rerr, errReused) {
				continue // no orphan after all
			}
			if rerr != nil {
				p.Repaired = false
				p.Detail += "; could not remove it: " + rerr.Error()
			}
		}
		rep.Problems = append(rep.Problems, p)
	}

	// Staging files.
	for _, dir := range []string{blobs.StagingDir(), filepath.Join(src.DataDir, "spool")} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return rep, err
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			fi, err := e.Info()
			if errors.Is(err, os.ErrNotExist) {
				continue // done meanwhile
			}
			if err != nil {
				return rep, err
			}
			p := Problem{Kind: KindStagingFile, Path: path,
				Detail: fmt.Sprintf("left by an upload that never finished (%d bytes, modified %s)", fi.Size(), fi.ModTime().UTC().Format(time.RFC3339))}
			if young(fi.ModTime()) {
				p.Kind, p.Detail = KindYoungStaging, "younger than the grace period, maybe an upload in flight"
				rep.Notes = append(rep.Notes, p)
				continue
			}
			if opts.Repair {
				if err := os.RemoveAll(path); err != nil {
					p.Detail += "; could not remove it: " + err.Error()
				} else {
					p.Repaired = true
				}
			}
			rep.Problems = append(rep.Problems, p)
		}
	}

	rep.OK = true
	for _, p := range rep.Problems {
		if p.Repaired {
			rep.Repaired++
		} else {
			rep.OK = false
		}
	}
	rep.Duration = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

// verifyBlobs reads every referenced blob through the hasher and returns
// the missing and corrupt ones, ordered by SHA-256. Beside a running server,
// a blob found missing that the metadata no longer references was deleted
// with its version after the snapshot, and is not a problem.
func verifyBlobs(ctx context.Context, blobs blob.Store, st store.Store, r refs, keys map[encrypted.KeyID]domainKey, running bool, concurrency int, bytes *int64) ([]Problem, error) {
	var mu sync.Mutex
	var bad []Problem
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for name, want := range r {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			var got blob.Digests
			var err error
			enc := ""
			if want.Encrypted {
				k, ok := keys[want.KeyID]
				if !ok {
					return fmt.Errorf("blob %s: no key %s opens it", want.describe(name), want.KeyID)
				}
				enc = fmt.Sprintf("the encrypted object of blob %s: ", want.SHA256)
				got, err = migrate.VerifyEncrypted(gctx, blobs, want.SHA256, k.Key)
			} else {
				got, err = digestOf(gctx, blobs, want.SHA256)
			}
			var p *Problem
			switch {
			case errors.Is(err, fault.ErrNotFound):
				if running {
					if ref, err := stillReferenced(gctx, st, want, keys); err != nil || !ref {
						return err
					}
				}
				p = &Problem{Kind: KindMissingBlob, Blob: name,
					Detail: fmt.Sprintf("%sreferenced (%d bytes) but absent; restore it from a backup, or delete what it affects", enc, want.Size)}
			case errors.Is(err, encrypted.ErrCorrupt):
				p = &Problem{Kind: KindCorruptBlob, Blob: name,
					Detail: fmt.Sprintf("%sit does not decrypt (%v); restore it from a backup, or delete what it affects", enc, err)}
			case err != nil:
				return err
			case !migrate.Matches(want.Digests, got):
				p = &Problem{Kind: KindCorruptBlob, Blob: name,
					Detail: fmt.Sprintf("%sits content (%d bytes) has SHA-256 %s, recorded: %d bytes; restore it from a backup, or delete what it affects",
						enc, got.Size, got.SHA256, want.Size)}
			}
			mu.Lock()
			defer mu.Unlock()
			*bytes += got.Size
			if p != nil {
				bad = append(bad, *p)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(bad, func(a, b Problem) int { return strings.Compare(a.Blob, b.Blob) })
	return bad, nil
}

// digestOf reads the blob sha through the one-pass hasher.
func digestOf(ctx context.Context, blobs blob.Store, sha string) (blob.Digests, error) {
	obj, err := blobs.Open(ctx, sha)
	if err != nil {
		return blob.Digests{}, err
	}
	defer obj.Close()
	h := blob.NewHasher()
	defer h.Close()
	if _, err := io.Copy(h, obj); err != nil {
		return blob.Digests{}, fmt.Errorf("blob %s: %w", sha, err)
	}
	return h.Sum(), nil
}

// removeOrphan deletes an orphan blob beside a running server without ever
// deleting one an upload is about to reference: it moves the blob's file out
// of the way first (an upload committing the same content after that makes
// a new file), then checks, on the moved file, that no upload refreshed it
// before the move (a Commit of existing content does, before the upload
// records it), and that the metadata still does not reference it. If either
// check fails, the file goes back.
func removeOrphan(ctx context.Context, blobs *fs.Store, st store.Store, sha string, what ref, keys map[encrypted.KeyID]domainKey, cutoff time.Time) (removed bool, err error) {
	path := blobs.Path(sha)
	aside := filepath.Join(blobs.StagingDir(), "fsck-"+sha)
	if err := os.Rename(path, aside); errors.Is(err, os.ErrNotExist) {
		return true, nil // gone already (the server's collector)
	} else if err != nil {
		return false, err
	}
	fi, err := os.Stat(aside)
	keep := err != nil || !fi.ModTime().Before(cutoff)
	if !keep {
		var ref bool
		ref, err = stillReferenced(ctx, st, what, keys)
		keep = err != nil || ref
	}
	if !keep {
		return true, os.Remove(aside)
	}
	// Back into place; an identical blob committed meanwhile is as good.
	if lerr := os.Link(aside, path); lerr != nil && !errors.Is(lerr, os.ErrExist) {
		return false, fmt.Errorf("could not put blob %s back from %s: %w", sha, aside, lerr)
	}
	os.Remove(aside)
	if err == nil {
		err = errReused
	}
	return false, err
}

// errReused is removeOrphan's answer for a blob an upload used meanwhile.
var errReused = errors.New("an upload uses the blob again")

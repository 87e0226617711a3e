package osv

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// RecordError is a record that could not be read: its file and why. The
// readers stop at the first one unless ReadOptions.Skip takes it.
type RecordError struct {
	File string
	Err  error
}

func (e *RecordError) Error() string { return "osv: " + e.File + ": " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// ErrTooLarge is a record over MaxRecordSize.
var ErrTooLarge = errors.New("record larger than the limit")

// ReadOptions tunes the readers; the zero value is strict.
type ReadOptions struct {
	// Skip, when set, is told of each malformed or oversized record and
	// reading goes on; otherwise the first one ends the read with a
	// *RecordError.
	Skip func(*RecordError)
	// MaxRecordSize overrides MaxRecordSize when positive.
	MaxRecordSize int64
}

func (o ReadOptions) limit() int64 {
	if o.MaxRecordSize > 0 {
		return o.MaxRecordSize
	}
	return MaxRecordSize
}

// bad reports a malformed record: to Skip, or as the read's error.
func (o ReadOptions) bad(file string, err error) error {
	re := &RecordError{File: file, Err: err}
	if o.Skip != nil {
		o.Skip(re)
		return nil
	}
	return re
}

// readRecord reads one record of at most limit bytes from r.
func (o ReadOptions) readRecord(file string, r io.Reader) (*Record, error) {
	data, err := io.ReadAll(io.LimitReader(r, o.limit()+1))
	if err != nil {
		return nil, &RecordError{File: file, Err: err} // an I/O error is never skipped
	}
	if int64(len(data)) > o.limit() {
		return nil, o.bad(file, fmt.Errorf("%w (%d bytes)", ErrTooLarge, o.limit()))
	}
	rec, err := parse(data)
	if err != nil {
		return nil, o.bad(file, err)
	}
	return rec, nil
}

// ReadZip calls fn with each record of an OSV zip, as osv.dev publishes
// one per ecosystem (all.zip: one <ID>.json per record), one at a time,
// in the archive's order. Entries not ending in .json are skipped.
// Withdrawn records are passed on (Record.IsWithdrawn): an importer must
// see them to retract what it had. An error from fn ends the read and is
// returned as is.
func ReadZip(r io.ReaderAt, size int64, fn func(*Record) error) error {
	return ReadZipOptions(r, size, ReadOptions{}, fn)
}

// ReadZipOptions is ReadZip with options.
func ReadZipOptions(r io.ReaderAt, size int64, opt ReadOptions, fn func(*Record) error) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("osv: zip: %w", err)
	}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".json") {
			continue
		}
		// The header's size is only a hint (it can lie); the limited
		// read below is the bound.
		if f.UncompressedSize64 > uint64(opt.limit()) {
			if err := opt.bad(f.Name, fmt.Errorf("%w (%d bytes)", ErrTooLarge, opt.limit())); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			if err := opt.bad(f.Name, err); err != nil {
				return err
			}
			continue
		}
		rec, err := opt.readRecord(f.Name, rc)
		rc.Close()
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// ReadDir calls fn with each record of the .json files under dir, walked
// recursively in lexical order (the malicious-packages repository's
// layout: osv/malicious/<ecosystem>/<name>/MAL-*.json). Symbolic links
// are not followed. Otherwise as ReadZip.
func ReadDir(dir string, fn func(*Record) error) error {
	return ReadDirOptions(dir, ReadOptions{}, fn)
}

// ReadDirOptions is ReadDir with options.
func ReadDirOptions(dir string, opt ReadOptions, fn func(*Record) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		rec, err := opt.readRecord(path, f)
		f.Close()
		if err != nil || rec == nil {
			return err
		}
		return fn(rec)
	})
}

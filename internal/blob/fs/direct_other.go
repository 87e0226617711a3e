//go:build !linux

package fs

import (
	"errors"
	"os"
)

// setDirect: direct I/O is used on Linux only; elsewhere staging files are
// written through the page cache.
func setDirect(*os.File, bool) error { return errors.ErrUnsupported }

//go:build !unix

package backup

import "errors"

func lockDir(dir string) (unlock func(), err error) { return func() {}, nil }

// openerPID cannot tell here: -1 (assume a server runs).
func openerPID(path string) (int, error) {
	return -1, errors.New("cannot tell whether a coffer serves the data dir on this system")
}

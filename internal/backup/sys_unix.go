//go:build unix

package backup

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive lock on dir/.lock (flock: released by the
// kernel when the process ends), failing at once if another process holds
// it.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(dir+"/.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is locked by another coffer backup", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// shmDMS is the byte of a WAL database's -shm file on which every process
// that has the database open holds a read lock (SQLite's os_unix.c:
// UNIX_SHM_DMS, the "dead man switch").
const shmDMS = 128

// openerPID reports the process id of another process that has the SQLite
// database at path open (0 if none): it asks the kernel which lock would
// stop a write lock on the -shm file's dead-man-switch byte. No -shm file
// means no process has it open in WAL mode. Locks of this process do not
// count.
func openerPID(path string) (int, error) {
	f, err := os.Open(path + "-shm")
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: shmDMS, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return 0, fmt.Errorf("probe %s-shm: %w", path, err)
	}
	if lk.Type == syscall.F_UNLCK {
		return 0, nil
	}
	return int(lk.Pid), nil
}

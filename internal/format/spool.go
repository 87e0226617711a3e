package format

import "io"

// FailedWriter remembers the first error of its writer W, so that a failed
// spool of an upload tells a full disk (the server's side) from a broken
// body (the client's).
type FailedWriter struct {
	W   io.Writer
	Err error
}

func (f *FailedWriter) Write(p []byte) (int, error) {
	n, err := f.W.Write(p)
	if err != nil && f.Err == nil {
		f.Err = err
	}
	return n, err
}

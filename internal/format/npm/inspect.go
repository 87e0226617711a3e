package npm

import (
	"archive/tar"
	"io"

	"github.com/klauspost/compress/gzip"
)

// maxInspectedTarball is the largest tarball whose files a publish counts:
// beyond it the count would only pace a big upload.
const maxInspectedTarball = 32 << 20

// tarballStats is what the registry reports of a tarball's contents
// (dist.fileCount and dist.unpackedSize, shown by npm view).
type tarballStats struct {
	files    int
	unpacked int64
	ok       bool // the tarball read as a gzip'd tar to its end
}

// inspectingReader passes a tarball through while a goroutine reads it as
// gzip'd tar and counts its files, so a publish learns them without a
// second pass or holding the tarball; past max bytes it stops counting.
// Stats waits for the count; it must be called only after the reader
// returned io.EOF or was abandoned with Close.
type inspectingReader struct {
	r    io.Reader
	pw   *io.PipeWriter
	done chan tarballStats
	eof  bool
	left int64 // bytes still to count
}

func newInspectingReader(r io.Reader, max int64) *inspectingReader {
	pr, pw := io.Pipe()
	ir := &inspectingReader{r: r, pw: pw, done: make(chan tarballStats, 1), left: max}
	go func() {
		st := countTarball(pr)
		io.Copy(io.Discard, pr) // keep the writer unblocked whatever happened
		ir.done <- st
	}()
	return ir
}

func (ir *inspectingReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 && !ir.eof {
		if ir.left -= int64(n); ir.left < 0 {
			ir.Close() // too big to count: the count is abandoned
		} else {
			ir.pw.Write(p[:n]) // the counter drains whatever happens, so this never blocks for good
		}
	}
	if err == io.EOF && !ir.eof {
		ir.eof = true
		ir.pw.Close()
	}
	return n, err
}

// Close ends the inspection of a tarball not read to its end.
func (ir *inspectingReader) Close() {
	if !ir.eof {
		ir.eof = true
		ir.pw.CloseWithError(io.ErrUnexpectedEOF)
	}
}

// Stats returns the count (ok false when the tarball was not a complete
// gzip'd tar).
func (ir *inspectingReader) Stats() tarballStats {
	ir.Close()
	st := <-ir.done
	ir.done <- st // later calls see the same result
	return st
}

func countTarball(r io.Reader) tarballStats {
	var st tarballStats
	zr, err := gzip.NewReader(r)
	if err != nil {
		return st
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			st.ok = true
			return st
		}
		if err != nil {
			return tarballStats{}
		}
		if h.Typeflag == tar.TypeReg {
			st.files++
			st.unpacked += h.Size
		}
	}
}

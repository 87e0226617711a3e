package npm

import (
	"bytes"
	"io"
	"testing"

	"coffer/internal/format/npm/npmtest"
)

func TestInspectingReader(t *testing.T) {
	tgz := npmtest.Tarball(npmtest.Package{Name: "x", Version: "1.0.0", Files: map[string]string{"a.txt": "hello", "b/c.txt": "world!"}})
	for _, c := range []struct {
		name  string
		data  []byte
		max   int64
		ok    bool
		files int
	}{
		{"tarball", tgz, 1 << 20, true, 4}, // package.json, index.js, a.txt, b/c.txt
		{"over the limit", tgz, int64(len(tgz) / 2), false, 0},
		{"not a tarball", []byte("plain bytes, no gzip"), 1 << 20, false, 0},
		{"cut short", tgz[:len(tgz)-40], 1 << 20, false, 0},
	} {
		ir := newInspectingReader(bytes.NewReader(c.data), c.max)
		got, err := io.ReadAll(ir)
		if err != nil || !bytes.Equal(got, c.data) {
			t.Errorf("%s: the bytes did not pass through (%v)", c.name, err)
		}
		st := ir.Stats()
		if st.ok != c.ok || st.files != c.files {
			t.Errorf("%s: stats %+v, want ok=%v files=%d", c.name, st, c.ok, c.files)
		}
	}
	// Abandoned before its end: Stats still returns.
	ir := newInspectingReader(bytes.NewReader(tgz), 1<<20)
	io.ReadFull(ir, make([]byte, 10))
	ir.Close()
	if st := ir.Stats(); st.ok {
		t.Errorf("abandoned read counted as complete: %+v", st)
	}
}

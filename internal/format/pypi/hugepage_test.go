package pypi

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hugePage streams a simple page of about size bytes (HTML or PEP 691
// JSON), each file a distinct version, the way the soak test's hostile
// upstream does.
func hugePage(w io.Writer, project string, size int64, asJSON bool) {
	bw := bufio.NewWriterSize(w, 256<<10)
	norm := strings.ReplaceAll(project, "-", "_")
	files := int(size / 200)
	if asJSON {
		files = int(size / 260)
		fmt.Fprintf(bw, `{"meta":{"api-version":"1.1"},"name":%q,"versions":[`, project)
		for i := range files {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `"1.0.%d"`, i)
		}
		io.WriteString(bw, `],"files":[`)
	} else {
		io.WriteString(bw, "<!DOCTYPE html><html><body>\n")
	}
	for i := range files {
		s := sha256.Sum256([]byte(strconv.Itoa(i % 64)))
		sha := hex.EncodeToString(s[:])
		if asJSON {
			if i > 0 {
				bw.WriteByte(',')
			}
			fmt.Fprintf(bw, `{"filename":"%s-1.0.%d.tar.gz","url":"../../files/%s-1.0.%d.tar.gz","hashes":{"sha256":"%s"},"requires-python":">=3.8","size":%d,"upload-time":"2020-01-01T00:00:00.000000Z"}`,
				norm, i, norm, i, sha, 1000+i)
		} else {
			fmt.Fprintf(bw, "<a href=\"../../files/%s-1.0.%d.tar.gz#sha256=%s\" data-requires-python=\"&gt;=3.8\">%s-1.0.%d.tar.gz</a><br/>\n",
				norm, i, sha, norm, i)
		}
	}
	if asJSON {
		io.WriteString(bw, "]}")
	} else {
		io.WriteString(bw, "</body></html>\n")
	}
	bw.Flush()
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// maxBytesPerUpstreamFile bounds the memory a parsed upstream page keeps
// per file (the test's files: ~30-byte names, a sha256, a Requires-Python).
const maxBytesPerUpstreamFile = 200

// TestHugeUpstreamPageParseMemory: the parse of a 100 MiB page keeps a
// bounded amount of memory per file and never the page.
func TestHugeUpstreamPageParseMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100 MiB pages")
	}
	for _, asJSON := range []bool{false, true} {
		before := heapInuse()
		pr, pw := io.Pipe()
		go func() { hugePage(pw, "huge-page", 100<<20, asJSON); pw.Close() }()
		ct := "text/html"
		if asJSON {
			ct = MediaJSON
		}
		var peak runtime.MemStats
		p, err := readUpstreamPage(pr, ct, "https://idx.example/simple/huge-page/")
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&peak)
		kept := heapInuse() - before
		perFile := kept / uint64(p.Len())
		t.Logf("JSON %v: %d files, %d MiB kept (%d bytes a file), cost %d MiB; heap at the end %d MiB, total alloc %d MiB",
			asJSON, p.Len(), kept>>20, perFile, p.cost()>>20, peak.HeapInuse>>20, peak.TotalAlloc>>20)
		if p.Len() < 400000 {
			t.Errorf("%d files parsed", p.Len())
		}
		// Before the compact entries, a file took about 920 bytes.
		if perFile > maxBytesPerUpstreamFile {
			t.Errorf("the parsed page keeps %d bytes a file; want at most %d", perFile, maxBytesPerUpstreamFile)
		}
		if f, ok := p.File("huge_page-1.0.7.tar.gz"); !ok || f.Hashes.SHA256 == "" || f.RequiresPython != ">=3.8" {
			t.Errorf("file 7: %+v", f)
		}
		runtime.KeepAlive(p)
	}
}

// TestUpstreamPageCompactEntries: what the compact entries keep reads back
// as it was given: hashes other than sha256, a sha256 that is not 64 hex
// digits, core metadata with and without hashes, yank reasons, URLs that
// do not end in the file name, upload times; the first file of a name
// wins.
func TestUpstreamPageCompactEntries(t *testing.T) {
	sha := strings.Repeat("ab", 32)
	body := `{"meta":{"api-version":"1.1"},"files":[
{"filename":"p-1.0.tar.gz","url":"https://f.example/x/p-1.0.tar.gz","hashes":{"sha256":"` + strings.ToUpper(sha) + `","md5":"01","sha512":"02"},"core-metadata":{"sha256":"cd","blake2b_256":"ef"},"yanked":"bad","size":5,"upload-time":"2020-01-02T03:04:05.123456Z"},
{"filename":"p-1.1.tar.gz","url":"https://f.example/get?f=p-1.1","hashes":{"sha256":"abc"},"core-metadata":true,"yanked":true,"requires-python":">=3"},
{"filename":"p-1.0.tar.gz","url":"https://f.example/dup","hashes":{}}
]}`
	p, err := ParseUpstreamPage([]byte(body), MediaJSON, "https://idx.example/simple/p/")
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 3 {
		t.Fatalf("%d files", p.Len())
	}
	a, ok := p.File("p-1.0.tar.gz")
	if !ok || a.URL != "https://f.example/x/p-1.0.tar.gz" || a.Hashes.SHA256 != sha || a.Hashes.Get("md5") != "01" || a.Hashes.Get("sha512") != "02" ||
		a.CoreMetadata == nil || a.CoreMetadata.SHA256 != "cd" || a.CoreMetadata.Get("blake2b_256") != "ef" || a.Yanked == nil || *a.Yanked != "bad" ||
		a.Size != 5 || !a.UploadTime.Equal(time.Date(2020, 1, 2, 3, 4, 5, 123456000, time.UTC)) || a.RequiresPython != "" {
		t.Errorf("p-1.0: %+v", a)
	}
	if got := string(appendHashes(nil, &a.Hashes)); got != `{"md5":"01","sha256":"`+sha+`","sha512":"02"}` {
		t.Errorf("hashes %s", got)
	}
	b, ok := p.File("p-1.1.tar.gz")
	if !ok || b.URL != "https://f.example/get?f=p-1.1" || b.Hashes.SHA256 != "abc" || b.Hashes.Len() != 1 || b.CoreMetadata == nil || b.CoreMetadata.Len() != 0 ||
		b.Yanked == nil || *b.Yanked != "" || b.RequiresPython != ">=3" || b.Size != -1 || !b.UploadTime.IsZero() {
		t.Errorf("p-1.1: %+v", b)
	}
	if c := p.At(2); c.URL != "https://f.example/dup" || c.Hashes.Len() != 0 || c.CoreMetadata != nil || c.Yanked != nil {
		t.Errorf("third: %+v", c)
	}
	if _, ok := p.File("p-2.0.tar.gz"); ok {
		t.Error("found a file the page does not list")
	}
}

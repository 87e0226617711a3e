package npm_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestBigPackumentStreamed: a packument over a megabyte is rendered as a
// stream into gzip, its versions read in batches; every coding, the
// abbreviated form, a version's document and a revalidation still answer
// exactly the same document.
func TestBigPackumentStreamed(t *testing.T) {
	e := newEnv(t)
	const n = 1300 // about 1.5 MB of versions
	seedBig(t, e, n)

	gz := e.get("solo", "big", "Accept", "application/json", "Accept-Encoding", "gzip")
	if gz.status != 200 || gz.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d %v", gz.status, gz.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	identity, err := io.ReadAll(zr)
	if err != nil || len(identity) < 1<<20 {
		t.Fatalf("gzip body: %d bytes (%v)", len(identity), err)
	}
	var doc struct {
		DistTags map[string]string          `json:"dist-tags"`
		Versions map[string]json.RawMessage `json:"versions"`
		Time     map[string]string          `json:"time"`
	}
	if err := json.Unmarshal(identity, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Versions) != n || len(doc.Time) != n+2 || doc.DistTags["latest"] != "1.0.0" {
		t.Fatalf("%d versions, %d times, tags %v", len(doc.Versions), len(doc.Time), doc.DistTags)
	}
	for v, raw := range doc.Versions {
		var vd struct {
			Version string                   `json:"version"`
			Dist    struct{ Tarball string } `json:"dist"`
		}
		if err := json.Unmarshal(raw, &vd); err != nil || vd.Version != v || vd.Dist.Tarball != e.base+"solo/big/-/big-"+v+".tgz" {
			t.Fatalf("version %s: %s (%v)", v, raw, err)
		}
	}

	plain := e.get("solo", "big", "Accept", "application/json")
	if plain.status != 200 || !bytes.Equal(plain.body, identity) || plain.header.Get("Content-Length") != fmt.Sprint(len(identity)) {
		t.Fatalf("identity coding: %d, %d bytes, Content-Length %s", plain.status, len(plain.body), plain.header.Get("Content-Length"))
	}
	zs := e.get("solo", "big", "Accept", "application/json", "Accept-Encoding", "zstd")
	zd, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zd.Close()
	if b, err := zd.DecodeAll(zs.body, nil); err != nil || !bytes.Equal(b, identity) {
		t.Fatalf("zstd coding differs (%v)", err)
	}
	if again := e.get("solo", "big", "Accept", "application/json", "Accept-Encoding", "gzip", "If-None-Match", gz.header.Get("ETag")); again.status != 304 {
		t.Fatalf("revalidation: %d", again.status)
	}

	for _, v := range []string{"1.0.0", "1.6.42", fmt.Sprintf("1.%d.%d", (n-1)/100, (n-1)%100)} {
		r := e.get("solo", "big/"+v, "Accept-Encoding", "gzip")
		body := r.body
		if r.header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		}
		if r.status != 200 || !bytes.Equal(body, doc.Versions[v]) {
			t.Fatalf("version document %s: %d\n%.300s\nwant\n%.300s", v, r.status, body, doc.Versions[v])
		}
	}

	abbrev := e.get("solo", "big", "Accept", "application/vnd.npm.install-v1+json")
	var corgi struct {
		Versions map[string]struct {
			Dist struct{ Tarball string } `json:"dist"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(abbrev.body, &corgi); err != nil || len(corgi.Versions) != n || corgi.Versions["1.6.42"].Dist.Tarball == "" {
		t.Fatalf("abbreviated: %d versions (%v)", len(corgi.Versions), err)
	}
}

// regfx: fixtures for the Cargo and RubyGems bench scripts (bench/cargo-load.sh,
// bench/cargo-build.sh, bench/rubygems-load.sh).
//
//	regfx cargo-tree -n 100 -prefix bt [-dir D -dl URL] [-endpoint E -token T] [-app A]
//	    the crate tree: <prefix>000 … (n crates, version 1.0.0), crate i depending on crates
//	    2i+1 and 2i+2 (a binary tree, depth ⌈log2(n+1)⌉), each a one-function library.
//	    -dir writes a static sparse registry of them into D: config.json ({"dl": URL + the
//	    template crates/{crate}/{crate}-{version}.crate}, no "api", no auth-required), the index
//	    files at their IndexPath, and the .crate files; -endpoint publishes them to a coffer cargo
//	    repository endpoint E through PUT api/v1/crates/new (leaves first, token T as cargo
//	    sends it); -app writes into A an application depending on <prefix>000 (plain
//	    crates-io dependency, for a source replacement) that prints n.
//	regfx cargo-versions -name C -versions 1000 -endpoint E -token T
//	    publishes versions 1.0.0 … 1.0.<v-1> of crate C (no dependencies).
//	regfx gem-versions -name G -versions 1000 -endpoint E -token T
//	    pushes versions 1.0.0 … 1.0.<v-1> of gem G (POST api/v1/gems, as gem push).
//
// -workers (default 4) requests run at once when publishing versions; each prints the time
// taken and the rate. A status other than 200 stops the program.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"coffer/internal/format/cargo"
	"coffer/internal/format/rubygems/rubygemstest"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("regfx: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: regfx cargo-tree|cargo-versions|gem-versions [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 100, "crates in the tree")
	prefix := fs.String("prefix", "bt", "crate name prefix")
	dir := fs.String("dir", "", "write a static sparse registry here")
	dl := fs.String("dl", "", "base URL the static registry is served at")
	app := fs.String("app", "", "write the application here")
	name := fs.String("name", "many", "crate or gem name")
	versions := fs.Int("versions", 1000, "versions to publish")
	endpoint := fs.String("endpoint", "", "coffer repository endpoint (ends in /)")
	token := fs.String("token", "", "coffer authorization token")
	workers := fs.Int("workers", 4, "concurrent publishes")
	fs.Parse(os.Args[2:])
	var err error
	switch os.Args[1] {
	case "cargo-tree":
		err = cargoTree(*n, *prefix, *dir, *dl, *app, *endpoint, *token)
	case "cargo-versions":
		err = parallel(*versions, *workers, "cargo "+*name, func(i int) error {
			v := fmt.Sprintf("1.0.%d", i)
			return publishCrate(*endpoint, *token, crate{name: *name, vers: v, lib: "pub fn v() -> &'static str { \"" + v + "\" }\n"})
		})
	case "gem-versions":
		err = parallel(*versions, *workers, "gem "+*name, func(i int) error {
			g := rubygemstest.Gem{Name: *name, Version: fmt.Sprintf("1.0.%d", i), Summary: "bench gem", Licenses: []string{"MIT"}}
			return post(*endpoint+"api/v1/gems", *token, "application/octet-stream", g.Bytes())
		})
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

type crate struct {
	name, vers, lib string
	deps            []string // crate names, requirement "1"
}

func treeCrate(prefix string, i, n int) crate {
	c := crate{name: fmt.Sprintf("%s%03d", prefix, i), vers: "1.0.0"}
	body := "1"
	for _, j := range []int{2*i + 1, 2*i + 2} {
		if j < n {
			d := fmt.Sprintf("%s%03d", prefix, j)
			c.deps = append(c.deps, d)
			body += " + " + d + "::count()"
		}
	}
	c.lib = "/// The number of crates in this crate's subtree.\npub fn count() -> u64 {\n    " + body + "\n}\n"
	return c
}

func (c crate) manifest() string {
	s := fmt.Sprintf("[package]\nedition = \"2021\"\nname = %q\nversion = %q\ndescription = \"bench tree crate\"\nlicense = \"MIT\"\n\n[lib]\npath = \"src/lib.rs\"\n", c.name, c.vers)
	for _, d := range c.deps {
		s += fmt.Sprintf("\n[dependencies.%s]\nversion = \"1\"\n", d)
	}
	return s
}

// file is the .crate: a gzip tar of <name>-<vers>/{Cargo.toml,src/lib.rs}.
func (c crate) file() []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range [][2]string{{"Cargo.toml", c.manifest()}, {"src/lib.rs", c.lib}} {
		tw.WriteHeader(&tar.Header{Name: c.name + "-" + c.vers + "/" + f[0], Mode: 0o644, Size: int64(len(f[1])),
			ModTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Typeflag: tar.TypeReg})
		io.WriteString(tw, f[1])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func (c crate) indexLine(b []byte) []byte {
	s := sha256.Sum256(b)
	e := cargo.IndexEntry{Name: c.name, Vers: c.vers, Cksum: hex.EncodeToString(s[:]), Features: map[string][]string{}}
	for _, d := range c.deps {
		e.Deps = append(e.Deps, cargo.IndexDep{Name: d, Req: "^1", DefaultFeatures: true, Kind: "normal"})
	}
	return append(e.AppendJSON(nil), '\n')
}

func cargoTree(n int, prefix, dir, dl, app, endpoint, token string) error {
	if dir != "" {
		if dl == "" {
			return fmt.Errorf("-dir needs -dl")
		}
		cfg, _ := json.Marshal(map[string]string{"dl": dl + "crates/{crate}/{crate}-{version}.crate"})
		if err := write(filepath.Join(dir, "config.json"), cfg); err != nil {
			return err
		}
		for i := range n {
			c := treeCrate(prefix, i, n)
			b := c.file()
			if err := write(filepath.Join(dir, "crates", c.name, c.name+"-"+c.vers+".crate"), b); err != nil {
				return err
			}
			if err := write(filepath.Join(dir, filepath.FromSlash(cargo.IndexPath(c.name))), c.indexLine(b)); err != nil {
				return err
			}
		}
		fmt.Printf("static registry: %d crates in %s\n", n, dir)
	}
	if app != "" {
		root := fmt.Sprintf("%s%03d", prefix, 0)
		toml := fmt.Sprintf("[package]\nname = \"benchapp\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n%s = \"1\"\n", root)
		if err := write(filepath.Join(app, "Cargo.toml"), []byte(toml)); err != nil {
			return err
		}
		if err := write(filepath.Join(app, "src", "main.rs"), []byte("fn main() {\n    println!(\"{}\", "+root+"::count());\n}\n")); err != nil {
			return err
		}
	}
	if endpoint != "" {
		t0 := time.Now()
		for i := n - 1; i >= 0; i-- { // leaves first
			if err := publishCrate(endpoint, token, treeCrate(prefix, i, n)); err != nil {
				return err
			}
		}
		d := time.Since(t0)
		fmt.Printf("published %d crates (PUT api/v1/crates/new, one at a time) in %.2f s, %.0f/s\n", n, d.Seconds(), float64(n)/d.Seconds())
	}
	return nil
}

func publishCrate(endpoint, token string, c crate) error {
	// A dependency as cargo sends it; null target and registry (the same registry).
	type dep struct {
		Name            string   `json:"name"`
		VersionReq      string   `json:"version_req"`
		Features        []string `json:"features"`
		Optional        bool     `json:"optional"`
		DefaultFeatures bool     `json:"default_features"`
		Target          *string  `json:"target"`
		Kind            string   `json:"kind"`
		Registry        *string  `json:"registry"`
	}
	ds := []dep{}
	for _, d := range c.deps {
		ds = append(ds, dep{Name: d, VersionReq: "^1", Features: []string{}, DefaultFeatures: true, Kind: "normal"})
	}
	meta, _ := json.Marshal(map[string]any{"name": c.name, "vers": c.vers, "deps": ds, "features": map[string]any{},
		"authors": []string{}, "description": "bench crate", "license": "MIT", "keywords": []string{}, "categories": []string{}, "badges": map[string]any{}})
	b := c.file()
	var body bytes.Buffer
	binary.Write(&body, binary.LittleEndian, uint32(len(meta)))
	body.Write(meta)
	binary.Write(&body, binary.LittleEndian, uint32(len(b)))
	body.Write(b)
	return put(endpoint+"api/v1/crates/new", token, body.Bytes())
}

var client = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

func put(u, token string, body []byte) error { return send("PUT", u, token, "", body) }

func post(u, token, ctype string, body []byte) error { return send("POST", u, token, ctype, body) }

func send(method, u, token, ctype string, body []byte) error {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, u, resp.Status, b)
	}
	return nil
}

// parallel runs f(0 … n-1) on w workers and prints the time taken.
func parallel(n, w int, what string, f func(int) error) error {
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	d := time.Since(t0)
	fmt.Printf("published %d versions of %s (%d at a time) in %.2f s, %.0f/s\n", n, what, w, d.Seconds(), float64(n)/d.Seconds())
	return nil
}

func write(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

package npm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// refVersion and refPackument are what a parse of an upstream packument
// yields, in plain form, for comparisons.
type refVersion struct {
	full, readme, tarball, sha512, sha1 string
	published                           time.Time
}

type refPackument struct {
	versions map[string]refVersion
	tags     map[string]string
	readme   string
}

// referenceParse is how upstream packuments were parsed before they were
// read as a stream (the whole document unmarshalled at once): the stream
// parser must find the same versions, fragments and digests.
func referenceParse(body []byte) (*refPackument, error) {
	var raw struct {
		DistTags map[string]json.RawMessage `json:"dist-tags"`
		Versions map[string]json.RawMessage `json:"versions"`
		Time     map[string]json.RawMessage `json:"time"`
		Readme   json.RawMessage            `json:"readme"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, err
	}
	p := &refPackument{versions: map[string]refVersion{}, tags: map[string]string{}}
	_ = json.Unmarshal(raw.Readme, &p.readme)
	for tag, v := range raw.DistTags {
		var s string
		if json.Unmarshal(v, &s) == nil && validTag(tag) {
			p.tags[tag] = s
		}
	}
	for key, vraw := range raw.Versions {
		if !cleanVersionKey(key) {
			continue
		}
		d, err := decodeVersionDoc(vraw)
		if err != nil {
			continue
		}
		uv := refVersion{tarball: str(d.dist, "tarball"), sha1: strings.ToLower(str(d.dist, "shasum"))}
		if uv.tarball == "" {
			continue
		}
		for _, sri := range strings.Fields(str(d.dist, "integrity")) {
			alg, hexsum, ok := parseSRI(sri)
			switch {
			case !ok:
			case alg == "sha512":
				uv.sha512 = hexsum
			case alg == "sha1" && uv.sha1 == "":
				uv.sha1 = hexsum
			}
		}
		if uv.sha512 == "" && len(uv.sha1) != 40 {
			continue
		}
		uv.readme = d.takeReadme()
		full, err := d.encode()
		if err != nil {
			continue
		}
		if _, err := abbreviate(string(full)); err != nil {
			continue
		}
		uv.full = string(full)
		if t, ok := raw.Time[key]; ok {
			var s string
			if json.Unmarshal(t, &s) == nil {
				uv.published, _ = time.Parse(time.RFC3339Nano, s)
			}
		}
		p.versions[key] = uv
	}
	return p, nil
}

// plain reads a parsed packument back in plain form.
func plain(p *upstreamPackument) *refPackument {
	r := p.reader()
	out := &refPackument{versions: map[string]refVersion{}, tags: p.tags, readme: r.text(p.readme)}
	for v, uv := range p.versions {
		d := p.dist(r, uv)
		out.versions[v] = refVersion{full: r.text(uv.full), readme: r.text(uv.readme), tarball: d.tarball,
			sha512: d.sha512, sha1: d.sha1, published: uv.published}
	}
	return out
}

// diffPackuments describes how two parses differ ("" if they do not).
func diffPackuments(got, want *refPackument) string {
	if !maps.Equal(got.tags, want.tags) {
		return fmt.Sprintf("tags %v, want %v", got.tags, want.tags)
	}
	if got.readme != want.readme {
		return fmt.Sprintf("readme %q, want %q", got.readme, want.readme)
	}
	gk, wk := slices.Sorted(maps.Keys(got.versions)), slices.Sorted(maps.Keys(want.versions))
	if !slices.Equal(gk, wk) {
		return fmt.Sprintf("versions %q, want %q", gk, wk)
	}
	for _, k := range gk {
		g, w := got.versions[k], want.versions[k]
		if g.full != w.full || g.readme != w.readme || g.tarball != w.tarball || g.sha512 != w.sha512 || g.sha1 != w.sha1 || !g.published.Equal(w.published) {
			return fmt.Sprintf("version %s:\n%+v\nwant\n%+v", k, g, w)
		}
	}
	return ""
}

const (
	seedSHA1   = "0123456789abcdef0123456789abcdef01234567"
	seedSRI512 = "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
)

var packumentSeeds = []string{
	`{"name":"a","dist-tags":{"latest":"1.0.0","next":"2.0.0-rc.1","bad tag":"1.0.0","n":1},"versions":{` +
		`"1.0.0":{"name":"a","version":"1.0.0","readme":"# a\n","readmeFilename":"README.md","scripts":{"install":"node x"},` +
		`"dist":{"tarball":"https://r.example/a/-/a-1.0.0.tgz","shasum":"` + seedSHA1 + `","integrity":"` + seedSRI512 + `"}},` +
		`"2.0.0-rc.1":{"name":"a","version":"2.0.0-rc.1","dist":{"tarball":"https://r.example/a/-/a-2.tgz","integrity":"sha1-ASNFZ4mrze8BI0VniavN7wEjRWc="}},` +
		`"3.0.0":{"name":"a","dist":{"tarball":"https://r.example/a/-/a-3.tgz"}},` +
		`"4.0.0":{"name":"a","dist":{"shasum":"` + seedSHA1 + `"}},` +
		`"bad version":{"dist":{"tarball":"t","shasum":"` + seedSHA1 + `"}},` +
		`"5.0.0":[1,2],"6.0.0":{"dist":[]}},` +
		`"time":{"created":"2020-01-01T00:00:00.000Z","1.0.0":"2020-02-03T04:05:06.789Z","2.0.0-rc.1":"not a time"},` +
		`"readme":"top readme","users":{"x":true},"_attachments":{}}`,
	// time first, escapes in names, case variants and duplicates.
	"{\"TIME\":{\"1.0.0\":\"2021-01-01T00:00:00Z\"},\"Versions\":{\"1.0.\\u0030\":{\"description\":\"\\\"q\\\" \\\\ \\u00e9\",\"dist\":{\"tarball\":\"t\\/x\",\"shasum\":\"" + seedSHA1 + "\"}}}," +
		"\"versions\":{\"1.0.0\":{\"dist\":{\"tarball\":\"t2\",\"shasum\":\"" + seedSHA1 + "\"}},\"1.1.0\":{\"dist\":{\"tarball\":\"t\",\"shasum\":\"" + seedSHA1 + "\"}}}," +
		"\"versions\":{\"1.1.0\":{}},\"readme\":1,\"readme\":\"second\"}",
	`null`,
	` { } `,
	`{"versions":null,"dist-tags":null,"time":null}`,
	`{"versions":{"1.0.0":{"name":"a","readme":"ERROR: No README data found!","dist":{"tarball":"t","integrity":"` + seedSRI512 + ` sha1-bad"},"n":[1,{"a":[]},-1.5e3,true,false,null]}}}`,
	`{"versions":"x"}`,
	`[]`,
	`{"versions":{"1.0.0":{"dist":{"tarball":"t","shasum":"` + seedSHA1 + `"}}}} x`,
	`{"versions":{"1.0.0":{"dist":{"tarball":"t","shasum":"` + seedSHA1 + `"}}`,
	`{"a":[1,2}`,
}

// TestParseUpstreamPackumentMatchesReference: the stream parser finds, in
// documents of every shape, exactly what unmarshalling the whole document
// found, and refuses what it refused.
func TestParseUpstreamPackumentMatchesReference(t *testing.T) {
	for i, doc := range packumentSeeds {
		want, werr := referenceParse([]byte(doc))
		p, err := parseUpstreamPackument(strings.NewReader(doc), 1<<20)
		if (err == nil) != (werr == nil) {
			t.Errorf("seed %d: err %v, reference err %v\n%s", i, err, werr, doc)
			continue
		}
		if err != nil {
			continue
		}
		if d := diffPackuments(plain(p), want); d != "" {
			t.Errorf("seed %d: %s", i, d)
		}
	}
	// The first seed, checked by hand.
	p, err := parseUpstreamPackument(strings.NewReader(packumentSeeds[0]), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got := plain(p)
	if len(got.versions) != 2 || got.versions["1.0.0"].readme != "# a\n" || got.readme != "top readme" ||
		got.versions["1.0.0"].published.IsZero() || got.tags["next"] != "2.0.0-rc.1" || len(got.tags) != 2 ||
		got.versions["2.0.0-rc.1"].sha1 != seedSHA1 || got.versions["1.0.0"].sha512 == "" {
		t.Errorf("parse: %+v", got)
	}
}

// TestParseUpstreamPackumentLimits: a version larger than the limit is
// left out (and read past); the others are kept.
func TestParseUpstreamPackumentLimits(t *testing.T) {
	big := strings.Repeat("x", 5000)
	doc := `{"versions":{"1.0.0":{"description":"` + big + `","dist":{"tarball":"t","shasum":"` + seedSHA1 + `"}},` +
		`"1.0.1":{"dist":{"tarball":"t","shasum":"` + seedSHA1 + `"}}},"readme":"` + big + `"}`
	p, err := parseUpstreamPackument(strings.NewReader(doc), 4096)
	if err != nil {
		t.Fatal(err)
	}
	got := plain(p)
	if _, ok := got.versions["1.0.0"]; ok || len(got.versions) != 1 || got.readme != "" {
		t.Errorf("versions %v, readme of %d bytes", slices.Collect(maps.Keys(got.versions)), len(got.readme))
	}
}

// TestPackedArena: strings of every size come back whole, from any block,
// in any order.
func TestPackedArena(t *testing.T) {
	var p packed
	var want [][]byte
	var spans []span
	for i := range 3000 {
		b := bytes.Repeat([]byte{byte('a' + i%26)}, (i*7919)%(3*packBlock/2))
		if i%500 == 0 {
			b = bytes.Repeat([]byte("big"), packBlock)
		}
		want = append(want, b)
		spans = append(spans, p.add(b))
	}
	p.finish()
	if p.size > 8<<20 {
		t.Errorf("arena of %d bytes for repetitive strings", p.size)
	}
	r := p.reader()
	for _, i := range []int{2999, 0, 1, 1500, 500, 7, 2999} {
		got, err := r.get(spans[i])
		if err != nil || !bytes.Equal(got, want[i]) {
			t.Fatalf("string %d: %d bytes, want %d (%v)", i, len(got), len(want[i]), err)
		}
	}
	for i := range want {
		if got, _ := r.get(spans[i]); !bytes.Equal(got, want[i]) {
			t.Fatalf("string %d differs", i)
		}
	}
}

// FuzzParseUpstreamPackument: on any input the stream parser neither
// panics nor disagrees with the reference parse where that one succeeds;
// on valid JSON it fails exactly when the reference fails.
func FuzzParseUpstreamPackument(f *testing.F) {
	for _, s := range packumentSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseUpstreamPackument(bytes.NewReader(body), 1<<20)
		want, werr := referenceParse(body)
		if werr == nil {
			if err != nil {
				t.Fatalf("the reference parses it, the stream parser fails: %v", err)
			}
			if d := diffPackuments(plain(p), want); d != "" {
				t.Fatal(d)
			}
			return
		}
		if json.Valid(body) && err == nil {
			t.Fatalf("valid JSON the reference refuses (%v) is accepted", werr)
		}
	})
}

package pypi

import (
	"encoding/hex"
	"testing"
)

func TestBlake2b256(t *testing.T) {
	// hashlib.blake2b(data, digest_size=32) with data[i] = (i*7+3) % 251.
	want := map[int]string{
		0:    "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
		3:    "9facd640130c81e7f318a8d5c660bc1b0f5d03861ffbd4cc1358e0e904593c28",
		127:  "7eb3d4fe699cedc52282a1c091627822fe7790ef178af8269c0261d367931246",
		128:  "6afdad1409d770bce274b62a69123c97c86ffb40ce9708f3ff9ae4cbba8ba080",
		129:  "69e98b10112e4b7ae396bfbddaee75cc5fe6a9dc1fffc2b11e7c0fc48de04ae5",
		256:  "fabff1fa6173588d4cecdeade31b3237760d62664249e44f621deba4b94367ad",
		1000: "655483217562ae552fae4c276411ebd441ae1615754212965b82aee8aa76e9d8",
	}
	for n, w := range want {
		d := make([]byte, n)
		for i := range d {
			d[i] = byte((i*7 + 3) % 251)
		}
		h := newBlake2b256()
		h.Write(d)
		if got := hex.EncodeToString(h.Sum(nil)); got != w {
			t.Errorf("%d bytes in one write: %s, want %s", n, got, w)
		}
		h.Reset()
		for i := range d { // byte by byte
			h.Write(d[i : i+1])
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != w {
			t.Errorf("%d bytes one at a time: %s, want %s", n, got, w)
		}
	}
}

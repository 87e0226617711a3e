package format

import (
	"hash/maphash"

	"coffer/internal/upstream"
)

// CacheKey names, in a format's cache, a document rendered for one
// repository: name is the package (and whatever else tells documents of
// one package apart).
func CacheKey(t *Target, name string) string {
	return t.DomainOwner + "/" + t.Domain + "/" + t.Repository + "\x00" + name
}

var stampSeed = maphash.MakeSeed()

// StampFingerprint identifies a document rendered from a package's view
// stamp (the engine's ViewStamp) and the upstream documents merged into it
// (doc gives each one's upstream document): a cache hit keyed on it reads
// no version and parses no upstream document again.
func StampFingerprint[D any](stamp string, docs []D, doc func(D) *upstream.Document) uint64 {
	var h maphash.Hash
	h.SetSeed(stampSeed)
	h.WriteString(stamp)
	h.WriteByte(0)
	for _, d := range docs {
		doc(d).Fingerprint(&h)
	}
	return h.Sum64()
}

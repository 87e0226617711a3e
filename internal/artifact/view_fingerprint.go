package artifact

import (
	"encoding/binary"
	"hash/maphash"
)

// Fingerprint writes into h everything the view shows: each visible
// version's repository, name, revision (it changes with any change of the
// version's assets or metadata), status and publish time, the package
// metadata of each repository, and the withheld versions. Formats key the
// documents they render from a view with it.
func (v *PackageView) Fingerprint(h *maphash.Hash) {
	writeInt(h, int64(len(v.Versions)))
	for i := range v.Versions {
		x := &v.Versions[i]
		for _, s := range []string{x.Repository, x.Version.Version, x.Revision, x.Status} {
			h.WriteString(s)
			h.WriteByte(0)
		}
		writeInt(h, x.PublishedTime.UnixNano())
	}
	writeInt(h, int64(len(v.Metadata)))
	for _, m := range v.Metadata {
		h.WriteString(m.Repository)
		h.WriteByte(0)
		h.WriteString(m.Metadata)
		h.WriteByte(0)
	}
	writeInt(h, int64(len(v.Withheld)))
	for _, s := range v.Withheld {
		h.WriteString(s)
		h.WriteByte(0)
	}
}

func writeInt(h *maphash.Hash, x int64) { h.Write(binary.LittleEndian.AppendUint64(nil, uint64(x))) }

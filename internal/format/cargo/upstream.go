package cargo

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/fault"
	"coffer/internal/upstream"
)

// upIndex is an upstream index file as read (ReadIndex): its valid
// entries, each with the line it came from, in the file's order.
type upIndex struct {
	entries []upEntry
}

type upEntry struct {
	name, vers, cksum string
	yanked            bool
	// pubtime is when the registry published the version (the entry's
	// pubtime, which crates.io writes); zero when the entry does not say.
	pubtime time.Time
	line    []byte
}

// find returns the entry of version v (the same release: VersionKey).
func (u *upIndex) find(v string) (*upEntry, bool) {
	k := VersionKey(v)
	for i := range u.entries {
		if e := &u.entries[i]; e.vers == v || VersionKey(e.vers) == k {
			return e, true
		}
	}
	return nil, false
}

// decodeIndex reads an upstream index file line by line (bounded by the
// Fetcher's document limit and ReadIndex's), keeping only what the
// registry needs of each valid entry.
func decodeIndex(body io.Reader, d *upstream.Document) (any, int64, error) {
	u := &upIndex{}
	var cost int64
	_, err := ReadIndex(body, IndexLimits{}, func(e *IndexEntry, line []byte) error {
		u.entries = append(u.entries, upEntry{name: e.Name, vers: e.Vers, cksum: e.Cksum, yanked: e.Yanked, pubtime: e.Pubtime,
			line: append([]byte(nil), line...)})
		cost += int64(len(line)) + int64(len(e.Name)+len(e.Vers)+len(e.Cksum)) + 64
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return u, cost, nil
}

// upstreamIndex reads the index file of crate name (any case) from an
// external source's sparse index, through the Fetcher's cache.
func (h *Handler) upstreamIndex(ctx context.Context, src artifact.ExternalSource, name string) (*upstream.Response, *upIndex, error) {
	res, err := h.up.Get(ctx, src.BaseURL+IndexPath(name), upstream.WithDecode("cargo-index", decodeIndex))
	if err != nil {
		return nil, nil, err
	}
	if res.Freshness == upstream.Stale {
		h.log.Warn("serving a stale upstream cargo index file", "url", res.URL, "err", res.Err)
	}
	u, ok := res.Value.(*upIndex)
	if !ok {
		return nil, nil, fault.Internal(nil, "the upstream index file %s is unreadable", res.URL)
	}
	return res, u, nil
}

// upConfig is what coffer reads of an upstream's config.json.
type upConfig struct {
	DL string `json:"dl"`
}

func decodeConfig(body io.Reader, d *upstream.Document) (any, int64, error) {
	var c upConfig
	if err := json.NewDecoder(io.LimitReader(body, 64<<10)).Decode(&c); err != nil {
		return nil, 0, err
	}
	if c.DL == "" {
		return nil, 0, fault.Validation("config.json has no dl")
	}
	return &c, int64(len(c.DL)) + 32, nil
}

// downloadURL is where the external source serves the .crate of name and
// version: its config.json's dl template, expanded as cargo does.
func (h *Handler) downloadURL(ctx context.Context, src artifact.ExternalSource, name, version, cksum string) (string, error) {
	res, err := h.up.Get(ctx, src.BaseURL+"config.json", upstream.WithDecode("cargo-config", decodeConfig))
	if err != nil {
		return "", err
	}
	c, ok := res.Value.(*upConfig)
	if !ok {
		return "", fault.Internal(nil, "the upstream config.json %s is unreadable", res.URL)
	}
	return ExpandDownload(c.DL, name, version, cksum), nil
}

// ExpandDownload expands a registry's dl template for one crate version
// as cargo does: the markers {crate}, {version}, {prefix},
// {lowerprefix} and {sha256-checksum}; a template without any gets
// /{crate}/{version}/download appended.
func ExpandDownload(dl, name, version, cksum string) string {
	markers := []string{"{crate}", "{version}", "{prefix}", "{lowerprefix}", "{sha256-checksum}"}
	has := false
	for _, m := range markers {
		has = has || strings.Contains(dl, m)
	}
	if !has {
		return strings.TrimSuffix(dl, "/") + "/" + name + "/" + version + "/download"
	}
	prefix := indexPrefix(name)
	return strings.NewReplacer("{crate}", name, "{version}", version, "{prefix}", prefix,
		"{lowerprefix}", strings.ToLower(prefix), "{sha256-checksum}", cksum).Replace(dl)
}

// indexPrefix is the directory part of a crate's index path, in the
// name's own case (cargo's {prefix}).
func indexPrefix(name string) string {
	switch len(name) {
	case 0:
		return ""
	case 1:
		return "1"
	case 2:
		return "2"
	case 3:
		return "3/" + name[:1]
	}
	return name[:2] + "/" + name[2:4]
}

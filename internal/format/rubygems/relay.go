package rubygems

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"coffer/internal/artifact"
	"coffer/internal/blob"
	"coffer/internal/fault"
	"coffer/internal/format"
	"coffer/internal/upstream"
)

// The relayed versions and names files.
//
// Bundler reads info/<gem> only for a gem the versions file lists, so a
// repository that reaches an external connection lists the external
// source's gems too: its versions file (names file) is the external
// source's own, byte for byte, followed by the repository's lines (the
// gem set: gemSet). In the compact index a later line of a gem adds its
// versions to the earlier ones' and its info checksum replaces theirs
// (Bundler's CompactIndexClient::Cache#versions and #checksums), so the
// repository's lines carry the checksum of the info file coffer serves for
// the gems it stores or merges. An external-only gem keeps the source's
// checksum: coffer's info/<gem> of such a gem is the source's lines written
// again (mergeInfo), which gives the same bytes for a file rubygems.org
// wrote (ParseInfo), so the checksums agree; where they do not (an
// upstream that writes its lines otherwise, a package-level BLOCK or a
// package group's EXTERNAL_UPSTREAM BLOCK, a version the supply-chain gate
// withholds, all applied per gem when info/<gem> is read), Bundler only
// revalidates the info file (If-None-Match, a 304): it checks what it
// downloads against the ETag, never against the versions file's checksum.
// The relayed lines still name such versions (a later line can add
// versions, not take them away); Bundler resolves with the info files,
// and their downloads are refused.
//
// rubygems.org's versions file is tens of MiB: it is never held in memory.
// It is read through the upstream client (revalidated with its ETag after
// the client's metadata TTL, so what is relayed may be that much behind;
// the last good copy served when the upstream fails; concurrent reads
// shared; counted against the client's document budget while it is read,
// although it goes to disk) with a decoder that streams it into the blob
// store and keeps only its SHA-256; coffer serves it from there,
// followed by the repository's lines, through http.ServeContent. Its MD5
// and SHA-256 (ETag, Repr-Digest) are computed once per upstream file by
// reading the blob through, and the hash states at its end are kept (a few
// hundred bytes), so a change of the repository's lines costs only those
// lines. A blob nobody records is an orphan to the artifact service's
// collector (after its grace period, counted from the blob's ModTime): a
// relayed file in use is staged again now and then to stay young, and a
// file found collected is fetched again.
//
// When the upstream's file grows, the document's middle changes, so a
// client's copy is no longer a prefix of it: serveRanged answers a Range
// request with If-None-Match (Bundler's append) with 206 only when the
// client's copy, identified by that ETag, is the document's prefix of the
// length the Range implies, and with the whole document (200) otherwise.

// maxRelaySize bounds an external source's versions or names file
// (rubygems.org's versions file is about 30 MiB).
const maxRelaySize = 1 << 30

// relayRefresh is how old a relayed blob may grow before it is staged
// again: well within the orphan collector's grace period (an hour).
const relayRefresh = 20 * time.Minute

// relayFile is an external source's versions or names file, staged in the
// blob store.
type relayFile struct {
	sha  string
	size int64
}

// relayBase is the digests' state at the end of the relayed files.
type relayBase struct {
	size   int64
	md5    []byte // marshaled hash states
	sha256 []byte
	// endsLine is false when the last file does not end with a newline.
	endsLine bool
}

// relayDoc is a relayed document: the files, then own.
type relayDoc struct {
	files []relayFile
	base  *relayBase
	own   []byte
	size  int64
	etag  string
	repr  string // Repr-Digest
	dig   string // Digest
}

func (d *relayDoc) cost() int64 { return int64(len(d.own)) + 512 }

// relayHeaders are the first bytes each relayed file starts with: a
// document that does not is no compact index (an error page, a portal).
var relayHeaders = map[string]string{"versions": "created_at: ", "names": "---\n"}

// relayDecoder stages a versions or names file as it is read.
func (h *Handler) relayDecoder(kind string) upstream.Decoder {
	return func(body io.Reader, d *upstream.Document) (any, int64, error) {
		head := &headWriter{max: len(relayHeaders[kind])}
		// The decoder runs on the upstream client's shared request, which
		// bounds the body's reading; staging and committing are local.
		ctx := context.Background()
		st, err := h.up.Stage(ctx, io.TeeReader(body, head), maxRelaySize)
		if err != nil {
			return nil, 0, err
		}
		defer st.Discard()
		if !strings.HasPrefix(string(head.b), relayHeaders[kind]) {
			return nil, 0, fmt.Errorf("%s is not a compact index %s file (it starts with %q)", d.URL, kind, head.b)
		}
		if _, err := st.Commit(ctx); err != nil {
			return nil, 0, err
		}
		dg := st.Digests()
		return relayFile{sha: dg.SHA256, size: dg.Size}, 128, nil
	}
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if n := w.max - len(w.b); n > 0 {
		w.b = append(w.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// relaySources is the external source whose files the repository relays:
// the first it reaches. RubyGems has one external connection, so every
// repository holding it has the same URL; two versions files one after
// the other would not be one (the second's header lines would read as
// gems, and Bundler fails on a "---" line after the first).
func (h *Handler) relaySources(ctx context.Context, t *format.Target) ([]artifact.ExternalSource, error) {
	srcs, err := h.svc.ExternalConnectionsReached(ctx, t.RepoIn(t.Repository), artifact.FormatRuby)
	if err != nil {
		return nil, err
	}
	for _, s := range srcs {
		if s.BaseURL != "" {
			return []artifact.ExternalSource{s}, nil
		}
	}
	return nil, nil
}

// relayFiles reads kind ("versions" or "names") of every source. ok is
// false when a source could not give one (it is logged): the document is
// then the repository's own.
func (h *Handler) relayFiles(ctx context.Context, srcs []artifact.ExternalSource, kind string) (files []relayFile, fp uint64, ok bool) {
	var mh maphash.Hash
	mh.SetSeed(fingerprintSeed)
	gen := h.relayGen.Load()
	for _, src := range srcs {
		u := src.BaseURL + kind
		res, err := h.up.Get(ctx, u, upstream.WithDecode(fmt.Sprintf("rubygems-relay-%d", gen), h.relayDecoder(kind)),
			upstream.WithMaxSize(maxRelaySize))
		if err != nil {
			level := slog.LevelWarn
			if fault.KindOf(err) == fault.KindNotFound {
				level = slog.LevelDebug // a source without one (remembered a while)
			}
			if ctx.Err() == nil {
				h.log.Log(ctx, level, "rubygems: the external source's "+kind+" file is unavailable; listing the repository's gems only", "url", u, "err", err)
			}
			return nil, 0, false
		}
		if res.Freshness == upstream.Stale {
			h.log.Warn("rubygems: relaying a stale "+kind+" file", "url", u, "err", res.Err)
		}
		f, isFile := res.Value.(relayFile)
		if !isFile {
			return nil, 0, false
		}
		files = append(files, f)
		mh.WriteString(f.sha)
		mh.WriteByte(0)
	}
	return files, mh.Sum64(), true
}

// errRelayGone is a relayed blob found collected.
var errRelayGone = errors.New("a relayed file is no longer stored")

// openRelay opens the files' blobs.
func (h *Handler) openRelay(ctx context.Context, files []relayFile) ([]blob.Object, error) {
	var objs []blob.Object
	for _, f := range files {
		o, err := h.up.Open(ctx, f.sha)
		if err == nil && o.Size() != f.size {
			o.Close()
			err = fault.NotFound("blob", f.sha, "size differs")
		}
		if err != nil {
			for _, o := range objs {
				o.Close()
			}
			if fault.KindOf(err) == fault.KindNotFound {
				return nil, errRelayGone
			}
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// relayBaseOf reads the files through once to know their digests' state
// at their end (cached by their SHA-256s).
func (h *Handler) relayBaseOf(ctx context.Context, files []relayFile) (*relayBase, error) {
	var key strings.Builder
	for _, f := range files {
		key.WriteString(f.sha)
		key.WriteByte(0)
	}
	if b, ok := h.relayBases.Get(key.String(), 0); ok {
		return b, nil
	}
	// One reading at a time: the clients that ask at once after the
	// upstream's file changed wait for the first one's.
	h.baseMu.Lock()
	defer h.baseMu.Unlock()
	if b, ok := h.relayBases.Get(key.String(), 0); ok {
		return b, nil
	}
	objs, err := h.openRelay(ctx, files)
	if err != nil {
		return nil, err
	}
	defer closeAll(objs)
	m, s := md5.New(), sha256.New()
	b := &relayBase{endsLine: true}
	last := &tailWriter{}
	for _, o := range objs {
		n, err := io.Copy(io.MultiWriter(m, s, last), o.Reader())
		if err != nil {
			return nil, fault.Internal(err, "could not read a relayed file")
		}
		b.size += n
	}
	if b.size > 0 {
		b.endsLine = last.last == '\n'
	}
	if b.md5, err = m.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, fault.Internal(err, "md5 state")
	}
	if b.sha256, err = s.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return nil, fault.Internal(err, "sha256 state")
	}
	h.relayBases.Put(key.String(), 0, b, int64(len(b.md5)+len(b.sha256))+64)
	return b, nil
}

type tailWriter struct{ last byte }

func (w *tailWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w.last = p[len(p)-1]
	}
	return len(p), nil
}

func closeAll(objs []blob.Object) {
	for _, o := range objs {
		o.Close()
	}
}

// resume returns the hashes at the end of the relayed files.
func (b *relayBase) resume() (hash.Hash, hash.Hash, error) {
	m, s := md5.New(), sha256.New()
	if err := m.(encoding.BinaryUnmarshaler).UnmarshalBinary(b.md5); err != nil {
		return nil, nil, err
	}
	if err := s.(encoding.BinaryUnmarshaler).UnmarshalBinary(b.sha256); err != nil {
		return nil, nil, err
	}
	return m, s, nil
}

// relayDocument is the relayed document of kind for the repository's own
// lines (own, without the file's header), or nil when the repository
// reaches no external source or a source's file is unavailable.
func (h *Handler) relayDocument(ctx context.Context, t *format.Target, kind string, own func() ([]byte, error)) (*relayDoc, error) {
	srcs, err := h.relaySources(ctx, t)
	if err != nil || len(srcs) == 0 {
		return nil, err
	}
	files, fp, ok := h.relayFiles(ctx, srcs, kind)
	if !ok {
		return nil, ctx.Err()
	}
	base, err := h.relayBaseOf(ctx, files)
	if err != nil {
		return nil, err
	}
	body, err := own()
	if err != nil {
		return nil, err
	}
	var mh maphash.Hash
	mh.SetSeed(fingerprintSeed)
	mh.Write(binary.LittleEndian.AppendUint64(nil, fp))
	mh.Write(body)
	dfp := mh.Sum64()
	key := t.DomainOwner + "/" + t.Domain + "/" + t.Repository + "\x00relay " + kind
	if d, ok := h.relays.Get(key, dfp); ok {
		return d, nil
	}
	if !base.endsLine {
		body = append([]byte{'\n'}, body...)
	}
	m, s, err := base.resume()
	if err != nil {
		return nil, fault.Internal(err, "could not resume a digest")
	}
	m.Write(body)
	s.Write(body)
	sum := s.Sum(nil)
	d := &relayDoc{files: files, base: base, own: body, size: base.size + int64(len(body)),
		etag: `"` + hex.EncodeToString(m.Sum(nil)) + `"`,
		repr: "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":",
		dig:  "sha-256=" + base64.StdEncoding.EncodeToString(sum)}
	h.relays.Put(key, dfp, d, d.cost())
	return d, nil
}

// ownLines is a compact index file's lines after its "---" header.
func ownLines(body []byte) []byte {
	if i := bytes.Index(body, []byte("---\n")); i >= 0 {
		return body[i+4:]
	}
	return body
}

// serveRelay answers a relayed document, streamed from the blob store.
func (h *Handler) serveRelay(w http.ResponseWriter, r *http.Request, d *relayDoc) error {
	objs, err := h.openRelay(r.Context(), d.files)
	if err != nil {
		return err
	}
	defer closeAll(objs)
	parts := make([]part, 0, len(objs)+1)
	for _, o := range objs {
		parts = append(parts, part{r: o.Reader(), size: o.Size()})
	}
	parts = append(parts, part{r: bytes.NewReader(d.own), size: int64(len(d.own))})
	content := &concat{parts: parts, size: d.size}
	prefix := func(n int64) string {
		if n >= d.base.size {
			m, _, err := d.base.resume()
			if err != nil {
				return ""
			}
			m.Write(d.own[:n-d.base.size])
			return hex.EncodeToString(m.Sum(nil))
		}
		m := md5.New()
		if _, err := content.Seek(0, io.SeekStart); err != nil {
			return ""
		}
		if _, err := io.CopyN(m, content, n); err != nil {
			return ""
		}
		return hex.EncodeToString(m.Sum(nil))
	}
	serveRanged(w, r, validators{etag: d.etag, repr: d.repr, digest: d.dig}, d.size, prefix, content)
	for i, o := range objs {
		if time.Since(o.ModTime()) > relayRefresh {
			h.refreshRelay(d.files[i].sha, o)
		}
	}
	return nil
}

// refreshRelay stages a relayed blob again (a copy on local storage),
// which makes it young to the orphan collector, once at a time per blob.
func (h *Handler) refreshRelay(sha string, o blob.Object) {
	if _, busy := h.refreshing.LoadOrStore(sha, true); busy {
		return
	}
	defer h.refreshing.Delete(sha)
	if _, err := o.Seek(0, io.SeekStart); err != nil {
		return
	}
	st, err := h.up.Stage(context.Background(), o, maxRelaySize)
	if err != nil {
		h.log.Warn("rubygems: could not refresh a relayed file", "err", err)
		return
	}
	defer st.Discard()
	if _, err := st.Commit(context.Background()); err != nil {
		h.log.Warn("rubygems: could not refresh a relayed file", "err", err)
	}
}

// part is one piece of a concat.
type part struct {
	r    io.ReadSeeker
	size int64
}

// concat reads its parts one after the other, as one seekable content.
type concat struct {
	parts []part
	size  int64
	off   int64
	mu    sync.Mutex
}

func (c *concat) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off >= c.size {
		return 0, io.EOF
	}
	start := int64(0)
	for _, pt := range c.parts {
		if c.off < start+pt.size {
			if _, err := pt.r.Seek(c.off-start, io.SeekStart); err != nil {
				return 0, err
			}
			n, err := pt.r.Read(p[:min(int64(len(p)), start+pt.size-c.off)])
			c.off += int64(n)
			if err == io.EOF {
				if n == 0 {
					return 0, io.ErrUnexpectedEOF
				}
				err = nil
			}
			return n, err
		}
		start += pt.size
	}
	return 0, io.EOF
}

func (c *concat) Seek(offset int64, whence int) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += c.off
	case io.SeekEnd:
		offset += c.size
	default:
		return 0, errors.New("concat: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("concat: negative position")
	}
	c.off = offset
	return offset, nil
}

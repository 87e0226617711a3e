// Package tlsreload serves a TLS key pair from PEM files and picks up a
// renewed pair without a restart: the files' size, modification time and
// identity are checked at most once per interval during a handshake, and
// Reload (on SIGHUP) loads them unconditionally. A pair that fails to load
// (a renewal that has written the certificate but not yet the key, a half
// written file) never replaces the one being served: the old pair stays,
// a warning is logged once per state of the files, and the load is tried
// again at the next check.
package tlsreload

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often a handshake may look at the files.
const DefaultInterval = time.Second

// Reloader holds the key pair of certFile and keyFile.
type Reloader struct {
	certFile, keyFile string
	log               *slog.Logger
	interval          time.Duration
	now               func() time.Time

	cert      atomic.Pointer[tls.Certificate]
	nextCheck atomic.Int64 // unix nanoseconds before which handshakes do not look at the files

	mu         sync.Mutex // serialises loads; guards the fields below
	loaded     stamps     // the files as they were when the served pair was read
	failed     stamps     // the files when a load last failed (warned about once)
	haveFailed bool
}

// stamp is what a cheap look at a file tells: enough to see that it changed.
type stamp struct {
	info os.FileInfo
}

type stamps struct{ cert, key stamp }

func (s stamp) same(o stamp) bool {
	if s.info == nil || o.info == nil {
		return s.info == nil && o.info == nil
	}
	return os.SameFile(s.info, o.info) && s.info.Size() == o.info.Size() && s.info.ModTime().Equal(o.info.ModTime())
}

func (s stamps) same(o stamps) bool { return s.cert.same(o.cert) && s.key.same(o.key) }

// New loads the pair (an error when it does not load: a server must not
// start without its certificate). log may be nil.
func New(certFile, keyFile string, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{certFile: certFile, keyFile: keyFile, log: log, interval: DefaultInterval, now: time.Now}
	st := r.stat()
	c, err := load(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert.Store(c)
	r.loaded = st
	r.nextCheck.Store(r.now().Add(r.interval).UnixNano())
	r.log.Info("TLS certificate loaded", certAttrs(c, certFile)...)
	return r, nil
}

// SetInterval changes how often handshakes look at the files (tests).
func (r *Reloader) SetInterval(d time.Duration) { r.interval = d }

// Certificate is the pair being served.
func (r *Reloader) Certificate() *tls.Certificate { return r.cert.Load() }

// GetCertificate is for tls.Config.GetCertificate: the current pair, after
// a look at the files when the last look is older than the interval.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.MaybeReload()
	return r.cert.Load(), nil
}

// MaybeReload looks at the files unless that was done less than the
// interval ago, and loads them when they changed since the served pair was
// read (or the last load failed). One caller at a time looks; the others
// go on with the current pair.
func (r *Reloader) MaybeReload() {
	now := r.now().UnixNano()
	next := r.nextCheck.Load()
	if now < next || !r.nextCheck.CompareAndSwap(next, now+int64(r.interval)) {
		return
	}
	if !r.mu.TryLock() {
		return // a load is under way
	}
	defer r.mu.Unlock()
	st := r.stat()
	if st.same(r.loaded) && !r.haveFailed {
		return
	}
	_ = r.loadLocked(st, "files changed")
}

// Reload loads the pair now, whatever the files look like (SIGHUP). On
// failure the served pair stays and the error is returned (and logged).
func (r *Reloader) Reload(reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.haveFailed = false // a forced reload always reports its outcome
	return r.loadLocked(r.stat(), reason)
}

func (r *Reloader) loadLocked(st stamps, reason string) error {
	c, err := load(r.certFile, r.keyFile)
	if err != nil {
		if !r.haveFailed || !st.same(r.failed) {
			old := r.cert.Load()
			r.log.Warn("TLS certificate files could not be loaded; still serving the previous certificate",
				append([]any{"reason", reason, "err", err.Error()}, certAttrs(old, r.certFile)...)...)
		}
		r.haveFailed, r.failed = true, st
		return err
	}
	r.cert.Store(c)
	r.loaded, r.haveFailed = st, false
	r.log.Info("TLS certificate reloaded", append([]any{"reason", reason}, certAttrs(c, r.certFile)...)...)
	return nil
}

func (r *Reloader) stat() stamps {
	var s stamps
	if fi, err := os.Stat(r.certFile); err == nil {
		s.cert.info = fi
	}
	if fi, err := os.Stat(r.keyFile); err == nil {
		s.key.info = fi
	}
	return s
}

// load reads and checks a pair: the key must match the leaf (what
// tls.LoadX509KeyPair checks), and the leaf must parse.
func load(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s and %s: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if len(c.Certificate) == 0 {
			return nil, errors.New("no certificate in " + certFile)
		}
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parsing the certificate in %s: %w", certFile, err)
		}
	}
	return &c, nil
}

func certAttrs(c *tls.Certificate, file string) []any {
	if c == nil || c.Leaf == nil {
		return []any{"file", file}
	}
	return []any{"file", file, "subject", c.Leaf.Subject.String(), "serial", c.Leaf.SerialNumber.Text(16),
		"not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339), "chain", len(c.Certificate)}
}

// ServerConfig is a TLS server configuration serving r's pair: TLS 1.2 at
// least, Go's default cipher suites and curves, and ALPN for HTTP/2 and
// HTTP/1.1.
func (r *Reloader) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

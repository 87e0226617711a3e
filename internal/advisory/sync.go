package advisory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// MaxSyncSize bounds a downloaded source.
const MaxSyncSize = 2 << 30

// syncRetry bounds the wait before a failed sync is tried again.
const syncRetry = 15 * time.Minute

// syncState is the row "osv/sync/<name>" of a synced URL.
type syncState struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	SHA256       string    `json:"sha256,omitempty"` // of the last download imported or found unchanged
	CheckedAt    time.Time `json:"checkedAt"`
	NextAt       time.Time `json:"nextAt"`
	Error        string    `json:"error,omitempty"`
}

// SyncName is the source name a synced URL is imported under: "sync-" and
// its host and path with every run of other characters than [A-Za-z0-9._]
// made one '-'; a URL with a query, or a name longer than 64 characters,
// ends with '-' and 8 hex digits of the URL's SHA-256 instead.
func SyncName(raw string) string {
	base, hashed := raw, false
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		base, hashed = u.Host+u.Path, u.RawQuery != ""
	}
	var b strings.Builder
	b.WriteString("sync-")
	dash := true
	for _, c := range base {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			b.WriteRune(c)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-.")
	if hashed || len(name) > 64 {
		sum := sha256.Sum256([]byte(raw))
		name = strings.TrimRight(name[:min(len(name), 55)], "-.") + "-" + hex.EncodeToString(sum[:4])
	}
	return name
}

// CheckSyncURL accepts an https URL, or an http one to a loopback host.
func CheckSyncURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("%q: http is allowed to a loopback host only; use https", raw)
	}
	return fmt.Errorf("%q is not an https URL", raw)
}

// syncClient is c (or a client with timeouts of its own) whose redirects
// obey CheckSyncURL.
func syncClient(c *http.Client) *http.Client {
	var cl http.Client
	if c != nil {
		cl = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		cl = http.Client{Transport: t, Timeout: 2 * time.Hour}
	}
	next := cl.CheckRedirect
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if err := CheckSyncURL(req.URL.String()); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cl
}

// syncLoop syncs every URL that is due, at once and then every minute (or
// every SyncInterval when shorter), until ctx ends.
func (s *Sources) syncLoop(ctx context.Context) {
	wake := min(s.cfg.SyncInterval, time.Minute)
	names := map[string]string{}
	for _, u := range s.cfg.SyncURLs {
		if other, dup := names[SyncName(u)]; dup && other != u {
			s.log.Error("advisory sync: two URLs share one source name, and replace each other's data; make them differ in more than punctuation",
				"source", SyncName(u), "url", u, "other_url", other)
		}
		names[SyncName(u)] = u
	}
	for {
		for _, u := range s.cfg.SyncURLs {
			if ctx.Err() != nil {
				return
			}
			s.syncOne(ctx, u)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wake):
		}
	}
}

// lockSync takes the cluster-wide lock of a synced source, or this
// process's when the store is one process's.
func (s *Sources) lockSync(ctx context.Context, name string) (unlock func(), err error) {
	if l, ok := s.cfg.Store.(store.Locker); ok {
		return l.Lock(ctx, "osv-sync:"+name)
	}
	s.syncMu.Lock()
	return s.syncMu.Unlock, nil
}

// syncOne downloads and imports raw if it is due, under its lock, and
// records the outcome in its state row. It reports whether it tried.
func (s *Sources) syncOne(ctx context.Context, raw string) (tried bool) {
	name := SyncName(raw)
	log := s.log.With("url", raw, "source", name)
	unlock, err := s.lockSync(ctx, name)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("advisory sync: could not take the sync lock", "err", err)
		}
		return false
	}
	defer unlock()
	var st syncState
	var src *SourceInfo
	err = s.cfg.Store.Read(ctx, func(tx store.Tx) error {
		if v, err := tx.GetSetting(syncPrefix + name); err == nil {
			if err := json.Unmarshal([]byte(v), &st); err != nil {
				st = syncState{} // unreadable: start again
			}
		} else if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		v, err := tx.GetSetting(sourcePrefix + name)
		if errors.Is(err, fault.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		src = &SourceInfo{}
		return json.Unmarshal([]byte(v), src)
	})
	if err != nil {
		log.Warn("advisory sync: could not read its state", "err", err)
		return false
	}
	if st.URL == raw && time.Now().Before(st.NextAt) {
		return false // done by this or another node
	}
	if st.URL != raw {
		st = syncState{URL: raw}
	}
	err = s.fetch(ctx, raw, name, &st, src)
	if ctx.Err() != nil {
		return true // shutting down: the next start tries again
	}
	st.CheckedAt = time.Now().UTC()
	if err != nil {
		st.Error = err.Error()
		st.NextAt = st.CheckedAt.Add(min(s.cfg.SyncInterval, syncRetry))
		log.Warn("advisory sync failed", "err", err, "retry_at", st.NextAt)
	} else {
		st.Error = ""
		st.NextAt = st.CheckedAt.Add(s.cfg.SyncInterval)
	}
	row, _ := json.Marshal(st)
	if err := s.cfg.Store.Write(ctx, func(tx store.Tx) error { return tx.PutSetting(syncPrefix+name, string(row)) }); err != nil {
		log.Warn("advisory sync: could not record its state", "err", err)
	}
	return true
}

// fetch downloads raw (conditionally, while the source is what the last
// sync left) and imports it unless its content is the source's already.
func (s *Sources) fetch(ctx context.Context, raw, name string, st *syncState, src *SourceInfo) error {
	if err := CheckSyncURL(raw); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return err
	}
	current := src != nil && st.SHA256 != "" && src.SHA256 == st.SHA256
	if current {
		if st.ETag != "" {
			req.Header.Set("If-None-Match", st.ETag)
		}
		if st.LastModified != "" {
			req.Header.Set("If-Modified-Since", st.LastModified)
		}
	}
	resp, err := s.syncClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && current:
		s.log.Debug("advisory sync: not modified", "url", raw)
		return nil
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: HTTP %d", raw, resp.StatusCode)
	case resp.ContentLength > MaxSyncSize:
		return fmt.Errorf("GET %s: %d bytes, more than the limit of %d", raw, resp.ContentLength, int64(MaxSyncSize))
	}
	f, sum, err := s.spool(resp.Body, MaxSyncSize)
	if err != nil {
		return fmt.Errorf("GET %s: %w", raw, err)
	}
	defer removeSpool(f)
	if src == nil || src.SHA256 != sum {
		info, err := s.Import(ctx, name, f, "sync:"+raw)
		if err != nil {
			return err
		}
		s.log.Info("advisory sync: imported", "url", raw, "source", name, "records", info.Records)
	}
	st.SHA256, st.ETag, st.LastModified = sum, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	return nil
}

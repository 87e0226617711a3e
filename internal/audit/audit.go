// Package audit writes the audit log: one JSON line per mutating call and per
// denial, saying who did what to which resource, whether it was allowed, and
// why (the deciding policy statement). It never records secrets: callers pass
// principals, actions and ARNs only.
package audit

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"time"
)

// Event is one audit record.
type Event struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"requestId,omitempty"`
	Principal string    `json:"principal"`
	SourceIP  string    `json:"sourceIp,omitempty"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource,omitempty"`
	// Decision is "allow", "deny" or "unauthenticated".
	Decision string `json:"decision"`
	// Reason names the deciding statement ("<policy label> <Sid>") or the
	// authentication failure.
	Reason string `json:"reason,omitempty"`
}

// Log appends events as JSON lines. It is safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	now func() time.Time // time.Now when nil (tests set it)
	lim limiter          // RecordLimited's state, guarded by mu
}

// Open appends to the file at path, creating it with mode 0600.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &Log{w: f, c: f}, nil
}

// New writes to w (tests, or stdout).
func New(w io.Writer) *Log { return &Log{w: w} }

// Record writes one event; a nil Log records nothing.
func (l *Log) Record(e Event) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write(e)
}

// write writes e; l.mu is held.
func (l *Log) write(e Event) {
	if e.Time.IsZero() {
		e.Time = l.clock().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	_, _ = l.w.Write(append(b, '\n'))
}

func (l *Log) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// Close writes the summaries of records RecordLimited still holds back and
// closes the underlying file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	for len(l.lim.queue) > 0 {
		l.endWindow()
	}
	l.mu.Unlock()
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}

package audit

import (
	"fmt"
	"time"
)

// RecordLimited guards the audit log against floods of events that anyone
// can cause without credentials (refused tokens, bad signatures, failed
// sign-ins): each source IP may write LimitPerSource records per
// LimitWindow; what it sends beyond that is counted, not written, and when
// its window has passed one summary record (action SuppressedAction, reason
// "suppressed K records ...") says how many were left out. At most
// LimitSources sources are tracked at once; while that many are, further
// sources share one more budget of LimitPerSource, so the records written
// per window stay bounded however many addresses a flood comes from.
//
// Windows are fixed: a source's window starts with its first event and ends
// LimitWindow later; ended windows are closed (summarised and forgotten)
// whenever a later event is recorded, and by Close.
const (
	LimitPerSource = 20
	LimitWindow    = time.Minute
	LimitSources   = 1024
	// SuppressedAction is the action of a summary record.
	SuppressedAction = "audit:RecordsSuppressed"
)

// otherSources is the key of the budget that sources beyond LimitSources
// share.
const otherSources = "\x00other"

// limiter is RecordLimited's state: the current window of each source, and
// the windows in the order they started (so also in the order they end).
type limiter struct {
	windows map[string]*window
	queue   []*window
}

// window is one source's current window.
type window struct {
	key         string
	start       time.Time
	written     int
	suppressed  int
	lastSkipped Event // the last event held back, for the summary's fields
}

// RecordLimited writes e like Record unless e's source (e.SourceIP) has
// used up its budget for the current window; see LimitPerSource. A nil Log
// records nothing.
func (l *Log) RecordLimited(e Event) {
	if l == nil {
		return
	}
	now := l.clock()
	if e.Time.IsZero() {
		e.Time = now.UTC()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.lim.queue) > 0 && !now.Before(l.lim.queue[0].start.Add(LimitWindow)) {
		l.endWindow()
	}
	if l.lim.windows == nil {
		l.lim.windows = map[string]*window{}
	}
	key := e.SourceIP
	w := l.lim.windows[key]
	if w == nil {
		if len(l.lim.windows) >= LimitSources {
			key = otherSources
			w = l.lim.windows[key]
		}
		if w == nil {
			w = &window{key: key, start: now}
			l.lim.windows[key] = w
			l.lim.queue = append(l.lim.queue, w)
		}
	}
	if w.written < LimitPerSource {
		w.written++
		l.write(e)
		return
	}
	w.suppressed++
	w.lastSkipped = e
}

// endWindow closes the oldest window: it writes its summary, if it held
// anything back, and forgets it. l.mu is held.
func (l *Log) endWindow() {
	w := l.lim.queue[0]
	l.lim.queue[0] = nil
	l.lim.queue = l.lim.queue[1:]
	delete(l.lim.windows, w.key)
	if w.suppressed == 0 {
		return
	}
	from := "this source"
	source := w.key
	if w.key == otherSources {
		from, source = fmt.Sprintf("sources beyond the %d tracked at once", LimitSources), ""
	}
	l.write(Event{
		Principal: "",
		SourceIP:  source,
		Action:    SuppressedAction,
		Decision:  w.lastSkipped.Decision,
		Reason: fmt.Sprintf("suppressed %d records from %s between %s and %s (at most %d a source every %s are written); the last: %s %s",
			w.suppressed, from, w.start.UTC().Format(time.RFC3339), w.start.Add(LimitWindow).UTC().Format(time.RFC3339),
			LimitPerSource, LimitWindow, w.lastSkipped.Action, w.lastSkipped.Reason),
	})
}

// trackedSources is the number of windows open (tests).
func (l *Log) trackedSources() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lim.windows)
}

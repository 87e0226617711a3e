package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lines decodes the JSON lines written so far.
func lines(t *testing.T, buf *bytes.Buffer) []Event {
	t.Helper()
	var out []Event
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func bySource(events []Event, source string) (records, summaries []Event) {
	for _, e := range events {
		switch {
		case e.SourceIP != source:
		case e.Action == SuppressedAction:
			summaries = append(summaries, e)
		default:
			records = append(records, e)
		}
	}
	return records, summaries
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func failure(source string, i int) Event {
	return Event{SourceIP: source, Action: fmt.Sprintf("GET /npm/d/x-111122223333/r/p%d", i), Decision: "unauthenticated", Reason: "The authorization token is invalid."}
}

// TestRecordLimited: a flood from one source writes LimitPerSource records
// a window and then one summary saying how many were suppressed; another
// source is recorded all the while; Close writes the summaries still due.
func TestRecordLimited(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	c := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	l.now = c.now
	const flood = 3 * LimitPerSource
	for i := range flood {
		l.RecordLimited(failure("192.0.2.1", i))
	}
	l.RecordLimited(failure("192.0.2.2", 0))
	records, summaries := bySource(lines(t, &buf), "192.0.2.1")
	if len(records) != LimitPerSource || len(summaries) != 0 {
		t.Fatalf("flooding source: %d records and %d summaries in the first window, want %d and 0", len(records), len(summaries), LimitPerSource)
	}
	for i, e := range records {
		if e.Action != failure("", i).Action || e.Decision != "unauthenticated" || e.Reason == "" || e.Time.IsZero() {
			t.Errorf("record %d: %+v", i, e)
		}
	}
	if other, _ := bySource(lines(t, &buf), "192.0.2.2"); len(other) != 1 {
		t.Fatalf("second source: %d records, want 1", len(other))
	}

	// The next window: first the summary of the last one, then records again.
	c.advance(LimitWindow)
	l.RecordLimited(failure("192.0.2.1", flood))
	records, summaries = bySource(lines(t, &buf), "192.0.2.1")
	if len(summaries) != 1 || len(records) != LimitPerSource+1 {
		t.Fatalf("after the window: %d records, %d summaries", len(records), len(summaries))
	}
	s := summaries[0]
	if want := fmt.Sprintf("suppressed %d ", flood-LimitPerSource); !strings.HasPrefix(s.Reason, want) || s.Decision != "unauthenticated" {
		t.Fatalf("summary %+v, want a reason starting %q", s, want)
	}
	// The second source's quiet window ended without a summary.
	if _, sum := bySource(lines(t, &buf), "192.0.2.2"); len(sum) != 0 {
		t.Fatalf("summary for a source that was never limited: %+v", sum)
	}

	// Suppressed records still due when the log closes are summarised.
	for i := range LimitPerSource + 5 {
		l.RecordLimited(failure("192.0.2.1", i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	records, summaries = bySource(lines(t, &buf), "192.0.2.1")
	if len(records) != 2*LimitPerSource || len(summaries) != 2 || !strings.HasPrefix(summaries[1].Reason, "suppressed 6 ") {
		t.Fatalf("at close: %d records, summaries %+v", len(records), summaries)
	}
}

// TestRecordLimitedBoundsSources: past LimitSources distinct sources in one
// window, the rest share one budget, so many sources cannot fill the disk
// either, and the limiter's memory stays bounded.
func TestRecordLimitedBoundsSources(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	c := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	l.now = c.now
	const sources = LimitSources + 500
	for i := range sources {
		for j := range 2 * LimitPerSource {
			l.RecordLimited(failure(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), j))
		}
	}
	events := lines(t, &buf)
	if max := (LimitSources + 1) * LimitPerSource; len(events) > max {
		t.Fatalf("%d records from %d sources, want at most %d", len(events), sources, max)
	}
	if n := l.trackedSources(); n > LimitSources+1 {
		t.Fatalf("%d sources tracked", n)
	}
	// Once the window has passed, everything is summarised and forgotten.
	c.advance(LimitWindow)
	l.RecordLimited(failure("192.0.2.9", 0))
	if n := l.trackedSources(); n != 1 {
		t.Fatalf("%d sources tracked after the window", n)
	}
	recorded, suppressed := 0, 0
	for _, e := range lines(t, &buf) {
		switch {
		case e.Action == SuppressedAction:
			var k int
			if _, err := fmt.Sscanf(e.Reason, "suppressed %d ", &k); err != nil || k <= 0 {
				t.Fatalf("summary reason %q", e.Reason)
			}
			suppressed += k
		case e.SourceIP != "192.0.2.9":
			recorded++
		}
	}
	if total := sources * 2 * LimitPerSource; recorded+suppressed != total {
		t.Fatalf("%d records + %d suppressed, want the %d sent", recorded, suppressed, total)
	}
}

// TestRecordUnlimited: Record itself is never limited.
func TestRecordUnlimited(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	for i := range 3 * LimitPerSource {
		l.Record(failure("192.0.2.1", i))
	}
	if n := len(lines(t, &buf)); n != 3*LimitPerSource {
		t.Fatalf("%d records", n)
	}
	var nilLog *Log
	nilLog.RecordLimited(failure("192.0.2.1", 0)) // records nothing, does not panic
}

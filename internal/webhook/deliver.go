package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"coffer/internal/auth/seal"
	"coffer/internal/events"
	"coffer/internal/fault"
	"coffer/internal/store"
)

// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the webhook's secret>".
const SignatureHeader = "Coffer-Signature"

// Sign is the Coffer-Signature value of body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Deliverer sends the outbox's events to the webhooks: one worker per
// webhook, woken after a local commit (Wake) and every Poll for the events
// other nodes committed and for retries.
type Deliverer struct {
	Store  store.Store
	Sealer *seal.Sealer
	Log    *slog.Logger
	Client *http.Client // default: 10 s timeout, no redirects
	// Poll is how often the outbox is looked at without a Wake (default 2s).
	Poll time.Duration
	// Retention bounds how long an event is kept in the outbox when some
	// webhook has not taken it yet (default 7 days).
	Retention time.Duration
	// Backoff is the first wait between attempts (default 1s); it doubles
	// up to a minute.
	Backoff time.Duration

	once    sync.Once
	wake    chan struct{}
	mu      sync.Mutex
	workers map[string]chan struct{}
	metrics *deliveryMetrics
}

type deliveryMetrics struct {
	delivered, failed, attempts *prometheus.CounterVec
}

func (d *Deliverer) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.workers = map[string]chan struct{}{}
		if d.Poll <= 0 {
			d.Poll = 2 * time.Second
		}
		if d.Retention <= 0 {
			d.Retention = 7 * 24 * time.Hour
		}
		if d.Backoff <= 0 {
			d.Backoff = time.Second
		}
		if d.Client == nil {
			d.Client = &http.Client{Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		d.metrics = &deliveryMetrics{
			delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_webhook_events_delivered_total",
				Help: "Events a webhook accepted, by webhook id."}, []string{"webhook"}),
			failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_webhook_events_failed_total",
				Help: "Events given up on after the webhook's retry time, by webhook id."}, []string{"webhook"}),
			attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_webhook_attempts_total",
				Help: "Delivery attempts by webhook id and outcome (ok, error)."}, []string{"webhook", "outcome"}),
		}
	})
}

// Collectors are the delivery metrics, for the server's registry.
func (d *Deliverer) Collectors() []prometheus.Collector {
	d.init()
	return []prometheus.Collector{d.metrics.delivered, d.metrics.failed, d.metrics.attempts}
}

// Wake tells the workers that events were committed. It never blocks.
func (d *Deliverer) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	d.init()
	poll := time.NewTicker(d.Poll)
	defer poll.Stop()
	var lastPrune time.Time
	for {
		d.startWorkers(ctx)
		if time.Since(lastPrune) > time.Hour {
			d.prune(ctx)
			lastPrune = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-poll.C:
		}
		d.mu.Lock()
		for _, w := range d.workers {
			select {
			case w <- struct{}{}:
			default:
			}
		}
		d.mu.Unlock()
	}
}

// startWorkers starts a worker for each webhook that has none.
func (d *Deliverer) startWorkers(ctx context.Context) {
	var hooks []Hook
	if err := d.Store.Read(ctx, func(tx store.Tx) (err error) { hooks, err = listHooks(tx); return err }); err != nil {
		if ctx.Err() == nil {
			d.Log.Warn("webhooks: could not list the webhooks", "err", err)
		}
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range hooks {
		if _, ok := d.workers[h.ID]; ok {
			continue
		}
		w := make(chan struct{}, 1)
		w <- struct{}{}
		d.workers[h.ID] = w
		go d.work(ctx, h.ID, w)
	}
}

// work delivers one webhook's events until the webhook is deleted or ctx
// ends.
func (d *Deliverer) work(ctx context.Context, id string, wake chan struct{}) {
	defer func() {
		d.mu.Lock()
		delete(d.workers, id)
		d.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		for {
			more, err := d.round(ctx, id)
			if errors.Is(err, fault.ErrNotFound) {
				return // deleted
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d.Log.Warn("webhooks: delivery round failed", "webhook", id, "err", err)
				break
			}
			if !more {
				break
			}
		}
	}
}

// roundSize is how many outbox rows a round reads.
const roundSize = 100

// round delivers what follows the webhook's cursor, up to roundSize rows,
// and reports whether there may be more. With a store shared by several
// nodes, it holds the webhook's lock, so that one node delivers it at a
// time.
func (d *Deliverer) round(ctx context.Context, id string) (more bool, err error) {
	if l, ok := d.Store.(store.Locker); ok {
		unlock, err := l.Lock(ctx, "webhook/"+id)
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	var h *Hook
	var cursor int64
	var rows []store.Event
	err = d.Store.Read(ctx, func(tx store.Tx) error {
		var err error
		if h, err = getHook(tx, id); err != nil {
			return err
		}
		if cursor, err = readCursor(tx, id); err != nil {
			return err
		}
		rows, err = tx.ListEvents(cursor, roundSize)
		return err
	})
	if err != nil {
		return false, err
	}
	secret, err := d.Sealer.Open(h.Secret, sealPurpose)
	if err != nil {
		return false, fmt.Errorf("webhook %s: its secret cannot be opened with this master key: %w", id, err)
	}
	next := cursor
	for i := range rows {
		e := &rows[i]
		ev, err := events.Decode(e.Body, e.Seq)
		if err != nil || !h.matches(e, ev) {
			next = e.Seq
			continue
		}
		if next != cursor { // move past what was skipped before a long retry
			if err := d.advance(ctx, id, cursor, next, nil); err != nil {
				return false, err
			}
			cursor = next
		}
		f, err := d.deliver(ctx, h, secret, e, ev)
		if err != nil {
			return false, err
		}
		if err := d.advance(ctx, id, cursor, e.Seq, f); err != nil {
			return false, err
		}
		cursor, next = e.Seq, e.Seq
	}
	if next != cursor {
		if err := d.advance(ctx, id, cursor, next, nil); err != nil {
			return false, err
		}
	}
	return len(rows) == roundSize, nil
}

// advance moves the cursor from from to to, recording f when the event
// at to was given up on. A cursor that moved meanwhile (the webhook was
// deleted and made again) is left alone.
func (d *Deliverer) advance(ctx context.Context, id string, from, to int64, f *Failure) error {
	return d.Store.Write(ctx, func(tx store.Tx) error {
		cur, err := readCursor(tx, id)
		if err != nil {
			return err
		}
		if cur != from {
			return nil
		}
		if f != nil {
			b, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if err := tx.PutSetting(fmt.Sprintf("%s%s/%020d", failedPrefix, id, f.Seq), string(b)); err != nil {
				return err
			}
		}
		return tx.PutSetting(cursorPrefix+id, strconv.FormatInt(to, 10))
	})
}

// deliver sends one event until the webhook accepts it, or until the
// webhook's retry time is over: then it returns the Failure to keep. An
// error means ctx ended or the webhook is gone.
func (d *Deliverer) deliver(ctx context.Context, h *Hook, secret []byte, e *store.Event, ev *events.Event) (*Failure, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	first := time.Now()
	wait := d.Backoff
	for attempt := 1; ; attempt++ {
		err := d.send(ctx, h, secret, body, ev)
		if err == nil {
			d.metrics.attempts.WithLabelValues(h.ID, "ok").Inc()
			d.metrics.delivered.WithLabelValues(h.ID).Inc()
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d.metrics.attempts.WithLabelValues(h.ID, "error").Inc()
		if time.Since(first)+wait > h.retryFor() {
			d.metrics.failed.WithLabelValues(h.ID).Inc()
			d.Log.Warn("webhooks: event given up on", "webhook", h.ID, "seq", e.Seq, "attempts", attempt, "err", err)
			return &Failure{Hook: h.ID, Seq: e.Seq, EventID: ev.Detail.EventDeduplicationID,
				Package: e.Format + "/" + e.Namespace + "/" + e.Name + "@" + e.Version, Attempts: attempt,
				FirstTry: first.UTC(), LastTry: time.Now().UTC(), LastError: err.Error()}, nil
		}
		d.Log.Debug("webhooks: delivery failed; retrying", "webhook", h.ID, "seq", e.Seq, "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Minute)
		// A webhook deleted while its receiver is down stops here.
		if err := d.Store.Read(ctx, func(tx store.Tx) error { _, err := getHook(tx, h.ID); return err }); err != nil {
			return nil, err
		}
	}
}

// send makes one attempt.
func (d *Deliverer) send(ctx context.Context, h *Hook, secret, body []byte, ev *events.Event) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "coffer-webhook")
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	req.Header.Set("Coffer-Webhook-Id", h.ID)
	req.Header.Set("Coffer-Event-Id", ev.Detail.EventDeduplicationID)
	resp, err := d.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return nil
}

func readCursor(tx store.Tx, id string) (int64, error) {
	v, err := tx.GetSetting(cursorPrefix + id)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// prune removes the events every webhook has taken, and those older than
// Retention.
func (d *Deliverer) prune(ctx context.Context) {
	var n int64
	err := d.Store.Write(ctx, func(tx store.Tx) error {
		hooks, err := listHooks(tx)
		if err != nil {
			return err
		}
		upTo, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		for _, h := range hooks {
			c, err := readCursor(tx, h.ID)
			if err != nil {
				return err
			}
			upTo = min(upTo, c)
		}
		n, err = tx.DeleteEvents(upTo, time.Now().Add(-d.Retention))
		return err
	})
	if err != nil && ctx.Err() == nil {
		d.Log.Warn("webhooks: could not prune the event outbox", "err", err)
	} else if n > 0 {
		d.Log.Debug("webhooks: pruned the event outbox", "events", n)
	}
}

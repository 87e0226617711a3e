package retention

import (
	"context"
	"errors"
	"time"

	"coffer/internal/fault"
	"coffer/internal/store"
)

// ScheduleInterval is how often the stored rules run by themselves.
const ScheduleInterval = time.Hour

// RunScheduled applies every domain's stored rules every interval
// (ScheduleInterval when <= 0) until ctx ends, the first time one interval
// after the start. On a shared store the nodes take turns under the
// retention lock, and a node skips a pass that another ran less than
// interval/2 ago (the retention-scheduled row).
func (s *Service) RunScheduled(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = ScheduleInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.ScheduledPass(ctx, interval/2); err != nil && ctx.Err() == nil {
				s.Log.Warn("scheduled retention pass failed", "err", err)
			}
		}
	}
}

// ScheduledPass applies every domain's stored rules, one run per domain,
// unless a pass ran less than minGap ago.
func (s *Service) ScheduledPass(ctx context.Context, minGap time.Duration) error {
	if l, ok := s.Store.(store.Locker); ok {
		// Held across the check and the record of the pass, so that two
		// nodes never both decide to run; execute takes it again per run
		// under another name.
		unlock, err := l.Lock(ctx, lockKey+"-schedule")
		if err != nil {
			return err
		}
		defer unlock()
	}
	var all []Rule
	var last time.Time
	err := s.Store.Read(ctx, func(tx store.Tx) error {
		v, err := tx.GetSetting(scheduledKey)
		if err == nil {
			last, _ = time.Parse(time.RFC3339Nano, v)
		} else if !errors.Is(err, fault.ErrNotFound) {
			return err
		}
		all, err = listRules(tx, "", "")
		return err
	})
	if err != nil {
		return err
	}
	now := s.now()
	if !last.IsZero() && now.Sub(last) < minGap {
		return nil
	}
	if err := s.Store.Write(ctx, func(tx store.Tx) error {
		return tx.PutSetting(scheduledKey, now.UTC().Format(time.RFC3339Nano))
	}); err != nil {
		return err
	}
	type domain struct{ owner, name string }
	byDomain := map[domain][]Rule{}
	var order []domain
	for _, r := range all {
		d := domain{r.DomainOwner, r.Domain}
		if _, ok := byDomain[d]; !ok {
			order = append(order, d)
		}
		byDomain[d] = append(byDomain[d], r)
	}
	var first error
	for _, d := range order {
		run := &Run{DomainOwner: d.owner, Domain: d.name, Trigger: triggerScheduled, AsOf: now.UTC()}
		err := s.execute(ctx, run, byDomain[d])
		s.record(ctx, ActionRun, d.owner, d.name, "/retention-run/"+run.ID, runSummary(run))
		if err != nil && first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return first
}

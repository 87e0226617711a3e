package retention

import "github.com/prometheus/client_golang/prometheus"

// metrics count this process's runs since it started.
type metrics struct {
	runs    *prometheus.CounterVec
	removed prometheus.Counter
	freed   prometheus.Counter
}

func (s *Service) init() {
	s.metricsOnce.Do(func() {
		s.metrics = &metrics{
			runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_retention_runs_total",
				Help: "Retention runs, by trigger (manual, scheduled), dry run and result (ok, error)."}, []string{"trigger", "dry_run", "result"}),
			removed: prometheus.NewCounter(prometheus.CounterOpts{Name: "coffer_retention_versions_removed_total",
				Help: "Package versions retention runs removed."}),
			freed: prometheus.NewCounter(prometheus.CounterOpts{Name: "coffer_retention_bytes_freed_total",
				Help: "Bytes of blobs retention runs deleted from the blob store."}),
		}
	})
}

// Collectors are the retention metrics, for the server's registry.
func (s *Service) Collectors() []prometheus.Collector {
	s.init()
	return []prometheus.Collector{s.metrics.runs, s.metrics.removed, s.metrics.freed}
}

// observe counts a finished run.
func (s *Service) observe(run *Run, err error) {
	s.init()
	result := "ok"
	if err != nil {
		result = "error"
	}
	dry := "false"
	if run.DryRun {
		dry = "true"
	}
	s.metrics.runs.WithLabelValues(run.Trigger, dry, result).Inc()
	if !run.DryRun {
		s.metrics.removed.Add(float64(len(run.Versions)))
		s.metrics.freed.Add(float64(run.BytesFreed))
	}
}

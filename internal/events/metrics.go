package events

import "github.com/prometheus/client_golang/prometheus"

// metrics count the committed events.
type metrics struct {
	changes, publishes, ingests *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_package_version_events_total",
			Help: "Package version events recorded, by format, operation type (Created, Updated, Deleted) and the version's origin (INTERNAL, EXTERNAL, UNKNOWN)."},
			[]string{"format", "operation", "origin"}),
		publishes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_publishes_total",
			Help: "Versions created or given assets by a publish to a repository, by format."}, []string{"format"}),
		ingests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_ingests_total",
			Help: "Versions stored from an external connection or retained from an upstream repository, by format."}, []string{"format"}),
	}
}

func (m *metrics) count(events []recorded) {
	for _, e := range events {
		m.changes.WithLabelValues(e.format, e.operation, e.origin).Inc()
		switch {
		case e.operation == Deleted || !e.assets:
		case e.publishedHere:
			m.publishes.WithLabelValues(e.format).Inc()
		default:
			m.ingests.WithLabelValues(e.format).Inc()
		}
	}
}

// Collectors are the journal's metrics, for the server's registry.
func (j *Journal) Collectors() []prometheus.Collector {
	return []prometheus.Collector{j.metrics.changes, j.metrics.publishes, j.metrics.ingests}
}

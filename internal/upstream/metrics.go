package upstream

import (
	"net/url"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"coffer/internal/fault"
)

// Metrics counts and times upstream exchanges; its Observe is a
// Config.Observe. Exchanges are labelled with the external connection whose
// host they went to, or "host:<host>" for other hosts (a registry's file
// CDN).
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
	byHost   map[string]string
	mu       sync.Mutex
	other    map[string]string // "host:<host>" labels made so far
}

// NewMetrics labels exchanges by the connections' base URLs (name → URL).
func NewMetrics(connections map[string]string) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_upstream_requests_total",
			Help: "Exchanges with external registries by connection, operation (get: index documents, fetch: assets) and outcome (ok, not_modified, not_found, error)."},
			[]string{"connection", "op", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "coffer_upstream_request_duration_seconds",
			Help: "Time of exchanges with external registries, retries included, by connection and operation.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 8)},
			[]string{"connection", "op"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_upstream_bytes_total",
			Help: "Bytes read from external registries by connection and operation."}, []string{"connection", "op"}),
		byHost: map[string]string{},
		other:  map[string]string{},
	}
	for name, raw := range connections {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			m.byHost[u.Host] = name
		}
	}
	return m
}

// Collectors are the metrics, for the server's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration, m.bytes}
}

// Observe records one exchange.
func (m *Metrics) Observe(e Event) {
	conn := m.connection(e.URL)
	outcome := "ok"
	switch {
	case e.Err == nil && e.Status == 304:
		outcome = "not_modified"
	case e.Err == nil:
	case fault.KindOf(e.Err) == fault.KindNotFound:
		outcome = "not_found"
	default:
		outcome = "error"
	}
	m.requests.WithLabelValues(conn, e.Op, outcome).Inc()
	m.duration.WithLabelValues(conn, e.Op).Observe(e.Duration.Seconds())
	if e.Bytes > 0 {
		m.bytes.WithLabelValues(conn, e.Op).Add(float64(e.Bytes))
	}
}

func (m *Metrics) connection(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "unknown"
	}
	if name, ok := m.byHost[u.Host]; ok {
		return name
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.other[u.Host]
	if !ok {
		l = "host:" + u.Host
		m.other[u.Host] = l
	}
	return l
}

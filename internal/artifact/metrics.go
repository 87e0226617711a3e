package artifact

import "github.com/prometheus/client_golang/prometheus"

// Where a native read found its asset, the label of coffer_asset_reads_total.
const (
	readLocal    = iota // stored in the requested repository: a cache hit
	readUpstream        // in an upstream repository, retained now
	readExternal        // fetched from an external connection now
	readSources
)

var readSourceNames = [readSources]string{readLocal: "local", readUpstream: "upstream", readExternal: "external"}

// readMetrics counts native reads by format and source. The counters are
// made once per format, so the cached-download path pays one map read.
type readMetrics struct {
	vec     *prometheus.CounterVec
	fetches *prometheus.CounterVec
	by      map[string]*[readSources]prometheus.Counter
}

func newReadMetrics() *readMetrics {
	m := &readMetrics{
		vec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_asset_reads_total",
			Help: "Native asset reads by format and where the asset was found: local (stored in the requested repository), upstream (retained from an upstream repository now), external (fetched from an external connection now)."},
			[]string{"format", "source"}),
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "coffer_external_fetches_total",
			Help: "Assets fetched from external connections by connection and outcome (ok, not_found, error)."}, []string{"connection", "outcome"}),
		by: map[string]*[readSources]prometheus.Counter{},
	}
	for _, f := range Formats {
		var cs [readSources]prometheus.Counter
		for i, name := range readSourceNames {
			cs[i] = m.vec.WithLabelValues(f, name)
		}
		m.by[f] = &cs
	}
	return m
}

func (m *readMetrics) read(format string, source int) {
	if cs, ok := m.by[format]; ok {
		cs[source].Inc()
	}
}

// Collectors are the engine's metrics, for the server's registry.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.reads.vec, s.reads.fetches}
}

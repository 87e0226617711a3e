package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	throttled *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_requests_total", Help: "HTTP requests by surface, method and status code.",
		}, []string{"surface", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "coffer_http_request_duration_seconds", Help: "Time to serve HTTP requests by surface.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"surface"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_throttled_requests_total", Help: "Requests refused by a rate limit, by surface and operation (the API operation, the Query service or the package format).",
		}, []string{"surface", "operation"}),
	}
	reg.MustRegister(m.requests, m.duration, m.throttled)
	return m
}

// surface counts and times the requests of one surface.
func (m *metrics) surface(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		m.requests.WithLabelValues(name, r.Method, strconv.Itoa(sw.status)).Inc()
		if li, ok := r.Context().Value(logInfoKey).(*logInfo); ok && li.throttled != "" {
			m.throttled.WithLabelValues(name, li.throttled).Inc()
		}
		m.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus series. A nil registry gives working but
// unregistered collectors, so the code never checks.
type metrics struct {
	deliveries    *prometheus.CounterVec
	latency       prometheus.Histogram
	pending       prometheus.Gauge
	oldestPending prometheus.Gauge
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: succeeded, failed (for good: retries used up or 410 Gone), retried (failed, another attempt is scheduled).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_webhook_attempt_duration_seconds",
			Help:    "Time from sending a webhook request to having read its answer (or given up).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_webhook_pending_deliveries",
			Help: "Deliveries of active subscriptions waiting for their next attempt (refreshed every 5 s).",
		}),
		oldestPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_webhook_oldest_pending_age_seconds",
			Help: "Age of the oldest pending delivery of an active subscription; 0 when none (refreshed every 5 s).",
		}),
	}
	for _, outcome := range []string{"succeeded", "failed", "retried"} {
		m.deliveries.WithLabelValues(outcome) // show every series from the start
	}
	if reg != nil {
		reg.MustRegister(m.deliveries, m.latency, m.pending, m.oldestPending)
	}
	return m
}

func (m *metrics) delivered(outcome string) { m.deliveries.WithLabelValues(outcome).Inc() }

func (m *metrics) observeAttempt(d time.Duration) {
	if d > 0 {
		m.latency.Observe(d.Seconds())
	}
}

func (m *metrics) setPending(n int64, oldest time.Duration) {
	m.pending.Set(float64(n))
	m.oldestPending.Set(oldest.Seconds())
}

package recording

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultRetentionInterval is how often the retention worker looks for expired recordings.
const DefaultRetentionInterval = 10 * time.Minute

// retentionBatch bounds one pass's deletions; a pass that fills it runs again at once.
const retentionBatch = 200

// Expire deletes the recordings whose account's retention (recording_retention_days > 0)
// has run out since they ended — row, then audio — and returns how many it deleted.
func (s *Service) Expire(ctx context.Context) (int, error) {
	total := 0
	for {
		recs, err := s.Store.ExpiredRecordings(ctx, s.now(), retentionBatch)
		if err != nil {
			return total, err
		}
		for _, r := range recs {
			if err := s.Delete(ctx, r.AccountID, r.ID); err != nil && !isNotFound(err) {
				return total, err
			}
			total++
		}
		if len(recs) < retentionBatch {
			return total, nil
		}
	}
}

// RunRetention runs Expire every interval until ctx ends.
func (s *Service) RunRetention(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.Expire(ctx); err != nil {
			s.logger().Warn("recording retention", "err", err)
		} else if n > 0 {
			s.logger().Info("recording retention: expired recordings deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// usageCollector reports the stored recordings' count and bytes on /metrics, read from the
// store at each scrape (one aggregate query), so every node reports the same figure.
type usageCollector struct {
	svc          *Service
	bytes, count *prometheus.Desc
}

// RegisterMetrics adds switchboard_recordings_bytes and switchboard_recordings to reg.
func (s *Service) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(&usageCollector{svc: s,
		bytes: prometheus.NewDesc("switchboard_recordings_bytes", "Bytes of stored call recordings (all accounts).", nil, nil),
		count: prometheus.NewDesc("switchboard_recordings", "Number of stored call recordings (all accounts).", nil, nil)})
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.bytes; ch <- c.count }

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, b, err := c.svc.Store.RecordingUsage(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.bytes, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(b))
	ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
}

package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/store"
	"switchboard/webhook"
)

type webhookFlags struct {
	allowHTTP    bool
	allowCIDRs   stringList
	timeout      time.Duration
	retention    time.Duration
	disableAfter int
	workers      int
}

func addWebhookFlags(fs *flag.FlagSet, f *webhookFlags) {
	fs.BoolVar(&f.allowHTTP, "webhook-allow-http", false, "allow plain http:// webhook URLs (https is required otherwise; --demo allows http)")
	fs.Var(&f.allowCIDRs, "webhook-allow-cidr", "CIDR webhook targets may be in although it is private, loopback or link-local (repeatable; --demo allows loopback)")
	fs.DurationVar(&f.timeout, "webhook-timeout", 10*time.Second, "timeout of one webhook delivery attempt")
	fs.DurationVar(&f.retention, "webhook-retention", 30*24*time.Hour, "how long delivery logs are kept")
	fs.IntVar(&f.disableAfter, "webhook-disable-after", 50, "consecutive failed deliveries after which a subscription is disabled (0 = never)")
	fs.IntVar(&f.workers, "webhook-workers", 32, "concurrent webhook deliveries")
}

// newWebhookService builds the webhook service: subscriptions for the API, and the workers
// that deliver the outbox. --demo allows http URLs and loopback receivers, so that a
// receiver on the same machine works out of the box.
func newWebhookService(c *serveConfig, db *store.DB, key []byte, logger *slog.Logger, registry *prometheus.Registry) (*webhook.Service, error) {
	policy, err := webhookPolicy(c)
	if err != nil {
		return nil, err
	}
	return webhook.NewService(webhook.Config{
		Store:        db,
		Policy:       policy,
		Key:          key,
		Logger:       logger.With("component", "webhook"),
		Registry:     registry,
		Timeout:      c.webhooks.timeout,
		Workers:      c.webhooks.workers,
		DisableAfter: c.webhooks.disableAfter,
		Retention:    c.webhooks.retention,
		// One SQLite file has one server: a crashed run's claims can be released at once.
		SingleNode:        db.Dialect() == store.DialectSQLite,
		DeliveriesCreated: db.DeliveriesCreated(),
	})
}

// webhookPolicy is the URL policy of webhook subscriptions and of call flows' webhook
// nodes, from the flags.
func webhookPolicy(c *serveConfig) (webhook.URLPolicy, error) {
	policy := webhook.URLPolicy{AllowHTTP: c.webhooks.allowHTTP || c.demo}
	for _, s := range c.webhooks.allowCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return webhook.URLPolicy{}, fmt.Errorf("--webhook-allow-cidr %q is not a CIDR such as 10.0.0.0/8", s)
		}
		policy.AllowCIDRs = append(policy.AllowCIDRs, p)
	}
	if c.demo {
		policy.AllowCIDRs = append(policy.AllowCIDRs, netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
	}
	return policy, nil
}

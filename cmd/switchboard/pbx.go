package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"switchboard/pbx"
	"switchboard/sip"
	"switchboard/store"
	"switchboard/webhook"
)

type pbxFlags struct {
	rtpPorts   string
	rtpIP      string
	rtpTimeout time.Duration
	// parkTimeout: how long a parked call waits before it rings the parker back.
	parkTimeout time.Duration
}

func addPBXFlags(fs *flag.FlagSet, f *pbxFlags) {
	fs.StringVar(&f.rtpPorts, "rtp-ports", "10000-20000", "UDP port range of the calls' RTP (one port per call leg)")
	fs.StringVar(&f.rtpIP, "rtp-ip", "", "address RTP binds to and announces in SDP; default: the SIP address's host")
	fs.DurationVar(&f.rtpTimeout, "rtp-timeout", 60*time.Second, "an answered call whose RTP stops this long is hung up")
	fs.DurationVar(&f.parkTimeout, "park-timeout", 45*time.Second, "a parked call nobody retrieves for this long rings the parker back")
}

// newCallEngine builds the call engine on the SIP server and connects the two, or returns
// nil when SIP is off. Trunk passwords are sealed with the same server key as webhook secrets.
func newCallEngine(c *serveConfig, db *store.DB, key []byte, sipServer *sip.Server, logger *slog.Logger) (*pbx.Engine, error) {
	if sipServer == nil {
		return nil, nil
	}
	lo, hi, ok := strings.Cut(c.pbx.rtpPorts, "-")
	min, err1 := strconv.Atoi(strings.TrimSpace(lo))
	max, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || min < 1024 || max > 65535 || min >= max {
		return nil, fmt.Errorf("--rtp-ports %q must be a range such as 10000-20000 (1024-65535)", c.pbx.rtpPorts)
	}
	cfg := pbx.Config{Store: db, SIP: sipServer, RTPPortMin: min, RTPPortMax: max,
		InactivityTimeout: c.pbx.rtpTimeout, ParkTimeout: c.pbx.parkTimeout, Logger: logger}
	// Webhook nodes of call flows reach what subscriptions may reach.
	policy, err := webhookPolicy(c)
	if err != nil {
		return nil, err
	}
	cfg.WebhookPolicy = policy
	if c.pbx.rtpIP != "" {
		ip, err := netip.ParseAddr(c.pbx.rtpIP)
		if err != nil {
			return nil, fmt.Errorf("--rtp-ip %q is not an IP address", c.pbx.rtpIP)
		}
		cfg.MediaIP = ip
	}
	sealer, err := webhook.NewSealer(key)
	if err != nil {
		return nil, err
	}
	cfg.Sealer = sealer
	engine, err := pbx.New(cfg)
	if err != nil {
		return nil, err
	}
	engine.Attach()
	return engine, nil
}

package sip

import "github.com/prometheus/client_golang/prometheus"

// REGISTER outcomes, the values of the outcome label.
const (
	outcomeRegistered   = "registered"     // 200 with at least one live contact
	outcomeUnregistered = "unregistered"   // 200 after removing contacts, none left
	outcomeQuery        = "query"          // 200 to a REGISTER without Contact
	outcomeChallenged   = "challenged"     // 401 to a REGISTER without credentials
	outcomeStale        = "stale"          // 401 stale=true: right password, expired nonce
	outcomeReplay       = "replay"         // 401: nonce count not increasing
	outcomeAuthFailed   = "auth_failed"    // 401: wrong password or unknown user
	outcomeForbidden    = "forbidden"      // 403: To does not match the credentials
	outcomeTooBrief     = "interval_brief" // 423
	outcomeBadRequest   = "bad_request"    // 400
	outcomeOutOfOrder   = "out_of_order"   // 500 per RFC 3261 §10.3 step 7
	outcomeError        = "error"          // 500: the store failed
	outcomeNoDomain     = "unknown_domain" // 404: a domain that belongs to no account
)

type metrics struct {
	// registrations and registered count live bindings and devices when scraped: counting
	// them at each REGISTER walked every binding of every user under the registrar's lock.
	registrations prometheus.GaugeFunc
	registered    prometheus.GaugeFunc
	registers     *prometheus.CounterVec
	authFailures  prometheus.Counter
	bans          prometheus.Counter
	dropped       prometheus.Counter
	parseErrors   prometheus.Counter
	messages      *prometheus.CounterVec // MESSAGEs taken, by source (message.go)
	messagesOut   *prometheus.CounterVec // MESSAGEs sent to phones, by result
}

// newMetrics makes the registrar's metrics; live counts the live contact bindings and the
// devices that have one.
func newMetrics(reg *prometheus.Registry, live func() (contacts, devices int)) (*metrics, error) {
	gauge := func(name, help string, value func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, value)
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		registrations: gauge("switchboard_sip_registrations", "Live SIP contact bindings.",
			func() float64 { c, _ := live(); return float64(c) }),
		registered: gauge("switchboard_sip_registered_devices", "Devices with at least one live SIP registration.",
			func() float64 { _, d := live(); return float64(d) }),
		registers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_register_total",
			Help: "REGISTER requests answered, by outcome.",
		}, []string{"outcome"}),
		authFailures: counter("switchboard_sip_auth_failures_total",
			"SIP requests with wrong credentials (wrong password or unknown user)."),
		bans: counter("switchboard_sip_bans_total", "Source addresses banned for repeated authentication failures."),
		dropped: counter("switchboard_sip_banned_packets_dropped_total",
			"Packets and connections from banned addresses dropped unread."),
		parseErrors: counter("switchboard_sip_parse_errors_total", "SIP messages that could not be parsed."),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_messages_received_total",
			Help: "SIP MESSAGEs accepted (202), by source: phone or trunk.",
		}, []string{"source"}),
		messagesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_sip_messages_sent_total",
			Help: "SIP MESSAGEs sent to phones, by result: delivered, refused, no_answer.",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.registrations, m.registered, m.registers, m.authFailures, m.bans, m.dropped, m.parseErrors,
		m.messages, m.messagesOut} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

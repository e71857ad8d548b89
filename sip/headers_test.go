package sip

import (
	"slices"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// headerOf and headersOf find what sipgo's GetHeader and GetHeaders find, whatever the case.
func TestHeaderOfFindsWhatSipgoFinds(t *testing.T) {
	names := []string{"Via", "via", "VIA", "Contact", "m", "Authorization", "authorization", "Expires",
		"EXPIRES", "User-Agent", "user-agent", "Supported", "Proxy-Authorization", "Call-ID", "i", "X-None"}
	for _, tc := range registerCorpus {
		msg, err := sip.ParseMessage([]byte(tc.msg))
		if err != nil {
			continue
		}
		req := msg.(*sip.Request)
		for _, name := range names {
			if got, want := headerOf(req, name), req.GetHeader(name); got != want {
				t.Errorf("%s: headerOf(%q) = %v, GetHeader %v", tc.name, name, got, want)
			}
			if got, want := headersOf(req, name), req.GetHeaders(name); !slices.Equal(got, want) {
				t.Errorf("%s: headersOf(%q) = %v, GetHeaders %v", tc.name, name, got, want)
			}
		}
	}
}

package webhook

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"switchboard"
)

// Custom header values often carry the receiver's credentials (an Authorization or an
// X-Api-Key), so they are kept sealed at rest like the signing secret. The store keeps the
// headers as a map of strings, so a sealed value is stored as sealedHeaderPrefix followed by
// the base64 of the Sealer's output. A value without the prefix is a row written before
// values were sealed: it is still sent as it is, and sealed the next time the subscription is
// written.
const sealedHeaderPrefix = "sealed:v1:"

// RedactedHeaderValue stands for a stored header value wherever a subscription is shown.
// Sent back as a header's value in a PATCH, it means "keep the stored value".
const RedactedHeaderValue = "[redacted]"

// sealHeader seals a value the user gave. It is always sealed, even when it already looks
// sealed: a value that came from a user is never trusted to be one of ours, or a user could
// have the server open (and send to their receiver) a blob sealed for someone else.
func (s *Sealer) sealHeader(value string) string {
	return sealedHeaderPrefix + base64.StdEncoding.EncodeToString(s.Seal(value))
}

// sealStoredHeaders seals the values read from a row written before sealing existed. It is
// only for values that came from the store: the user's values are sealed by sealHeader.
func (s *Sealer) sealStoredHeaders(h map[string]string) {
	for name, value := range h {
		if !strings.HasPrefix(value, sealedHeaderPrefix) {
			h[name] = s.sealHeader(value)
		}
	}
}

// openHeaders returns the headers in clear, for sending.
func (s *Sealer) openHeaders(h map[string]string) (map[string]string, error) {
	if len(h) == 0 {
		return h, nil
	}
	out := make(map[string]string, len(h))
	for name, value := range h {
		enc, sealed := strings.CutPrefix(value, sealedHeaderPrefix)
		if !sealed {
			out[name] = value // a row from before sealing
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("webhook: the stored value of header %s is damaged: %v", name, err)
		}
		plain, err := s.Open(raw)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", name, err)
		}
		out[name] = plain
	}
	return out, nil
}

// redacted returns a copy of w to hand out of the service: header names with their values
// replaced by RedactedHeaderValue, so that neither a value nor its sealed form leaves.
func redacted(w *switchboard.Webhook) *switchboard.Webhook {
	if w == nil {
		return nil
	}
	c := *w
	c.Headers = make(map[string]string, len(w.Headers))
	for name := range w.Headers {
		c.Headers[name] = RedactedHeaderValue
	}
	return &c
}

// byCanonicalName re-keys headers by canonical name, so a value is found whatever the case
// the user wrote its name in.
func byCanonicalName(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for name, value := range h {
		out[http.CanonicalHeaderKey(name)] = value
	}
	return out
}

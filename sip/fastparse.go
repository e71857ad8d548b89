package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// REGISTERs on the fast path (fastregister.go) are parsed here instead of by sipgo's parser,
// into the same sipgo request. Each header sipgo parses is parsed by sipgo's own parser for
// it, so no header can mean something else here; what this saves is sipgo's work around
// them (in perf, about a third of its parse): a lower-cased copy of every header name, a
// map lookup, a copy of every name and value. Here the datagram is copied into one string
// and names and values are slices of it. A datagram of any other shape — folded lines, a
// body, several values on one line, a header its parser refuses, a line not ended by CRLF —
// is left to sipgo's parser, which handles or refuses it as before.

// parsedHeaders are the headers sipgo parses (sip.DefaultHeadersParser), by lower-case name;
// any other header is kept as sipgo keeps it, name and value as written.
var parsedHeaders = func() []namedParser {
	var out []namedParser
	for name, parse := range sip.DefaultHeadersParser() {
		out = append(out, namedParser{name, parse})
	}
	return out
}()

type namedParser struct {
	name  string
	parse sip.HeaderParser
}

func headerParser(name string) sip.HeaderParser {
	for _, p := range parsedHeaders {
		if len(p.name) == len(name) && strings.EqualFold(p.name, name) {
			return p.parse
		}
	}
	return nil
}

// parseRegisterDatagram parses data, a REGISTER datagram without a body, as sipgo's parser would;
// ok is false for any datagram it leaves to sipgo's parser.
func parseRegisterDatagram(data []byte) (req *sip.Request, ok bool) {
	if len(data) > maxMessageLength {
		return nil, false
	}
	s := string(data)
	line, s, ok := cutLine(s)
	if !ok {
		return nil, false
	}
	// "REGISTER <uri> SIP/2.0", split on single spaces as sipgo does.
	rest, ok := strings.CutPrefix(line, "REGISTER ")
	if !ok {
		return nil, false
	}
	uriText, version, ok := strings.Cut(rest, " ")
	if !ok || version != "SIP/2.0" {
		return nil, false
	}
	var uri sip.Uri
	if err := sip.ParseUri(uriText, &uri); err != nil || uri.Wildcard {
		return nil, false
	}
	req = sip.NewRequest(sip.REGISTER, uri)
	for {
		line, s, ok = cutLine(s)
		if !ok {
			return nil, false
		}
		if line == "" {
			break // the end of the headers
		}
		if s != "" && (s[0] == ' ' || s[0] == '\t') {
			return nil, false // folded onto the next line
		}
		name, value, found := strings.Cut(line, ":")
		if !found {
			return nil, false
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		parse := headerParser(name)
		if parse == nil {
			req.AppendHeader(sip.NewHeader(name, value))
			continue
		}
		h, err := parse(nil, value)
		if err != nil {
			return nil, false // refused, or several values on one line
		}
		req.AppendHeader(h)
	}
	if s != "" {
		return nil, false // a body
	}
	if cl := req.ContentLength(); cl != nil && *cl != 0 {
		return nil, false // a body announced and missing
	}
	return req, true
}

// cutLine cuts the line before the first CRLF off s; ok is false when s has no CRLF or a
// CR not followed by LF (sipgo refuses both).
func cutLine(s string) (line, rest string, ok bool) {
	i := strings.IndexByte(s, '\r')
	if i < 0 || i+1 >= len(s) || s[i+1] != '\n' {
		return "", "", false
	}
	return s[:i], s[i+2:], true
}

// Package sms sends and receives SMS: carriers count the body the way the network does
// (segment.go), the service checks and stores messages (service.go), a worker sends the
// outbox through the carrier of each number (worker.go), and the simulator stands in for a
// carrier (simulator.go). docs/sms.md describes it for users.
package sms

import (
	"strconv"
	"unicode/utf8"

	"switchboard"
)

// Encodings of a message body.
const (
	GSM7 = "gsm7"
	UCS2 = "ucs2"
)

// Characters per part: one part alone, or each part of a concatenated message (the UDH of
// concatenation takes 6 octets: 7 GSM-7 septets, 3 UCS-2 characters).
const (
	GSM7Single = 160
	GSM7Part   = 153
	UCS2Single = 70
	UCS2Part   = 67
	// MaxParts bounds sms_max_parts: the UDH counts parts in one octet, and carriers
	// commonly refuse more than 10.
	MaxParts = 10
)

// gsm7Basic is the GSM 03.38 default alphabet; gsm7Ext its extension table (each character
// costs an escape septet and itself: two septets).
const gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
const gsm7Ext = "\f^{}\\[~]|€"

var basicSet, extSet = runeSet(gsm7Basic), runeSet(gsm7Ext)

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// Count is how a carrier counts a body.
type Count struct {
	Encoding string // GSM7 or UCS2
	Units    int    // septets (GSM-7) or UTF-16 code units (UCS-2)
	Segments int    // parts it is sent in
}

// CountBody counts body: GSM-7 when every character is in the default alphabet or its
// extension table, else UCS-2. Parts are packed so that no escape sequence (GSM-7) or
// surrogate pair (UCS-2, e.g. an emoji) is split between two parts, as handsets do.
func CountBody(body string) Count {
	gsm := true
	for _, r := range body {
		if !basicSet[r] && !extSet[r] {
			gsm = false
			break
		}
	}
	cost := func(r rune) int { // units of one character
		if gsm {
			if extSet[r] {
				return 2
			}
			return 1
		}
		if r > 0xFFFF {
			return 2
		}
		return 1
	}
	single, part, enc := GSM7Single, GSM7Part, GSM7
	if !gsm {
		single, part, enc = UCS2Single, UCS2Part, UCS2
	}
	units := 0
	for _, r := range body {
		units += cost(r)
	}
	c := Count{Encoding: enc, Units: units, Segments: 1}
	if units <= single {
		return c
	}
	c.Segments, units = 1, 0
	for _, r := range body {
		n := cost(r)
		if units+n > part {
			c.Segments++
			units = 0
		}
		units += n
	}
	return c
}

// CheckBody validates a body to send with at most maxParts parts (0 or 1: one part) and
// counts it. Errors are VALIDATION_ERROR on field "message".
func CheckBody(body string, maxParts int) (Count, error) {
	v := switchboard.ValidationErrors{}
	if maxParts < 1 {
		maxParts = 1
	}
	var c Count
	switch {
	case body == "":
		v.Add("message", "is required")
	case !utf8.ValidString(body):
		v.Add("message", "is not valid UTF-8")
	default:
		c = CountBody(body)
		if c.Segments > maxParts {
			v.Add("message", tooLong(c, maxParts))
		}
	}
	return c, v.Err()
}

func tooLong(c Count, maxParts int) string {
	limit, unit := GSM7Single, "GSM-7 characters"
	if c.Encoding == UCS2 {
		limit, unit = UCS2Single, "UCS-2 characters (the message holds characters outside GSM-7, such as emoji)"
	}
	if maxParts > 1 {
		limit = GSM7Part * maxParts
		if c.Encoding == UCS2 {
			limit = UCS2Part * maxParts
		}
		return "must be at most " + strconv.Itoa(limit) + " " + unit + " in " + strconv.Itoa(maxParts) +
			" parts (the account's sms_max_parts), not " + strconv.Itoa(c.Units)
	}
	return "must be at most " + strconv.Itoa(limit) + " " + unit + ", not " + strconv.Itoa(c.Units) +
		" (€ [ ] { } ~ ^ | \\ count twice); the account's sms_max_parts setting allows concatenated messages"
}

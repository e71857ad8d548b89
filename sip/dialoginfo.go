package sip

import (
	"encoding/xml"
	"sort"
	"strings"
)

// DialogState is the state of a dialog as the dialog event package names it (RFC 4235
// section 3.7.1). Busy lamps show early as ringing and confirmed as busy.
type DialogState string

// The dialog states the call engine reports. "trying" and "proceeding" are not used: a phone
// is reported early as soon as it is sent the INVITE, which is when its lamp should blink.
const (
	DialogEarly      DialogState = "early"
	DialogConfirmed  DialogState = "confirmed"
	DialogTerminated DialogState = "terminated"
)

// UserDialog is one of a user's calls as busy lamps see it: one SIP dialog between one of
// the user's phones and the PBX.
type UserDialog struct {
	AccountID, UserID int64
	// ID names the dialog among the user's (the leg's SIP Call-ID will do).
	ID     string
	CallID string
	State  DialogState
	// Initiator: the user's phone placed the call (direction="initiator"); otherwise it is
	// being called (direction="recipient").
	Initiator bool
	// Remote is the other party's extension or number, RemoteName its display name; both
	// may be empty.
	Remote, RemoteName string
}

// dialogInfoType is the MIME type of the dialog event package's bodies.
const dialogInfoType = "application/dialog-info+xml"

// dialogInfo is a dialog-info document, in the namespace urn:ietf:params:xml:ns:dialog-info
// (RFC 4235 section 4). Switchboard always sends full state: each NOTIFY
// stands alone, so a phone that missed one is right again with the next.
type dialogInfo struct {
	XMLName xml.Name        `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version int             `xml:"version,attr"`
	State   string          `xml:"state,attr"`
	Entity  string          `xml:"entity,attr"`
	Dialogs []dialogElement `xml:"dialog"`
}

type dialogElement struct {
	ID        string       `xml:"id,attr"`
	CallID    string       `xml:"call-id,attr,omitempty"`
	Direction string       `xml:"direction,attr,omitempty"`
	State     string       `xml:"state"`
	Local     *participant `xml:"local,omitempty"`
	Remote    *participant `xml:"remote,omitempty"`
}

type participant struct {
	Identity identity `xml:"identity"`
	Target   *target  `xml:"target,omitempty"`
}

type identity struct {
	Display string `xml:"display,attr,omitempty"`
	URI     string `xml:",chardata"`
}

type target struct {
	URI string `xml:"uri,attr"`
}

// dialogInfoXML renders the full-state document of entity (sip:1002@domain) at version:
// its dialogs in a stable order, each with the remote party as a SIP URI on host.
func dialogInfoXML(entity, host string, version int, dialogs []UserDialog) []byte {
	doc := dialogInfo{Version: version, State: "full", Entity: entity}
	sorted := append([]UserDialog(nil), dialogs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	for _, d := range sorted {
		el := dialogElement{ID: d.ID, CallID: d.CallID, State: string(d.State), Direction: "recipient",
			Local: &participant{Identity: identity{URI: entity}, Target: &target{URI: entity}}}
		if d.Initiator {
			el.Direction = "initiator"
		}
		if d.Remote != "" {
			uri := "sip:" + uriUser(d.Remote) + "@" + host
			el.Remote = &participant{Identity: identity{Display: d.RemoteName, URI: uri}, Target: &target{URI: uri}}
		}
		doc.Dialogs = append(doc.Dialogs, el)
	}
	out, err := xml.Marshal(doc)
	if err != nil {
		// Marshalling these plain structs of strings cannot fail.
		panic("sip: dialog-info: " + err.Error())
	}
	return append([]byte(xml.Header), out...)
}

// uriUser keeps the characters a SIP URI's user part may hold unescaped (RFC 3261 25.1,
// unreserved and user-unreserved) and drops the rest: a remote party is an extension or a
// number, and anything else must not break the URI.
func uriUser(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z',
			strings.ContainsRune("-_.!~*'()&=+$,;?/", r):
			return r
		}
		return -1
	}, s)
}

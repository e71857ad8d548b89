package switchboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	// Time zones of time conditions must load on a host without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Node types of a call flow.
const (
	FlowNodeTimeCondition = "time_condition"
	FlowNodeIVR           = "ivr"
	FlowNodeAnnouncement  = "announcement"
	FlowNodeQueue         = "queue"
	FlowNodeRingGroup     = "ring_group"
	FlowNodeUser          = "user"
	FlowNodeVoicemail     = "voicemail"
	FlowNodeConference    = "conference"
	FlowNodeWebhook       = "webhook"
	FlowNodeForward       = "forward"
	FlowNodeSetCallerName = "set_caller_name"
	FlowNodeSetLanguage   = "set_language"
	FlowNodeHangup        = "hangup"
)

// FlowNodeTypes lists the node types, in the order the docs give them.
var FlowNodeTypes = []string{FlowNodeTimeCondition, FlowNodeIVR, FlowNodeAnnouncement, FlowNodeQueue,
	FlowNodeRingGroup, FlowNodeUser, FlowNodeVoicemail, FlowNodeConference, FlowNodeWebhook, FlowNodeForward,
	FlowNodeSetCallerName, FlowNodeSetLanguage, FlowNodeHangup}

// Override states of a time condition: the manual "closed today" a manager sets.
const (
	OverrideNone   = ""
	OverrideOpen   = "open"
	OverrideClosed = "closed"
)

// Defaults and limits of call flows.
const (
	DefaultIVRTimeout  = 5 // seconds
	DefaultIVRRetries  = 2
	MaxIVRTimeout      = 60
	MaxIVRRetries      = 9
	MaxFlowNodes       = 200
	MaxFlowNameLen     = 100
	MaxFlowTextLen     = 200  // menu and webhook names, caller name prefix, token
	MaxFlowURLLen      = 2000 // webhook URL
	MaxFlowHeaders     = 20
	MaxFlowHeaderValue = 1000
	MaxFlowRanges      = 50 // open ranges of a time condition, or of one exception
	MaxFlowExceptions  = 400
)

// CallFlow is a named graph of nodes a call walks from Start: numbers route to one
// (Target{Type: TargetCallFlow}), and queue overflow, ring group fallback may point at one.
type CallFlow struct {
	ID        int64
	AccountID int64
	Name      string
	Start     string
	Nodes     map[string]FlowNode
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FlowNode is one node of a flow: one flat struct whose fields each type uses a part of
// (see Validate and docs/callflows.md for which).
type FlowNode struct {
	Type string `json:"type"`
	// Name is an ivr's menu name (sent with ivr.option) or a webhook's name.
	Name string `json:"name,omitempty"`

	Then string `json:"then,omitempty"` // time_condition: open
	Else string `json:"else,omitempty"` // time_condition: closed
	Next string `json:"next,omitempty"` // the node after this one (not answered, for connecting nodes)

	PromptID int64             `json:"prompt_id,omitempty"`
	Options  map[string]string `json:"options,omitempty"` // ivr: key -> node
	TimeoutS int               `json:"timeout_s,omitempty"`
	// Retries is how often an ivr replays its prompt after no input, and separately after an
	// invalid key, before it follows timeout or invalid. nil = DefaultIVRRetries.
	Retries    *int   `json:"retries,omitempty"`
	Invalid    string `json:"invalid,omitempty"`
	Timeout    string `json:"timeout,omitempty"`
	DirectDial bool   `json:"direct_dial,omitempty"`

	QueueID        int64 `json:"queue_id,omitempty"`
	RingGroupID    int64 `json:"ring_group_id,omitempty"`
	UserID         int64 `json:"user_id,omitempty"`
	VoicemailBoxID int64 `json:"voicemail_box_id,omitempty"` // also read as box_id
	ConferenceID   int64 `json:"conference_id,omitempty"`

	URL     string            `json:"url,omitempty"`
	Token   string            `json:"token,omitempty"` // sent as X-Pbx-Token
	Headers map[string]string `json:"headers,omitempty"`

	Number   string `json:"number,omitempty"` // forward: E.164
	Prefix   string `json:"prefix,omitempty"` // set_caller_name
	Language string `json:"language,omitempty"`

	TimeZone   string          `json:"time_zone,omitempty"`
	Open       []OpenHours     `json:"open,omitempty"`
	Exceptions []DateException `json:"exceptions,omitempty"`
	// Override, when set, decides the condition whatever the time: the manual "closed
	// today". It lapses at OverrideUntil when that is set.
	Override      string     `json:"override,omitempty"`
	OverrideUntil *time.Time `json:"override_until,omitempty"`
}

// OpenHours is a weekly range of a time condition: on each of Days (mon … sun) from From to
// To ("09:00", "17:30"; wall-clock time in the condition's zone). A To before From runs
// past midnight into the next day; "24:00" is the end of the day.
type OpenHours struct {
	Days []string `json:"days"`
	From string   `json:"from"`
	To   string   `json:"to"`
}

// DateException overrides the weekly hours on one date (YYYY-MM-DD in the zone): closed all
// day (no Open), or open only in its Open ranges (a half-day). Days of its ranges are ignored.
type DateException struct {
	Date string      `json:"date"`
	Name string      `json:"name,omitempty"`
	Open []OpenHours `json:"open,omitempty"`
}

// UnmarshalJSON reads a node, accepting box_id as the voicemail box. A field no node has
// is refused: a misspelt "timeout_sec" must not silently become the default.
func (n *FlowNode) UnmarshalJSON(b []byte) error {
	type plain FlowNode
	var v struct {
		plain
		BoxID int64 `json:"box_id"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*n = FlowNode(v.plain)
	if n.VoicemailBoxID == 0 {
		n.VoicemailBoxID = v.BoxID
	}
	return nil
}

// RetryCount is the node's retries, or the default.
func (n *FlowNode) RetryCount() int {
	if n.Retries == nil {
		return DefaultIVRRetries
	}
	return *n.Retries
}

// TimeoutDuration is how long an ivr waits for a key after its prompt.
func (n *FlowNode) TimeoutDuration() time.Duration {
	if n.TimeoutS <= 0 {
		return DefaultIVRTimeout * time.Second
	}
	return time.Duration(n.TimeoutS) * time.Second
}

// Target is what a queue, ring_group, user or forward node connects the call to.
func (n *FlowNode) Target() Target {
	switch n.Type {
	case FlowNodeQueue:
		return Target{Type: TargetQueue, ID: n.QueueID}
	case FlowNodeRingGroup:
		return Target{Type: TargetRingGroup, ID: n.RingGroupID}
	case FlowNodeUser:
		return Target{Type: TargetUser, ID: n.UserID}
	case FlowNodeForward:
		return Target{Type: TargetExternal, Number: n.Number}
	}
	return Target{}
}

// FlowRef is a reference of a node to a row of the account that must exist: a queue, ring
// group, user, prompt, voicemail box or conference room. Field is the error's field name.
type FlowRef struct {
	Kind  string // one of the FlowRef* kinds
	ID    int64
	Field string // e.g. nodes.support.queue_id
	Node  string
}

// Kinds of FlowRef.
const (
	FlowRefQueue      = "queue"
	FlowRefRingGroup  = "ring_group"
	FlowRefUser       = "user"
	FlowRefPrompt     = "prompt"
	FlowRefVoicemail  = "voicemail_box"
	FlowRefConference = "conference"
)

// Refs lists the account rows the flow's nodes name, sorted by field.
func (f *CallFlow) Refs() []FlowRef {
	var refs []FlowRef
	add := func(node, kind, field string, id int64) {
		if id > 0 {
			refs = append(refs, FlowRef{Kind: kind, ID: id, Field: "nodes." + node + "." + field, Node: node})
		}
	}
	for name, n := range f.Nodes {
		add(name, FlowRefPrompt, "prompt_id", n.PromptID)
		add(name, FlowRefQueue, "queue_id", n.QueueID)
		add(name, FlowRefRingGroup, "ring_group_id", n.RingGroupID)
		add(name, FlowRefUser, "user_id", n.UserID)
		add(name, FlowRefVoicemail, "voicemail_box_id", n.VoicemailBoxID)
		add(name, FlowRefConference, "conference_id", n.ConferenceID)
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Field < refs[j].Field })
	return refs
}

var (
	flowNodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	ivrKey       = regexp.MustCompile(`^[0-9*#]$`)
	languageTag  = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$`)
	headerName   = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	clockTime    = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$`)
)

// Weekdays are the day names of OpenHours.Days, Sunday first as time.Weekday counts.
var Weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseClock reads "HH:MM" ("24:00" allowed) as minutes after midnight.
func ParseClock(s string) (int, bool) {
	if !clockTime.MatchString(s) {
		return 0, false
	}
	return int(s[0]-'0')*600 + int(s[1]-'0')*60 + int(s[3]-'0')*10 + int(s[4]-'0'), true
}

// flowFieldsByType: the node fields a type uses; each is checked below, and edges are the
// fields naming other nodes.
var flowEdges = map[string][]string{
	FlowNodeTimeCondition: {"then", "else"},
	FlowNodeIVR:           {"invalid", "timeout", "next"},
	FlowNodeAnnouncement:  {"next"},
	FlowNodeQueue:         {"next"},
	FlowNodeRingGroup:     {"next"},
	FlowNodeUser:          {"next"},
	FlowNodeVoicemail:     {},
	FlowNodeConference:    {},
	FlowNodeWebhook:       {"next"},
	FlowNodeForward:       {"next"},
	FlowNodeSetCallerName: {"next"},
	FlowNodeSetLanguage:   {"next"},
	FlowNodeHangup:        {},
}

// Edges lists the node's outgoing references as (field, node name), options included
// ("options.1"), sorted by field; empty references are left out.
func (n *FlowNode) Edges() [][2]string {
	var out [][2]string
	for _, field := range flowEdges[n.Type] {
		var to string
		switch field {
		case "then":
			to = n.Then
		case "else":
			to = n.Else
		case "next":
			to = n.Next
		case "invalid":
			to = n.Invalid
		case "timeout":
			to = n.Timeout
		}
		if to != "" {
			out = append(out, [2]string{field, to})
		}
	}
	if n.Type == FlowNodeIVR {
		keys := make([]string, 0, len(n.Options))
		for k := range n.Options {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, [2]string{"options." + k, n.Options[k]})
		}
	}
	return out
}

// Validate checks the flow's shape: its name, that every node has a known type and the
// fields its type needs, that every reference names a node of the flow, that every node is
// reachable from start, and that every cycle passes through an ivr (only a caller's key can
// lead back; the engine never spins on its own). Each problem names the node and field,
// e.g. nodes.menu.options.1. Whether queues, users, prompts … exist is the service's check.
func (f *CallFlow) Validate() error {
	v := ValidationErrors{}
	f.Name = strings.TrimSpace(f.Name)
	switch {
	case f.Name == "":
		v.Add("name", "is required")
	case len(f.Name) > MaxFlowNameLen || hasControlChars(f.Name):
		v.Add("name", fmt.Sprintf("must be at most %d characters, without control characters", MaxFlowNameLen))
	}
	switch {
	case len(f.Nodes) == 0:
		v.Add("nodes", "must hold at least one node")
	case len(f.Nodes) > MaxFlowNodes:
		v.Add("nodes", fmt.Sprintf("must hold at most %d nodes", MaxFlowNodes))
	}
	if f.Start == "" {
		v.Add("start", "is required: the name of the first node")
	} else if _, ok := f.Nodes[f.Start]; !ok && len(f.Nodes) > 0 {
		v.Add("start", fmt.Sprintf("node %q does not exist", f.Start))
	}
	names := make([]string, 0, len(f.Nodes))
	for name := range f.Nodes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n := f.Nodes[name]
		if !flowNodeName.MatchString(name) {
			v.Add("nodes."+name, "node names must be 1 to 40 letters, digits, '-' or '_'")
			continue
		}
		n.validate(v, "nodes."+name+".")
		for _, e := range n.Edges() {
			if _, ok := f.Nodes[e[1]]; !ok {
				v.Add("nodes."+name+"."+e[0], fmt.Sprintf("node %q does not exist", e[1]))
			} else if e[1] == name && n.Type != FlowNodeIVR {
				v.Add("nodes."+name+"."+e[0], "a node cannot lead to itself (only an ivr can repeat)")
			}
		}
	}
	if len(v) > 0 {
		return v.Err() // reachability and cycles need sound references
	}
	reached := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if reached[name] {
			return
		}
		reached[name] = true
		n := f.Nodes[name]
		for _, e := range n.Edges() {
			walk(e[1])
		}
	}
	walk(f.Start)
	for _, name := range names {
		if !reached[name] {
			v.Add("nodes."+name, fmt.Sprintf("cannot be reached from start %q: no node leads to it", f.Start))
		}
	}
	if cycle := f.cycleWithoutIVR(names); cycle != nil {
		v.Add("nodes."+cycle[0], "is on a loop without an ivr ("+strings.Join(cycle, " -> ")+"): a loop must pass through an ivr menu, where the caller chooses to go round")
	}
	return v.Err()
}

// cycleWithoutIVR finds a cycle among the non-ivr nodes (edges into or out of an ivr cut
// every cycle through it) and returns its nodes, the first repeated at the end; nil if none.
func (f *CallFlow) cycleWithoutIVR(names []string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var found []string
	var visit func(string) bool
	visit = func(name string) bool {
		state[name] = onPath
		path = append(path, name)
		n := f.Nodes[name]
		for _, e := range n.Edges() {
			to := e[1]
			if f.Nodes[to].Type == FlowNodeIVR {
				continue
			}
			switch state[to] {
			case onPath:
				for i, p := range path {
					if p == to {
						found = append(append([]string{}, path[i:]...), to)
						return true
					}
				}
			case unseen:
				if visit(to) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = done
		return false
	}
	for _, name := range names {
		if f.Nodes[name].Type != FlowNodeIVR && state[name] == unseen && visit(name) {
			return found
		}
	}
	return nil
}

// validate checks one node's own fields; p is its field prefix ("nodes.menu.").
func (n *FlowNode) validate(v ValidationErrors, p string) {
	if _, ok := flowEdges[n.Type]; !ok {
		if n.Type == "" {
			v.Add(p+"type", "is required: one of "+strings.Join(FlowNodeTypes, ", "))
		} else {
			v.Add(p+"type", fmt.Sprintf("%q is not a node type: use one of %s", n.Type, strings.Join(FlowNodeTypes, ", ")))
		}
		return
	}
	text := func(field, s string) {
		if len(s) > MaxFlowTextLen || hasControlChars(s) {
			v.Add(p+field, fmt.Sprintf("must be at most %d characters, without control characters", MaxFlowTextLen))
		}
	}
	text("name", n.Name)
	required := func(field string, ok bool, what string) {
		if !ok {
			v.Add(p+field, "is required for a "+n.Type+" node: "+what)
		}
	}
	if n.PromptID < 0 {
		v.Add(p+"prompt_id", "must be a prompt id")
	}
	switch n.Type {
	case FlowNodeTimeCondition:
		required("then", n.Then != "", "the node while open")
		required("else", n.Else != "", "the node while closed")
		n.validateTime(v, p)
	case FlowNodeIVR:
		required("prompt_id", n.PromptID > 0, "the menu's prompt")
		if len(n.Options) == 0 && !n.DirectDial {
			v.Add(p+"options", "must map at least one key to a node (or enable direct_dial)")
		}
		for k := range n.Options {
			if !ivrKey.MatchString(k) {
				v.Add(p+"options."+k, "keys must be one of 0-9, * or #")
			}
		}
		if n.TimeoutS != 0 && (n.TimeoutS < 1 || n.TimeoutS > MaxIVRTimeout) {
			v.Add(p+"timeout_s", fmt.Sprintf("must be between 1 and %d seconds", MaxIVRTimeout))
		}
		if n.Retries != nil && (*n.Retries < 0 || *n.Retries > MaxIVRRetries) {
			v.Add(p+"retries", fmt.Sprintf("must be between 0 and %d", MaxIVRRetries))
		}
	case FlowNodeAnnouncement:
		required("prompt_id", n.PromptID > 0, "the prompt to play")
	case FlowNodeQueue:
		required("queue_id", n.QueueID > 0, "the queue")
	case FlowNodeRingGroup:
		required("ring_group_id", n.RingGroupID > 0, "the ring group")
	case FlowNodeUser:
		required("user_id", n.UserID > 0, "the user")
	case FlowNodeVoicemail:
		required("voicemail_box_id", n.VoicemailBoxID > 0, "the voicemail box")
	case FlowNodeConference:
		required("conference_id", n.ConferenceID > 0, "the conference room")
	case FlowNodeWebhook:
		n.validateWebhook(v, p)
	case FlowNodeForward:
		if n.Number == "" {
			required("number", false, "the external number")
		} else if !ValidE164(n.Number) {
			v.Add(p+"number", "must be an E.164 number such as +15551234567")
		}
	case FlowNodeSetCallerName:
		required("prefix", n.Prefix != "", "the text put before the caller's name")
		if len(n.Prefix) > 40 || hasControlChars(n.Prefix) {
			v.Add(p+"prefix", "must be at most 40 characters, without control characters")
		}
	case FlowNodeSetLanguage:
		if n.Language == "" {
			required("language", false, "a language tag such as de or en-US")
		} else if !languageTag.MatchString(n.Language) {
			v.Add(p+"language", "must be a language tag such as de or en-US")
		}
	}
}

func (n *FlowNode) validateWebhook(v ValidationErrors, p string) {
	u, err := url.Parse(n.URL)
	switch {
	case n.URL == "":
		v.Add(p+"url", "is required for a webhook node: where the event is sent")
	case len(n.URL) > MaxFlowURLLen:
		v.Add(p+"url", fmt.Sprintf("must be at most %d characters", MaxFlowURLLen))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" || u.User != nil:
		v.Add(p+"url", "must be an http or https URL with a host (and no user:password)")
	}
	if tokenTooLong(n.Token) || hasControlChars(n.Token) {
		v.Add(p+"token", fmt.Sprintf("must be at most %d characters, without control characters", MaxFlowTextLen))
	}
	if len(n.Headers) > MaxFlowHeaders {
		v.Add(p+"headers", fmt.Sprintf("must hold at most %d headers", MaxFlowHeaders))
	}
	for k, val := range n.Headers {
		if !headerName.MatchString(k) {
			v.Add(p+"headers."+k, "header names must be 1 to 64 letters, digits or '-'")
		} else if len(val) > MaxFlowHeaderValue || hasControlChars(val) {
			v.Add(p+"headers."+k, fmt.Sprintf("must be at most %d characters, without control characters", MaxFlowHeaderValue))
		}
	}
}

func (n *FlowNode) validateTime(v ValidationErrors, p string) {
	if n.TimeZone == "" {
		v.Add(p+"time_zone", "is required for a time_condition node: an IANA zone such as Europe/Berlin")
	} else if _, err := time.LoadLocation(n.TimeZone); err != nil || n.TimeZone == "Local" {
		v.Add(p+"time_zone", fmt.Sprintf("%q is not an IANA time zone (such as Europe/Berlin)", n.TimeZone))
	}
	if len(n.Open) > MaxFlowRanges {
		v.Add(p+"open", fmt.Sprintf("must hold at most %d ranges", MaxFlowRanges))
	}
	for i, r := range n.Open {
		validateHours(v, fmt.Sprintf("%sopen.%d.", p, i), r, true)
	}
	if len(n.Exceptions) > MaxFlowExceptions {
		v.Add(p+"exceptions", fmt.Sprintf("must hold at most %d dates", MaxFlowExceptions))
	}
	seen := map[string]bool{}
	for i, e := range n.Exceptions {
		ep := fmt.Sprintf("%sexceptions.%d.", p, i)
		if _, err := time.Parse("2006-01-02", e.Date); err != nil {
			v.Add(ep+"date", "must be a date YYYY-MM-DD")
		} else if seen[e.Date] {
			v.Add(ep+"date", e.Date+" is given twice")
		}
		seen[e.Date] = true
		if len(e.Name) > MaxFlowTextLen || hasControlChars(e.Name) {
			v.Add(ep+"name", fmt.Sprintf("must be at most %d characters, without control characters", MaxFlowTextLen))
		}
		if len(e.Open) > MaxFlowRanges {
			v.Add(ep+"open", fmt.Sprintf("must hold at most %d ranges", MaxFlowRanges))
		}
		for j, r := range e.Open {
			validateHours(v, fmt.Sprintf("%sopen.%d.", ep, j), r, false)
		}
	}
	switch n.Override {
	case OverrideNone, OverrideOpen, OverrideClosed:
	default:
		v.Add(p+"override", `must be "open", "closed" or empty`)
	}
}

func validateHours(v ValidationErrors, p string, r OpenHours, needDays bool) {
	if needDays && len(r.Days) == 0 {
		v.Add(p+"days", "must name at least one day: mon, tue, wed, thu, fri, sat, sun")
	}
	for _, d := range r.Days {
		if WeekdayIndex(d) < 0 {
			v.Add(p+"days", fmt.Sprintf("%q is not a day: use mon, tue, wed, thu, fri, sat, sun", d))
		}
	}
	from, okFrom := ParseClock(r.From)
	to, okTo := ParseClock(r.To)
	if !okFrom || from == 24*60 {
		v.Add(p+"from", "must be a time HH:MM from 00:00 to 23:59")
	}
	if !okTo {
		v.Add(p+"to", "must be a time HH:MM from 00:00 to 24:00")
	} else if okFrom && from == to {
		v.Add(p+"to", "must differ from from (a range of no time)")
	}
}

// WeekdayIndex is d's time.Weekday (sun = 0), or -1.
func WeekdayIndex(d string) int {
	for i, w := range Weekdays {
		if strings.EqualFold(d, w) {
			return i
		}
	}
	return -1
}

func hasControlChars(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// CallFlowChange is a create or PATCH of a flow: nil fields are not given.
type CallFlowChange struct {
	Name  *string
	Start *string
	Nodes map[string]FlowNode // nil = not given; a PATCH replaces all nodes
	// KeepToken is the masked token answers show: a webhook node sent back with it keeps
	// the token its node of the same name has.
	KeepToken string
}

// FlowUse is one thing that sends calls to a flow, a queue, a ring group or a user: a
// number, a queue overflow, a ring group fallback, or a node of a flow.
type FlowUse struct {
	Kind string // "number", "queue", "ring_group", "callflow"
	ID   int64
	Name string // the number, the queue or ring group name, the flow name
	Node string // the flow node, for Kind "callflow"
	// Field is what points: "target", "overflow", "fallback", or the node field.
	Field string
}

// CallFlowService keeps an account's call flows. provision.Service implements it.
type CallFlowService interface {
	CreateCallFlow(ctx context.Context, accountID int64, c CallFlowChange) (*CallFlow, error)
	UpdateCallFlow(ctx context.Context, accountID, id int64, c CallFlowChange) (*CallFlow, error)
	// DeleteCallFlow refuses (CONFLICT naming them) while numbers, queues or ring groups
	// send calls to the flow.
	DeleteCallFlow(ctx context.Context, accountID, id int64) error
	// SetFlowOverride sets (open, closed) or clears ("") the manual override of a
	// time_condition node.
	SetFlowOverride(ctx context.Context, accountID, id int64, node, state string, until *time.Time) (*CallFlow, error)
}

// SealedTokenPrefix marks a webhook node's token encrypted at rest: the prefix, then the
// base64 of the token sealed with the server's key. The provisioning service seals a token
// when a flow is written (where the server has a key); the engine opens it to send it.
const SealedTokenPrefix = "sealed:"

// tokenTooLong: a token as given is at most MaxFlowTextLen; sealed, it grows by the nonce,
// the tag and base64.
func tokenTooLong(token string) bool {
	if strings.HasPrefix(token, SealedTokenPrefix) {
		return len(token) > len(SealedTokenPrefix)+(MaxFlowTextLen+64)*4/3+4
	}
	return len(token) > MaxFlowTextLen
}

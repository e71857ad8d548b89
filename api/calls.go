package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

// The call records API (VoIPLine's "get user calls", "get queue calls", "get ring group
// calls"): a date range, sort, one or more users / queues / ring groups, offset and limit,
// and a cursor for deep paging. `Accept: text/csv` exports the same rows.

var callQueryParams = []queryParam{
	{"from", "Start of the date range (inclusive): RFC 3339 time or YYYY-MM-DD (UTC)"},
	{"to", "End of the date range: RFC 3339 time (exclusive) or YYYY-MM-DD (that whole day included)"},
	{"sort", "date (default) or duration"},
	{"order", "desc (default) or asc"},
	{"offset", "Rows to skip (default 0)"},
	{"limit", "Rows per page (default 50, at most 1000)"},
	{"cursor", "next_cursor of the previous page, for deep paging (instead of offset)"},
}

// CallRecordReader pages the call records the routes show: store.DB implements it.
type CallRecordReader interface {
	// PageCallRecords pages the account's call records (user calls).
	PageCallRecords(ctx context.Context, accountID int64, q switchboard.CallQuery) (*switchboard.CallRecordPage, error)
	// ListGroupCalls pages the account's stays in queues or ring groups.
	ListGroupCalls(ctx context.Context, accountID int64, groupType switchboard.TargetType, q switchboard.CallQuery) (*switchboard.GroupCallPage, error)
}

func (s *Server) callRoutes() {
	withIDs := func(name, desc string) []queryParam {
		return append([]queryParam{{name, desc}}, callQueryParams...)
	}
	s.handleAPI(route{Method: "GET", Path: "/calls/users", Needs: needsCallRecords, Access: accessDeveloper, Tag: "Call records",
		Summary: "Get user calls", Description: "Call records of the account's users. Accept: text/csv exports the rows as CSV.",
		Message: "User calls", Result: userCallsPageJSON{}, Query: withIDs("users", "Comma-separated user ids (default: all)")}, s.listUserCalls)
	s.handleAPI(route{Method: "GET", Path: "/user/calls", Needs: needsCallRecords, Access: accessUser, Tag: "User",
		Summary: "Get my calls", Description: "The key's user's own call records. Accept: text/csv exports the rows as CSV.",
		Message: "User calls", Result: userCallsPageJSON{}, Query: callQueryParams}, s.listMyCalls)
	s.handleAPI(route{Method: "GET", Path: "/calls/queues", Needs: needsCallRecords, Access: accessDeveloper, Tag: "Call records",
		Summary: "Get queue calls", Description: "Callers' stays in the account's queues. Accept: text/csv exports the rows as CSV.",
		Message: "Queue calls", Result: groupCallsPageJSON{}, Query: withIDs("queues", "Comma-separated queue ids (default: all)")}, s.listQueueCalls)
	s.handleAPI(route{Method: "GET", Path: "/calls/ring_groups", Needs: needsCallRecords, Access: accessDeveloper, Tag: "Call records",
		Summary: "Get ring group calls", Description: "Calls offered through the account's ring groups. Accept: text/csv exports the rows as CSV.",
		Message: "Ring group calls", Result: groupCallsPageJSON{}, Query: withIDs("ring_groups", "Comma-separated ring group ids (default: all)")}, s.listRingGroupCalls)
}

type userCallJSON struct {
	CallID            string `json:"call_id" doc:"The call's unique id"`
	Type              string `json:"type" doc:"inbound or outbound"`
	CallerID          string `json:"caller_id" doc:"Caller id number"`
	CallerName        string `json:"caller_name" doc:"Caller id name"`
	DestinationNumber string `json:"destination_number" doc:"The number or extension dialled"`
	UserID            int64  `json:"user_id" doc:"The user of the call"`
	UserName          string `json:"user_name" doc:"The user's name"`
	UserExtension     string `json:"user_extension" doc:"The user's extension"`
	Date              string `json:"date" doc:"When the call started, UTC, ISO 8601"`
	Duration          int    `json:"duration" doc:"Seconds from start to end"`
	Status            string `json:"status" doc:"answered, no-answer, busy, failed, cancelled; in-progress while up"`
	TransferredTo     string `json:"transferred_to" doc:"Where the call was last transferred (extension, number or park slot); empty if never"`
	TransferredBy     int64  `json:"transferred_by" doc:"The user who transferred it (0: never, or through the API)"`
	// Recordings links the call's recordings (recordings.go); [] when none.
	Recordings []recordingRefJSON `json:"recordings" doc:"The call's recordings, oldest first; [] when none"`
}

type userCallsPageJSON struct {
	Calls []userCallJSON `json:"calls"`
	callPagingJSON
}

// callPagingJSON is where a page of calls stands, after its calls.
type callPagingJSON struct {
	Offset     int    `json:"offset"`
	Limit      int    `json:"limit"`
	NextCursor string `json:"next_cursor" doc:"Pass as cursor for the next page; empty on the last page"`
}

func callPaging(q switchboard.CallQuery, nextCursor string) callPagingJSON {
	limit := q.Limit
	if limit == 0 {
		limit = switchboard.DefaultCallPageLimit
	}
	return callPagingJSON{Offset: q.Offset, Limit: limit, NextCursor: nextCursor}
}

type groupCallJSON struct {
	ID            int64  `json:"id" doc:"The stay's id"`
	CallID        string `json:"call_id" doc:"The call's unique id"`
	GroupID       int64  `json:"group_id" doc:"The queue or ring group id"`
	GroupName     string `json:"group_name" doc:"The queue or ring group name"`
	CallerID      string `json:"caller_id" doc:"Caller id number"`
	CallerName    string `json:"caller_name" doc:"Caller id name"`
	Date          string `json:"date" doc:"When the caller entered, UTC, ISO 8601"`
	WaitTime      int    `json:"wait_time" doc:"Seconds until answered (or until the caller left)"`
	Duration      int    `json:"duration" doc:"Talk seconds after the answer"`
	UserID        int64  `json:"user_id" doc:"Who answered (0 = nobody)"`
	UserName      string `json:"user_name" doc:"Who answered"`
	UserExtension string `json:"user_extension" doc:"The answering user's extension"`
	Status        string `json:"status" doc:"answered, abandoned, timeout, no-answer; waiting or in-progress while the stay goes on"`
}

type groupCallsPageJSON struct {
	Calls []groupCallJSON `json:"calls"`
	callPagingJSON
}

// parseCallQuery reads the query string; idsParam names the id list (users, queues …).
func parseCallQuery(r *http.Request, idsParam string) (switchboard.CallQuery, error) {
	v := switchboard.ValidationErrors{}
	qs := r.URL.Query()
	var q switchboard.CallQuery
	parseTime := func(name string, end bool) time.Time {
		raw := strings.TrimSpace(qs.Get(name))
		if raw == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			return t.UTC()
		}
		if d, err := time.Parse("2006-01-02", raw); err == nil {
			if end {
				d = d.Add(24 * time.Hour) // the whole day is included
			}
			return d
		}
		v.Add(name, "must be an RFC 3339 time or a date YYYY-MM-DD")
		return time.Time{}
	}
	q.From, q.To = parseTime("from", false), parseTime("to", true)
	parseInt := func(name string) int {
		raw := qs.Get(name)
		if raw == "" {
			return 0
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			v.Add(name, "must be a whole number")
		}
		return n
	}
	q.Offset, q.Limit = parseInt("offset"), parseInt("limit")
	q.Sort = qs.Get("sort")
	switch qs.Get("order") {
	case "", "desc":
		q.Desc = true
	case "asc":
	default:
		v.Add("order", "must be asc or desc")
	}
	q.Cursor = qs.Get("cursor")
	if idsParam != "" {
		for _, part := range strings.Split(qs.Get(idsParam), ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil || id <= 0 {
				v.Add(idsParam, "must be comma-separated ids")
				break
			}
			q.IDs = append(q.IDs, id)
		}
		if len(q.IDs) > 100 {
			v.Add(idsParam, "at most 100 ids")
		}
	}
	return q, v.Err()
}

// checkIDs refuses ids that are not of the account: the filter never reaches another
// account's rows anyway, but a client should hear of a wrong id rather than get nothing.
func checkIDs(field string, ids []int64, known map[int64]bool) error {
	for _, id := range ids {
		if !known[id] {
			err := switchboard.FieldError(switchboard.EBADREQUEST, field, strconv.FormatInt(id, 10)+" is not one of this account's "+field)
			err.Message = "Some fields are invalid; see details" // as the query's other checks say it
			return err
		}
	}
	return nil
}

func (s *Server) listUserCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := parseCallQuery(r, "users")
	if err != nil {
		return err
	}
	return s.writeUserCalls(w, r, c.accountID, q, true)
}

func (s *Server) listMyCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := parseCallQuery(r, "")
	if err != nil {
		return err
	}
	q.IDs = []int64{c.key.UserID} // a user key sees only its user's calls
	return s.writeUserCalls(w, r, c.accountID, q, false)
}

func (s *Server) writeUserCalls(w http.ResponseWriter, r *http.Request, accountID int64, q switchboard.CallQuery, check bool) error {
	users, err := s.store.ListUsers(r.Context(), accountID)
	if err != nil {
		return err
	}
	byID := map[int64]*switchboard.User{}
	known := map[int64]bool{}
	for _, u := range users {
		byID[u.ID], known[u.ID] = u, true
	}
	if check {
		if err := checkIDs("users", q.IDs, known); err != nil {
			return err
		}
	}
	page, err := s.callRecords.PageCallRecords(r.Context(), accountID, q)
	if err != nil {
		return err
	}
	out := userCallsPageJSON{Calls: []userCallJSON{}, callPagingJSON: callPaging(q, page.NextCursor)}
	recordings, err := s.callsRecordings(r.Context(), accountID, page.Records)
	if err != nil {
		return err
	}
	for _, rec := range page.Records {
		j := userCallJSON{CallID: rec.UniqueID, Type: rec.Direction, CallerID: rec.From, CallerName: rec.CallerName,
			DestinationNumber: rec.To, UserID: rec.UserID, UserExtension: rec.Extension,
			Date: rec.StartedAt.UTC().Format(time.RFC3339), Duration: rec.Duration, Status: string(rec.Disposition),
			TransferredTo: rec.TransferredTo, TransferredBy: rec.TransferredByUserID, Recordings: recordings[rec.UniqueID]}
		if u := byID[rec.UserID]; u != nil {
			j.UserName = u.DisplayName()
		}
		if j.Status == "" {
			j.Status = "in-progress"
		}
		out.Calls = append(out.Calls, j)
	}
	if wantsCSV(r) {
		rows := [][]string{{"call_id", "type", "caller_id", "caller_name", "destination_number", "user_id", "user_name",
			"user_extension", "date", "duration", "status"}}
		for _, j := range out.Calls {
			rows = append(rows, []string{j.CallID, j.Type, j.CallerID, j.CallerName, j.DestinationNumber,
				strconv.FormatInt(j.UserID, 10), j.UserName, j.UserExtension, j.Date, strconv.Itoa(j.Duration), j.Status})
		}
		writeCSV(w, "user_calls.csv", rows, out.NextCursor)
		return nil
	}
	s.writeResult(w, http.StatusOK, "User calls", out)
	return nil
}

func (s *Server) listQueueCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.writeGroupCalls(w, r, c, switchboard.TargetQueue, "queues", "Queue calls")
}

func (s *Server) listRingGroupCalls(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.writeGroupCalls(w, r, c, switchboard.TargetRingGroup, "ring_groups", "Ring group calls")
}

func (s *Server) groupIDs(ctx context.Context, accountID int64, t switchboard.TargetType) (map[int64]bool, error) {
	known := map[int64]bool{}
	if t == switchboard.TargetQueue {
		qs, err := s.store.ListQueues(ctx, accountID)
		for _, q := range qs {
			known[q.ID] = true
		}
		return known, err
	}
	gs, err := s.store.ListRingGroups(ctx, accountID)
	for _, g := range gs {
		known[g.ID] = true
	}
	return known, err
}

func (s *Server) writeGroupCalls(w http.ResponseWriter, r *http.Request, c *caller, t switchboard.TargetType, param, message string) error {
	q, err := parseCallQuery(r, param)
	if err != nil {
		return err
	}
	known, err := s.groupIDs(r.Context(), c.accountID, t)
	if err != nil {
		return err
	}
	if err := checkIDs(param, q.IDs, known); err != nil {
		return err
	}
	page, err := s.callRecords.ListGroupCalls(r.Context(), c.accountID, t, q)
	if err != nil {
		return err
	}
	out := groupCallsPageJSON{Calls: []groupCallJSON{}, callPagingJSON: callPaging(q, page.NextCursor)}
	for _, g := range page.Calls {
		status := g.Status
		if status == "" {
			status = "waiting"
			if !g.AnsweredAt.IsZero() {
				status = "in-progress"
			}
		}
		out.Calls = append(out.Calls, groupCallJSON{ID: g.ID, CallID: g.UniqueID, GroupID: g.GroupID, GroupName: g.GroupName,
			CallerID: g.From, CallerName: g.CallerName, Date: g.EnteredAt.UTC().Format(time.RFC3339), WaitTime: g.WaitSeconds,
			Duration: g.Duration, UserID: g.UserID, UserName: g.UserName, UserExtension: g.Extension, Status: status})
	}
	if wantsCSV(r) {
		rows := [][]string{{"id", "call_id", "group_id", "group_name", "caller_id", "caller_name", "date", "wait_time",
			"duration", "user_id", "user_name", "user_extension", "status"}}
		for _, j := range out.Calls {
			rows = append(rows, []string{strconv.FormatInt(j.ID, 10), j.CallID, strconv.FormatInt(j.GroupID, 10), j.GroupName,
				j.CallerID, j.CallerName, j.Date, strconv.Itoa(j.WaitTime), strconv.Itoa(j.Duration),
				strconv.FormatInt(j.UserID, 10), j.UserName, j.UserExtension, j.Status})
		}
		writeCSV(w, param+"_calls.csv", rows, out.NextCursor)
		return nil
	}
	s.writeResult(w, http.StatusOK, message, out)
	return nil
}

// wantsCSV reports whether the client asked for CSV rather than JSON.
func wantsCSV(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/csv")
}

// writeCSV writes rows as a CSV attachment; the next page's cursor travels in a header.
// Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
func writeCSV(w http.ResponseWriter, filename string, rows [][]string, nextCursor string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	if nextCursor != "" {
		w.Header().Set("X-Next-Cursor", nextCursor)
	}
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	for _, row := range rows {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !isNumber(cell) {
				row[i] = "'" + cell
			}
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

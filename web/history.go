package web

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

func formInt(r *http.Request, name string) int64 {
	v, _ := strconv.ParseInt(strings.TrimSpace(r.FormValue(name)), 10, 64)
	return v
}

type historyData struct {
	Q, Direction string
	Records      []*switchboard.CallRecord
	Query        string // the filter as a query string, for the CSV link
	// Media holds each shown call's recordings, voicemails and transcripts, by call id
	// (the page only, not the CSV).
	Media map[string]*callMedia
}

// history reads the call records a session may see: an administrator the account's, a
// user only their own (the store's filter, not the template, keeps others' out). q matches
// the caller, the callee or the extension; direction narrows to inbound or outbound.
func (h *Handler) history(r *http.Request, s *session) (*historyData, error) {
	f := switchboard.CallRecordFilter{Limit: 1000}
	if !s.Admin() {
		f.UserID = s.Login.UserID
	}
	all, err := h.store.ListCallRecords(r.Context(), s.Login.AccountID, f)
	if err != nil {
		return nil, err
	}
	d := &historyData{Q: strings.TrimSpace(r.URL.Query().Get("q")), Direction: r.URL.Query().Get("direction")}
	for _, c := range all {
		if d.Direction != "" && c.Direction != d.Direction {
			continue
		}
		if d.Q != "" && !strings.Contains(c.From+" "+c.To+" "+c.Extension+" "+c.CallerName, d.Q) {
			continue
		}
		d.Records = append(d.Records, c)
	}
	d.Query = r.URL.RawQuery
	return d, nil
}

func (h *Handler) historyPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.history(r, s)
	if err == nil {
		d.Media, err = h.callsMedia(r.Context(), s, d.Records)
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Call history", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "history", page{Title: "Call history", S: s, Data: d})
}

// historyCSV exports the filtered history. Cells a spreadsheet would run as a formula
// (starting = + - @) are prefixed with ' (CSV injection).
func (h *Handler) historyCSV(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.history(r, s)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Call history", S: s}, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calls.csv"`)
	cw := csv.NewWriter(w)
	cw.Write([]string{"call_id", "direction", "from", "caller_name", "to", "extension", "started_at", "answered_at", "ended_at", "duration", "billable_seconds", "disposition"})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, c := range d.Records {
		row := []string{c.UniqueID, c.Direction, c.From, c.CallerName, c.To, c.Extension, ts(c.StartedAt), ts(c.AnsweredAt), ts(c.EndedAt),
			strconv.Itoa(c.Duration), strconv.Itoa(c.BillableSeconds), string(c.Disposition)}
		for i, v := range row {
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				row[i] = "'" + v
			}
		}
		cw.Write(row)
	}
	cw.Flush()
}

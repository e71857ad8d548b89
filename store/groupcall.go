package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"switchboard"
)

const groupCallColumns = `id, account_id, group_type, group_id, group_name, uniqueid, stay_id, from_number, caller_name,
	to_number, entered_at, answered_at, left_at, wait_seconds, duration, user_id, extension, user_name, status`

func scanGroupCall(s interface{ Scan(...any) error }) (*switchboard.GroupCall, error) {
	var g switchboard.GroupCall
	var gt string
	var entered, answered, left int64
	err := s.Scan(&g.ID, &g.AccountID, &gt, &g.GroupID, &g.GroupName, &g.UniqueID, &g.StayID, &g.From, &g.CallerName,
		&g.To, &entered, &answered, &left, &g.WaitSeconds, &g.Duration, &g.UserID, &g.Extension, &g.UserName, &g.Status)
	if err != nil {
		return nil, err
	}
	g.GroupType = switchboard.TargetType(gt)
	g.EnteredAt, g.AnsweredAt, g.LeftAt = fromMS(entered), fromMS(answered), fromMS(left)
	return &g, nil
}

func validGroupCall(g *switchboard.GroupCall) error {
	v := switchboard.ValidationErrors{}
	if g.GroupType != switchboard.TargetQueue && g.GroupType != switchboard.TargetRingGroup {
		v.Add("group_type", "must be queue or ringgroup")
	}
	if g.GroupID <= 0 {
		v.Add("group_id", "is required")
	}
	if g.UniqueID == "" {
		v.Add("uniqueid", "is required")
	}
	if g.StayID == "" {
		v.Add("stay_id", "is required")
	}
	if g.EnteredAt.IsZero() {
		v.Add("entered_at", "is required")
	}
	switch g.Status {
	case "", switchboard.GroupCallAnswered, switchboard.GroupCallAbandoned, switchboard.GroupCallTimeout, switchboard.GroupCallNoAnswer:
	default:
		v.Add("status", "must be answered, abandoned, timeout or no-answer")
	}
	return v.Err()
}

// StartGroupCall stores a caller's new stay in a queue or ring group with its events.
func (db *DB) StartGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error {
	g.Status, g.LeftAt = "", time.Time{}
	if err := validGroupCall(g); err != nil {
		return err
	}
	g.EnteredAt = g.EnteredAt.UTC().Truncate(time.Millisecond)
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		err := db.queryRow(ctx, tx, `INSERT INTO group_calls (account_id, group_type, group_id, group_name, uniqueid, stay_id,
			from_number, caller_name, to_number, entered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.AccountID, string(g.GroupType), g.GroupID, g.GroupName, g.UniqueID, g.StayID, g.From, g.CallerName, g.To,
			toMS(g.EnteredAt)).Scan(&g.ID)
		if isUniqueViolation(err) {
			return conflict("stay_id", g.StayID+" is already recorded")
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", g.AccountID)
		}
		if err != nil {
			return internal("StartGroupCall", err)
		}
		return db.insertEvents(ctx, tx, events)
	})
}

func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, events []*switchboard.Event) error {
	for _, ev := range events {
		if err := db.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// AnswerGroupCall records who answered a stay and when, with its events.
func (db *DB) AnswerGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error {
	if g.AnsweredAt.IsZero() || g.UserID == 0 {
		return badRequest("answered_at", "an answer needs its time and user")
	}
	g.AnsweredAt = g.AnsweredAt.UTC().Truncate(time.Millisecond)
	g.WaitSeconds = max(0, int(g.AnsweredAt.Sub(g.EnteredAt)/time.Second))
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, `UPDATE group_calls SET answered_at = ?, wait_seconds = ?, user_id = ?,
			extension = ?, user_name = ? WHERE account_id = ? AND stay_id = ? AND left_at = 0 AND answered_at = 0`,
			toMS(g.AnsweredAt), g.WaitSeconds, g.UserID, g.Extension, g.UserName, g.AccountID, g.StayID)
		if err != nil {
			return internal("AnswerGroupCall", err)
		}
		if !ok {
			return conflict("stay_id", g.StayID+" is not waiting")
		}
		return db.insertEvents(ctx, tx, events)
	})
}

// EndGroupCall completes a stay with its events. WaitSeconds of an unanswered stay and
// Duration of an answered one are computed from the times.
func (db *DB) EndGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error {
	if g.LeftAt.IsZero() || g.Status == "" {
		return badRequest("status", "ending a stay needs its time and status")
	}
	if err := validGroupCall(g); err != nil {
		return err
	}
	g.LeftAt = g.LeftAt.UTC().Truncate(time.Millisecond)
	if g.AnsweredAt.IsZero() {
		g.WaitSeconds = max(0, int(g.LeftAt.Sub(g.EnteredAt)/time.Second))
		g.Duration = 0
	} else {
		g.Duration = max(0, int(g.LeftAt.Sub(g.AnsweredAt)/time.Second))
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.execAffected(ctx, tx, `UPDATE group_calls SET left_at = ?, status = ?, wait_seconds = ?, duration = ?
			WHERE account_id = ? AND stay_id = ? AND left_at = 0`,
			toMS(g.LeftAt), g.Status, g.WaitSeconds, g.Duration, g.AccountID, g.StayID)
		if err != nil {
			return internal("EndGroupCall", err)
		}
		if !ok {
			return conflict("stay_id", g.StayID+" has already ended or does not exist")
		}
		return db.insertEvents(ctx, tx, events)
	})
}

// CloseOpenGroupCalls ends the stays of calls that were up when the process died: answered
// ones as answered, the others as abandoned.
func (db *DB) CloseOpenGroupCalls(ctx context.Context, at time.Time) (int, error) {
	ms := toMS(at.UTC())
	var n int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE group_calls SET left_at = CASE WHEN ? < entered_at THEN entered_at ELSE ? END,
			status = CASE WHEN answered_at > 0 THEN 'answered' ELSE 'abandoned' END WHERE left_at = 0`, ms, ms)
		if err != nil {
			return internal("CloseOpenGroupCalls", err)
		}
		n, err = res.RowsAffected()
		return internal("CloseOpenGroupCalls", err)
	})
	return int(n), err
}

// decodeCursor reads an opaque cursor: the sort key and id of the last row of a page.
func decodeCursor(c string) (key, id int64, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, false
	}
	k, i, found := strings.Cut(string(b), ".")
	if !found {
		return 0, 0, false
	}
	key, err1 := strconv.ParseInt(k, 10, 64)
	id, err2 := strconv.ParseInt(i, 10, 64)
	return key, id, err1 == nil && err2 == nil && id > 0
}

func encodeCursor(key, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(key, 10) + "." + strconv.FormatInt(id, 10)))
}

// buildPage checks q and returns the WHERE, ORDER BY and LIMIT clauses for a table whose
// date column is dateCol and whose IDs filter is on idCol.
func buildPage(q switchboard.CallQuery, dateCol, idCol string, where []string, args []any) (string, []any, string, error) {
	v := switchboard.ValidationErrors{}
	key := dateCol
	switch q.Sort {
	case "", switchboard.SortDate:
	case switchboard.SortDuration:
		key = "duration"
	default:
		v.Add("sort", "must be date or duration")
	}
	limit := q.Limit
	if limit == 0 {
		limit = switchboard.DefaultCallPageLimit
	}
	if limit < 1 || limit > switchboard.MaxCallPageLimit {
		v.Add("limit", "must be between 1 and 1000")
	}
	if q.Offset < 0 {
		v.Add("offset", "must be 0 or more")
	}
	if q.Cursor != "" && q.Offset != 0 {
		v.Add("offset", "cannot be combined with cursor")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		v.Add("date", "the end of the range must be after its start")
	}
	var ckey, cid int64
	if q.Cursor != "" {
		var ok bool
		if ckey, cid, ok = decodeCursor(q.Cursor); !ok {
			v.Add("cursor", "is not a cursor this API returned")
		}
	}
	if err := v.Err(); err != nil {
		return "", nil, "", err
	}
	if !q.From.IsZero() {
		where = append(where, dateCol+" >= ?")
		args = append(args, toMS(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, dateCol+" < ?")
		args = append(args, toMS(q.To))
	}
	if len(q.IDs) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.IDs)), ", ")
		where = append(where, idCol+" IN ("+marks+")")
		for _, id := range q.IDs {
			args = append(args, id)
		}
	}
	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	if q.Cursor != "" {
		where = append(where, "("+key+" "+cmp+" ? OR ("+key+" = ? AND id "+cmp+" ?))")
		args = append(args, ckey, ckey, cid)
	}
	tail := " ORDER BY " + key + " " + dir + ", id " + dir + " LIMIT ? OFFSET ?"
	args = append(args, limit+1, q.Offset)
	return " WHERE " + strings.Join(where, " AND ") + tail, args, key, nil
}

func pageLimit(q switchboard.CallQuery) int {
	if q.Limit == 0 {
		return switchboard.DefaultCallPageLimit
	}
	return q.Limit
}

// PageCallRecords returns a page of the account's call records.
func (db *DB) PageCallRecords(ctx context.Context, accountID int64, q switchboard.CallQuery) (*switchboard.CallRecordPage, error) {
	clause, args, key, err := buildPage(q, "started_at", "user_id", []string{"account_id = ?"}, []any{accountID})
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.read, "SELECT "+callRecordColumns+" FROM call_records"+clause, args...)
	if err != nil {
		return nil, internal("PageCallRecords", err)
	}
	defer rows.Close()
	page := &switchboard.CallRecordPage{Records: []*switchboard.CallRecord{}}
	for rows.Next() {
		r, err := scanCallRecord(rows)
		if err != nil {
			return nil, internal("PageCallRecords", err)
		}
		page.Records = append(page.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("PageCallRecords", err)
	}
	if limit := pageLimit(q); len(page.Records) > limit {
		page.Records = page.Records[:limit]
		last := page.Records[limit-1]
		k := toMS(last.StartedAt)
		if key == "duration" {
			k = int64(last.Duration)
		}
		page.NextCursor = encodeCursor(k, last.ID)
	}
	return page, nil
}

// ListGroupCalls returns a page of the account's queue (or ring group) calls.
func (db *DB) ListGroupCalls(ctx context.Context, accountID int64, groupType switchboard.TargetType, q switchboard.CallQuery) (*switchboard.GroupCallPage, error) {
	clause, args, key, err := buildPage(q, "entered_at", "group_id", []string{"account_id = ?", "group_type = ?"},
		[]any{accountID, string(groupType)})
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.read, "SELECT "+groupCallColumns+" FROM group_calls"+clause, args...)
	if err != nil {
		return nil, internal("ListGroupCalls", err)
	}
	defer rows.Close()
	page := &switchboard.GroupCallPage{Calls: []*switchboard.GroupCall{}}
	for rows.Next() {
		g, err := scanGroupCall(rows)
		if err != nil {
			return nil, internal("ListGroupCalls", err)
		}
		page.Calls = append(page.Calls, g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("ListGroupCalls", err)
	}
	if limit := pageLimit(q); len(page.Calls) > limit {
		page.Calls = page.Calls[:limit]
		last := page.Calls[limit-1]
		k := toMS(last.EnteredAt)
		if key == "duration" {
			k = int64(last.Duration)
		}
		page.NextCursor = encodeCursor(k, last.ID)
	}
	return page, nil
}

// QueueDayStats sums the queue's stays entered since `since`.
func (db *DB) QueueDayStats(ctx context.Context, accountID, queueID int64, since time.Time, serviceLevel int) (switchboard.QueueDayStats, error) {
	var s switchboard.QueueDayStats
	err := db.queryRow(ctx, db.read, `SELECT COUNT(*),
		CAST(COALESCE(SUM(CASE WHEN answered_at > 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN status = 'abandoned' THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN answered_at > 0 AND wait_seconds <= ? THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN status = 'abandoned' AND wait_seconds > ? THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN answered_at > 0 THEN wait_seconds ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN answered_at > 0 AND left_at > 0 THEN duration ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN answered_at > 0 AND left_at > 0 THEN 1 ELSE 0 END), 0) AS BIGINT)
		FROM group_calls WHERE account_id = ? AND group_type = 'queue' AND group_id = ? AND entered_at >= ?`,
		serviceLevel, serviceLevel, accountID, queueID, toMS(since)).Scan(&s.Offered, &s.Answered, &s.Abandoned,
		&s.AnsweredWithinSL, &s.AbandonedAfterSL, &s.TotalAnswerWait, &s.TotalTalk, &s.Talked)
	return s, internal("QueueDayStats", err)
}

var _ switchboard.GroupCallStore = (*DB)(nil)

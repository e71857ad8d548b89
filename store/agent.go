package store

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"switchboard"
)

var _ switchboard.AgentStore = (*DB)(nil)

// SetAgentState puts the user in c's state in c.QueueID (0: every queue they are a member
// of), closes the periods of the states they leave and opens the new ones, and stores ev
// with the queues that changed — all in one transaction. Memberships already in the state
// are left alone; when none changes, nothing is written and no event stored.
func (db *DB) SetAgentState(ctx context.Context, accountID, userID int64, c switchboard.AgentStateChange, ev *switchboard.Event) ([]int64, error) {
	var changed []int64
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		changed = nil
		if err := db.checkRef(ctx, tx, accountID, ownerUser, userID, "user_id"); err != nil {
			return err
		}
		q := `SELECT m.queue_id, m.user_id, m.penalty, m.paused, m.pause_reason, m.logged_in
			FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE q.account_id = ? AND m.user_id = ?`
		args := []any{accountID, userID}
		if c.QueueID != 0 {
			if ok, err := db.exists(ctx, tx, accountID, ownerQueue, c.QueueID); err != nil || !ok {
				return orNotFound(err, "queue", c.QueueID)
			}
			q, args = q+" AND m.queue_id = ?", append(args, c.QueueID)
		}
		members, err := listRowsIn(ctx, db, tx, scanQueueMember, q+" ORDER BY m.queue_id", args...)
		if err != nil {
			return internal("SetAgentState", err)
		}
		if len(members) == 0 {
			if c.QueueID != 0 {
				return notMember(c.QueueID, userID)
			}
			return switchboard.Errorf(switchboard.ENOTFOUND, "User %d is a member of no queue: add them to a queue first", userID)
		}
		at := toMS(now())
		previous := map[string]any{}
		for _, m := range members {
			if m.State() == c.State && m.PauseReason == c.Reason {
				continue
			}
			previous[strconv.FormatInt(m.QueueID, 10)] = string(m.State())
			if _, err := db.exec(ctx, tx, `UPDATE queue_members SET paused = ?, pause_reason = ?, logged_in = ?
				WHERE queue_id = ? AND user_id = ?`,
				c.State == switchboard.AgentPaused, c.Reason, c.State != switchboard.AgentLoggedOut, m.QueueID, userID); err != nil {
				return internal("SetAgentState", err)
			}
			if _, err := db.exec(ctx, tx, `UPDATE agent_state_periods SET ended_at = ?
				WHERE queue_id = ? AND user_id = ? AND ended_at IS NULL`, at, m.QueueID, userID); err != nil {
				return internal("SetAgentState", err)
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO agent_state_periods (account_id, queue_id, user_id, state, reason, started_at)
				VALUES (?, ?, ?, ?, ?, ?)`, accountID, m.QueueID, userID, string(c.State), c.Reason, at); err != nil {
				return internal("SetAgentState", err)
			}
			changed = append(changed, m.QueueID)
		}
		if len(changed) == 0 {
			return nil
		}
		ev.Data["queue_ids"] = changed
		ev.Data["previous_states"] = previous
		return db.insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// listRowsIn reads every row of a query inside tx.
func listRowsIn[T any](ctx context.Context, db *DB, tx *sql.Tx, scan func(interface{ Scan(...any) error }) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// ListAgentStates returns the states of the account's queue members, by user then queue,
// with the start of their current period where the agent state API set one.
func (db *DB) ListAgentStates(ctx context.Context, accountID int64) ([]switchboard.AgentQueueState, error) {
	rows, err := db.query(ctx, db.read, `SELECT m.queue_id, m.user_id, m.paused, m.pause_reason, m.logged_in,
			(SELECT MAX(p.started_at) FROM agent_state_periods p WHERE p.queue_id = m.queue_id AND p.user_id = m.user_id AND p.ended_at IS NULL)
		FROM queue_members m JOIN queues q ON q.id = m.queue_id WHERE q.account_id = ? ORDER BY m.user_id, m.queue_id`, accountID)
	if err != nil {
		return nil, internal("ListAgentStates", err)
	}
	defer rows.Close()
	out := []switchboard.AgentQueueState{}
	for rows.Next() {
		var m switchboard.QueueMember
		loggedIn := true
		var since sql.NullInt64
		if err := rows.Scan(&m.QueueID, &m.UserID, &m.Paused, &m.PauseReason, &loggedIn, &since); err != nil {
			return nil, internal("ListAgentStates", err)
		}
		m.LoggedOut = !loggedIn
		s := switchboard.AgentQueueState{QueueID: m.QueueID, UserID: m.UserID, State: m.State(), Reason: m.PauseReason}
		if since.Valid {
			s.Since = fromMS(since.Int64)
		}
		out = append(out, s)
	}
	return out, internal("ListAgentStates", rows.Err())
}

// PauseReasons returns the account's pause reasons in their order.
func (db *DB) PauseReasons(ctx context.Context, accountID int64) ([]string, error) {
	rows, err := db.query(ctx, db.read, `SELECT name FROM agent_pause_reasons WHERE account_id = ? ORDER BY position`, accountID)
	if err != nil {
		return nil, internal("PauseReasons", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, internal("PauseReasons", err)
		}
		out = append(out, n)
	}
	return out, internal("PauseReasons", rows.Err())
}

// SetPauseReasons replaces the account's pause reasons. Agents paused with a reason taken
// off the list stay paused with it.
func (db *DB) SetPauseReasons(ctx context.Context, accountID int64, reasons []string) error {
	if err := switchboard.ValidatePauseReasons(reasons); err != nil {
		return err
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `DELETE FROM agent_pause_reasons WHERE account_id = ?`, accountID); err != nil {
			return internal("SetPauseReasons", err)
		}
		for i, r := range reasons {
			if _, err := db.exec(ctx, tx, `INSERT INTO agent_pause_reasons (account_id, position, name) VALUES (?, ?, ?)`,
				accountID, i, r); err != nil {
				return internal("SetPauseReasons", err)
			}
		}
		return nil
	})
}

// AgentStateTimes sums, per agent, state and reason, the part of each recorded period of
// the queue that lies between from and to; a period still open counts up to to.
func (db *DB) AgentStateTimes(ctx context.Context, accountID, queueID int64, from, to time.Time) ([]switchboard.AgentStateTime, error) {
	f, t := toMS(from), toMS(to)
	rows, err := db.query(ctx, db.read, `SELECT user_id, state, reason, started_at, ended_at FROM agent_state_periods
		WHERE account_id = ? AND queue_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?)
		ORDER BY user_id, state, reason`, accountID, queueID, t, f)
	if err != nil {
		return nil, internal("AgentStateTimes", err)
	}
	defer rows.Close()
	type key struct {
		user          int64
		state, reason string
	}
	sums := map[key]int64{}
	var order []key
	for rows.Next() {
		var k key
		var start int64
		var end sql.NullInt64
		if err := rows.Scan(&k.user, &k.state, &k.reason, &start, &end); err != nil {
			return nil, internal("AgentStateTimes", err)
		}
		stop := t
		if end.Valid {
			stop = min(end.Int64, t)
		}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		sums[k] += stop - max(start, f)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("AgentStateTimes", err)
	}
	out := []switchboard.AgentStateTime{}
	for _, k := range order {
		out = append(out, switchboard.AgentStateTime{UserID: k.user, State: switchboard.AgentState(k.state), Reason: k.reason,
			Seconds: float64(sums[k]) / 1000})
	}
	return out, nil
}

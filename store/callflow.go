package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"switchboard"
)

const callFlowColumns = "id, account_id, name, start, nodes, created_at, updated_at"

func scanCallFlow(s interface{ Scan(...any) error }) (*switchboard.CallFlow, error) {
	var f switchboard.CallFlow
	var nodes string
	var created, updated int64
	if err := s.Scan(&f.ID, &f.AccountID, &f.Name, &f.Start, &nodes, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(nodes), &f.Nodes); err != nil {
		return nil, fmt.Errorf("call flow %d: nodes: %w", f.ID, err)
	}
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	return &f, nil
}

// checkFlowRefs checks, in the write's transaction, that the queues, ring groups and users
// the flow's nodes name are the account's (prompts, boxes and rooms: the service's hook).
func (db *DB) checkFlowRefs(ctx context.Context, tx *sql.Tx, f *switchboard.CallFlow) error {
	kinds := map[string]string{switchboard.FlowRefQueue: ownerQueue, switchboard.FlowRefRingGroup: ownerRingGroup,
		switchboard.FlowRefUser: ownerUser}
	for _, r := range f.Refs() {
		if kind, ok := kinds[r.Kind]; ok {
			if err := db.checkRef(ctx, tx, f.AccountID, kind, r.ID, r.Field); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateCallFlow validates and stores a new flow; f gets its id and times. A name the
// account's flows have already is CONFLICT.
func (db *DB) CreateCallFlow(ctx context.Context, f *switchboard.CallFlow) error {
	if err := f.Validate(); err != nil {
		return err
	}
	nodes, err := json.Marshal(f.Nodes)
	if err != nil {
		return internal("CreateCallFlow", err)
	}
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkFlowRefs(ctx, tx, f); err != nil {
			return err
		}
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO callflows (account_id, name, start, nodes, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, f.AccountID, f.Name, f.Start, string(nodes), toMS(t), toMS(t)).Scan(&id)
		switch {
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", f.AccountID)
		case isUniqueViolation(err):
			return conflict("name", "is the name of another call flow of this account")
		case err != nil:
			return internal("CreateCallFlow", err)
		}
		f.ID, f.CreatedAt, f.UpdatedAt = id, t, t
		return nil
	})
}

// GetCallFlow returns the account's flow with the id.
func (db *DB) GetCallFlow(ctx context.Context, accountID, id int64) (*switchboard.CallFlow, error) {
	return oneRow(ctx, db, db.read, "call flow", id, scanCallFlow,
		"SELECT "+callFlowColumns+" FROM callflows WHERE account_id = ? AND id = ?", accountID, id)
}

// PageCallFlows returns one page of the account's flows by id.
func (db *DB) PageCallFlows(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.CallFlow, bool, error) {
	return pageRows(ctx, db, "PageCallFlows", scanCallFlow, p, "SELECT "+callFlowColumns+" FROM callflows WHERE account_id = ?", accountID)
}

// UpdateCallFlowFunc reads the account's flow, lets change modify it, validates the result
// and stores it, all in one transaction; an error from change or validation stores nothing.
func (db *DB) UpdateCallFlowFunc(ctx context.Context, accountID, id int64, change func(*switchboard.CallFlow) error) (*switchboard.CallFlow, error) {
	load := func(tx *sql.Tx) (*switchboard.CallFlow, error) {
		return lockedRow(ctx, db, tx, "call flow", id, scanCallFlow, "SELECT "+callFlowColumns+" FROM callflows WHERE account_id = ? AND id = ?", accountID, id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, f *switchboard.CallFlow) error {
		if err := db.checkFlowRefs(ctx, tx, f); err != nil {
			return err
		}
		nodes, err := json.Marshal(f.Nodes)
		if err != nil {
			return internal("UpdateCallFlow", err)
		}
		f.UpdatedAt = now()
		_, err = db.exec(ctx, tx, "UPDATE callflows SET name = ?, start = ?, nodes = ?, updated_at = ? WHERE account_id = ? AND id = ?",
			f.Name, f.Start, string(nodes), toMS(f.UpdatedAt), accountID, id)
		if isUniqueViolation(err) {
			return conflict("name", "is the name of another call flow of this account")
		}
		return internal("UpdateCallFlow", err)
	})
}

// DeleteCallFlow deletes the account's flow. While numbers, queue overflows or ring group
// fallbacks send calls to it, it stays (CONFLICT naming them): checked in the same
// transaction, so no route is left leading to a flow that is gone.
func (db *DB) DeleteCallFlow(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		ok, err := db.exists(ctx, tx, accountID, kindCallFlow, id)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("call flow", id)
		}
		uses, err := db.routesTo(ctx, tx, accountID, switchboard.TargetCallFlow, id)
		if err != nil {
			return err
		}
		if len(uses) > 0 {
			names := make([]string, len(uses))
			for i, u := range uses {
				names[i] = describeUse(u)
			}
			return conflict("id", "is in use by "+strings.Join(names, ", ")+": point them elsewhere first")
		}
		_, err = db.exec(ctx, tx, "DELETE FROM callflows WHERE account_id = ? AND id = ?", accountID, id)
		return internal("DeleteCallFlow", err)
	})
}

func describeUse(u switchboard.FlowUse) string {
	switch u.Kind {
	case "number":
		return "number " + u.Name
	case "queue":
		return fmt.Sprintf("queue %q (overflow)", u.Name)
	case "ring_group":
		return fmt.Sprintf("ring group %q (fallback)", u.Name)
	case "user":
		return fmt.Sprintf("user %s (unanswered calls)", u.Name)
	}
	return fmt.Sprintf("call flow %q (node %s, %s)", u.Name, u.Node, u.Field)
}

// routesTo lists the numbers, queue overflows and ring group fallbacks of the account that
// send calls to the target.
func (db *DB) routesTo(ctx context.Context, q querier, accountID int64, t switchboard.TargetType, id int64) ([]switchboard.FlowUse, error) {
	var uses []switchboard.FlowUse
	for _, s := range []struct{ kind, field, query string }{
		{"number", "target", "SELECT id, number FROM numbers WHERE account_id = ? AND target_type = ? AND target_id = ? ORDER BY id"},
		{"queue", "overflow", "SELECT id, queue_name FROM queues WHERE account_id = ? AND overflow_type = ? AND overflow_id = ? ORDER BY id"},
		{"ring_group", "fallback", "SELECT id, name FROM ring_groups WHERE account_id = ? AND fallback_type = ? AND fallback_id = ? ORDER BY id"},
		// Only a call flow takes a user's unanswered calls.
		{"user", "unanswered_callflow_id", "SELECT id, extension FROM users WHERE account_id = ? AND ? = '" +
			string(switchboard.TargetCallFlow) + "' AND unanswered_callflow_id = ? ORDER BY id"},
	} {
		rows, err := db.query(ctx, q, s.query, accountID, string(t), id)
		if err != nil {
			return nil, internal("routesTo", err)
		}
		for rows.Next() {
			u := switchboard.FlowUse{Kind: s.kind, Field: s.field}
			if err := rows.Scan(&u.ID, &u.Name); err != nil {
				rows.Close()
				return nil, internal("routesTo", err)
			}
			uses = append(uses, u)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, internal("routesTo", err)
		}
	}
	return uses, nil
}

// refuseIfFlowsName answers CONFLICT naming the flows and nodes of the account that name the
// row of a FlowRef kind: deleting it would leave those nodes leading nowhere. Called in the
// delete's transaction, so no flow can start naming the row in between.
func (db *DB) refuseIfFlowsName(ctx context.Context, q querier, accountID int64, kind string, id int64) error {
	uses, err := db.flowNodesNaming(ctx, q, accountID, kind, id)
	if err != nil || len(uses) == 0 {
		return err
	}
	names := make([]string, len(uses))
	for i, u := range uses {
		names[i] = describeUse(u)
	}
	return conflict("id", "is used by "+strings.Join(names, ", ")+": change the flow first")
}

// FlowReferences lists what sends calls to the account's user, queue, ring group or call
// flow (t, id): numbers routing to it, queue overflows and ring group fallbacks pointing at
// it, and the flow nodes naming it (by user_id, queue_id, ring_group_id), flows by id and
// nodes by name.
func (db *DB) FlowReferences(ctx context.Context, accountID int64, t switchboard.TargetType, id int64) ([]switchboard.FlowUse, error) {
	uses, err := db.routesTo(ctx, db.read, accountID, t, id)
	if err != nil {
		return nil, err
	}
	inFlows, err := db.flowNodesNaming(ctx, db.read, accountID, flowRefKindOf[t], id)
	if err != nil {
		return nil, err
	}
	return append(uses, inFlows...), nil
}

// flowRefKindOf is the FlowRef kind of the targets flow nodes name.
var flowRefKindOf = map[switchboard.TargetType]string{switchboard.TargetUser: switchboard.FlowRefUser,
	switchboard.TargetQueue: switchboard.FlowRefQueue, switchboard.TargetRingGroup: switchboard.FlowRefRingGroup}

// flowNodesNaming lists the nodes of the account's flows that name the row of a FlowRef kind
// (a user, queue, ring group, prompt, voicemail box or conference room), by flow id and
// node name.
func (db *DB) flowNodesNaming(ctx context.Context, q querier, accountID int64, kind string, id int64) ([]switchboard.FlowUse, error) {
	if kind == "" {
		return nil, nil
	}
	rows, err := db.query(ctx, q, "SELECT "+callFlowColumns+" FROM callflows WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return nil, internal("FlowReferences", err)
	}
	defer rows.Close()
	var inFlows []switchboard.FlowUse
	for rows.Next() {
		f, err := scanCallFlow(rows)
		if err != nil {
			return nil, internal("FlowReferences", err)
		}
		for _, r := range f.Refs() {
			if r.Kind == kind && r.ID == id {
				field := strings.TrimPrefix(r.Field, "nodes."+r.Node+".")
				inFlows = append(inFlows, switchboard.FlowUse{Kind: "callflow", ID: f.ID, Name: f.Name, Node: r.Node, Field: field})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("FlowReferences", err)
	}
	sort.SliceStable(inFlows, func(i, j int) bool {
		if inFlows[i].ID != inFlows[j].ID {
			return inFlows[i].ID < inFlows[j].ID
		}
		return inFlows[i].Node < inFlows[j].Node
	})
	return inFlows, nil
}

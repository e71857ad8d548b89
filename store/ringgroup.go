package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const ringGroupColumns = `id, account_id, name, extension, strategy, ring_time,
	fallback_type, fallback_id, fallback_number, created_at`

func scanRingGroup(s interface{ Scan(...any) error }) (*switchboard.RingGroup, error) {
	var g switchboard.RingGroup
	var created int64
	err := s.Scan(&g.ID, &g.AccountID, &g.Name, &g.Extension, &g.Strategy, &g.RingTime,
		&g.Fallback.Type, &g.Fallback.ID, &g.Fallback.Number, &created)
	if err != nil {
		return nil, err
	}
	g.CreatedAt = fromMS(created)
	g.Members = []switchboard.RingGroupMember{}
	return &g, nil
}

func ringGroupExtensionTaken(g *switchboard.RingGroup) error {
	return conflict("extension", g.Extension+" is already used by another ring group")
}

// checkRingGroupRefs checks that the fallback and every member are of the account.
func (db *DB) checkRingGroupRefs(ctx context.Context, tx *sql.Tx, g *switchboard.RingGroup) error {
	if err := db.checkTarget(ctx, tx, g.AccountID, g.Fallback, "fallback"); err != nil {
		return err
	}
	for _, m := range g.Members {
		if err := db.checkRef(ctx, tx, g.AccountID, ownerUser, m.UserID, "members"); err != nil {
			return err
		}
	}
	return nil
}

// writeRingGroupMembers replaces the group's member list, keeping its order.
func (db *DB) writeRingGroupMembers(ctx context.Context, tx *sql.Tx, g *switchboard.RingGroup) error {
	if _, err := db.exec(ctx, tx, "DELETE FROM ring_group_members WHERE ring_group_id = ?", g.ID); err != nil {
		return internal("writeRingGroupMembers", err)
	}
	for i, m := range g.Members {
		_, err := db.exec(ctx, tx, "INSERT INTO ring_group_members (ring_group_id, position, user_id, ring_time) VALUES (?, ?, ?, ?)",
			g.ID, i, m.UserID, m.RingTime)
		if isUniqueViolation(err) {
			return badRequest("members", "a user may be a member only once")
		}
		if err != nil {
			return internal("writeRingGroupMembers", err)
		}
	}
	return nil
}

// CreateRingGroup stores a new ring group with its members, in their order.
func (db *DB) CreateRingGroup(ctx context.Context, g *switchboard.RingGroup) error {
	if err := g.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkRingGroupRefs(ctx, tx, g); err != nil {
			return err
		}
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO ring_groups (account_id, name, extension, strategy, ring_time,
			fallback_type, fallback_id, fallback_number, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			g.AccountID, g.Name, g.Extension, string(g.Strategy), g.RingTime,
			string(g.Fallback.Type), g.Fallback.ID, g.Fallback.Number, toMS(t)).Scan(&id)
		if isUniqueViolation(err) {
			return ringGroupExtensionTaken(g)
		}
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", g.AccountID)
		}
		if err != nil {
			return internal("CreateRingGroup", err)
		}
		if err := db.claimExtension(ctx, tx, g.AccountID, g.Extension, ownerRingGroup, id, "extension"); err != nil {
			return err
		}
		g.ID = id
		return db.writeRingGroupMembers(ctx, tx, g)
	})
	if err != nil {
		g.ID = 0
		return err
	}
	g.CreatedAt = t
	return nil
}

// GetRingGroup returns the account's ring group with the id and its members.
func (db *DB) GetRingGroup(ctx context.Context, accountID, id int64) (*switchboard.RingGroup, error) {
	g, err := scanRingGroup(db.queryRow(ctx, db.read, "SELECT "+ringGroupColumns+" FROM ring_groups WHERE account_id = ? AND id = ?",
		accountID, id))
	if noRows(err) {
		return nil, notFound("ring group", id)
	}
	if err != nil {
		return nil, internal("GetRingGroup", err)
	}
	if err := db.loadRingGroupMembers(ctx, db.read, accountID, map[int64]*switchboard.RingGroup{g.ID: g}, "AND m.ring_group_id = ?", id); err != nil {
		return nil, err
	}
	return g, nil
}

// loadRingGroupMembers fills the members of the groups, by group id, with one query; where
// narrows it further.
func (db *DB) loadRingGroupMembers(ctx context.Context, q querier, accountID int64, groups map[int64]*switchboard.RingGroup, where string, args ...any) error {
	rows, err := db.query(ctx, q, `SELECT m.ring_group_id, m.user_id, m.ring_time FROM ring_group_members m
		JOIN ring_groups g ON g.id = m.ring_group_id WHERE g.account_id = ? `+where+` ORDER BY m.ring_group_id, m.position`,
		append([]any{accountID}, args...)...)
	if err != nil {
		return internal("loadRingGroupMembers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var groupID int64
		var m switchboard.RingGroupMember
		if err := rows.Scan(&groupID, &m.UserID, &m.RingTime); err != nil {
			return internal("loadRingGroupMembers", err)
		}
		if g := groups[groupID]; g != nil {
			g.Members = append(g.Members, m)
		}
	}
	return internal("loadRingGroupMembers", rows.Err())
}

// ListRingGroups returns the account's ring groups by id, with their members.
func (db *DB) ListRingGroups(ctx context.Context, accountID int64) ([]*switchboard.RingGroup, error) {
	rows, err := db.query(ctx, db.read, "SELECT "+ringGroupColumns+" FROM ring_groups WHERE account_id = ? ORDER BY id", accountID)
	if err != nil {
		return nil, internal("ListRingGroups", err)
	}
	groups := []*switchboard.RingGroup{}
	byID := map[int64]*switchboard.RingGroup{}
	for rows.Next() {
		g, err := scanRingGroup(rows)
		if err != nil {
			rows.Close()
			return nil, internal("ListRingGroups", err)
		}
		groups = append(groups, g)
		byID[g.ID] = g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, internal("ListRingGroups", err)
	}
	if len(groups) == 0 {
		return groups, nil
	}
	if err := db.loadRingGroupMembers(ctx, db.read, accountID, byID, ""); err != nil {
		return nil, err
	}
	return groups, nil
}

// PageRingGroups returns one page of the account's ring groups by id, with their members,
// and whether more follow.
func (db *DB) PageRingGroups(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.RingGroup, bool, error) {
	groups, more, err := pageRows(ctx, db, "PageRingGroups", scanRingGroup, p,
		"SELECT "+ringGroupColumns+" FROM ring_groups WHERE account_id = ?", accountID)
	if err != nil || len(groups) == 0 {
		return groups, more, err
	}
	byID := make(map[int64]*switchboard.RingGroup, len(groups))
	for _, g := range groups {
		byID[g.ID] = g
	}
	// The page's members only: its groups lie between the first and the last id.
	err = db.loadRingGroupMembers(ctx, db.read, accountID, byID, "AND g.id BETWEEN ? AND ?", groups[0].ID, groups[len(groups)-1].ID)
	return groups, more, err
}

// UpdateRingGroup saves the ring group's settings and replaces its member list.
func (db *DB) UpdateRingGroup(ctx context.Context, g *switchboard.RingGroup) error {
	return replace(g, func(change func(*switchboard.RingGroup) error) (*switchboard.RingGroup, error) {
		return db.UpdateRingGroupFunc(ctx, g.AccountID, g.ID, change)
	})
}

// UpdateRingGroupFunc changes the account's ring group (with its members) with change in one
// write transaction (see updateFunc) and returns it as saved.
func (db *DB) UpdateRingGroupFunc(ctx context.Context, accountID, id int64, change func(*switchboard.RingGroup) error) (*switchboard.RingGroup, error) {
	load := func(tx *sql.Tx) (*switchboard.RingGroup, error) {
		g, err := lockedRow(ctx, db, tx, "ring group", id, scanRingGroup,
			"SELECT "+ringGroupColumns+" FROM ring_groups WHERE account_id = ? AND id = ?", accountID, id)
		if err != nil {
			return nil, err
		}
		return g, db.loadRingGroupMembers(ctx, tx, accountID, map[int64]*switchboard.RingGroup{g.ID: g}, "AND m.ring_group_id = ?", id)
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, g *switchboard.RingGroup) error { return db.saveRingGroup(ctx, tx, g) })
}

// saveRingGroup writes the valid ring group's settings and member list in tx.
func (db *DB) saveRingGroup(ctx context.Context, tx *sql.Tx, g *switchboard.RingGroup) error {
	if err := db.checkRingGroupRefs(ctx, tx, g); err != nil {
		return err
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE ring_groups SET name = ?, extension = ?, strategy = ?, ring_time = ?,
			fallback_type = ?, fallback_id = ?, fallback_number = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		g.Name, g.Extension, string(g.Strategy), g.RingTime, string(g.Fallback.Type), g.Fallback.ID, g.Fallback.Number,
		g.AccountID, g.ID).Scan(&created)
	if isUniqueViolation(err) {
		return ringGroupExtensionTaken(g)
	}
	if err != nil {
		return internal("UpdateRingGroup", err)
	}
	if err := db.claimExtension(ctx, tx, g.AccountID, g.Extension, ownerRingGroup, g.ID, "extension"); err != nil {
		return err
	}
	if err := db.writeRingGroupMembers(ctx, tx, g); err != nil {
		return err
	}
	g.CreatedAt = fromMS(created)
	return nil
}

// DeleteRingGroup deletes the ring group and its members; routes to it lead nowhere afterwards.
func (db *DB) DeleteRingGroup(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if ok, err := db.exists(ctx, tx, accountID, ownerRingGroup, id); err != nil || !ok {
			return orNotFound(err, "ring group", id)
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM ring_group_members WHERE ring_group_id = ?", id); err != nil {
			return internal("DeleteRingGroup", err)
		}
		if err := db.clearTargetsTo(ctx, tx, accountID, switchboard.TargetRingGroup, id); err != nil {
			return err
		}
		if err := db.releaseExtension(ctx, tx, ownerRingGroup, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM ring_groups WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteRingGroup", err)
		}
		return nil
	})
}

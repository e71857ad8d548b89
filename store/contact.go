package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const contactColumns = "id, account_id, phone, first_name, last_name, email, company, created_at, updated_at"

func scanContact(s interface{ Scan(...any) error }) (*switchboard.Contact, error) {
	var c switchboard.Contact
	var created, updated int64
	if err := s.Scan(&c.ID, &c.AccountID, &c.Phone, &c.FirstName, &c.LastName, &c.Email, &c.Company, &created, &updated); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return &c, nil
}

// CreateContact stores a new contact and its contact.created event, together.
func (db *DB) CreateContact(ctx context.Context, c *switchboard.Contact) error {
	if err := c.Validate(); err != nil {
		return err
	}
	t := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO contacts (account_id, phone, first_name, last_name, email, company, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.AccountID, c.Phone, c.FirstName, c.LastName, c.Email, c.Company, toMS(t), toMS(t)).Scan(&id)
		if isForeignKeyViolation(err) {
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", c.AccountID)
		}
		if err != nil {
			return internal("CreateContact", err)
		}
		created := *c
		created.ID, created.CreatedAt, created.UpdatedAt = id, t, t
		if err := db.insertEvent(ctx, tx, switchboard.ContactEvent(switchboard.EventContactCreated, &created, nil)); err != nil {
			return err
		}
		*c = created
		return nil
	})
	return err
}

// GetContact returns the account's contact with the id.
func (db *DB) GetContact(ctx context.Context, accountID, id int64) (*switchboard.Contact, error) {
	return oneRow(ctx, db, db.read, "contact", id, scanContact, "SELECT "+contactColumns+" FROM contacts WHERE account_id = ? AND id = ?", accountID, id)
}

// ListContacts returns the account's contacts by id.
func (db *DB) ListContacts(ctx context.Context, accountID int64) ([]*switchboard.Contact, error) {
	return listRows(ctx, db, "ListContacts", scanContact, "SELECT "+contactColumns+" FROM contacts WHERE account_id = ? ORDER BY id", accountID)
}

// PageContacts returns one page of the account's contacts by id, and whether more follow.
func (db *DB) PageContacts(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Contact, bool, error) {
	return pageRows(ctx, db, "PageContacts", scanContact, p, "SELECT "+contactColumns+" FROM contacts WHERE account_id = ?", accountID)
}

// UpdateContact saves every field of the contact and stores its contact.updated event, naming
// updatedFields (the API names of the fields that changed), together. UpdatedAt becomes now.
func (db *DB) UpdateContact(ctx context.Context, c *switchboard.Contact, updatedFields []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	return db.writeTx(ctx, func(tx *sql.Tx) error { return db.saveContact(ctx, tx, c, updatedFields) })
}

// UpdateContactFunc changes the account's contact with change and stores its
// contact.updated event, naming the fields whose values changed, in one write transaction
// (see updateFunc). It returns the contact as saved.
func (db *DB) UpdateContactFunc(ctx context.Context, accountID, id int64, change func(*switchboard.Contact) error) (*switchboard.Contact, error) {
	var before switchboard.Contact
	load := func(tx *sql.Tx) (*switchboard.Contact, error) {
		c, err := lockedRow(ctx, db, tx, "contact", id, scanContact, "SELECT "+contactColumns+" FROM contacts WHERE account_id = ? AND id = ?", accountID, id)
		if err == nil {
			before = *c
		}
		return c, err
	}
	save := func(tx *sql.Tx, c *switchboard.Contact) error {
		return db.saveContact(ctx, tx, c, contactChangedFields(&before, c))
	}
	return updateFunc(ctx, db, load, change, save)
}

// contactChangedFields names, as the API does, the fields whose values differ.
func contactChangedFields(before, after *switchboard.Contact) []string {
	var changed []string
	for _, f := range []struct {
		name          string
		before, after string
	}{
		{"phone", before.Phone, after.Phone},
		{"first_name", before.FirstName, after.FirstName},
		{"last_name", before.LastName, after.LastName},
		{"email", before.Email, after.Email},
		{"company", before.Company, after.Company},
	} {
		if f.before != f.after {
			changed = append(changed, f.name)
		}
	}
	return changed
}

// saveContact writes every field of the valid contact and its contact.updated event in tx.
func (db *DB) saveContact(ctx context.Context, tx *sql.Tx, c *switchboard.Contact, updatedFields []string) error {
	t := now()
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE contacts SET phone = ?, first_name = ?, last_name = ?, email = ?, company = ?,
		updated_at = ? WHERE account_id = ? AND id = ? RETURNING created_at`,
		c.Phone, c.FirstName, c.LastName, c.Email, c.Company, toMS(t), c.AccountID, c.ID).Scan(&created)
	if noRows(err) {
		return notFound("contact", c.ID)
	}
	if err != nil {
		return internal("UpdateContact", err)
	}
	updated := *c
	updated.CreatedAt, updated.UpdatedAt = fromMS(created), t
	if err := db.insertEvent(ctx, tx, switchboard.ContactEvent(switchboard.EventContactUpdated, &updated, updatedFields)); err != nil {
		return err
	}
	*c = updated
	return nil
}

// DeleteContact deletes the account's contact with the id and stores its contact.deleted
// event, together.
func (db *DB) DeleteContact(ctx context.Context, accountID, id int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		c, err := scanContact(db.queryRow(ctx, tx, "SELECT "+contactColumns+" FROM contacts WHERE account_id = ? AND id = ?", accountID, id))
		if noRows(err) {
			return notFound("contact", id)
		}
		if err != nil {
			return internal("DeleteContact", err)
		}
		if _, err := db.exec(ctx, tx, "DELETE FROM contacts WHERE account_id = ? AND id = ?", accountID, id); err != nil {
			return internal("DeleteContact", err)
		}
		return db.insertEvent(ctx, tx, switchboard.ContactEvent(switchboard.EventContactDeleted, c, nil))
	})
}

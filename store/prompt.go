package store

import (
	"context"
	"database/sql"

	"switchboard"
)

const promptColumns = "id, account_id, name, source, text, voice, language, samples, size, blob_key, created_at"

func scanPrompt(s interface{ Scan(...any) error }) (*switchboard.Prompt, error) {
	var p switchboard.Prompt
	var created int64
	if err := s.Scan(&p.ID, &p.AccountID, &p.Name, &p.Source, &p.Text, &p.Voice, &p.Language, &p.Samples, &p.Size,
		&p.BlobKey, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMS(created)
	return &p, nil
}

// CreatePrompt stores a new prompt's row (its audio is already in the blob store under
// p.BlobKey). p gets its id and time.
func (db *DB) CreatePrompt(ctx context.Context, p *switchboard.Prompt) error {
	if err := p.Validate(); err != nil {
		return err
	}
	t := now()
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := db.queryRow(ctx, tx, `INSERT INTO prompts (account_id, name, source, text, voice, language, samples, size, blob_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.AccountID, p.Name, p.Source, p.Text, p.Voice, p.Language,
			p.Samples, p.Size, p.BlobKey, toMS(t)).Scan(&id)
		switch {
		case isForeignKeyViolation(err):
			return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", p.AccountID)
		case isUniqueViolation(err):
			return conflict("blob_key", "is the storage key of another prompt")
		case err != nil:
			return internal("CreatePrompt", err)
		}
		p.ID, p.CreatedAt = id, t
		return nil
	})
}

// GetPrompt returns the account's prompt with the id.
func (db *DB) GetPrompt(ctx context.Context, accountID, id int64) (*switchboard.Prompt, error) {
	return oneRow(ctx, db, db.read, "prompt", id, scanPrompt,
		"SELECT "+promptColumns+" FROM prompts WHERE account_id = ? AND id = ?", accountID, id)
}

// PagePrompts returns one page of the account's prompts by id.
func (db *DB) PagePrompts(ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Prompt, bool, error) {
	return pageRows(ctx, db, "PagePrompts", scanPrompt, p, "SELECT "+promptColumns+" FROM prompts WHERE account_id = ?", accountID)
}

// DeletePrompt deletes the account's prompt row and returns it (the caller removes its
// audio from the blob store once the row is gone).
func (db *DB) DeletePrompt(ctx context.Context, accountID, id int64) (*switchboard.Prompt, error) {
	var p *switchboard.Prompt
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPrompt(db.queryRow(ctx, tx, "DELETE FROM prompts WHERE account_id = ? AND id = ? RETURNING "+promptColumns, accountID, id))
		if noRows(err) {
			return notFound("prompt", id)
		}
		return internal("DeletePrompt", err)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

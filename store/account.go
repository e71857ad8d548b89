package store

import (
	"context"
	"database/sql"
	"strings"

	"switchboard"
)

const accountColumns = "id, name, public_endpoints, sip_domain, created_at, max_outbound_calls, country_code, allowed_countries, max_outbound_minutes, language, " +
	"recording_default, recording_retention_days, recording_consent_prompt_id, transcription_enabled, redaction_enabled"

func scanAccount(s interface{ Scan(...any) error }) (*switchboard.Account, error) {
	var a switchboard.Account
	var created int64
	var domain sql.NullString
	var allowed string
	if err := s.Scan(&a.ID, &a.Name, &a.PublicEndpoints, &domain, &created, &a.MaxOutboundCalls, &a.CountryCode, &allowed, &a.MaxOutMinutes, &a.Language,
		&a.RecordingDefault, &a.RecordingRetentionDays, &a.RecordingConsentPromptID, &a.TranscriptionEnabled, &a.RedactionEnabled); err != nil {
		return nil, err
	}
	a.SIPDomain, a.CreatedAt = domain.String, fromMS(created)
	a.AllowedCountries = splitList(allowed)
	return &a, nil
}

// splitList reads a comma-separated column; "" is no items.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// CreateAccount stores a new account. An a.ID other than 0 is kept (the demo account is 61);
// later accounts without an id then get ids above it.
func (db *DB) CreateAccount(ctx context.Context, a *switchboard.Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.ID < 0 {
		return badRequest("id", "must be positive")
	}
	a.CountryCode = a.HomeCountry()
	a.Language = a.SpokenLanguage()
	created := now()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var id int64
		var err error
		if a.SIPDomain != "" && db.sipDomainTaken(ctx, tx, 0, a.SIPDomain) {
			return sipDomainTaken()
		}
		if a.ID != 0 {
			err = db.queryRow(ctx, tx, `INSERT INTO accounts (id, name, public_endpoints, sip_domain, created_at, max_outbound_calls,
				country_code, allowed_countries, max_outbound_minutes, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.ID, a.Name, a.PublicEndpoints, nullString(a.SIPDomain), toMS(created), a.MaxOutboundCalls, a.HomeCountry(),
				strings.Join(a.AllowedCountries, ","), a.MaxOutMinutes, a.SpokenLanguage()).Scan(&id)
		} else {
			err = db.queryRow(ctx, tx, `INSERT INTO accounts (name, public_endpoints, sip_domain, created_at, max_outbound_calls,
				country_code, allowed_countries, max_outbound_minutes, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				a.Name, a.PublicEndpoints, nullString(a.SIPDomain), toMS(created), a.MaxOutboundCalls, a.HomeCountry(),
				strings.Join(a.AllowedCountries, ","), a.MaxOutMinutes, a.SpokenLanguage()).Scan(&id)
		}
		if isUniqueViolation(err) {
			return conflict("id", "is already the id of another account")
		}
		if err != nil {
			return internal("CreateAccount", err)
		}
		if a.ID != 0 && db.dialect == DialectPostgres {
			// An explicit id does not move the identity sequence: move it past the id, never
			// back, so that later automatic ids do not collide with it. (SQLite's
			// AUTOINCREMENT already continues above the largest id.)
			_, err = tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('accounts', 'id'),
				GREATEST($1::bigint, nextval(pg_get_serial_sequence('accounts', 'id'))))`, a.ID)
			if err != nil {
				return internal("CreateAccount", err)
			}
		}
		a.ID = id
		return db.saveRecordingSettings(ctx, tx, a)
	})
	if err != nil {
		return err
	}
	a.CreatedAt = created
	return nil
}

// GetAccount returns the account with the id.
func (db *DB) GetAccount(ctx context.Context, id int64) (*switchboard.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, db.read, "SELECT "+accountColumns+" FROM accounts WHERE id = ?", id))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", id)
	}
	return a, internal("GetAccount", err)
}

// ListAccounts returns every account, by id.
func (db *DB) ListAccounts(ctx context.Context) ([]*switchboard.Account, error) {
	return listRows(ctx, db, "ListAccounts", scanAccount, "SELECT "+accountColumns+" FROM accounts ORDER BY id")
}

// UpdateAccount saves the account's name and settings; CreatedAt is set from the store.
func (db *DB) UpdateAccount(ctx context.Context, a *switchboard.Account) error {
	return replace(a, func(change func(*switchboard.Account) error) (*switchboard.Account, error) {
		return db.UpdateAccountFunc(ctx, a.ID, change)
	})
}

// UpdateAccountFunc changes the account with change in one write transaction (see
// updateFunc) and returns it as saved.
func (db *DB) UpdateAccountFunc(ctx context.Context, id int64, change func(*switchboard.Account) error) (*switchboard.Account, error) {
	load := func(tx *sql.Tx) (*switchboard.Account, error) {
		a, err := lockedRow(ctx, db, tx, "account", id, scanAccount, "SELECT "+accountColumns+" FROM accounts WHERE id = ?", id)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return nil, noAccount(id)
		}
		return a, err
	}
	return updateFunc(ctx, db, load, change, func(tx *sql.Tx, a *switchboard.Account) error { return db.saveAccount(ctx, tx, a) })
}

func noAccount(id int64) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No account with id %d", id)
}

// saveAccount writes the valid account's name and settings in tx.
func (db *DB) saveAccount(ctx context.Context, tx *sql.Tx, a *switchboard.Account) error {
	if a.SIPDomain == "" {
		// Without a domain, the account's phones are found by username alone.
		var clash int
		err := db.queryRow(ctx, tx, `SELECT count(*) FROM devices d WHERE d.account_id = ? AND EXISTS
			(SELECT 1 FROM devices o WHERE o.sip_username = d.sip_username AND o.account_id <> d.account_id)`, a.ID).Scan(&clash)
		if err != nil {
			return internal("UpdateAccount", err)
		}
		if clash > 0 {
			return conflict("sip_domain", "cannot be removed: some of the account's SIP usernames are used in other accounts too, and without a domain they must be unique")
		}
	}
	var created int64
	err := db.queryRow(ctx, tx, `UPDATE accounts SET name = ?, public_endpoints = ?, sip_domain = ?, max_outbound_calls = ?,
		country_code = ?, allowed_countries = ?, max_outbound_minutes = ?, language = ? WHERE id = ? RETURNING created_at`,
		a.Name, a.PublicEndpoints, nullString(a.SIPDomain), a.MaxOutboundCalls, a.HomeCountry(), strings.Join(a.AllowedCountries, ","),
		a.MaxOutMinutes, a.SpokenLanguage(), a.ID).Scan(&created)
	if noRows(err) {
		return noAccount(a.ID)
	}
	if isUniqueViolation(err) {
		return sipDomainTaken()
	}
	if err != nil {
		return internal("UpdateAccount", err)
	}
	a.CreatedAt, a.Language = fromMS(created), a.SpokenLanguage()
	return db.saveRecordingSettings(ctx, tx, a)
}

// saveRecordingSettings writes the account's recording and transcription settings.
func (db *DB) saveRecordingSettings(ctx context.Context, tx *sql.Tx, a *switchboard.Account) error {
	a.RecordingDefault = a.RecordingPolicy()
	_, err := db.exec(ctx, tx, `UPDATE accounts SET recording_default = ?, recording_retention_days = ?,
		recording_consent_prompt_id = ?, transcription_enabled = ?, redaction_enabled = ? WHERE id = ?`,
		a.RecordingDefault, a.RecordingRetentionDays, a.RecordingConsentPromptID, a.TranscriptionEnabled, a.RedactionEnabled, a.ID)
	return internal("UpdateAccount", err)
}

func sipDomainTaken() error {
	return conflict("sip_domain", "is already the SIP domain of another account")
}

// sipDomainTaken reports whether an account other than id has the domain (a failed read
// reports false: the unique index still refuses the write).
func (db *DB) sipDomainTaken(ctx context.Context, q querier, id int64, domain string) bool {
	var n int
	err := db.queryRow(ctx, q, "SELECT count(*) FROM accounts WHERE sip_domain = ? AND id <> ?", domain, id).Scan(&n)
	return err == nil && n > 0
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// GetAccountBySIPDomain returns the account whose SIP domain is domain (lowercase).
func (db *DB) GetAccountBySIPDomain(ctx context.Context, domain string) (*switchboard.Account, error) {
	a, err := scanAccount(db.queryRow(ctx, db.read, "SELECT "+accountColumns+" FROM accounts WHERE sip_domain = ?", domain))
	if noRows(err) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No account with SIP domain %s", domain)
	}
	return a, internal("GetAccountBySIPDomain", err)
}

// HasSIPDomains reports whether any account has a SIP domain.
func (db *DB) HasSIPDomains(ctx context.Context) (bool, error) {
	var n int
	err := db.queryRow(ctx, db.read, "SELECT count(*) FROM accounts WHERE sip_domain IS NOT NULL").Scan(&n)
	return n > 0, internal("HasSIPDomains", err)
}

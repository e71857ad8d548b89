-- +goose Up
-- Times are unix milliseconds UTC; booleans 0/1; JSON as TEXT. The same schema as
-- ../postgres/00001_init.sql: keep them in step.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL,
    public_endpoints INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL
);

CREATE TABLE users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        INTEGER NOT NULL REFERENCES accounts (id),
    extension         TEXT    NOT NULL,
    first_name        TEXT    NOT NULL DEFAULT '',
    last_name         TEXT    NOT NULL DEFAULT '',
    email             TEXT    NOT NULL DEFAULT '',
    caller_id_name    TEXT    NOT NULL DEFAULT '',
    time_zone         TEXT    NOT NULL DEFAULT '',
    voicemail_enabled INTEGER NOT NULL DEFAULT 0,
    forward_enabled   INTEGER NOT NULL DEFAULT 0,
    forward_number    TEXT    NOT NULL DEFAULT '',
    ring_time_seconds INTEGER NOT NULL DEFAULT 30,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE UNIQUE INDEX users_account_extension ON users (account_id, extension);

-- One row per extension in use, whatever has it: the unique key makes an extension belong
-- to one user, queue or ring group of the account, even under concurrent writers.
CREATE TABLE extensions (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    extension  TEXT    NOT NULL,
    owner_type TEXT    NOT NULL, -- user, queue, ringgroup
    owner_id   INTEGER NOT NULL,
    PRIMARY KEY (account_id, extension)
);
CREATE UNIQUE INDEX extensions_owner ON extensions (owner_type, owner_id);

CREATE TABLE devices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT    NOT NULL DEFAULT '',
    sip_username TEXT    NOT NULL,
    ha1_md5      TEXT    NOT NULL,
    ha1_sha256   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX devices_sip_username ON devices (sip_username);
CREATE INDEX devices_account_user ON devices (account_id, user_id);

CREATE TABLE queues (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    queue_name       TEXT    NOT NULL,
    extension        TEXT    NOT NULL,
    strategy         TEXT    NOT NULL,
    music_on_hold    TEXT    NOT NULL DEFAULT '',
    timeout          INTEGER NOT NULL DEFAULT 0,
    retry            INTEGER NOT NULL DEFAULT 0,
    wrapup_time      INTEGER NOT NULL DEFAULT 0,
    max_len          INTEGER NOT NULL DEFAULT 0,
    join_empty       TEXT    NOT NULL DEFAULT '',
    leave_when_empty TEXT    NOT NULL DEFAULT '',
    ring_in_use      TEXT    NOT NULL DEFAULT '',
    max_wait         INTEGER NOT NULL DEFAULT 0,
    service_level    INTEGER NOT NULL DEFAULT 0,
    overflow_type    TEXT    NOT NULL DEFAULT '',
    overflow_id      INTEGER NOT NULL DEFAULT 0,
    overflow_number  TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX queues_account_extension ON queues (account_id, extension);

CREATE TABLE queue_members (
    queue_id INTEGER NOT NULL REFERENCES queues (id),
    user_id  INTEGER NOT NULL REFERENCES users (id),
    penalty  INTEGER NOT NULL DEFAULT 0,
    paused   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX queue_members_user ON queue_members (user_id);

CREATE TABLE ring_groups (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    name            TEXT    NOT NULL,
    extension       TEXT    NOT NULL,
    strategy        TEXT    NOT NULL,
    ring_time       INTEGER NOT NULL,
    fallback_type   TEXT    NOT NULL DEFAULT '',
    fallback_id     INTEGER NOT NULL DEFAULT 0,
    fallback_number TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX ring_groups_account_extension ON ring_groups (account_id, extension);

CREATE TABLE ring_group_members (
    ring_group_id INTEGER NOT NULL REFERENCES ring_groups (id),
    position      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    ring_time     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ring_group_id, position)
);
CREATE UNIQUE INDEX ring_group_members_user ON ring_group_members (ring_group_id, user_id);
CREATE INDEX ring_group_members_by_user ON ring_group_members (user_id);

CREATE TABLE numbers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           INTEGER NOT NULL REFERENCES accounts (id),
    number               TEXT    NOT NULL,
    friendly_name        TEXT    NOT NULL DEFAULT '',
    sms_enabled          INTEGER NOT NULL DEFAULT 0,
    mms_enabled          INTEGER NOT NULL DEFAULT 0,
    owner_user_id        INTEGER REFERENCES users (id),
    sms_assigned_user_id INTEGER REFERENCES users (id),
    status               TEXT    NOT NULL,
    ai_agent_id          TEXT    NOT NULL DEFAULT '',
    target_type          TEXT    NOT NULL DEFAULT '',
    target_id            INTEGER NOT NULL DEFAULT 0,
    target_number        TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX numbers_number ON numbers (number);
CREATE INDEX numbers_account ON numbers (account_id);

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    phone      TEXT    NOT NULL,
    first_name TEXT    NOT NULL DEFAULT '',
    last_name  TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    company    TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_account ON contacts (account_id);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    kind        TEXT    NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    name        TEXT    NOT NULL DEFAULT '',
    prefix      TEXT    NOT NULL DEFAULT '',
    hash        TEXT    NOT NULL,
    allowed_ips TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- The outbox: seq is the order in which events leave.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL,
    account_id  INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    call_id     TEXT    NOT NULL DEFAULT '',
    crm_id      TEXT    NOT NULL DEFAULT '',
    data        TEXT    NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_account_seq ON events (account_id, seq);

-- +goose Down
DROP TABLE events;
DROP TABLE api_keys;
DROP TABLE contacts;
DROP TABLE numbers;
DROP TABLE ring_group_members;
DROP TABLE ring_groups;
DROP TABLE queue_members;
DROP TABLE queues;
DROP TABLE devices;
DROP TABLE extensions;
DROP TABLE users;
DROP TABLE accounts;

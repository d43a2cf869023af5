-- Huddle's first schema. Times are Unix milliseconds (UTC).
CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    email            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name             TEXT NOT NULL,
    password_hash    TEXT NOT NULL,
    organisation_id  INTEGER REFERENCES organisations(id),
    created_at       INTEGER NOT NULL
);

-- Login sessions; only a SHA-256 of each token is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

CREATE TABLE meetings (
    id                INTEGER PRIMARY KEY,
    title             TEXT NOT NULL,
    host_id           INTEGER NOT NULL REFERENCES users(id),
    organisation_id   INTEGER REFERENCES organisations(id),
    visibility        TEXT NOT NULL CHECK (visibility IN ('organisation', 'all_users', 'invite_only')),
    starts_at         INTEGER NOT NULL,
    duration_minutes  INTEGER NOT NULL,
    created_at        INTEGER NOT NULL
);

CREATE TABLE meeting_invitees (
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE chat_messages (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,
    sent_at     INTEGER NOT NULL
);
CREATE INDEX chat_by_meeting ON chat_messages(meeting_id, id);

-- One-off facts about this database, such as whether demo data was seeded.
CREATE TABLE server_flags (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

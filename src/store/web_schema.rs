//! The review screen's schema migration (`mamori serve`): accounts, their
//! root restrictions, sessions, login attempts, and who did what in the
//! event log. Kept in its own file so that parallel branches' migrations
//! can be ordered when they are merged (see `migrate::MIGRATIONS`).
//!
//! Sessions are stored by the SHA-256 of their random token, never the
//! token itself: a copy of the database cannot be used to log in. Login
//! attempts record the account (when the name is one) and the client's
//! address, never the name typed: a mistyped field could hold anything.
//! Times used for timeouts and lockouts are Unix seconds (arithmetic);
//! times shown to people stay RFC 3339 like the rest of the store.

/// Accounts, sessions, login attempts; `events.actor` (the user).
pub(super) const WEB_ACCOUNTS: &str = r#"
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
    );
    CREATE TABLE user_roots (
        user_id INTEGER NOT NULL REFERENCES users(id),
        root_label TEXT NOT NULL,
        PRIMARY KEY (user_id, root_label)
    );
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        address TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE login_attempts (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        user_id INTEGER,
        address TEXT NOT NULL,
        ok INTEGER NOT NULL
    );
    CREATE INDEX login_attempts_user ON login_attempts(user_id, at);
    CREATE INDEX login_attempts_address ON login_attempts(address, at);
    ALTER TABLE events ADD COLUMN actor TEXT;
    CREATE INDEX events_file ON events(file_id) WHERE file_id IS NOT NULL;
"#;

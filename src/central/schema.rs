//! The central schema: its own numbered migrations, applied by
//! `mamori central migrate --url …` (as the database's owner; sites connect
//! with a role that reads and writes rows but need not create tables).
//!
//! Every mirrored table holds each site's rows under `(site_id, the site's
//! row id)`, so that a row shipped twice is written once (idempotent
//! upserts), and `gen`, the site's generation when the row was last
//! shipped: a resync ships everything under a new generation and then
//! deletes what is left of older ones (rows of a store that was rebuilt).
//! Times are kept as the sites write them (RFC 3339 UTC text), so that the
//! same comparisons hold on both sides. `cid` gives files and findings an
//! id that is unique across sites (the review screen's and `review list`'s
//! ids at the centre).
//!
//! Decisions made at the centre go into `central_decisions`; the owning
//! site takes them on its next sync, records them as its own, and ships
//! them back into `decisions` with `central_id` set.

use postgres::Client;

use super::CentralError;

/// Migration N brings the central schema from version N-1 to N.
const MIGRATIONS: &[&str] = &[
    // 1: sites, the mirrored tables, decisions made at the centre.
    r#"
    CREATE TABLE central_meta (
        key text PRIMARY KEY,
        value text NOT NULL
    );
    INSERT INTO central_meta(key, value) VALUES ('centre_id', gen_random_uuid()::text);
    CREATE TABLE sites (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL UNIQUE,
        instance text NOT NULL,
        generation bigint NOT NULL DEFAULT 1,
        snapshot_generation bigint NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL DEFAULT now(),
        last_sync_at timestamptz,
        outbox_length bigint
    );
    CREATE TABLE site_roots (
        site_id integer NOT NULL REFERENCES sites(id),
        path text NOT NULL,
        label text NOT NULL,
        kind text NOT NULL,
        PRIMARY KEY (site_id, path)
    );
    CREATE TABLE roots (
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        path text NOT NULL,
        device bigint,
        files_seen bigint,
        available bigint,
        problem text,
        checked_at text,
        PRIMARY KEY (site_id, path)
    );
    CREATE TABLE scan_runs (
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        started_at text,
        finished_at text,
        roots text,
        detector_set text,
        status text,
        files_scanned bigint,
        findings bigint,
        unreadable bigint,
        PRIMARY KEY (site_id, id)
    );
    CREATE TABLE files (
        cid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        path text NOT NULL,
        path_key bytea,
        root text,
        size bigint,
        mtime_ns bigint,
        content_hash bytea,
        detector_set text,
        format text,
        first_seen_at text,
        last_scanned_at text,
        deleted_at text,
        unreadable_reason text,
        meta_date text,
        PRIMARY KEY (site_id, id)
    );
    CREATE INDEX files_path_key ON files(site_id, path_key);
    CREATE INDEX files_path ON files(path);
    CREATE TABLE findings (
        cid bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        file_id bigint NOT NULL,
        member text,
        kind text,
        confidence text,
        location text,
        masked text,
        fingerprint bytea,
        detector_id text,
        detector_version bigint,
        first_seen_at text,
        last_seen_at text,
        resolved_at text,
        resolve_reason text,
        flags text,
        recipient_domains text,
        review_state text,
        review_decision_id bigint,
        PRIMARY KEY (site_id, id)
    );
    CREATE INDEX findings_file ON findings(site_id, file_id);
    CREATE INDEX findings_value ON findings(kind, fingerprint);
    CREATE INDEX findings_open ON findings(review_state) WHERE resolved_at IS NULL;
    CREATE TABLE file_records (
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        file_id bigint NOT NULL,
        as_of text,
        document_date text,
        date_source text,
        date_evidence text,
        retention_rule bigint,
        retention_class text,
        retention text,
        retention_start text,
        retention_end text,
        action text,
        hold_reason text,
        hold_until text,
        flags text,
        evaluated_at text,
        reasons_ja text,
        reasons_en text,
        PRIMARY KEY (site_id, file_id)
    );
    CREATE TABLE decisions (
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        at text,
        batch bigint,
        reviewer text,
        decision text,
        note text,
        file_id bigint,
        content_hash bytea,
        path text,
        member text,
        kind text,
        fingerprint bytea,
        masked text,
        finding_id bigint,
        central_id bigint,
        PRIMARY KEY (site_id, id)
    );
    CREATE INDEX decisions_file ON decisions(site_id, file_id);
    CREATE TABLE events (
        site_id integer NOT NULL REFERENCES sites(id),
        gen bigint NOT NULL,
        id bigint NOT NULL,
        at text,
        run_id bigint,
        kind text,
        file_id bigint,
        detail text,
        PRIMARY KEY (site_id, id)
    );
    CREATE INDEX events_file ON events(site_id, file_id);
    CREATE SEQUENCE central_decision_batches;
    CREATE TABLE central_decisions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at text NOT NULL,
        batch bigint NOT NULL,
        reviewer text NOT NULL,
        decision text NOT NULL,
        note text NOT NULL,
        site_id integer NOT NULL REFERENCES sites(id),
        file_id bigint NOT NULL,
        path_key bytea,
        content_hash bytea,
        path text NOT NULL,
        member text NOT NULL,
        kind text NOT NULL,
        fingerprint bytea NOT NULL,
        masked text NOT NULL,
        finding_id bigint,
        applied_at timestamptz,
        site_decision_id bigint
    );
    CREATE INDEX central_decisions_pending ON central_decisions(site_id) WHERE applied_at IS NULL;
    "#,
    // 2: each records verdict's reason lines with the flags each line
    // explains (the weekly report lists a flagged file with the lines that
    // explain that flag), shipped by the site beside `reasons_ja` and
    // `reasons_en`: a JSON array of {"ja", "en", "flags"}, one per line,
    // in the verdict's order. Rows shipped before it have none until their
    // site ships them again (at its next sync: see `sync`).
    r#"
    ALTER TABLE file_records ADD COLUMN reason_lines text;
    "#,
];

/// The central schema version this binary writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Serialises concurrent `migrate` runs.
const MIGRATE_LOCK: i64 = 0x6d616d6f7269; // "mamori"

/// The schema version of the centre (0: never migrated).
pub fn version(client: &mut Client) -> Result<i64, CentralError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('mamori_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_opt("SELECT version FROM mamori_schema", &[])?
        .map(|r| i64::from(r.get::<_, i32>(0)))
        .unwrap_or(0))
}

/// Brings the centre to [`CURRENT`], each migration in the one transaction;
/// returns (before, after). A centre newer than this binary is refused.
pub fn migrate(client: &mut Client) -> Result<(i64, i64), CentralError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS mamori_schema (version integer NOT NULL)")?;
    let found: i64 = match tx.query_opt("SELECT version FROM mamori_schema", &[])? {
        Some(r) => i64::from(r.get::<_, i32>(0)),
        None => {
            tx.execute("INSERT INTO mamori_schema(version) VALUES (0)", &[])?;
            0
        }
    };
    if found > CURRENT {
        return Err(CentralError::Schema {
            found,
            known: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.batch_execute(sql)?;
        let n = i as i32 + 1;
        tx.execute("UPDATE mamori_schema SET version = $1", &[&n])?;
        tracing::info!("central database migrated to schema version {n}");
    }
    tx.commit()?;
    Ok((found, CURRENT))
}

/// Refuses a centre whose schema is not this binary's.
pub fn check(client: &mut Client) -> Result<(), CentralError> {
    let found = version(client)?;
    if found != CURRENT {
        return Err(CentralError::Schema {
            found,
            known: CURRENT,
        });
    }
    Ok(())
}

//! The centre's side of the outbox: a site's rows applied by idempotent
//! upserts. One statement per table and batch (`INSERT … SELECT FROM
//! unnest(arrays) ON CONFLICT (site_id, key) DO UPDATE`): a batch shipped
//! twice (the acknowledgement was lost to a crash, a kill or a dropped
//! connection) writes the same rows again, and nothing doubles.

use postgres::types::ToSql;
use postgres::Transaction;
use rusqlite::types::Value;

use super::CentralError;
use crate::store::outbox::{ColumnType, ShippedRow, ShippedTable};

/// The centre's name for a table's local key column (`rowid` is `id`).
pub fn key_column(t: &ShippedTable) -> &'static str {
    if t.key == "rowid" {
        "id"
    } else {
        t.key
    }
}

/// The columns a row is unique by, after `site_id`: roots by path (their
/// local row id is SQLite's `rowid`, which VACUUM may renumber).
fn conflict_column(t: &ShippedTable) -> &'static str {
    if t.name == "roots" {
        "path"
    } else {
        key_column(t)
    }
}

fn pg_type(c: ColumnType) -> &'static str {
    match c {
        ColumnType::Int => "bigint[]",
        ColumnType::Text => "text[]",
        ColumnType::Blob => "bytea[]",
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Real(f) => Some(*f as i64),
        Value::Text(s) => s.parse().ok(),
        Value::Null | Value::Blob(_) => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Null => None,
    }
}

fn as_blob(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Blob(b) => Some(b.clone()),
        Value::Text(s) => Some(s.as_bytes().to_vec()),
        Value::Null | Value::Integer(_) | Value::Real(_) => None,
    }
}

/// Columns the centre keeps beside a table's shipped ones (records
/// verdicts' reasons, as the site words them), one text array each.
pub type Extra = Vec<(&'static str, Vec<Option<String>>)>;

/// Upserts `rows` of `table` for `site` under `generation`. Keys must be
/// unique within `rows`.
pub fn upsert(
    tx: &mut Transaction<'_>,
    site: i32,
    generation: i64,
    table: &ShippedTable,
    rows: &[ShippedRow],
    extra: &Extra,
) -> Result<u64, CentralError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let key = key_column(table);
    let mut names = vec![key.to_string()];
    let mut casts = vec!["$3::bigint[]".to_string()];
    let mut params: Vec<Box<dyn ToSql + Sync>> = vec![
        Box::new(site),
        Box::new(generation),
        Box::new(rows.iter().map(|r| r.key).collect::<Vec<i64>>()),
    ];
    for (i, (name, ty)) in table.columns.iter().enumerate() {
        names.push(name.to_string());
        casts.push(format!("${}::{}", params.len() + 1, pg_type(*ty)));
        let column = rows.iter().map(|r| r.values.get(i).unwrap_or(&Value::Null));
        params.push(match ty {
            ColumnType::Int => Box::new(column.map(as_int).collect::<Vec<_>>()),
            ColumnType::Text => Box::new(column.map(as_text).collect::<Vec<_>>()),
            ColumnType::Blob => Box::new(column.map(as_blob).collect::<Vec<_>>()),
        });
    }
    for (name, values) in extra {
        if values.len() != rows.len() {
            return Err(CentralError::Invalid(format!(
                "{name}: {} values for {} rows",
                values.len(),
                rows.len()
            )));
        }
        names.push(name.to_string());
        casts.push(format!("${}::text[]", params.len() + 1));
        params.push(Box::new(values.clone()));
    }
    let conflict = conflict_column(table);
    let updates: Vec<String> = std::iter::once("gen".to_string())
        .chain(names.iter().filter(|n| *n != conflict).cloned())
        .map(|n| format!("{n} = excluded.{n}"))
        .collect();
    let sql = format!(
        "INSERT INTO {t} (site_id, gen, {cols}) SELECT $1::integer, $2::bigint, u.* FROM unnest({casts}) AS u
         ON CONFLICT (site_id, {conflict}) DO UPDATE SET {updates}",
        t = table.name,
        cols = names.join(", "),
        casts = casts.join(", "),
        updates = updates.join(", "),
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    let n = tx.execute(&sql, &refs)?;
    if table.name == "decisions" {
        // Decisions that came from the centre are now recorded by the site.
        let ids: Vec<i64> = rows.iter().map(|r| r.key).collect();
        tx.execute(
            "UPDATE central_decisions c SET applied_at = coalesce(c.applied_at, now()), site_decision_id = d.id
             FROM decisions d
             WHERE d.site_id = $1 AND d.id = ANY($2) AND d.central_id = c.id AND c.site_id = $1",
            &[&site, &ids],
        )?;
    }
    Ok(n)
}

/// Deletes rows of `table` the site no longer has (records verdicts of
/// deleted files; other tables keep their history and never delete).
pub fn delete(
    tx: &mut Transaction<'_>,
    site: i32,
    table: &ShippedTable,
    keys: &[i64],
) -> Result<u64, CentralError> {
    if keys.is_empty() || table.name == "roots" {
        return Ok(0);
    }
    Ok(tx.execute(
        &format!(
            "DELETE FROM {} WHERE site_id = $1 AND {} = ANY($2)",
            table.name,
            key_column(table)
        ),
        &[&site, &keys],
    )?)
}

/// After a snapshot of `generation`: deletes the site's rows of older
/// generations (they were not shipped again, so the site no longer has them).
pub fn sweep(tx: &mut Transaction<'_>, site: i32, generation: i64) -> Result<u64, CentralError> {
    let mut n = 0;
    for t in crate::store::outbox::SHIPPED {
        n += tx.execute(
            &format!("DELETE FROM {} WHERE site_id = $1 AND gen < $2", t.name),
            &[&site, &generation],
        )?;
    }
    Ok(n)
}

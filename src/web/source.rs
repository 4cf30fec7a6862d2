//! What the pages read, from wherever the findings are: a site's SQLite
//! store (`mamori serve --config`) or the central PostgreSQL database over
//! every site (`mamori serve --central URL`). Pages ask [`Reader`] and do
//! not know which; both answer in the same shapes (`store::web`'s rows,
//! `review::FindingRow`), so a page looks the same on a site and at the
//! centre, where files are named `SITE:PATH` and roots `SITE` or
//! `SITE:LABEL` (as `central::query` names them).
//!
//! Accounts, sessions and the screen's own audit events are always in the
//! local SQLite store of the machine serving the screen (see `app`).

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::app::WebError;
use crate::central::query as cq;
use crate::central::web as cw;
use crate::keys::KeySet;
use crate::records::apply::RecordsContext;
use crate::records::Lang;
use crate::report::SharedValue;
use crate::review::{FindingFilter, FindingRow, TrailEntry};
use crate::store::review as q;
use crate::store::web::{
    self as db, FileInfo, OutboundRow, RetentionRow, TrendCount, UnreadableRow,
};

/// A file's records verdict as its page shows it: the reasons (the lines
/// `mamori explain` prints) and the flags' names.
pub(crate) type Verdict = (Vec<String>, Vec<String>);

/// The pages' questions. `scope`: the display names of the roots the user
/// may see (empty: all), as `FindingFilter::allowed_roots`.
pub(crate) trait Reader {
    fn open_by_kind(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError>;
    fn open_by_state(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError>;
    fn open_by_root(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError>;
    fn by_flag(
        &mut self,
        scope: &[String],
        flags: &[&str],
    ) -> Result<BTreeMap<String, (i64, i64)>, WebError>;
    fn files_with_any_flag(&mut self, scope: &[String], flags: &[&str]) -> Result<i64, WebError>;
    fn unreadable_by_reason(&mut self, scope: &[String])
        -> Result<BTreeMap<String, i64>, WebError>;
    fn open_at(&mut self, scope: &[String], bounds: &[String])
        -> Result<Vec<TrendCount>, WebError>;

    fn list_findings(
        &mut self,
        filter: &FindingFilter,
        after: i64,
        limit: usize,
    ) -> Result<Vec<FindingRow>, WebError>;
    fn count_findings(&mut self, filter: &FindingFilter) -> Result<i64, WebError>;
    fn count_findings_capped(&mut self, filter: &FindingFilter, cap: i64) -> Result<i64, WebError>;
    fn page_before(
        &mut self,
        filter: &FindingFilter,
        before: i64,
        limit: usize,
    ) -> Result<Option<i64>, WebError>;
    fn finding_ids(&mut self, filter: &FindingFilter) -> Result<Vec<i64>, WebError>;
    fn files_of_findings(&mut self, ids: &[i64]) -> Result<Vec<i64>, WebError>;

    fn file_info(&mut self, id: i64, scope: &[String]) -> Result<Option<FileInfo>, WebError>;
    fn file_findings(&mut self, id: i64, limit: usize) -> Result<Vec<FindingRow>, WebError>;
    fn file_verdict(&mut self, id: i64, lang: Lang) -> Result<Verdict, WebError>;
    fn trail(&mut self, id: i64) -> Result<Vec<TrailEntry>, WebError>;

    fn retention_queue(&mut self, scope: &[String]) -> Result<Vec<RetentionRow>, WebError>;
    fn outbound_messages(
        &mut self,
        scope: &[String],
        after: i64,
        limit: usize,
    ) -> Result<Vec<OutboundRow>, WebError>;
    fn unreadable_files(
        &mut self,
        scope: &[String],
        reason: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<UnreadableRow>, WebError>;

    /// My Numbers (masked) held on several sites, with their places within
    /// `scope`; `None` on a site's store (it knows one site).
    fn shared_values(&mut self, scope: &[String]) -> Result<Option<Vec<SharedValue>>, WebError>;
}

/// A site's store, read through one read-only connection.
pub(crate) struct SiteReader<'a> {
    pub conn: &'a Connection,
    pub keys: &'a KeySet,
    pub records: &'a RecordsContext,
}

impl Reader for SiteReader<'_> {
    fn open_by_kind(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(db::open_by_kind(self.conn, scope)?)
    }
    fn open_by_state(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(db::open_by_state(self.conn, scope)?)
    }
    fn open_by_root(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(db::open_by_root(self.conn, scope)?)
    }
    fn by_flag(
        &mut self,
        scope: &[String],
        flags: &[&str],
    ) -> Result<BTreeMap<String, (i64, i64)>, WebError> {
        Ok(db::by_flag(self.conn, scope, flags)?)
    }
    fn files_with_any_flag(&mut self, scope: &[String], flags: &[&str]) -> Result<i64, WebError> {
        Ok(db::files_with_any_flag(self.conn, scope, flags)?)
    }
    fn unreadable_by_reason(
        &mut self,
        scope: &[String],
    ) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(db::unreadable_by_reason(self.conn, scope)?)
    }
    fn open_at(
        &mut self,
        scope: &[String],
        bounds: &[String],
    ) -> Result<Vec<TrendCount>, WebError> {
        Ok(db::open_at(self.conn, scope, bounds)?)
    }
    fn list_findings(
        &mut self,
        filter: &FindingFilter,
        after: i64,
        limit: usize,
    ) -> Result<Vec<FindingRow>, WebError> {
        Ok(q::list_findings(self.conn, filter, after, limit)?)
    }
    fn count_findings(&mut self, filter: &FindingFilter) -> Result<i64, WebError> {
        Ok(q::count_findings(self.conn, filter)?)
    }
    fn count_findings_capped(&mut self, filter: &FindingFilter, cap: i64) -> Result<i64, WebError> {
        Ok(db::count_findings_capped(self.conn, filter, cap)?)
    }
    fn page_before(
        &mut self,
        filter: &FindingFilter,
        before: i64,
        limit: usize,
    ) -> Result<Option<i64>, WebError> {
        Ok(db::page_before(self.conn, filter, before, limit)?)
    }
    fn finding_ids(&mut self, filter: &FindingFilter) -> Result<Vec<i64>, WebError> {
        Ok(q::finding_ids(self.conn, filter)?)
    }
    fn files_of_findings(&mut self, ids: &[i64]) -> Result<Vec<i64>, WebError> {
        Ok(db::files_of_findings(self.conn, ids)?)
    }
    fn file_info(&mut self, id: i64, scope: &[String]) -> Result<Option<FileInfo>, WebError> {
        Ok(db::file_info(self.conn, id, scope)?)
    }
    fn file_findings(&mut self, id: i64, limit: usize) -> Result<Vec<FindingRow>, WebError> {
        Ok(db::file_findings(self.conn, id, limit)?)
    }
    /// Evaluated now with this site's rules (the stored verdict may be a
    /// day old).
    fn file_verdict(&mut self, id: i64, lang: Lang) -> Result<Verdict, WebError> {
        let verdict = crate::records::apply::evaluate_files(
            self.conn,
            self.keys,
            self.records,
            crate::time::today_jst(),
            Some(&[id]),
        )?;
        Ok(verdict
            .first()
            .map(|v| {
                (
                    v.evaluation.explain(lang),
                    v.evaluation
                        .flag_names()
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                )
            })
            .unwrap_or_default())
    }
    fn trail(&mut self, id: i64) -> Result<Vec<TrailEntry>, WebError> {
        Ok(q::trail(self.conn, id)?)
    }
    fn retention_queue(&mut self, scope: &[String]) -> Result<Vec<RetentionRow>, WebError> {
        Ok(db::retention_queue(self.conn, scope)?)
    }
    fn outbound_messages(
        &mut self,
        scope: &[String],
        after: i64,
        limit: usize,
    ) -> Result<Vec<OutboundRow>, WebError> {
        Ok(db::outbound_messages(self.conn, scope, after, limit)?)
    }
    fn unreadable_files(
        &mut self,
        scope: &[String],
        reason: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<UnreadableRow>, WebError> {
        Ok(db::unreadable_files(
            self.conn, scope, reason, after, limit,
        )?)
    }
    fn shared_values(&mut self, _: &[String]) -> Result<Option<Vec<SharedValue>>, WebError> {
        Ok(None)
    }
}

/// The central database, read through one PostgreSQL connection (the
/// queries are `central::web`'s and `central::query`'s).
pub(crate) struct CentralReader<'a>(pub &'a mut postgres::Client);

impl Reader for CentralReader<'_> {
    fn open_by_kind(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(cw::open_by(self.0, scope, cw::By::Kind)?)
    }
    fn open_by_state(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(cw::open_by(self.0, scope, cw::By::State)?)
    }
    fn open_by_root(&mut self, scope: &[String]) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(cw::open_by(self.0, scope, cw::By::Root)?)
    }
    fn by_flag(
        &mut self,
        scope: &[String],
        flags: &[&str],
    ) -> Result<BTreeMap<String, (i64, i64)>, WebError> {
        Ok(cw::by_flag(self.0, scope, flags)?)
    }
    fn files_with_any_flag(&mut self, scope: &[String], flags: &[&str]) -> Result<i64, WebError> {
        Ok(cw::files_with_any_flag(self.0, scope, flags)?)
    }
    fn unreadable_by_reason(
        &mut self,
        scope: &[String],
    ) -> Result<BTreeMap<String, i64>, WebError> {
        Ok(cw::unreadable_by_reason(self.0, scope)?)
    }
    fn open_at(
        &mut self,
        scope: &[String],
        bounds: &[String],
    ) -> Result<Vec<TrendCount>, WebError> {
        Ok(cw::open_at(self.0, scope, bounds)?)
    }
    fn list_findings(
        &mut self,
        filter: &FindingFilter,
        after: i64,
        limit: usize,
    ) -> Result<Vec<FindingRow>, WebError> {
        Ok(cq::list_findings(self.0, filter, after, limit)?)
    }
    fn count_findings(&mut self, filter: &FindingFilter) -> Result<i64, WebError> {
        Ok(cq::count_findings(self.0, filter)?)
    }
    fn count_findings_capped(&mut self, filter: &FindingFilter, cap: i64) -> Result<i64, WebError> {
        Ok(cw::count_findings_capped(self.0, filter, cap)?)
    }
    fn page_before(
        &mut self,
        filter: &FindingFilter,
        before: i64,
        limit: usize,
    ) -> Result<Option<i64>, WebError> {
        Ok(cw::page_before(self.0, filter, before, limit)?)
    }
    fn finding_ids(&mut self, filter: &FindingFilter) -> Result<Vec<i64>, WebError> {
        Ok(cq::finding_ids(self.0, filter)?)
    }
    fn files_of_findings(&mut self, ids: &[i64]) -> Result<Vec<i64>, WebError> {
        Ok(cw::files_of_findings(self.0, ids)?)
    }
    fn file_info(&mut self, id: i64, scope: &[String]) -> Result<Option<FileInfo>, WebError> {
        Ok(cw::file_info(self.0, id, scope)?)
    }
    fn file_findings(&mut self, id: i64, limit: usize) -> Result<Vec<FindingRow>, WebError> {
        Ok(cw::file_findings(self.0, id, limit)?)
    }
    /// The site's latest verdict (the centre does not have the sites'
    /// rules; sites re-evaluate daily and ship what changed).
    fn file_verdict(&mut self, id: i64, lang: Lang) -> Result<Verdict, WebError> {
        Ok(cw::file_verdict(self.0, id, lang)?)
    }
    fn trail(&mut self, id: i64) -> Result<Vec<TrailEntry>, WebError> {
        Ok(cq::trail(self.0, id)?)
    }
    fn retention_queue(&mut self, scope: &[String]) -> Result<Vec<RetentionRow>, WebError> {
        Ok(cw::retention_queue(self.0, scope)?)
    }
    fn outbound_messages(
        &mut self,
        scope: &[String],
        after: i64,
        limit: usize,
    ) -> Result<Vec<OutboundRow>, WebError> {
        Ok(cw::outbound_messages(self.0, scope, after, limit)?)
    }
    fn unreadable_files(
        &mut self,
        scope: &[String],
        reason: Option<&str>,
        after: i64,
        limit: usize,
    ) -> Result<Vec<UnreadableRow>, WebError> {
        Ok(cw::unreadable_files(self.0, scope, reason, after, limit)?)
    }
    fn shared_values(&mut self, scope: &[String]) -> Result<Option<Vec<SharedValue>>, WebError> {
        Ok(Some(cq::shared_values_within(
            self.0,
            &[crate::finding::Kind::MyNumber],
            2,
            scope,
        )?))
    }
}

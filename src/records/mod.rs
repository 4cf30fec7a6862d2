//! Records rules (公文書管理): retention, My Number areas, legal holds and
//! breach-report hints, as pure functions over plain data.
//!
//! This module reads no files and no store: it takes the rules from the
//! configuration ([`rules`]), a document's date from its path, metadata or
//! mtime ([`dates`]), and what the scan found in a file ([`flags::FileFacts`]),
//! and says what the public-records rules say about the file on a given day
//! ([`flags::evaluate`]). Calendar arithmetic is jiff's ([`retention`]).
//! It depends on nothing of the scanner but the finding kinds, so that the
//! extractors, the store and the service can change without it. Only
//! [`apply`] reads and writes the store: it gathers each file's facts,
//! evaluates them, and keeps the verdicts.
//! Background: shared/docs/records-rules.md.

pub mod apply;
pub mod dates;
pub mod flags;
pub mod keywords;
pub mod retention;
pub mod rules;

pub use dates::{document_date, today_in_japan, DateSource, DocumentDate};
pub use flags::{evaluate, Evaluation, FileFacts, Flag, Lang, Reason};
pub use retention::{FiscalYearStart, RetentionPeriod};
pub use rules::{Action, RecordsConfig, Rules, RulesError};

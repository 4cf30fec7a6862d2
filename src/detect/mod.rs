//! Detection: compiled detector definitions, the prefilter and the engine
//! that turns a [`TextUnit`](crate::text::TextUnit) into
//! [`Finding`](crate::finding::Finding)s.
//!
//! Three rooms: `registry` (loading, validating and compiling the TOML
//! definitions), `engine` (prefilter, matching, validation, dedupe) and
//! `context` (keywords, labels and column headers around a value); and
//! `columns`, the per-file pass that weighs what a table column says.

pub mod columns;
mod context;
mod engine;
mod multi;
pub mod prefilter;
mod registry;
pub mod spec;
pub mod validators;

pub use engine::Engine;
pub use registry::{Detector, DetectorLoadError, Registry, BUNDLED};

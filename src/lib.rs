//! mamori (守り): finds personal information and My Number in the document
//! stores of Japanese local governments.
//!
//! Data flows one way: walk → extract (format → text units with locations)
//! → normalise → detect → output. Each stage is a module with a small,
//! named interface; `mamori scan` and (later) the daemon share them.

pub mod detect;
pub mod finding;
pub mod normalize;
pub mod text;
pub mod extract;
pub mod bench;
pub mod cli;
pub mod keys;
pub mod output;
pub mod pipeline;
pub mod scan;
pub mod walk;

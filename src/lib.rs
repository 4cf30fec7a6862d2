//! mamori (守り): finds personal information and My Number in the document
//! stores of Japanese local governments.
//!
//! Data flows one way: walk → extract (format → text units with locations)
//! → normalise → detect → output or store. Each stage is a module with a
//! small, named interface; `mamori scan` and the service (`mamori run`)
//! share them.

pub mod bench;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod extract;
pub mod finding;
pub mod isolate;
pub mod keys;
pub mod normalize;
pub mod outbound;
pub mod output;
pub mod pipeline;
pub mod scan;
#[cfg(windows)]
pub mod service_windows;
pub mod store;
pub mod text;
pub mod time;
pub mod view;
pub mod vocabulary;
pub mod walk;

//! mamori (守り): finds personal information and My Number in the document
//! stores of Japanese local governments.
//!
//! Data flows one way: walk → extract (format → text units with locations)
//! → normalise → detect → output or store. Each stage is a module with a
//! small, named interface; `mamori scan` and the service (`mamori run`)
//! share them.

pub mod central;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod detect;
pub mod extract;
pub mod finding;
pub mod isolate;
pub mod keys;
pub mod names;
pub mod normalize;
pub mod outbound;
pub mod outcome;
pub mod output;
pub mod paths;
pub mod pipeline;
pub mod records;
pub mod redact;
pub mod report;
pub mod review;
pub mod sample_text;
pub mod scan;
pub mod scanner;
#[cfg(windows)]
pub mod service_windows;
pub mod settings;
pub mod store;
pub mod text;
pub mod time;
pub mod view;
pub mod vocabulary;
pub mod walk;
pub mod web;

//! The one integration-test binary (ripgrep's layout): topic modules below.

mod util;

#[cfg(unix)] // a PostgreSQL cluster started by the tests
mod central;
mod cli;
mod contract;
#[cfg(unix)] // signals and service processes
mod daemon;
mod detectors;
mod docmeta;
mod documents;
mod encodings;
mod fidelity;
mod formats;
mod legacy;
mod mail;
#[cfg(unix)]
mod pg;
mod records;
#[cfg(unix)] // FIFOs, signals, file modes and byte names
mod reliability;
mod report;
mod review;
mod robustness;
mod store;
mod tables;
#[cfg(unix)] // the review screen's processes, symbolic links, chromium
mod web;

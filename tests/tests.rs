//! The one integration-test binary (ripgrep's layout): topic modules below.

mod util;

mod cli;
mod contract;
mod daemon;
mod detectors;
mod documents;
mod encodings;
mod fidelity;
mod mail;
mod robustness;
mod store;
mod tables;

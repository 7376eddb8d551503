//! The integration tests: one binary, one module per area.

mod support;

mod cli;
mod get;
mod signing_vectors;

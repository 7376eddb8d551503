//! The integration tests: one binary, one module per area.

// Tests build fake configurations by tweaking defaults, and the fake's handlers return
// responses as errors; both read better this way.
#![allow(clippy::field_reassign_with_default, clippy::result_large_err)]

mod support;

mod cache;
mod cli;
mod completions;
mod configure;
mod credentials;
mod doctor;
mod embed;
mod fake_signing;
mod get;
mod in_process;
mod inputs;
#[cfg(unix)]
mod install;
mod kubelet;
mod registries;
mod reliability;
mod secrets;
mod sign_in_fake;
mod signin;

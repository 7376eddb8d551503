//! `doctor`: runs the checks and prints the report as text or JSON.

use std::io::Write;

use super::{NAME, deliver};
use crate::Helper;
use crate::config::Env;

/// `doctor`: prints the report (text or JSON) and returns 0 when a `get` would succeed.
pub(super) fn run(
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    env: Env,
    profile: Option<String>,
    host: Option<&str>,
    offline: bool,
    json: bool,
) -> i32 {
    let report = match Helper::new(env) {
        Ok(helper) => {
            let helper = helper.with_profile(profile);
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(helper.doctor(host, offline)),
                Err(e) => {
                    let line = format!("{NAME}: cannot start the async runtime: {e}\n");
                    return deliver(stdout, stderr, "doctor", &line, 1);
                }
            }
        }
        Err(e) => {
            // Settings or the config file are broken: that is the finding.
            let line = crate::doctor::printable(&format!("{NAME}: {e}")) + "\n";
            return deliver(stdout, stderr, "doctor", &line, 1);
        }
    };
    let text = if json { report.json() } else { report.text() };
    deliver(
        stdout,
        stderr,
        "doctor",
        &text,
        if report.ok { 0 } else { 1 },
    )
}

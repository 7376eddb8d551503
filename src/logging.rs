//! A minimal stderr logger behind the `log` facade; the level comes from
//! `DOCKER_CREDENTIAL_ACR_HELPER_LOG` (default `warn`, so a successful `get` prints nothing).
//! Every line goes through `redact::line` first: redacted, then cut to
//! [`MAX_LINE_BYTES`](crate::redact::MAX_LINE_BYTES).

use std::io::Write;

use crate::env::Env;
use crate::error::{Error, Result};

/// `DOCKER_CREDENTIAL_ACR_HELPER_LOG`: stderr log level.
pub(crate) const ENV_LOG: &str = "DOCKER_CREDENTIAL_ACR_HELPER_LOG";

/// Log levels for stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum LogLevel {
    /// Nothing at all, not even warnings.
    Off,
    /// Errors only.
    Error,
    /// Warnings (default).
    Warn,
    /// Informational.
    Info,
    /// Each step of a `get`.
    Debug,
    /// Everything, including HTTP exchanges (never secrets).
    Trace,
}

impl LogLevel {
    /// Parses `DOCKER_CREDENTIAL_ACR_HELPER_LOG`; unset means `warn`.
    pub(crate) fn from_env(env: &Env) -> Result<Self> {
        Ok(
            match env.get(ENV_LOG).map(str::to_ascii_lowercase).as_deref() {
                None | Some("warn" | "warning") => LogLevel::Warn,
                Some("off" | "none" | "quiet") => LogLevel::Off,
                Some("error") => LogLevel::Error,
                Some("info") => LogLevel::Info,
                Some("debug") => LogLevel::Debug,
                Some("trace") => LogLevel::Trace,
                Some(other) => {
                    return Err(Error::config(
                        ENV_LOG,
                        format!(
                            "{other:?} is not a log level; use off, error, warn, info, debug or trace"
                        ),
                    ));
                }
            },
        )
    }
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Only our own crate logs; dependencies' trace output could include headers.
        if !record.target().starts_with(env!("CARGO_CRATE_NAME")) {
            return;
        }
        let level = record.level().as_str().to_ascii_lowercase();
        let line = crate::redact::line(&format!(
            "{}: {level}: {}",
            env!("CARGO_PKG_NAME"),
            record.args()
        ));
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{line}\n").as_bytes());
    }

    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs the stderr logger at `level` (once per process; later calls only change the level).
pub(crate) fn init(level: LogLevel) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(match level {
        LogLevel::Off => log::LevelFilter::Off,
        LogLevel::Error => log::LevelFilter::Error,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Trace => log::LevelFilter::Trace,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_parse_and_a_bad_one_names_the_variable() {
        let level = |v: &str| LogLevel::from_env(&Env::default().with(ENV_LOG, v));
        assert_eq!(
            LogLevel::from_env(&Env::default()).ok(),
            Some(LogLevel::Warn)
        );
        assert_eq!(level("DEBUG").ok(), Some(LogLevel::Debug));
        assert_eq!(level("quiet").ok(), Some(LogLevel::Off));
        let e = level("loud").expect_err("level");
        assert!(e.to_string().starts_with(ENV_LOG), "{e}");
    }
}

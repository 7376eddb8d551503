//! A minimal stderr logger behind the `log` facade; the level comes from
//! `DOCKER_CREDENTIAL_ACR_HELPER_LOG` (default `warn`, so a successful `get` prints nothing).
//! Every line goes through `redact::line` first: redacted, then cut to
//! [`MAX_LINE_BYTES`](crate::redact::MAX_LINE_BYTES).

use std::io::Write;

use crate::config::LogLevel;

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
pub fn init(level: LogLevel) {
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

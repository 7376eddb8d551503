//! `get`'s stdin: bytes → text → server URL. Errors are one clean line; a parsed URL parses
//! again to itself; user info never shows.
#![no_main]

use acr_fuzz::check_line;
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match fuzz::server_url(data) {
        Ok(host_port) => {
            assert!(!host_port.is_empty());
            let again = fuzz::server_url(host_port.as_bytes());
            assert_eq!(again.as_deref(), Ok(host_port.as_str()), "not idempotent");
        }
        Err(e) => {
            check_line("server URL", &e);
            // A password in user info is never echoed.
            if let Some(text) = acr_fuzz::text(data)
                && let Some((_, rest)) = text.split_once("://")
                && let Some((userinfo, _)) = rest.split('/').next().unwrap_or("").rsplit_once('@')
                && let Some((_, password)) = userinfo.split_once(':')
                && password.len() >= acr_fuzz::RUN
            {
                // What follows the last `@` is the host part, which may be quoted (and may
                // happen to repeat the password).
                let host_part = text.rsplit_once('@').map_or("", |(_, h)| h);
                acr_fuzz::Secrets {
                    values: vec![password.to_string()],
                    // The error writes `<redacted>@HOST`: the `@` before the host is ours.
                    public: vec![host_part.to_string(), format!("@{host_part}")],
                }
                .check("server URL", &e);
            }
        }
    }
});

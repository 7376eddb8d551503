//! The INI credentials file (`~/.alibabacloud/credentials`), its text handed to the parser
//! directly (no file per input). Whatever the text, the source is not configured, configured, or
//! broken with one clean line that shows no secret of the file.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use arbitrary::Arbitrary;
use docker_credential_acr_helper::fuzz::{self, Found};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    profile: Option<&'a str>,
    text: &'a str,
}

fuzz_target!(|input: Input<'_>| {
    // The profile name comes from the environment; a NUL cannot be in a variable.
    if input.profile.is_some_and(|p| p.contains('\0')) {
        return;
    }
    let secrets = Secrets::from_ini(input.text).allow(input.profile.unwrap_or_default());
    match fuzz::ini_credentials(input.text, input.profile) {
        Found::Provider(p) => secrets.check("INI provider Debug", &p),
        Found::NotConfigured(line) | Found::Broken(line) => {
            check_line("INI credentials", &line);
            secrets.check("INI credentials", &line);
        }
    }
});

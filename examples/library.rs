//! Using the helper as a library: credentials for an ACR registry, for your own OCI client.
//!
//! ```text
//! cargo run --example library -- registry.cn-hangzhou.aliyuncs.com
//! ```
//! Reads the same environment as the binary. Prints the user name and expiry, never the password.

use docker_credential_acr_helper::{Error, Helper};

fn main() {
    let host = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "registry.cn-hangzhou.aliyuncs.com".into());
    let helper = match Helper::from_env() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("configuration: {e}");
            std::process::exit(1);
        }
    };
    match helper.get_blocking(&host) {
        Ok(creds) => {
            // Hand `creds.username` and `creds.password.expose()` to your registry client as
            // HTTP basic credentials; they work until `creds.expires_at`.
            println!(
                "{host}: user {} (password hidden), valid until {}",
                creds.username, creds.expires_at
            );
        }
        Err(Error::NotFound) => println!("{host} is not an ACR registry: pull anonymously"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

//! The project's fake Alibaba Cloud API as a standalone server, for benchmarks and the
//! end-to-end suite (see `tests/support/fake_api/mod.rs` for what it verifies).
//!
//! ```text
//! fake_api [--listen 127.0.0.1:0] [--access-key ID:SECRET]... [--registry-user U]
//!          [--registry-password P] [--password PRINCIPAL=USER:PASSWORD]...
//!          [--instance NAME=cri-ID]... [--delay-ms N]
//!          [--token-ttl-secs N] [--role ARN]... [--tls-cert PEM --tls-key PEM]
//!          [--tls-generate NAME[,NAME...] --ca-out CA.pem]
//!          [--sso-token TOKEN=ACCOUNT_ID/ACCESS_CONFIG]... [--oauth CN|INTL:REFRESH_TOKEN]
//! ```
//! `--sso-token` lets the CloudSSO portal (`/cloud-credentials`) accept TOKEN for a day;
//! `--oauth` serves the OAuth grant of the CLI's CN or INTL client (`/v1/token`, `/v1/exchange`)
//! starting with REFRESH_TOKEN. Their STS credentials' principals, for `--password`, are
//! `sso:ACCOUNT_ID/ACCESS_CONFIG` and `oauth:CLIENT_ID`.
//! Prints `listening on http://127.0.0.1:PORT` on stdout, then serves until killed. Calls per
//! action: `GET /__fake/stats`.

#[path = "../tests/support/fake_api/mod.rs"]
mod fake_api;

use std::io::Write;
use std::time::Duration;

use fake_api::{FakeApi, FakeConfig, FakeInstance, OAuthGrant, SsoToken};
use rustls::pki_types::pem::PemObject;

fn main() {
    let mut cfg = FakeConfig::default();
    let mut listen = "127.0.0.1:0".to_string();
    let mut keys = Vec::new();
    let mut instances = Vec::new();
    let mut roles = Vec::new();
    let (mut cert, mut key) = (None, None);
    let (mut generate, mut ca_out) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next().unwrap_or_else(|| {
                eprintln!("fake_api: {flag} needs a value");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--listen" => listen = value(),
            "--access-key" => {
                let v = value();
                let (id, secret) = v.split_once(':').unwrap_or_else(|| {
                    eprintln!("fake_api: --access-key takes ID:SECRET");
                    std::process::exit(2)
                });
                keys.push((id.to_string(), secret.to_string()));
            }
            "--registry-user" => cfg.registry_user = value(),
            "--registry-password" => cfg.registry_password = value(),
            "--password" => {
                let v = value();
                let parsed = v
                    .split_once('=')
                    .and_then(|(p, up)| up.split_once(':').map(|(u, pw)| (p, u, pw)));
                let Some((principal, user, password)) = parsed else {
                    eprintln!("fake_api: --password takes PRINCIPAL=USER:PASSWORD");
                    std::process::exit(2)
                };
                cfg.passwords
                    .push((principal.into(), user.into(), password.into()));
            }
            "--instance" => {
                let v = value();
                let (name, id) = v.split_once('=').unwrap_or_else(|| {
                    eprintln!("fake_api: --instance takes NAME=ID");
                    std::process::exit(2)
                });
                instances.push(FakeInstance {
                    name: name.into(),
                    id: id.into(),
                });
            }
            "--delay-ms" => cfg.delay = Duration::from_millis(parse(&value())),
            "--token-ttl-secs" => cfg.token_ttl = Duration::from_secs(parse(&value())),
            "--role" => roles.push(value()),
            "--tls-cert" => cert = Some(value()),
            "--tls-key" => key = Some(value()),
            "--tls-generate" => generate = Some(value()),
            "--ca-out" => ca_out = Some(value()),
            "--sso-token" => {
                let v = value();
                let parsed = v
                    .split_once('=')
                    .and_then(|(t, ac)| ac.split_once('/').map(|(a, c)| (t, a, c)));
                let Some((token, account, config)) = parsed else {
                    eprintln!("fake_api: --sso-token takes TOKEN=ACCOUNT_ID/ACCESS_CONFIG");
                    std::process::exit(2)
                };
                cfg.sso_tokens.push(SsoToken {
                    access_token: token.into(),
                    account_id: account.into(),
                    access_config: config.into(),
                    expires: chrono::Utc::now() + chrono::Duration::days(1),
                });
            }
            "--oauth" => {
                let v = value();
                let client_id = match v.split_once(':') {
                    Some(("CN", _)) => fake_api::OAUTH_CLIENT_ID_CN,
                    Some(("INTL", _)) => fake_api::OAUTH_CLIENT_ID_INTL,
                    _ => {
                        eprintln!("fake_api: --oauth takes CN:REFRESH_TOKEN or INTL:REFRESH_TOKEN");
                        std::process::exit(2)
                    }
                };
                let refresh_token = v.split_once(':').map(|(_, r)| r).unwrap_or_default();
                cfg.oauth = Some(OAuthGrant {
                    client_id: client_id.into(),
                    refresh_token: refresh_token.into(),
                    ..OAuthGrant::default()
                });
            }
            other => {
                eprintln!("fake_api: unknown flag {other}");
                std::process::exit(2)
            }
        }
    }
    if !keys.is_empty() {
        cfg.access_keys = keys;
    }
    if !instances.is_empty() {
        cfg.instances = instances;
    }
    if !roles.is_empty() {
        cfg.roles = roles;
    }
    if let (Some(c), Some(k)) = (cert, key) {
        let chain = rustls::pki_types::CertificateDer::pem_file_iter(&c)
            .expect("read --tls-cert")
            .map(|c| c.expect("certificate").to_vec())
            .collect();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&k).expect("read --tls-key");
        cfg.tls = Some((chain, key.secret_der().to_vec()));
    }
    if let Some(names) = generate {
        // A throwaway CA and a certificate for NAMES; the CA goes where --ca-out says.
        let names: Vec<&str> = names.split(',').collect();
        let pki = fake_api::test_pki(&names);
        let ca_out = ca_out.unwrap_or_else(|| {
            eprintln!("fake_api: --tls-generate needs --ca-out");
            std::process::exit(2)
        });
        std::fs::write(&ca_out, &pki.ca_pem).expect("write --ca-out");
        cfg.tls = Some((pki.chain_der, pki.key_der));
    }
    let api = FakeApi::start_on(&listen, cfg);
    println!("listening on {}", api.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}

fn parse(v: &str) -> u64 {
    v.parse().unwrap_or_else(|_| {
        eprintln!("fake_api: {v:?} is not a number");
        std::process::exit(2)
    })
}

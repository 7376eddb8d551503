//! A real Rust OCI client (the `oci-client` crate) authenticated to ACR through the library:
//! `Helper::get` mints a temporary registry password from your Alibaba Cloud identity, and the
//! client uses it as HTTP basic credentials to pull a manifest. The Rust counterpart of wiring
//! go-containerregistry's keychain to a credential helper.
//!
//! ```text
//! cargo run --example oci_pull -- [--ca CA.pem] [--anonymous-if-not-acr] REFERENCE
//! cargo run --example oci_pull -- registry.cn-hangzhou.aliyuncs.com/ns/app:tag
//! ```
//! Reads the same environment as the binary (credentials, `DOCKER_CREDENTIAL_ACR_HELPER_*`).
//! TLS trusts the system roots and `SSL_CERT_FILE`; `--ca` adds one more PEM root (a private
//! registry). Prints the manifest digest, media type and layer count on stdout, never the
//! password. A host that is not ACR is refused (exit 1) unless `--anonymous-if-not-acr`.
//! The end-to-end suite (`tests/e2e/run.sh`) runs it against its TLS registry.

use docker_credential_acr_helper::{Error, Helper};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig};
use oci_client::manifest::OciManifest;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

fn main() {
    if let Err(message) = run() {
        eprintln!("oci_pull: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut ca = None;
    let mut anonymous_if_not_acr = false;
    let mut reference = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => ca = Some(args.next().ok_or("--ca needs a PEM file")?),
            "--anonymous-if-not-acr" => anonymous_if_not_acr = true,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ if reference.is_some() => return Err(format!("unexpected argument {arg:?}")),
            _ => reference = Some(arg),
        }
    }
    let reference = reference.ok_or("usage: oci_pull [--ca CA.pem] REFERENCE")?;
    let image: Reference = reference
        .parse()
        .map_err(|e| format!("image reference {reference:?}: {e}"))?;

    // Both the helper and oci-client use rustls; pick ring once for the whole process.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let mut config = ClientConfig::default();
    if let Some(path) = &ca {
        let pem = std::fs::read(path).map_err(|e| format!("--ca {path}: {e}"))?;
        config.extra_root_certificates.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data: pem,
        });
    }
    let client = Client::new(config);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let helper = Helper::from_env().map_err(|e| format!("configuration: {e}"))?;
        // What docker would send the helper: the registry host (with its port, if any).
        let host = image.resolve_registry();
        let auth = match helper.get(host).await {
            Ok(creds) => {
                eprintln!(
                    "oci_pull: {host}: user {}, token valid until {}",
                    creds.username, creds.expires_at
                );
                RegistryAuth::Basic(creds.username, creds.password.expose().clone())
            }
            Err(Error::NotFound) if anonymous_if_not_acr => {
                eprintln!("oci_pull: {host} is not an ACR registry; pulling anonymously");
                RegistryAuth::Anonymous
            }
            Err(Error::NotFound) => {
                return Err(format!(
                    "{host} is not an ACR registry (pass --anonymous-if-not-acr to pull anonymously)"
                ));
            }
            Err(e) => return Err(e.to_string()),
        };
        let (manifest, digest) = client
            .pull_manifest(&image, &auth)
            .await
            .map_err(|e| format!("pull manifest {image}: {e}"))?;
        let (media_type, layers) = match &manifest {
            OciManifest::Image(m) => (
                m.media_type.clone().unwrap_or_else(|| "(none)".into()),
                m.layers.len().to_string(),
            ),
            OciManifest::ImageIndex(m) => (
                m.media_type.clone().unwrap_or_else(|| "(none)".into()),
                format!("{} manifests", m.manifests.len()),
            ),
        };
        println!("{image} {digest} {media_type} layers={layers}");
        Ok(())
    })
}

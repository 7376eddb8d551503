//! Cache keys: what an entry answers, as a digest of everything it depends on.
//!
//! `KEY` is a truncated SHA-256 of the identity, API endpoint, region, edition and instance, so
//! file names never reveal the AccessKey id or role ARN, and two identities never share an
//! entry. The full digest is recorded inside each entry and checked on every read.

use sha2::{Digest, Sha256};

use crate::registry::{Edition, Instance, Registry};

/// What an entry answers: a hash of everything it depends on. The first half names the file,
/// the whole is recorded inside it and checked on every read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    /// The whole digest (hex), recorded in the entry.
    pub(super) full: String,
}

impl Key {
    fn digest(parts: &[&str]) -> Key {
        let mut h = Sha256::new();
        h.update(b"docker-credential-acr-helper cache v1");
        for p in parts {
            // Length-prefixed, so no two part lists hash alike.
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        Key {
            full: hex::encode(h.finalize()),
        }
    }

    /// The token of `registry` minted through `endpoint` for `identity`.
    pub(crate) fn token(registry: &Registry, endpoint: &str, identity: &str) -> Key {
        let (kind, instance) = match &registry.edition {
            Edition::Personal => ("personal", ""),
            Edition::Enterprise(Instance::Name(n)) => ("enterprise-name", n.as_str()),
            Edition::Enterprise(Instance::Id(i)) => ("enterprise-id", i.as_str()),
        };
        Key::digest(&[
            "token",
            identity,
            endpoint,
            &registry.region,
            kind,
            instance,
        ])
    }

    /// The id of the enterprise instance `name` in `region` as `identity` sees it.
    pub(crate) fn instance(region: &str, endpoint: &str, identity: &str, name: &str) -> Key {
        Key::digest(&["instance", identity, endpoint, region, name])
    }

    /// The temporary credentials of `identity`.
    pub(crate) fn credentials(identity: &str) -> Key {
        Key::digest(&["credentials", identity])
    }

    /// The domains of the enterprise instance `instance_id` in `region`.
    pub(crate) fn domains(region: &str, instance_id: &str) -> Key {
        Key::digest(&["domains", region, instance_id])
    }

    /// The endpoint that answered last among `candidates` (VPC first, then public).
    pub(crate) fn endpoint_choice(candidates: &[&str]) -> Key {
        let mut parts = vec!["endpoint"];
        parts.extend_from_slice(candidates);
        Key::digest(&parts)
    }

    /// The file name stem.
    pub(crate) fn as_str(&self) -> &str {
        &self.full[..32]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{CREDENTIALS_MARGIN, Kind};
    use super::*;
    use std::fs;

    #[test]
    fn keys_differ_by_identity_registry_and_endpoint() {
        let p = registry(PERSONAL);
        let e = registry("myinst-registry.cn-hangzhou.cr.aliyuncs.com");
        let vpc = registry("registry-vpc.cn-hangzhou.aliyuncs.com");
        let k = Key::token(&p, EP, "ak:one");
        assert_ne!(k, Key::token(&p, EP, "ak:two"));
        assert_ne!(k, Key::token(&e, EP, "ak:one"));
        assert_ne!(
            k,
            Key::token(&registry("registry.cn-beijing.aliyuncs.com"), EP, "ak:one")
        );
        assert_ne!(k, Key::token(&p, "http://127.0.0.1:1/", "ak:one"));
        assert_eq!(
            k,
            Key::token(&vpc, EP, "ak:one"),
            "same registry, other network"
        );
        assert!(!k.as_str().contains("one"));
        assert_eq!(k.as_str().len(), 32);
    }

    #[test]
    fn identity_switch_is_a_miss() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let r = registry(PERSONAL);
        c.store_token(
            &Key::token(&r, EP, "ak:one"),
            &token(PERSONAL, t0(), mins(60)),
            t0(),
        );
        assert!(c.token(&Key::token(&r, EP, "ak:two")).is_none());
        assert!(c.token(&Key::token(&r, EP, "ak:one")).is_some());
    }

    #[test]
    fn an_entry_copied_under_another_name_is_not_served() {
        let d = tempfile::tempdir().expect("dir");
        let c = open(d.path());
        let mine = Key::token(&registry(PERSONAL), EP, "ak:one");
        let theirs = Key::token(&registry(PERSONAL), EP, "ak:two");
        let elsewhere = Key::token(&registry("registry.cn-beijing.aliyuncs.com"), EP, "ak:one");
        c.store_token(&theirs, &token(PERSONAL, t0(), mins(60)), t0());
        for planted in [&mine, &elsewhere] {
            fs::copy(
                c.path(Kind::Token, &theirs, "json"),
                c.path(Kind::Token, planted, "json"),
            )
            .expect("copy");
            assert!(
                c.token(planted).is_none(),
                "another identity's or registry's entry"
            );
        }
        assert!(c.token(&theirs).is_some(), "still served to its own lookup");
        assert_eq!(c.list(t0()).len(), 1, "listed once, from its own file");
        // The same holds for credentials (the secret of one identity never goes to another).
        let k1 = Key::credentials("role:one");
        let creds = sts_credentials("ak:STS.a", t0() + mins(60));
        c.store_credentials(&k1, &creds, t0());
        let k2 = Key::credentials("role:two");
        fs::copy(
            c.path(Kind::Credentials, &k1, "json"),
            c.path(Kind::Credentials, &k2, "json"),
        )
        .expect("copy");
        assert!(c.credentials(&k2, t0(), CREDENTIALS_MARGIN).is_none());
        assert!(c.credentials(&k1, t0(), CREDENTIALS_MARGIN).is_some());
    }
}

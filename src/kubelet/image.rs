//! The registry part of an image reference, as the kubelet's `auth` key.

use super::invalid;
use crate::error::Result;

/// The registry part of an image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRegistry {
    /// `host[:port]` exactly as the image names it: the `auth` key the kubelet will match.
    pub key: String,
    /// `false` for images without a registry part (Docker Hub) and IP literals.
    pub named_host: bool,
}

/// Splits the registry off an image reference (`host[:port]/path[:tag][@digest]`), with the
/// docker rule: the first component is a registry when it has a `.` or `:`, or is `localhost`.
pub(crate) fn image_registry(image: &str) -> Result<ImageRegistry> {
    let image = image.trim();
    if image.is_empty() {
        return Err(invalid("image is empty"));
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(format!(
            "image {:?} contains whitespace or control characters",
            crate::protocol::shorten(image)
        )));
    }
    if image.contains("://") {
        return Err(invalid(format!(
            "image {:?} has a URL scheme; images are host/path[:tag]",
            crate::protocol::shorten(image)
        )));
    }
    let first = image.split('/').next().unwrap_or_default();
    let has_path = image.contains('/');
    if !has_path || !(first.contains('.') || first.contains(':') || first == "localhost") {
        // `nginx`, `library/nginx`: Docker Hub.
        return Ok(ImageRegistry {
            key: "docker.io".into(),
            named_host: false,
        });
    }
    if first.starts_with('[') {
        return Ok(ImageRegistry {
            key: first.to_string(),
            named_host: false,
        });
    }
    let (host, port) = match first.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (first, None),
    };
    let bad = || {
        invalid(format!(
            "image {:?} does not start with a registry host[:port]",
            crate::protocol::shorten(image)
        ))
    };
    if host.is_empty()
        || host.starts_with('.')
        || host.contains("..")
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad());
    }
    if let Some(p) = port
        && (p.is_empty() || p.parse::<u16>().is_err())
    {
        return Err(bad());
    }
    Ok(ImageRegistry {
        key: first.to_string(),
        named_host: !host
            .split('.')
            .all(|l| l.chars().all(|c| c.is_ascii_digit())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_registry_keeps_host_and_port_as_written() {
        let ok = |i: &str| image_registry(i).expect(i);
        assert_eq!(
            ok("registry.cn-hangzhou.aliyuncs.com/ns/app:v1").key,
            "registry.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(
            ok("myinst-registry.cn-hangzhou.cr.aliyuncs.com:443/ns/app@sha256:abc").key,
            "myinst-registry.cn-hangzhou.cr.aliyuncs.com:443"
        );
        for hub in ["nginx", "nginx:1.27", "library/nginx", "bitnami/redis:7"] {
            assert!(!ok(hub).named_host, "{hub}");
        }
        assert!(!ok("10.0.0.1:5000/app").named_host);
        assert!(ok("localhost:5000/app").named_host);
        for bad in [
            "",
            "  ",
            "https://registry.cn-hangzhou.aliyuncs.com/ns/app",
            "registry.cn-hangzhou.aliyuncs.com:port/ns/app",
            "registry.cn-hangzhou.aliyuncs.com:/ns/app",
            "reg_istry.example.com/ns/app",
            "a b/c",
        ] {
            assert!(image_registry(bad).is_err(), "{bad:?}");
        }
    }
}

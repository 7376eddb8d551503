//! Which images the kubelet sends to the plugin: the kubelet's own `matchImages` rules over
//! every host form the parser knows (ports included) and over foreign hosts.

use super::*;

/// Go's `filepath.Match` for the subset host patterns can use: `*` and literals (`?` starts a URL
/// query and `[` breaks the kubelet's host:port split, so neither works in `matchImages`).
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    assert!(
        !pattern.iter().any(|c| matches!(c, b'[' | b'\\' | b'?')),
        "only * and literals work in matchImages hosts"
    );
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], name)
                || (!name.is_empty() && name[0] != b'/' && glob(pattern, &name[1..]))
        }
        (Some(p), Some(c)) if p == c => glob(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The kubelet's `URLsMatchStr`: same port (or none on both), same label count, each label a
/// glob match, the pattern's path a prefix of the image's.
fn kubelet_matches(pattern: &str, image: &str) -> bool {
    let split = |s: &str| -> (Vec<String>, String, String) {
        let (host, path) = match s.find('/') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        let (host, port) = match host.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (host, ""),
        };
        (
            host.split('.').map(str::to_string).collect(),
            port.to_string(),
            path.to_string(),
        )
    };
    let (glob_labels, glob_port, glob_path) = split(pattern);
    let (labels, port, path) = split(image);
    glob_port == port
        && glob_labels.len() == labels.len()
        && path.starts_with(&glob_path)
        && glob_labels
            .iter()
            .zip(&labels)
            .all(|(g, l)| glob(g.as_bytes(), l.as_bytes()))
}

/// The quoted items of every `matchImages:` list in a YAML text (comments after them allowed).
fn match_images(config: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in config.lines() {
        let t = line.split(" #").next().unwrap_or_default().trim();
        if t == "matchImages:" {
            inside = true;
            continue;
        }
        match t.strip_prefix("- \"").and_then(|r| r.strip_suffix('"')) {
            Some(p) if inside => out.push(p.to_string()),
            _ => inside = false,
        }
    }
    out
}

/// The quoted items of `pub const NAME: &[&str] = &[ ... ];` in a source text.
fn const_list(src: &str, name: &str) -> Vec<String> {
    let start = src
        .find(&format!("const {name}: &[&str] = &["))
        .unwrap_or_else(|| panic!("{name} in src/registry/"));
    let body = &src[start..];
    let body = &body[..body.find("];").expect("end of list")];
    body.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .flat_map(|l| l.split('"').skip(1).step_by(2).map(str::to_string))
        .collect()
}

/// Every `HOST.aliyuncs.com[:PORT]` written literally in `text`.
fn aliyuncs_hosts(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
        .map(|t| t.trim_end_matches(':'))
        .filter(|t| {
            let host = t.split(':').next().unwrap_or_default();
            host.ends_with(".aliyuncs.com")
                && !host.starts_with(['.', '-'])
                && t.split(':').count() <= 2
        })
        .map(str::to_string)
        .collect()
}

const SOURCES: &[(&str, &str)] = &[
    (
        "src/registry/mod.rs",
        include_str!("../../src/registry/mod.rs"),
    ),
    ("src/protocol.rs", include_str!("../../src/protocol.rs")),
    (
        "src/kubelet/image.rs",
        include_str!("../../src/kubelet/image.rs"),
    ),
    ("tests/get.rs", include_str!("../get.rs")),
    ("tests/kubelet/mod.rs", include_str!("mod.rs")),
    ("tests/kubelet/plugin.rs", include_str!("plugin.rs")),
    (
        "tests/kubelet/match_images.rs",
        include_str!("match_images.rs"),
    ),
    ("tests/registries.rs", include_str!("../registries.rs")),
    ("tests/cli.rs", include_str!("../cli.rs")),
    ("tests/cache/mod.rs", include_str!("../cache/mod.rs")),
    (
        "tests/cache/concurrency.rs",
        include_str!("../cache/concurrency.rs"),
    ),
    ("tests/cache/safety.rs", include_str!("../cache/safety.rs")),
    (
        "tests/cache/ownership.rs",
        include_str!("../cache/ownership.rs"),
    ),
    ("tests/doctor.rs", include_str!("../doctor.rs")),
    ("tests/support/mod.rs", include_str!("../support/mod.rs")),
    ("README.md", include_str!("../../README.md")),
    (
        "docs/kubernetes.md",
        include_str!("../../docs/kubernetes.md"),
    ),
];

const EXAMPLES: &[(&str, &str)] = &[
    (
        "kubelet-credential-provider-config.yaml",
        include_str!("../../docs/kubelet-credential-provider-config.yaml"),
    ),
    (
        "kubelet-credential-provider-config-per-workload.yaml",
        include_str!("../../docs/kubelet-credential-provider-config-per-workload.yaml"),
    ),
];

/// The port an ACR host form documents: the P2P acceleration endpoints serve on 65001.
fn documented_port(host: &str) -> Option<&'static str> {
    host.contains(".distributed.").then_some("65001")
}

/// Every ACR image form: each known region and a new region in each documented area, each
/// personal and enterprise prefix (`-intl`, `-vpc`, `-internal`, instance names with hyphens and
/// `-registry`), with and without `.distributed`, without a port and with the documented one.
fn acr_image_forms() -> Vec<String> {
    let src = include_str!("../../src/registry/regions.rs");
    let mut regions = const_list(src, "REGIONS");
    assert!(regions.len() >= 35, "{regions:?}");
    for area in const_list(src, "REGION_AREAS") {
        regions.push(format!("{area}-newregion-1"));
    }
    let mut hosts = Vec::new();
    for region in &regions {
        for intl in ["", "-intl"] {
            for net in ["", "-vpc", "-internal"] {
                for dist in ["", ".distributed"] {
                    hosts.push(format!("registry{intl}{net}{dist}.{region}.aliyuncs.com"));
                    for name in [
                        "myinst",
                        "acr-test",
                        "noteai-prod-shenzhen",
                        "my-registry",
                        "a-registry-vpc",
                        "x1",
                    ] {
                        hosts.push(format!(
                            "{name}-registry{intl}{net}{dist}.{region}.cr.aliyuncs.com"
                        ));
                    }
                }
            }
        }
    }
    let mut images = Vec::new();
    for host in hosts {
        if let Some(port) = documented_port(&host) {
            images.push(format!("{host}:{port}/team/app@sha256:0123"));
        }
        images.push(format!("{host}/team/app:v1"));
    }
    images
}

/// Hosts that are not ACR and must never be sent to the plugin: public registries, OSS buckets
/// (anyone may name one `registry`), other Alibaba services with user-chosen labels, look-alikes.
fn foreign_images() -> Vec<String> {
    let mut hosts: Vec<String> = const_list(
        include_str!("../../src/registry/public.rs"),
        "PUBLIC_REGISTRIES",
    );
    hosts.extend(
        [
            "registry-1.docker.io",
            "index.docker.io",
            "registry.hub.docker.com",
            "k8s.gcr.io",
            "us-docker.pkg.dev",
            "123456789012.dkr.ecr.cn-hangzhou.amazonaws.com",
            "myreg.azurecr.io",
            // OSS buckets and endpoints.
            "registry.oss-cn-hangzhou.aliyuncs.com",
            "registry-vpc.oss-cn-hangzhou.aliyuncs.com",
            "registry-intl.oss-ap-southeast-1.aliyuncs.com",
            "registry.oss-cn-hangzhou-internal.aliyuncs.com",
            "registrybucket.oss-accelerate.aliyuncs.com",
            "registry.oss-accelerate-overseas.aliyuncs.com",
            "registry.vpc100-oss-cn-hangzhou.aliyuncs.com",
            "registry.oss.aliyuncs.com",
            "x-registry.oss-cn-hangzhou.aliyuncs.com",
            "registry-x.cn-hangzhou.oss-dls.aliyuncs.com",
            "oss-cn-hangzhou.aliyuncs.com",
            // Other services: SLS projects, Tablestore instances, NAS, Function Compute.
            "registry.cn-hangzhou.log.aliyuncs.com",
            "registry.cn-hangzhou.ots.aliyuncs.com",
            "x-registry.cn-hangzhou.nas.aliyuncs.com",
            "1234567890.cn-hangzhou.fc.aliyuncs.com",
            "cr.cn-hangzhou.aliyuncs.com",
            "aliyuncs.com",
            // Look-alikes.
            "registry.cn-hangzhou.aliyuncs.com.evil.example",
            "evil-registry.cn-hangzhou.cr.aliyuncs.com.evil.example",
            "registry.cn-hangzhou.aliyuncs.com.cn",
            "registry.cn-hangzhou.aliyuncs.example.com",
        ]
        .map(str::to_string),
    );
    let mut images = Vec::new();
    for host in hosts {
        images.push(format!("{host}/team/app:v1"));
        images.push(format!("{host}:443/team/app:v1"));
        images.push(format!("{host}:65001/team/app:v1"));
    }
    images.extend(
        [
            "nginx",
            "library/nginx:1.27",
            "10.0.0.1:5000/app",
            "localhost:5000/app",
        ]
        .map(str::to_string),
    );
    images
}

fn example_patterns() -> Vec<(&'static str, Vec<String>)> {
    EXAMPLES
        .iter()
        .map(|(file, text)| (*file, match_images(text)))
        .collect()
}

/// Whether the plugin takes `image` as ACR: the image's `host[:port]`, through the library.
fn is_acr(helper: &docker_credential_acr_helper::Helper, image: &str) -> bool {
    let first = image.split('/').next().unwrap_or_default();
    (first.contains('.') || first.contains(':'))
        && image.contains('/')
        && matches!(helper.registry_for(first), Ok(Some(_)))
}

#[test]
fn kubelet_glob_rules() {
    assert!(kubelet_matches("*.aliyuncs.com", "cr.aliyuncs.com/a"));
    assert!(!kubelet_matches(
        "*.aliyuncs.com",
        "registry.cn-hangzhou.aliyuncs.com/a"
    ));
    assert!(kubelet_matches(
        "registry*.cn-*.aliyuncs.com",
        "registry-vpc.cn-beijing.aliyuncs.com/a/b:1"
    ));
    assert!(!kubelet_matches(
        "registry*.cn-*.aliyuncs.com",
        "registry.cn-beijing.aliyuncs.com:5000/a"
    ));
    assert!(!kubelet_matches(
        "registry*.cn-*.aliyuncs.com:65001",
        "registry.cn-beijing.aliyuncs.com/a"
    ));
    assert!(kubelet_matches(
        "r.example.com:5000",
        "r.example.com:5000/a"
    ));
    assert!(kubelet_matches(
        "r.example.com/team",
        "r.example.com/team/app"
    ));
    assert!(!kubelet_matches(
        "r.example.com/team",
        "r.example.com/other/app"
    ));
    assert_eq!(
        match_images("    matchImages:\n      - \"a.b\"   # c\n      - \"d.e\"\n    x: y\n"),
        ["a.b", "d.e"]
    );
    assert_eq!(
        aliyuncs_hosts(
            "(\"registry.cn-hangzhou.aliyuncs.com:65001/a\", x.aliyuncs.com.evil, {n}-registry.cn-x.cr.aliyuncs.com)"
        ),
        ["registry.cn-hangzhou.aliyuncs.com:65001"]
    );
}

/// Every ACR image form is sent to the plugin by both example configs and taken as ACR by it;
/// no foreign image (public registries, OSS buckets, other services) is either.
#[test]
fn example_configs_match_every_acr_form_and_no_foreign_host() {
    let helper =
        docker_credential_acr_helper::Helper::new(docker_credential_acr_helper::Env::default())
            .expect("helper");
    let examples = example_patterns();
    assert_eq!(
        examples[0].1, examples[1].1,
        "both examples list the same patterns"
    );
    let patterns = &examples[0].1;
    assert_eq!(
        match_images(include_str!("../../docs/kubernetes.md")),
        *patterns,
        "docs/kubernetes.md shows the example's patterns"
    );
    let acr = acr_image_forms();
    assert!(acr.len() > 5000, "{} forms", acr.len());
    for image in &acr {
        assert!(is_acr(&helper, image), "the plugin takes {image} as ACR");
        assert!(
            patterns.iter().any(|p| kubelet_matches(p, image)),
            "no matchImages pattern matches {image}"
        );
    }
    for p in patterns {
        assert!(
            acr.iter().any(|i| kubelet_matches(p, i)),
            "{p} matches no ACR image"
        );
    }
    let foreign = foreign_images();
    assert!(foreign.len() > 100, "{} foreign images", foreign.len());
    for image in &foreign {
        assert!(!is_acr(&helper, image), "{image} is not ACR");
        assert!(
            !patterns.iter().any(|p| kubelet_matches(p, image)),
            "{image} must not be sent to the plugin"
        );
    }
    eprintln!(
        "{} ACR image forms, {} foreign images, {} patterns",
        acr.len(),
        foreign.len(),
        patterns.len()
    );
}

/// Every ACR host the parser's tables and the protocol tests name (with the port they give) is
/// sent to the plugin when the port is the one its form documents. Any other port (`:443`,
/// `:5000`) needs a pattern of its own, as docs/kubernetes.md says.
#[test]
fn example_configs_match_every_acr_host_the_sources_name() {
    let helper =
        docker_credential_acr_helper::Helper::new(docker_credential_acr_helper::Env::default())
            .expect("helper");
    let examples = example_patterns();
    let patterns = &examples[0].1;
    let (mut seen, mut acr) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    for (file, text) in SOURCES {
        for host_port in aliyuncs_hosts(text) {
            let image = format!("{host_port}/team/app:v1");
            if !seen.insert(host_port.clone()) || !is_acr(&helper, &image) {
                continue;
            }
            acr.insert(host_port.clone());
            let (host, port) = match host_port.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port.as_str(), None),
            };
            let matched = patterns.iter().any(|p| kubelet_matches(p, &image));
            if port.is_none() || port == documented_port(host) {
                assert!(matched, "{file}: no matchImages pattern matches {image}");
            } else {
                assert!(!matched, "{file}: {image} (undocumented port) is matched");
            }
        }
    }
    let p2p = acr
        .iter()
        .filter(|h| h.contains(".distributed.") && h.ends_with(":65001"))
        .count();
    assert!(p2p >= 2, "the sources name the P2P :65001 forms: {acr:?}");
    assert!(acr.len() >= 30, "{acr:?}");
    eprintln!("{} ACR hosts named in the sources", acr.len());
}

/// The P2P acceleration endpoints (`.distributed.`, port 65001) get credentials keyed by
/// `host:port`, as the kubelet matches them.
#[test]
fn p2p_images_on_port_65001_get_credentials() {
    let api = api();
    for image in [
        "myinst-registry.distributed.cn-hangzhou.cr.aliyuncs.com:65001/team/app:v1",
        "registry.distributed.cn-hangzhou.aliyuncs.com:65001/team/app:v1",
    ] {
        let key = image.split('/').next().expect("host");
        let out = plugin(&api)
            .stdin(request("credentialprovider.kubelet.k8s.io/v1", image))
            .run();
        assert_eq!(out.code, 0, "{image}: {}", out.stderr);
        let r = strict(&out.stdout, "credentialprovider.kubelet.k8s.io/v1");
        assert_eq!(r.auth.expect("auth")[key].password, PASSWORD, "{image}");
        for (file, patterns) in example_patterns() {
            assert!(
                patterns.iter().any(|p| kubelet_matches(p, image)),
                "{file}: {image}"
            );
        }
    }
}

//! Well-known public registries: hosts a `*` pattern or the instance override never reach.

/// Well-known public registries and other clouds' registries. A `*` in a domain pattern never
/// matches them, and without `DOCKER_CREDENTIAL_ACR_HELPER_DOMAINS` the instance override never
/// applies to them, so docker's `credsStore` cannot send an ACR password there; only a pattern
/// naming one exactly can. Each entry matches the name itself and every name under it (`gcr.io`
/// covers `k8s.gcr.io`, `amazonaws.com` covers `ACCOUNT.dkr.ecr.REGION.amazonaws.com`).
pub(super) const PUBLIC_REGISTRIES: &[&str] = &[
    // Docker Hub: docker.io, index.docker.io, registry-1.docker.io, registry.hub.docker.com.
    "docker.io",
    "docker.com",
    // GitHub, GitLab, Quay, NVIDIA, Kubernetes.
    "ghcr.io",
    "docker.pkg.github.com",
    "registry.gitlab.com",
    "quay.io",
    "nvcr.io",
    "registry.k8s.io",
    // Google (gcr.io, k8s.gcr.io, eu.gcr.io; Artifact Registry REGION-docker.pkg.dev).
    "gcr.io",
    "pkg.dev",
    // AWS (ECR ACCOUNT.dkr.ecr.REGION.amazonaws.com, ECR Public).
    "amazonaws.com",
    "amazonaws.com.cn",
    "public.ecr.aws",
    // Microsoft.
    "mcr.microsoft.com",
    "azurecr.io",
    "azurecr.cn",
    "azurecr.us",
    // Red Hat, SUSE, Chainguard, Elastic, Oracle, IBM, JFrog, LinuxServer.
    "registry.redhat.io",
    "registry.access.redhat.com",
    "registry.suse.com",
    "cgr.dev",
    "docker.elastic.co",
    "container-registry.oracle.com",
    "ocir.io",
    "icr.io",
    "jfrog.io",
    "lscr.io",
    // Tencent Cloud and Huawei Cloud registries.
    "tencentcloudcr.com",
    "ccs.tencentyun.com",
    "myhuaweicloud.com",
];

/// True when `host` (lowercase, no port) is one of [`PUBLIC_REGISTRIES`] or under one.
pub(crate) fn is_public_registry(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    PUBLIC_REGISTRIES.iter().any(|p| {
        host.eq_ignore_ascii_case(p)
            || host.len() > p.len()
                && host.as_bytes()[host.len() - p.len() - 1] == b'.'
                && host[host.len() - p.len()..].eq_ignore_ascii_case(p)
    })
}

/// The plain warning for a public registry that gets ACR credentials because `by` (a setting)
/// names it exactly; `None` for any other host.
pub(crate) fn public_registry_warning(host: &str, by: &str) -> Option<String> {
    is_public_registry(host).then(|| {
        format!(
            "{host} is a well-known public registry; it gets ACR credentials only because {by} names it exactly (a * pattern never matches it)"
        )
    })
}

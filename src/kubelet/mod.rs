//! The kubelet image credential provider (KEP-2133), with per-workload roles (KEP-4412): the
//! wire types ([`wire`]) and image references ([`image`]); the command is `cli::kubelet`, the
//! workload identity `credentials::workload`.
//!
//! The kubelet runs `<bin-dir>/<name> kubelet-plugin` (or the binary under the name
//! [`PLUGIN_NAME`]) for each image its `matchImages` patterns select, writes one
//! `CredentialProviderRequest` on stdin and reads one `CredentialProviderResponse` from stdout.
//! Versions `credentialprovider.kubelet.k8s.io/v1`, `v1beta1` and `v1alpha1` are accepted and the
//! answer carries the request's version. The request is decoded strictly (unknown or duplicate
//! fields, a wrong kind, an unknown version or an empty image are one-line errors on stderr,
//! exit 1); the answer carries only fields the kubelet's strict decoder knows.
//!
//! The answer is keyed by registry (`cacheKeyType: Registry`, `auth` keyed by the image's
//! `host[:port]`), valid for the token's remaining life minus a margin. Images on other
//! registries get an empty `auth` and `cacheDuration: 0s` without any network call. Tokens come
//! from [`Helper::get_blocking`], so the disk cache is shared with the docker `get` and a warm
//! call makes no network call and starts no async runtime.
//!
//! With `tokenAttributes` in the kubelet's config, a v1 request carries the pod's
//! service-account token and its service account's annotations. The token is then exchanged
//! with STS `AssumeRoleWithOIDC` for the role named by [`ANNOTATION_ROLE_ARN`] or
//! [`ANNOTATION_ROLE_NAME`] (the account id comes from the OIDC provider ARN, given by
//! `--oidc-provider-arn`, else the matching registry config entry's `rrsaOIDCProviderRoleARN`,
//! else `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`). The workload's role replaces the entry's own base
//! identity; an entry's `assumeRoleARN` is assumed on top of it (the ACK add-on's RRSA →
//! `assumeRoleARN` chain, with the workload in the RRSA place). Cached credentials and tokens
//! are keyed by every hop's role and the service account, so one workload's token is never
//! handed to another.

mod image;
mod wire;

pub(crate) use image::image_registry;
pub(crate) use wire::{
    AuthConfig, RESPONSE_KIND, Request, Response, cache_duration, decode_request, go_duration,
    invalid,
};

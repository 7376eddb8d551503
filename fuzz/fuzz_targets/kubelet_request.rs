//! The kubelet's `CredentialProviderRequest` on stdin, with its service-account token: decoded,
//! image registry split off, token read, workload role chosen. Errors are one clean line that
//! never shows the token.
#![no_main]

use acr_fuzz::{Secrets, check_line};
use docker_credential_acr_helper::fuzz;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = acr_fuzz::text(data) else {
        return;
    };
    let secrets = match serde_json::from_str(text) {
        Ok(v) => Secrets::from_json(&v),
        Err(_) => Secrets::default(),
    }
    .allow("acs:ram::1234567890123456:oidc-provider/ack-rrsa-fuzz")
    // What the helper's own messages name.
    .allow("credentialprovider.kubelet.k8s.io/v1beta1 credentialprovider.kubelet.k8s.io/v1alpha1")
    .allow("pod-identity.alibabacloud.com/role-name pod-identity.alibabacloud.com/role-arn");
    match fuzz::kubelet_request(text) {
        Ok(out) => secrets.check("kubelet answer", &out),
        Err(e) => {
            check_line("kubelet request", &e);
            secrets.check("kubelet request", &e);
        }
    }
});

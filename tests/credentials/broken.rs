//! Misconfigured sources that must stop the chain with one line naming the culprit, as data.

use super::*;

pub(super) fn broken_cases() -> Vec<Case> {
    use Expect::Error;
    vec![
        case(
            "half an environment AccessKey",
            &[("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid")],
            &[],
            Error(&["ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"]),
        ),
        case(
            "RRSA with the provider ARN missing",
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "{home}/token"),
            ],
            &[TOKEN_FILE],
            Error(&["ALIBABA_CLOUD_OIDC_PROVIDER_ARN is not set"]),
        ),
        case(
            "RRSA token file missing",
            &RRSA,
            &[],
            Error(&[
                "cannot read the OIDC token file",
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            ]),
        ),
        case(
            "RRSA token refused by STS",
            &RRSA,
            &[("token", "eyJ.some-other-token.sig")],
            Error(&[
                "STS AssumeRoleWithOIDC failed",
                "AuthenticationFail.OIDCToken",
                "Hint:",
            ]),
        ),
        case(
            "CLI config that is not JSON",
            &[METADATA_ON],
            &[(".aliyun/config.json", "{\"current\": ")],
            Error(&[".aliyun/config.json", "not a valid aliyun CLI config.json"]),
        ),
        case(
            "CLI config with an unknown mode",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"Telepathy"}]}"#,
            )],
            Error(&[
                "config.json profile \"default\"",
                "unknown mode \"Telepathy\"",
            ]),
        ),
        case(
            "CLI config with an unsupported mode",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"BearerToken","bearer_token":"x"}]}"#,
            )],
            Error(&["mode BearerToken is not supported", "not ACR's"]),
        ),
        case(
            "CLI config CloudSSO profile missing its account",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"CloudSSO","cloud_sso_sign_in_url":"https://x"}]}"#,
            )],
            Error(&[
                "profile \"default\": mode CloudSSO needs cloud_sso_account_id",
                "aliyun configure --profile default --mode CloudSSO",
            ]),
        ),
        case(
            "CLI config OAuth profile with an unknown site",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"OAuth","oauth_site_type":"EU","oauth_refresh_token":"r"}]}"#,
            )],
            Error(&["oauth_site_type is \"EU\"; use CN or INTL"]),
        ),
        case(
            "CLI config OAuth profile without tokens",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"OAuth","oauth_site_type":"CN"}]}"#,
            )],
            Error(&[
                "the OAuth sign-in has no tokens; sign in with `aliyun configure --profile default --mode OAuth`",
            ]),
        ),
        case(
            "CLI config profile name twice",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"AK"},{"name":"default","mode":"AK"}]}"#,
            )],
            Error(&["profile \"default\" appears twice (profiles[0] and profiles[1])"]),
        ),
        case(
            "CLI config source_profile cycle",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"a","profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"r1"},{"name":"b","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r2"}]}"#,
            )],
            Error(&["source_profile cycle: a -> b -> a"]),
        ),
        case(
            "CLI config whose current profile is missing",
            &[],
            &[(".aliyun/config.json", r#"{"current":"gone","profiles":[]}"#)],
            Error(&["current profile \"gone\" is not among its profiles"]),
        ),
        case(
            "CLI RamRoleArn without the role",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"RamRoleArn","access_key_id":"testid","access_key_secret":"testsecret"}]}"#,
            )],
            Error(&["mode RamRoleArn needs ram_role_arn"]),
        ),
        case(
            "External command that fails",
            &[],
            &[
                (
                    "bin/creds.sh",
                    "#!/bin/sh\necho 'please log in again' >&2\nexit 2\n",
                ),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Error(&["the command failed", "please log in again"]),
        ),
        case(
            "External command printing something else",
            &[],
            &[
                ("bin/creds.sh", "#!/bin/sh\necho hello\n"),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Error(&["stdout is not the expected JSON"]),
        ),
        case(
            "External command that hangs is stopped at the deadline",
            &[("DOCKER_CREDENTIAL_ACR_HELPER_TIMEOUT", "2s")],
            &[
                ("bin/creds.sh", "#!/bin/sh\nsleep 60\n"),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Error(&["did not finish within 2s"]),
        ),
        case(
            "INI profile missing a key",
            &[METADATA_ON],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = testid\n",
            )],
            Error(&[
                ".alibabacloud/credentials [default]",
                "needs access_key_secret",
            ]),
        ),
        case(
            "INI profile without a type",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\naccess_key_id = testid\n",
            )],
            Error(&["credentials [default]: type is missing"]),
        ),
        case(
            "INI with a key repeated at the bottom of its section",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = x\naccess_key_id = testid\n",
            )],
            Error(&[
                ".alibabacloud/credentials line 5: access_key_id appears again in [default] (first at line 3)",
            ]),
        ),
        case(
            "INI with a repeated section",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = x\n[work]\ntype = sts\n[default]\naccess_key_id = testid\n",
            )],
            Error(&[
                ".alibabacloud/credentials line 7: section [default] appears again (first at line 1)",
            ]),
        ),
        case(
            "RRSA with the token file variable missing",
            &[
                ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
                ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
            ],
            &[TOKEN_FILE],
            Error(&[
                "RRSA/OIDC environment",
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE is not set",
            ]),
        ),
        case(
            "RRSA with the role missing",
            &[
                ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
                ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "{home}/token"),
            ],
            &[TOKEN_FILE],
            Error(&["ALIBABA_CLOUD_ROLE_ARN is not set"]),
        ),
        case(
            "External command line with an unclosed quote",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"creds 'unclosed"}]}"#,
            )],
            Error(&[
                "config.json profile \"default\"",
                "process_command is not a valid command line: a quote is not closed",
            ]),
        ),
        case(
            "INI profile of an unknown type",
            &[],
            &[(".alibabacloud/credentials", "[default]\ntype = magic\n")],
            Error(&["unknown type \"magic\""]),
        ),
        case(
            "INI rsa_key_pair is unsupported",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = rsa_key_pair\npublic_key_id = k\nprivate_key_file = /k.pem\n",
            )],
            Error(&["type rsa_key_pair is not supported"]),
        ),
        case(
            "INI bearer is unsupported",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = bearer\nbearer_token = b\n",
            )],
            Error(&["type bearer is not supported"]),
        ),
        case(
            "INI file that is not INI",
            &[],
            &[(".alibabacloud/credentials", "[default\ntype = access_key\n")],
            Error(&[".alibabacloud/credentials: not a valid INI file"]),
        ),
        case(
            "INI duration out of range",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = r\nrole_session_expiration = 100000\n",
            )],
            Error(&["role_session_expiration", "out of range"]),
        ),
        case(
            "ALIBABA_CLOUD_CREDENTIALS_FILE pointing nowhere",
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", "{home}/missing.ini")],
            &[],
            Error(&[
                "ALIBABA_CLOUD_CREDENTIALS_FILE:",
                "missing.ini does not exist",
            ]),
        ),
        case(
            "ALIBABA_CLOUD_CONFIG_FILE pointing nowhere",
            &[("ALIBABA_CLOUD_CONFIG_FILE", "{home}/missing.json")],
            &[],
            Error(&["ALIBABA_CLOUD_CONFIG_FILE:", "missing.json does not exist"]),
        ),
        case(
            "ALIBABA_CLOUD_PROFILE naming a profile no file has",
            &[METADATA_ON, ("ALIBABA_CLOUD_PROFILE", "prod")],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Error(&[
                "ALIBABA_CLOUD_PROFILE: profile \"prod\" was not found",
                "no [prod] section",
            ]),
        ),
        Case {
            name: "AssumeRole denied by STS",
            env: &[],
            files: &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = acs:ram::1234567890123456:role/acr-puller\n",
            )],
            fake: |c| c.roles.clear(),
            before: nothing,
            expect: Error(&[
                "STS AssumeRole failed: HTTP 403, Code NoPermission",
                "Hint: AccessKey testid",
                "may not assume acs:ram::1234567890123456:role/acr-puller",
            ]),
        },
        case(
            "AssumeRole signed with a wrong secret",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = wrong\nrole_arn = acs:ram::1234567890123456:role/acr-puller\n",
            )],
            Error(&["STS AssumeRole failed", "SignatureDoesNotMatch"]),
        ),
        case(
            "INI ecs_ram_role while metadata is disabled",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ecs_ram_role\nrole_name = node-role\n",
            )],
            Error(&[
                "credentials [default]: uses the ECS instance role, but ALIBABA_CLOUD_ECS_METADATA_DISABLED is true",
            ]),
        ),
        case(
            "ECS role named but not attached",
            &[METADATA_ON, ("ALIBABA_CLOUD_ECS_METADATA", "other-role")],
            &[],
            Error(&["HTTP 404 for role \"other-role\""]),
        ),
        Case {
            name: "ECS metadata answering garbage",
            env: &[METADATA_ON],
            files: &[],
            fake: |c| c.imds_credentials_body = Some((200, "<html>".into())),
            before: nothing,
            expect: Error(&["unexpected response from", "not JSON"]),
        },
        Case {
            name: "ECS metadata answering an error code",
            env: &[METADATA_ON],
            files: &[],
            fake: |c| {
                c.imds_credentials_body = Some((200, r#"{"Code":"Failed","Message":"x"}"#.into()))
            },
            before: nothing,
            expect: Error(&["Code is \"Failed\""]),
        },
        Case {
            name: "ECS IMDSv1 disabled and tokens refused",
            env: &[METADATA_ON, ("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")],
            files: &[],
            fake: |c| c.imds_refuse_token = true,
            before: nothing,
            expect: Error(&["refused an IMDSv2 token", "ALIBABA_CLOUD_IMDSV1_DISABLED"]),
        },
        Case {
            name: "ECS without a role and nothing else configured",
            env: &[METADATA_ON],
            files: &[],
            fake: |c| c.ecs_role = None,
            before: nothing,
            expect: Error(&[
                "no Alibaba Cloud credentials found",
                "no RAM role is attached",
                "credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI is not set)",
            ]),
        },
        Case {
            name: "credentials URI answering HTTP 500",
            env: &[("ALIBABA_CLOUD_CREDENTIALS_URI", "{api}/credentials/env")],
            files: &[],
            fake: no_change,
            before: |api| api.set_credentials_uri_response(500, b"oops"),
            expect: Error(&[
                "credentials from credentials URI {api}/credentials/env (from ALIBABA_CLOUD_CREDENTIALS_URI)",
                "HTTP 500",
            ]),
        },
        Case {
            name: "credentials URI answering without a secret",
            env: &[("ALIBABA_CLOUD_CREDENTIALS_URI", "{api}/credentials/env")],
            files: &[],
            fake: no_change,
            before: |api| {
                api.set_credentials_uri_response(
                    200,
                    br#"{"Code":"Success","AccessKeyId":"STS.x","SecurityToken":"t","Expiration":"2099-01-01T00:00:00Z"}"#,
                )
            },
            expect: Error(&["field AccessKeySecret is missing"]),
        },
        Case {
            name: "credentials URI answering expired credentials",
            env: &[("ALIBABA_CLOUD_CREDENTIALS_URI", "{api}/credentials/env")],
            files: &[],
            fake: no_change,
            before: |api| {
                api.set_credentials_uri_response(
                    200,
                    br#"{"Code":"Success","AccessKeyId":"STS.x","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2001-01-01T00:00:00Z"}"#,
                )
            },
            expect: Error(&["expired at 2001-01-01"]),
        },
        case(
            "External command printing expired credentials",
            &[],
            &[
                (
                    "bin/creds.sh",
                    "#!/bin/sh\nprintf '%s' '{\"mode\":\"StsToken\",\"access_key_id\":\"a\",\"access_key_secret\":\"b\",\"sts_token\":\"c\",\"expiration\":\"2001-01-01T00:00:00Z\"}'\n",
                ),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Error(&["expired at 2001-01-01"]),
        ),
        case(
            "External command printing an unsupported mode",
            &[],
            &[
                (
                    "bin/creds.sh",
                    "#!/bin/sh\nprintf '%s' '{\"mode\":\"RamRoleArn\",\"access_key_id\":\"a\",\"access_key_secret\":\"b\"}'\n",
                ),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Error(&["mode \"RamRoleArn\"", "use \"AK\" or \"StsToken\""]),
        ),
        case(
            "CLI OIDC profile with a missing token file",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"OIDC","oidc_provider_arn":"p","oidc_token_file":"~/nope","ram_role_arn":"r"}]}"#,
            )],
            Error(&[
                "cannot read the OIDC token file",
                "config.json profile \"default\" oidc_token_file",
            ]),
        ),
        case(
            "credentials URI that is not a URL",
            &[("ALIBABA_CLOUD_CREDENTIALS_URI", "sidecar:8080")],
            &[],
            Error(&["ALIBABA_CLOUD_CREDENTIALS_URI:"]),
        ),
        case(
            "nothing configured and metadata disabled",
            &[],
            &[],
            Error(&[
                "no Alibaba Cloud credentials found; tried environment (",
                "; RRSA/OIDC environment (",
                "; aliyun CLI config (",
                "; profile file (",
                "; ECS metadata (ALIBABA_CLOUD_ECS_METADATA_DISABLED is true)",
                "; credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI is not set)",
            ]),
        ),
    ]
}

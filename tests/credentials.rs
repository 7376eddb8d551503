//! The credential chain, source by source, against the fake STS, metadata and credentials URI.
//!
//! Each case is data: environment variables, files written into the temporary HOME, how the fake
//! is configured → the identity the helper chose (from its debug log) and the calls the fake
//! saw, or the error line. Every run is at debug log level and fails if a secret reaches stderr.
//!
//! Network rule: the harness points STS and the metadata service at the loopback fake for every
//! case, so no case can reach `100.100.100.200` or a real STS endpoint.

use std::time::{Duration, Instant};

use crate::support::{ENTERPRISE, FakeApi, FakeConfig, Fault, PERSONAL, Test};

const ROLE: &str = "acs:ram::1234567890123456:role/acr-puller";
const CROSS_ROLE: &str = "acs:ram::2222222222222222:role/cross";
const OIDC_PROVIDER: &str = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1";
const OIDC_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.oidc-token-must-not-leak.sig";
const PASSWORD: &str = "registry-password-must-not-leak";
const ECS_ROLE: &str = "node-role";

/// What a case expects.
enum Expect {
    /// Success with this identity (prefix), and these (action prefix, count) calls at the fake.
    Identity(&'static str, &'static [(&'static str, usize)]),
    /// Failure whose one-line error contains all of these.
    Error(&'static [&'static str]),
}

struct Case {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    /// Path relative to HOME, contents. `.sh` files are made executable.
    files: &'static [(&'static str, &'static str)],
    fake: fn(&mut FakeConfig),
    /// Runs against the started fake before the helper (e.g. to set the URI's answer).
    before: fn(&FakeApi),
    expect: Expect,
}

fn no_change(_: &mut FakeConfig) {}

fn nothing(_: &FakeApi) {}

fn case(
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    expect: Expect,
) -> Case {
    Case {
        name,
        env,
        files,
        fake: no_change,
        before: nothing,
        expect,
    }
}

const METADATA_ON: (&str, &str) = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false");
const RRSA: [(&str, &str); 3] = [
    ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
    ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
    ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "{home}/token"),
];
const TOKEN_FILE: (&str, &str) = ("token", OIDC_TOKEN);
const EXTERNAL_AK: &str = "#!/bin/sh\necho 'not json on stderr' >&2\nprintf '%s' '{\"mode\":\"AK\",\"access_key_id\":\"testid\",\"access_key_secret\":\"testsecret\"}'\n";
/// Succeeds only with exactly the arguments `a b`, `$(touch HOME/pwned)`, `;x`: what the aliyun
/// CLI's splitting gives, and proof that no shell saw the command line.
const EXTERNAL_ARGS: &str = "#!/bin/sh\n[ $# -eq 3 ] && [ \"$1\" = 'a b' ] && [ \"$2\" = \"\\$(touch $HOME/pwned)\" ] && [ \"$3\" = ';x' ] || { echo \"unexpected arguments ($#): $*\" >&2; exit 3; }\nprintf '%s' '{\"mode\":\"AK\",\"access_key_id\":\"testid\",\"access_key_secret\":\"testsecret\"}'\n";
const EXTERNAL_STS: &str = "#!/bin/sh\nprintf '%s' '{\"mode\":\"StsToken\",\"access_key_id\":\"{sts_id}\",\"access_key_secret\":\"{sts_secret}\",\"sts_token\":\"{sts_token}\",\"expiration\":\"2099-01-01T00:00:00Z\"}'\n";

fn working_cases() -> Vec<Case> {
    use Expect::Identity;
    vec![
        case(
            "environment AccessKey",
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
            ],
            &[],
            Identity("ak:testid", &[("ACR:", 1), ("STS:", 0)]),
        ),
        case(
            "environment STS token",
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "{sts_id}"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "{sts_secret}"),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", "{sts_token}"),
            ],
            &[],
            Identity("ak:STS.", &[("ACR:", 1)]),
        ),
        case(
            "environment AccessKey with ALIBABA_CLOUD_ROLE_ARN assumes the role",
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
                ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
            ],
            &[],
            Identity(
                "role:acs:ram::1234567890123456:role/acr-puller|ak:testid",
                &[("STS:AssumeRole", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "environment wins over a profile file",
            &[
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "testid"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "testsecret"),
            ],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = other\n",
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "RRSA environment assumes the role with the token file",
            &RRSA,
            &[TOKEN_FILE],
            Identity(
                "oidc:acs:ram::1234567890123456:role/acr-puller",
                &[("STS:AssumeRoleWithOIDC", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "aliyun CLI AK profile",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"testid","access_key_secret":"testsecret","region_id":"cn-hangzhou"}]}"#,
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI StsToken profile",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"StsToken","access_key_id":"{sts_id}","access_key_secret":"{sts_secret}","sts_token":"{sts_token}"}]}"#,
            )],
            Identity("ak:STS.", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI RamRoleArn profile",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"RamRoleArn","access_key_id":"testid","access_key_secret":"testsecret","ram_role_arn":"acs:ram::1234567890123456:role/acr-puller","ram_session_name":"laptop","expired_seconds":900}]}"#,
            )],
            Identity(
                "role:acs:ram::1234567890123456:role/acr-puller|ak:testid",
                &[("STS:AssumeRole", 1), ("ACR:", 1)],
            ),
        ),
        Case {
            name: "aliyun CLI ChainableRamRoleArn assumes two roles in turn",
            env: &[("ALIBABA_CLOUD_PROFILE", "cross")],
            files: &[(
                ".aliyun/config.json",
                r#"{"current":"base","profiles":[
                  {"name":"base","mode":"AK","access_key_id":"testid","access_key_secret":"testsecret"},
                  {"name":"mid","mode":"ChainableRamRoleArn","source_profile":"base","ram_role_arn":"acs:ram::1234567890123456:role/acr-puller"},
                  {"name":"cross","mode":"ChainableRamRoleArn","source_profile":"mid","ram_role_arn":"acs:ram::2222222222222222:role/cross"}]}"#,
            )],
            fake: |c| c.roles.push(CROSS_ROLE.into()),
            before: nothing,
            expect: Identity(
                "role:acs:ram::2222222222222222:role/cross|role:acs:ram::1234567890123456:role/acr-puller|ak:testid",
                &[("STS:AssumeRole", 2), ("ACR:", 1)],
            ),
        },
        case(
            "aliyun CLI EcsRamRole profile",
            &[METADATA_ON],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"EcsRamRole","ram_role_name":"node-role"}]}"#,
            )],
            Identity(
                "ecs:node-role",
                &[
                    ("IMDS:PUT /latest/api/token", 1),
                    ("IMDS:GET", 1),
                    ("ACR:", 1),
                ],
            ),
        ),
        case(
            "aliyun CLI RamRoleArnWithRoleName assumes a role with the instance role",
            &[METADATA_ON],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"RamRoleArnWithRoleName","ram_role_name":"node-role","ram_role_arn":"acs:ram::1234567890123456:role/acr-puller"}]}"#,
            )],
            Identity(
                "role:acs:ram::1234567890123456:role/acr-puller|ecs:node-role",
                &[("IMDS:GET", 1), ("STS:AssumeRole", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "aliyun CLI OIDC profile",
            &[],
            &[
                TOKEN_FILE,
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"OIDC","oidc_provider_arn":"acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1","oidc_token_file":"~/token","ram_role_arn":"acs:ram::1234567890123456:role/acr-puller","ram_session_name":"pod"}]}"#,
                ),
            ],
            Identity(
                "oidc:acs:ram::1234567890123456:role/acr-puller",
                &[("STS:AssumeRoleWithOIDC", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "aliyun CLI CredentialsURI profile",
            &[],
            &[(
                ".aliyun/config.json",
                r#"{"current":"default","profiles":[{"name":"default","mode":"CredentialsURI","credentials_uri":"{api}/credentials/dev?token=uri-secret"}]}"#,
            )],
            Identity("uri:{api}/credentials/dev", &[("URI", 1), ("ACR:", 1)]),
        ),
        case(
            "aliyun CLI External profile printing an AccessKey",
            &[],
            &[
                ("bin/creds.sh", EXTERNAL_AK),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh --profile x"}]}"#,
                ),
            ],
            Identity("external:", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI External profile printing STS credentials",
            &[],
            &[
                ("bin/creds.sh", EXTERNAL_STS),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"{home}/bin/creds.sh"}]}"#,
                ),
            ],
            Identity("external:", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI config named by ALIBABA_CLOUD_CONFIG_FILE",
            &[("ALIBABA_CLOUD_CONFIG_FILE", "{home}/elsewhere.json")],
            &[(
                "elsewhere.json",
                r#"{"current":"p","profiles":[{"name":"p","mode":"AK","access_key_id":"testid","access_key_secret":"testsecret"}]}"#,
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "CLI config comes before the INI file",
            &[],
            &[
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"AK","access_key_id":"testid","access_key_secret":"testsecret"}]}"#,
                ),
                (
                    ".alibabacloud/credentials",
                    "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = x\n",
                ),
            ],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "INI access_key",
            &[],
            &[(
                ".alibabacloud/credentials",
                "; laptop\n[default]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = \"testsecret\"\n",
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "INI sts",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = sts\naccess_key_id = {sts_id}\naccess_key_secret = {sts_secret}\nsecurity_token = {sts_token}\n",
            )],
            Identity("ak:STS.", &[("ACR:", 1)]),
        ),
        case(
            "INI ram_role_arn with policy, external id and duration",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = acs:ram::1234567890123456:role/acr-puller\nrole_session_name = ci\npolicy = {\"Version\":\"1\",\"Statement\":[]}\nexternal_id = ext-42\nrole_session_expiration = 1800\n",
            )],
            Identity(
                "role:acs:ram::1234567890123456:role/acr-puller|policy:",
                &[("STS:AssumeRole", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "INI section chosen by ALIBABA_CLOUD_PROFILE",
            &[("ALIBABA_CLOUD_PROFILE", "work")],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = x\n[work]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "INI file named by ALIBABA_CLOUD_CREDENTIALS_FILE",
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", "~/creds.ini")],
            &[(
                "creds.ini",
                "[default]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "INI credentials.ini read when credentials is absent",
            &[],
            &[(
                ".alibabacloud/credentials.ini",
                "[default]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Identity("ak:testid|k:", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI External command line with quotes and shell syntax, run without a shell",
            &[],
            &[
                ("bin/creds.sh", EXTERNAL_ARGS),
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"'{home}/bin/creds.sh' \"a b\" $(touch\\ {home}/pwned) ;x"}]}"#,
                ),
            ],
            Identity("external:", &[("ACR:", 1)]),
        ),
        case(
            "INI ecs_ram_role discovers the role",
            &[METADATA_ON],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ecs_ram_role\nrole_name =\n",
            )],
            Identity("ecs:discovered", &[("IMDS:GET", 2), ("ACR:", 1)]),
        ),
        case(
            "INI oidc_role_arn",
            &[],
            &[
                TOKEN_FILE,
                (
                    ".alibabacloud/credentials",
                    "[default]\ntype = oidc_role_arn\nrole_arn = acs:ram::1234567890123456:role/acr-puller\noidc_provider_arn = acs:ram::1234567890123456:oidc-provider/ack-rrsa-c1\noidc_token_file_path = {home}/token\n",
                ),
            ],
            Identity(
                "oidc:acs:ram::1234567890123456:role/acr-puller",
                &[("STS:AssumeRoleWithOIDC", 1), ("ACR:", 1)],
            ),
        ),
        case(
            "INI credentials_uri",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = credentials_uri\ncredentials_uri = {api}/credentials/ini\n",
            )],
            Identity("uri:{api}/credentials/ini", &[("URI", 1), ("ACR:", 1)]),
        ),
        case(
            "ECS metadata as the last resort discovers the role with an IMDSv2 token",
            &[METADATA_ON],
            &[],
            Identity(
                "ecs:discovered",
                &[
                    ("IMDS:PUT /latest/api/token", 1),
                    ("IMDS:GET", 2),
                    ("ACR:", 1),
                ],
            ),
        ),
        case(
            "ECS role named by ALIBABA_CLOUD_ECS_METADATA",
            &[METADATA_ON, ("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE)],
            &[],
            Identity("ecs:node-role", &[("IMDS:GET", 1), ("ACR:", 1)]),
        ),
        Case {
            name: "ECS metadata falls back to IMDSv1 when tokens are refused",
            env: &[METADATA_ON],
            files: &[],
            fake: |c| {
                c.imds_refuse_token = true;
                c.imds_require_token = false;
            },
            before: nothing,
            expect: Identity("ecs:discovered", &[("IMDS:GET", 2), ("ACR:", 1)]),
        },
        Case {
            name: "ECS without a role falls through to the credentials URI",
            env: &[
                METADATA_ON,
                ("ALIBABA_CLOUD_CREDENTIALS_URI", "{api}/credentials/env"),
            ],
            files: &[],
            fake: |c| c.ecs_role = None,
            before: nothing,
            expect: Identity(
                "ecs:discovered|uri:{api}/credentials/env",
                &[("URI", 1), ("ACR:", 1)],
            ),
        },
        case(
            "credentials URI from the environment",
            &[("ALIBABA_CLOUD_CREDENTIALS_URI", "{api}/credentials/env")],
            &[],
            Identity(
                "uri:{api}/credentials/env",
                &[("URI", 1), ("IMDS", 0), ("ACR:", 1)],
            ),
        ),
    ]
}

fn broken_cases() -> Vec<Case> {
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
                r#"{"current":"default","profiles":[{"name":"default","mode":"CloudSSO","cloud_sso_sign_in_url":"https://x"}]}"#,
            )],
            Error(&["mode CloudSSO is not supported"]),
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

/// Runs one case; returns the fake (for extra checks) and the output.
fn run(c: &Case) -> (FakeApi, crate::support::Output) {
    let mut cfg = FakeConfig::default();
    cfg.oidc = Some((OIDC_PROVIDER.into(), OIDC_TOKEN.into()));
    cfg.ecs_role = Some(ECS_ROLE.into());
    cfg.registry_password = PASSWORD.into();
    (c.fake)(&mut cfg);
    let api = FakeApi::start(cfg);
    let (sts_id, sts_secret, sts_token, _) = api.issue_sts(Duration::from_secs(3600));
    let mut t = Test::new();
    let home = t.home.path().to_string_lossy().into_owned();
    let url = api.url();
    let url = url.trim_end_matches('/').to_string();
    let sub = |s: &str| {
        s.replace("{api}", &url)
            .replace("{home}", &home)
            .replace("{sts_id}", &sts_id)
            .replace("{sts_secret}", &sts_secret)
            .replace("{sts_token}", &sts_token)
    };
    // Every case talks to the loopback fake only, whatever it enables.
    t = t
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .env("ALIBABA_CLOUD_STS_ENDPOINT", &url)
        .env("ALIBABA_CLOUD_IMDS_ENDPOINT", &url);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    for (k, v) in c.env {
        t = t.env(k, &sub(v));
    }
    for (path, text) in c.files {
        let p = t.home.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, sub(text)).expect("write");
        #[cfg(unix)]
        if path.ends_with(".sh") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    (c.before)(&api);
    let out = t.get(PERSONAL).run();
    // No secret on stderr, at debug level, whatever the outcome.
    for secret in [
        "testsecret",
        sts_secret.as_str(),
        sts_token.as_str(),
        OIDC_TOKEN,
        PASSWORD,
        "fake-sts-secret-",
        "CAISfake",
        "uri-secret",
    ] {
        assert!(
            !out.stderr.contains(secret),
            "{}: secret {secret:?} on stderr:\n{}",
            c.name,
            out.stderr
        );
    }
    let _ = sub;
    (api, out)
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let (api, out) = run(c);
        let url = api.url().trim_end_matches('/').to_string();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match &c.expect {
            Expect::Identity(id, calls) => {
                let v = out.json();
                assert_eq!(v["Secret"], PASSWORD, "password");
                let want = format!("(identity {}", id.replace("{api}", &url));
                assert!(
                    out.stderr.contains(&want),
                    "want {want} in stderr:\n{}",
                    out.stderr
                );
                for (prefix, n) in *calls {
                    assert_eq!(
                        api.calls(prefix),
                        *n,
                        "calls to {prefix}: {:?}",
                        api.seen().iter().map(|s| &s.action).collect::<Vec<_>>()
                    );
                }
            }
            Expect::Error(parts) => {
                let line = out.error_line();
                for p in *parts {
                    let p = p.replace("{api}", &url);
                    assert!(line.contains(&p), "want {p:?} in: {line}");
                }
            }
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!("{}: {msg}", c.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_source_and_mode_yields_a_working_get_without_leaking_secrets() {
    check(working_cases());
}

#[test]
fn misconfigured_sources_stop_the_chain_with_one_line_naming_the_culprit() {
    check(broken_cases());
}

#[test]
fn a_broken_profile_never_falls_through_to_the_instance_role() {
    let c = case(
        "broken INI with a working ECS role",
        &[METADATA_ON],
        &[(
            ".alibabacloud/credentials",
            "[default]\ntype = access_key\n",
        )],
        Expect::Error(&[]),
    );
    let (api, out) = run(&c);
    assert!(out.error_line().contains("needs access_key_id"));
    assert_eq!(api.total_calls(), 0, "{:?}", api.seen());
}

#[test]
fn assume_role_sends_what_the_profile_says() {
    let c = &working_cases()
        .into_iter()
        .find(|c| c.name.starts_with("INI ram_role_arn"))
        .expect("case");
    let (api, out) = run(c);
    out.json();
    let seen = api.seen();
    let sts = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRole")
        .expect("AssumeRole");
    assert_eq!(sts.params["RoleSessionName"], "ci");
    assert_eq!(sts.params["DurationSeconds"], "1800");
    assert_eq!(sts.params["ExternalId"], "ext-42");
    assert_eq!(sts.params["Policy"], r#"{"Version":"1","Statement":[]}"#);
    assert_eq!(sts.params["SignatureMethod"], "HMAC-SHA1");
    assert!(
        sts.headers["content-type"].starts_with("application/x-www-form-urlencoded"),
        "{:?}",
        sts.headers
    );
    // The registry call is signed with the assumed role's STS key and token.
    let acr = seen
        .iter()
        .find(|s| s.action.starts_with("ACR:"))
        .expect("ACR");
    assert!(
        acr.access_key_id.starts_with("STS."),
        "{}",
        acr.access_key_id
    );
}

#[test]
fn rrsa_sends_the_token_file_unsigned_and_the_session_name() {
    let mut env = RRSA.to_vec();
    env.push(("ALIBABA_CLOUD_ROLE_SESSION_NAME", "my-pod"));
    let env: &'static [(&str, &str)] = Box::leak(env.into_boxed_slice());
    let (api, out) = run(&case("rrsa", env, &[TOKEN_FILE], Expect::Error(&[])));
    out.json();
    let seen = api.seen();
    let oidc = seen
        .iter()
        .find(|s| s.action == "STS:AssumeRoleWithOIDC")
        .expect("OIDC");
    assert_eq!(oidc.params["OIDCToken"], OIDC_TOKEN);
    assert_eq!(oidc.params["RoleSessionName"], "my-pod");
    assert!(!oidc.params.contains_key("Signature"), "anonymous call");
    assert!(!oidc.params.contains_key("AccessKeyId"), "anonymous call");
}

#[test]
fn imds_token_is_requested_with_a_ttl_and_sent_on_every_read() {
    let (api, out) = run(&case("imds", &[METADATA_ON], &[], Expect::Error(&[])));
    out.json();
    let seen = api.seen();
    let put = seen
        .iter()
        .find(|s| s.action == "IMDS:PUT /latest/api/token")
        .expect("PUT");
    assert!(
        put.headers
            .contains_key("x-aliyun-ecs-metadata-token-ttl-seconds")
    );
    for get in seen.iter().filter(|s| s.action.starts_with("IMDS:GET")) {
        assert!(
            get.headers["x-aliyun-ecs-metadata-token"].starts_with("imds-"),
            "{:?}",
            get.headers
        );
        assert_eq!(get.status, 200);
    }
}

/// A loopback port that accepts connections and never answers, like an address that swallows
/// packets off cloud.
fn silent_listener() -> (std::net::TcpListener, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    (l, url)
}

fn off_cloud(imds: &str) -> Test {
    Test::new()
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "false")
        .env("ALIBABA_CLOUD_IMDS_ENDPOINT", imds)
        .get(PERSONAL)
}

#[test]
fn off_cloud_without_credentials_fails_fast_when_metadata_is_silent() {
    let (_listener, url) = silent_listener();
    // The kernel completes the handshakes (backlog) and nobody ever reads: a silent server.
    let started = Instant::now();
    let out = off_cloud(&url).run();
    let elapsed = started.elapsed();
    let line = out.error_line();
    for source in [
        "environment (",
        "RRSA/OIDC environment (",
        "aliyun CLI config (",
        "profile file (",
        "ECS metadata (",
        "credentials URI (",
    ] {
        assert!(line.contains(source), "{source} missing: {line}");
    }
    assert!(line.contains("did not answer within 1s"), "{line}");
    // The release figure comes from scripts/bench-offcloud.sh; this bound is 3x the metadata
    // timeout, room for a debug build on a busy machine.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn off_cloud_without_credentials_fails_fast_when_metadata_refuses_connections() {
    let (listener, url) = silent_listener();
    drop(listener);
    let started = Instant::now();
    let out = off_cloud(&url).run();
    let elapsed = started.elapsed();
    let line = out.error_line();
    assert!(
        line.contains("no Alibaba Cloud credentials found"),
        "{line}"
    );
    assert!(line.contains("is not reachable"), "{line}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
}

#[test]
fn a_named_ecs_role_with_silent_metadata_is_an_error_not_a_skip() {
    let (_listener, url) = silent_listener();
    let out = off_cloud(&url)
        .env("ALIBABA_CLOUD_ECS_METADATA", ECS_ROLE)
        .env(
            "ALIBABA_CLOUD_CREDENTIALS_URI",
            "http://127.0.0.1:9/credentials",
        )
        .run();
    let line = out.error_line();
    assert!(line.contains("timed out"), "{line}");
    assert!(
        !line.contains("no Alibaba Cloud credentials found"),
        "{line}"
    );
}

#[test]
fn silent_metadata_falls_through_to_the_credentials_uri() {
    let mut cfg = FakeConfig::default();
    cfg.registry_password = PASSWORD.into();
    let api = FakeApi::start(cfg);
    let (_listener, imds) = silent_listener();
    let url = api.url().trim_end_matches('/').to_string();
    let out = off_cloud(&imds)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &url)
        .env("DOCKER_CREDENTIAL_ACR_HELPER_LOG", "debug")
        .env(
            "ALIBABA_CLOUD_CREDENTIALS_URI",
            &format!("{url}/credentials/sidecar"),
        )
        .run();
    assert_eq!(out.json()["Secret"], PASSWORD);
    assert!(
        out.stderr.contains("did not answer within 1s"),
        "{}",
        out.stderr
    );
    assert_eq!(api.calls("URI"), 1);
}

#[test]
fn acr_token_never_outlives_the_assumed_role_credentials() {
    let mut cfg = FakeConfig::default();
    cfg.oidc = Some((OIDC_PROVIDER.into(), OIDC_TOKEN.into()));
    cfg.token_ttl = Duration::from_secs(12 * 3600);
    let api = FakeApi::start(cfg);
    let dir = tempfile::tempdir().expect("dir");
    let token = dir.path().join("token");
    std::fs::write(&token, OIDC_TOKEN).expect("write");
    let url = api.url();
    let env = docker_credential_acr_helper::Env::from_pairs([
        ("HOME", dir.path().to_string_lossy().as_ref()),
        ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true"),
        ("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", url.as_str()),
        ("ALIBABA_CLOUD_STS_ENDPOINT", url.as_str()),
        ("ALIBABA_CLOUD_ROLE_ARN", ROLE),
        ("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", OIDC_PROVIDER),
        (
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token.to_string_lossy().as_ref(),
        ),
    ]);
    let helper = docker_credential_acr_helper::Helper::new(env.clone()).expect("helper");
    let creds = helper.get_blocking(PERSONAL).expect("get");
    // DurationSeconds 3600: the registry password ends with the STS credentials, not in 12 h.
    let left = creds.expires_at - chrono::Utc::now();
    assert!(
        left <= chrono::Duration::seconds(3600) && left > chrono::Duration::seconds(3000),
        "{left}"
    );
    // A second get is served from the token cache: no STS call, no ACR call.
    helper.get_blocking(PERSONAL).expect("warm get");
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 1);
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 1);
    // The token file is read again on every fetch: a rotated token is used at once.
    std::fs::write(&token, "rotated-token").expect("write");
    api.configure(|c| c.oidc = Some((OIDC_PROVIDER.into(), "rotated-token".into())));
    let uncached = docker_credential_acr_helper::Helper::new(
        env.with("DOCKER_CREDENTIAL_ACR_HELPER_DISABLE_CACHE", "true"),
    )
    .expect("helper");
    uncached
        .get_blocking(PERSONAL)
        .expect("get with the rotated token");
    assert_eq!(api.calls("STS:AssumeRoleWithOIDC"), 2);
}

#[test]
fn temporary_credentials_are_cached_across_registries_and_processes() {
    // AssumeRole from an INI profile: the STS credentials it yields are cached under the role's
    // identity, so a cold get for a second registry (another process) makes no STS call.
    let api = FakeApi::start(FakeConfig::default());
    // One HOME (and cache) shared by two processes; owned here so it outlives both runs.
    let dir = tempfile::tempdir().expect("home");
    let home = dir.path().to_path_buf();
    let process = || Test::new().env("HOME", &home.to_string_lossy());
    std::fs::create_dir_all(home.join(".alibabacloud")).expect("dir");
    std::fs::write(
        home.join(".alibabacloud/credentials"),
        format!(
            "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = {ROLE}\nrole_session_name = ci\n"
        ),
    )
    .expect("write");
    let with_api = |t: Test| {
        t.env("DOCKER_CREDENTIAL_ACR_HELPER_ENDPOINT", &api.url())
            .env("ALIBABA_CLOUD_STS_ENDPOINT", &api.url())
            .env(
                "DOCKER_CREDENTIAL_ACR_HELPER_CACHE_DIR",
                &home.join("cache").to_string_lossy(),
            )
    };
    with_api(process()).get(PERSONAL).run().json();
    assert_eq!(api.calls("STS:AssumeRole"), 1);
    let out = with_api(process()).get(ENTERPRISE).run();
    out.json();
    assert_eq!(api.calls("STS:AssumeRole"), 1, "STS credentials reused");
    assert_eq!(api.calls("ACR:GetAuthorizationToken"), 2);
    // The enterprise token was minted with the cached STS key, which the fake checks.
    let sts_keys: Vec<String> = api
        .seen()
        .iter()
        .filter(|s| s.action.starts_with("ACR:"))
        .map(|s| s.access_key_id.clone())
        .collect();
    assert!(
        sts_keys.iter().all(|k| k.starts_with("STS.")) && sts_keys.windows(2).all(|w| w[0] == w[1]),
        "{sts_keys:?}"
    );
}

#[test]
fn an_external_command_that_hangs_cannot_hang_get() {
    let c = &broken_cases()
        .into_iter()
        .find(|c| c.name.starts_with("External command that hangs"))
        .expect("case");
    let started = Instant::now();
    let (_api, out) = run(c);
    assert!(out.error_line().contains("did not finish"));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn default_test_builder_keeps_metadata_disabled() {
    // The network rule: nothing here may reach 100.100.100.200.
    let out = Test::new().get(PERSONAL).run();
    assert!(
        out.error_line()
            .contains("ECS metadata (ALIBABA_CLOUD_ECS_METADATA_DISABLED is true)")
    );
    let _ = Fault::Hang;
}

#[test]
fn credentials_ini_is_named_as_the_source_used() {
    let c = &working_cases()
        .into_iter()
        .find(|c| c.name.starts_with("INI credentials.ini"))
        .expect("case");
    let (_api, out) = run(c);
    out.json();
    assert!(
        out.stderr.contains("credential source: profile file ")
            && out
                .stderr
                .contains(".alibabacloud/credentials.ini [default] (identity ak:testid|k:"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_rotated_secret_never_gets_the_old_secrets_token() {
    // One HOME and cache for every process.
    let api = FakeApi::start(FakeConfig::default());
    let dir = tempfile::tempdir().expect("home");
    let home = dir.path().to_string_lossy().into_owned();
    let get = |secret: &str| {
        Test::new()
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", &format!("{home}/.cache"))
            .api(&api)
            .access_key("testid", secret)
            .get(PERSONAL)
            .run()
    };
    get("testsecret").json();
    get("testsecret").json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        1,
        "warm get is cached"
    );
    // The key's secret is rotated: the old one no longer signs, the new one does.
    api.configure(|c| c.access_keys = vec![("testid".into(), "rotated-secret".into())]);
    get("rotated-secret").json();
    assert_eq!(
        api.calls("ACR:GetAuthorizationToken"),
        2,
        "the new secret mints its own token"
    );
    // A mistyped secret is not served the cached token of the right one either.
    let out = get("mistyped-secret");
    assert!(
        out.error_line().contains("SignatureDoesNotMatch"),
        "{}",
        out.stderr
    );
}

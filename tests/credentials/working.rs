//! Every source and mode that must yield a working `get`, as data.

use super::*;

pub(super) fn working_cases() -> Vec<Case> {
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

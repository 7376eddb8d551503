//! Where the official SDKs' readers and ours met a user's file differently, as data: a UTF-8
//! byte-order mark (Notepad writes one), keys that differ from a known key only by case, a
//! `credentials.ini` hidden by an existing `credentials`, and a `~` no shell expands.

use super::*;

const INI_BOM_CRLF: &str = "\u{feff}[default]\r\ntype = access_key\r\naccess_key_id = testid\r\naccess_key_secret = testsecret\r\n";
const CLI_BOM: &str = "\u{feff}{\"current\":\"default\",\"profiles\":[{\"name\":\"default\",\"mode\":\"AK\",\"access_key_id\":\"testid\",\"access_key_secret\":\"testsecret\"}]}";
/// `[default]` is a key the fake does not know: a get that used it would fail.
const INI_WORK: &str = "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = other\n\n[work]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n";
const REGISTRIES_BOM: &str = "\u{feff}{\"registries\": [{\"domains\": [\"registry.cn-hangzhou.aliyuncs.com\"], \"profile\": \"work\"}]}";
const CREDS_SH: (&str, &str) = ("bin/creds.sh", EXTERNAL_AK);

fn byte_order_mark_cases() -> Vec<Case> {
    use Expect::Identity;
    vec![
        case(
            "INI credentials file with a byte-order mark and CRLF lines",
            &[],
            &[(".alibabacloud/credentials", INI_BOM_CRLF)],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "INI file named by ALIBABA_CLOUD_CREDENTIALS_FILE with a byte-order mark",
            &[("ALIBABA_CLOUD_CREDENTIALS_FILE", "{home}/creds.ini")],
            &[("creds.ini", INI_BOM_CRLF)],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "aliyun CLI config.json with a byte-order mark",
            &[],
            &[(".aliyun/config.json", CLI_BOM)],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
        case(
            "registry config with a byte-order mark picks its profile",
            &[],
            &[
                (".alibabacloud/credentials", INI_WORK),
                (
                    ".config/docker-credential-acr-helper/config.json",
                    REGISTRIES_BOM,
                ),
            ],
            Identity("ak:testid", &[("ACR:", 1)]),
        ),
    ]
}

fn case_hint_cases() -> Vec<Case> {
    use Expect::Error;
    vec![
        case(
            "INI TYPE in capitals",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\nTYPE = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Error(&[
                ".alibabacloud/credentials [default]: type is missing (found \"TYPE\"; keys are case-sensitive, write \"type\")",
            ]),
        ),
        case(
            "INI Access_Key_Id in mixed case",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = access_key\nAccess_Key_Id = testid\naccess_key_secret = testsecret\n",
            )],
            Error(&[
                ".alibabacloud/credentials [default]: access_key_id is missing (found \"Access_Key_Id\"; keys are case-sensitive, write \"access_key_id\")",
            ]),
        ),
        case(
            "INI sts with Sts_Token in mixed case",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = sts\naccess_key_id = a\naccess_key_secret = b\nSts_Token = t\n",
            )],
            Error(&[
                "[default]: sts_token is missing (found \"Sts_Token\"; keys are case-sensitive",
            ]),
        ),
        case(
            // Ignoring it would assume the role without the session policy: broader rights.
            "INI optional Policy in capitals is not silently ignored",
            &[],
            &[(
                ".alibabacloud/credentials",
                "[default]\ntype = ram_role_arn\naccess_key_id = testid\naccess_key_secret = testsecret\nrole_arn = acs:ram::1234567890123456:role/acr-puller\nPolicy = {\"Version\":\"1\"}\n",
            )],
            Error(&[
                "[default]: policy is missing (found \"Policy\"; keys are case-sensitive, write \"policy\")",
            ]),
        ),
        case(
            "INI section name differing only by case",
            &[("ALIBABA_CLOUD_PROFILE", "work")],
            &[(
                ".alibabacloud/credentials",
                "[Work]\ntype = access_key\naccess_key_id = testid\naccess_key_secret = testsecret\n",
            )],
            Error(&[
                "profile \"work\" was not found",
                ".alibabacloud/credentials has no [work] section (found [Work]; section names are case-sensitive)",
            ]),
        ),
    ]
}

fn hidden_ini_cases() -> Vec<Case> {
    use Expect::Error;
    vec![
        case(
            "credentials.ini has the profile that credentials lacks",
            &[("ALIBABA_CLOUD_PROFILE", "work")],
            &[
                (
                    ".alibabacloud/credentials",
                    "[default]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = other\n",
                ),
                (".alibabacloud/credentials.ini", INI_WORK),
            ],
            Error(&[
                "ALIBABA_CLOUD_PROFILE: profile \"work\" was not found",
                ".alibabacloud/credentials has no [work] section; ",
                ".alibabacloud/credentials.ini has it but is not read: only the first of the two that exists is read (move the section, or set ALIBABA_CLOUD_CREDENTIALS_FILE)",
            ]),
        ),
        case(
            "credentials.ini has the default section that credentials lacks",
            &[],
            &[
                (
                    ".alibabacloud/credentials",
                    "[other]\ntype = access_key\naccess_key_id = otherid\naccess_key_secret = other\n",
                ),
                (".alibabacloud/credentials.ini", INI_BOM_CRLF),
            ],
            Error(&[
                "no Alibaba Cloud credentials found",
                ".alibabacloud/credentials has no [default] section; ",
                ".alibabacloud/credentials.ini has it but is not read",
            ]),
        ),
    ]
}

fn tilde_cases() -> Vec<Case> {
    use Expect::Error;
    vec![
        case(
            "INI external process_command starting with ~",
            &[],
            &[
                CREDS_SH,
                (
                    ".alibabacloud/credentials",
                    "[default]\ntype = external\nprocess_command = ~/bin/creds.sh --profile x\n",
                ),
            ],
            Error(&[
                "credentials [default]: process_command: program \"~/bin/creds.sh\" was not found; \"~\" is not expanded (no shell runs the command): write the full path",
            ]),
        ),
        case(
            "aliyun CLI External process_command starting with ~",
            &[],
            &[
                CREDS_SH,
                (
                    ".aliyun/config.json",
                    r#"{"current":"default","profiles":[{"name":"default","mode":"External","process_command":"~/bin/creds.sh --profile x"}]}"#,
                ),
            ],
            Error(&[
                "profile \"default\"",
                // The program itself is redacted there while the CLI config registers the whole
                // command line as a secret.
                "process_command: program \"",
                "\" was not found; \"~\" is not expanded (no shell runs the command): write the full path",
            ]),
        ),
    ]
}

#[test]
fn a_byte_order_mark_is_accepted_in_every_config_file() {
    check(byte_order_mark_cases());
}

#[test]
fn a_key_differing_only_by_case_gets_a_hint() {
    check(case_hint_cases());
}

#[test]
fn a_credentials_ini_hidden_by_credentials_is_named() {
    check(hidden_ini_cases());
}

#[test]
fn a_tilde_in_process_command_gets_a_hint() {
    check(tilde_cases());
}

//! Shell completions, the man page and `--help`, all generated from the clap definition.

use crate::support::Test;

const COMMANDS: [&str; 6] = [
    "get",
    "store",
    "erase",
    "list",
    "version",
    "configure-docker",
];

#[test]
fn completions_name_every_command_and_configure_docker_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Test::new().args(&["completions", shell]).run();
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{shell}");
        for word in COMMANDS
            .iter()
            .chain(&["--region", "--instance", "--dry-run"])
        {
            // fish and powershell list flags without their dashes.
            let bare = word.trim_start_matches('-');
            assert!(out.stdout.contains(bare), "{shell} completion lacks {word}");
        }
        for hidden in [
            "Print a shell completion script",
            "Print the man page",
            "subcmd__completions",
            "subcmd__man",
            " completions man",
        ] {
            assert!(
                !out.stdout.contains(hidden),
                "{shell} completion offers hidden {hidden}"
            );
        }
    }
    let bash = Test::new().args(&["completions", "bash"]).run().stdout;
    assert!(
        bash.contains("complete -F _docker__credential__acr__helper")
            && bash.contains(" docker-credential-acr-helper\n"),
        "{bash}"
    );
    let zsh = Test::new().args(&["completions", "zsh"]).run().stdout;
    assert!(
        zsh.starts_with("#compdef docker-credential-acr-helper"),
        "{zsh}"
    );
    let fish = Test::new().args(&["completions", "fish"]).run().stdout;
    assert!(
        fish.contains("complete -c docker-credential-acr-helper")
            && fish.contains("-a \"configure-docker\""),
        "{fish}"
    );
}

#[test]
fn unknown_shell_is_a_one_line_error() {
    let out = Test::new().args(&["completions", "tcsh"]).run();
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("tcsh") && out.stderr.contains("bash"),
        "{}",
        out.stderr
    );
}

#[test]
fn man_page_renders_as_roff() {
    let out = Test::new().args(&["man"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(".ie \\n(.g .ds Aq") || out.stdout.contains("\n.TH "),
        "{}",
        out.stdout
    );
    let th = out
        .stdout
        .lines()
        .find(|l| l.starts_with(".TH "))
        .expect(".TH line");
    assert!(th.contains("docker-credential-acr-helper 1"), "{th}");
    assert!(th.contains(env!("CARGO_PKG_VERSION")), "{th}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(out.stdout.contains(section), "man page lacks {section}");
    }
    assert!(out.stdout.contains("configure\\-docker"), "{}", out.stdout);
}

#[test]
fn man_out_dir_writes_one_page_per_visible_command() {
    let t = Test::new();
    let dir = t.home.path().join("man1");
    let t = t.args(&["man", "--out-dir", &dir.to_string_lossy()]);
    let out = t.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .expect("man dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut want: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("docker-credential-acr-helper-{c}.1"))
        .collect();
    want.push("docker-credential-acr-helper.1".into());
    want.sort();
    assert_eq!(pages, want);
    let page = std::fs::read_to_string(dir.join("docker-credential-acr-helper-configure-docker.1"))
        .expect("page");
    assert!(page.lines().any(|l| l.starts_with(".TH ")), "{page}");
    assert!(page.contains("\\-\\-dry\\-run"), "{page}");
}

#[test]
fn every_command_has_readable_help() {
    let top = Test::new().args(&["--help"]).run();
    assert_eq!(top.code, 0);
    for c in COMMANDS {
        assert!(
            top.stdout.contains(&format!("  {c} ")),
            "top help lists {c}: {}",
            top.stdout
        );
    }
    assert!(
        !top.stdout.contains("completions") && !top.stdout.contains("  man "),
        "{}",
        top.stdout
    );
    assert!(
        top.stdout.contains("configure-docker --region cn-hangzhou"),
        "an example: {}",
        top.stdout
    );
    for c in COMMANDS {
        let out = Test::new().args(&[c, "--help"]).run();
        assert_eq!(out.code, 0, "{c}: {}", out.stderr);
        let first = out.stdout.lines().next().unwrap_or_default();
        assert!(
            first.len() > 10 && !first.starts_with("Usage"),
            "{c} help starts with what it does: {first}"
        );
        assert!(
            out.stdout
                .contains(&format!("Usage: docker-credential-acr-helper {c}")),
            "{c}: {}",
            out.stdout
        );
        assert!(
            out.stdout
                .lines()
                .all(|l| l.len() <= 100 || l.starts_with("  ")),
            "{c}: long lines"
        );
    }
    let configure = Test::new()
        .args(&["configure-docker", "--help"])
        .run()
        .stdout;
    assert!(
        configure.contains("Examples:") && configure.contains("--instance acme --region"),
        "{configure}"
    );
}

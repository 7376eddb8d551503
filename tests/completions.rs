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
fn man_page_renders_as_roff_with_every_command() {
    let out = Test::new().args(&["man"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    assert!(out.stdout.starts_with(".TH "), "{}", out.stdout);
    let th = out.stdout.lines().next().unwrap_or_default();
    assert!(
        th.starts_with(".TH docker-credential-acr-helper 1 "),
        "{th}"
    );
    assert!(th.contains(env!("CARGO_PKG_VERSION")), "{th}");
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with(".TH ")).count(),
        1,
        "one page"
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH COMMANDS",
        ".SH EXAMPLES",
    ] {
        assert!(out.stdout.contains(section), "man page lacks {section}");
    }
    for c in COMMANDS {
        let heading = format!(".SS {}", c.replace('-', "\\-"));
        assert!(
            out.stdout.lines().any(|l| l == heading),
            "man page lacks {heading}"
        );
    }
    assert!(
        out.stdout.contains("\\-\\-dry\\-run"),
        "configure-docker options"
    );
    assert!(
        !out.stdout.contains("completion script"),
        "hidden commands stay out"
    );
    // Every line is roff: a request, or text that cannot be mistaken for one.
    assert!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with('.'))
            .all(|l| l.len() > 1 && l.as_bytes()[1].is_ascii_alphabetic()),
        "{}",
        out.stdout
    );
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

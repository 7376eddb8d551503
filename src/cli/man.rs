//! `man` and `completions`: the clap definition rendered as a roff page or a shell script.

use std::io::Write;

use super::{NAME, command, deliver};

/// The man page on stdout: one page for the program and every visible command, so packages
/// ship a single file.
pub(super) fn man(stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let mut page = Vec::new();
    let result = render_man(&mut page).map(|()| {
        // Each render call repeats clap_mangen's preamble (the `Aq` string for apostrophes);
        // keep one, after the `.TH` line, so the page starts with `.TH` as man pages do.
        let page = String::from_utf8_lossy(&page);
        let is_preamble =
            |l: &str| l.starts_with(".ie \\n(.g .ds Aq") || l.starts_with(".el .ds Aq");
        let preamble: Vec<&str> = page.lines().filter(|l| is_preamble(l)).take(2).collect();
        let mut lines = page.lines().filter(|l| !is_preamble(l));
        let mut text = String::new();
        for line in lines.by_ref() {
            text.push_str(line);
            text.push('\n');
            if line.starts_with(".TH ") {
                break;
            }
        }
        for line in preamble.into_iter().chain(lines) {
            text.push_str(line);
            text.push('\n');
        }
        text
    });
    match result {
        Ok(text) => deliver(stdout, stderr, "man", &text, 0),
        Err(e) => {
            let _ = writeln!(stderr, "{NAME}: man: {e}");
            1
        }
    }
}

fn render_man(w: &mut dyn Write) -> std::io::Result<()> {
    use clap_mangen::Man;
    let mut cmd = command();
    cmd.build();
    let page = Man::new(cmd.clone()).source(format!("{NAME} {}", env!("CARGO_PKG_VERSION")));
    page.render_title(w)?;
    page.render_name_section(w)?;
    page.render_synopsis_section(w)?;
    page.render_description_section(w)?;
    page.render_options_section(w)?;
    writeln!(w, ".SH COMMANDS")?;
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        writeln!(w, ".SS {}", roff_escape(sub.get_name()))?;
        let part = Man::new(sub.clone());
        let mut buf = Vec::new();
        part.render_synopsis_section(&mut buf)?;
        part.render_description_section(&mut buf)?;
        if sub
            .get_arguments()
            .any(|a| !a.is_hide_set() && a.get_id() != "help")
        {
            part.render_options_section(&mut buf)?;
        }
        // The command's sections become paragraphs under its heading.
        for line in String::from_utf8_lossy(&buf).lines() {
            match line.strip_prefix(".SH ") {
                Some("SYNOPSIS" | "DESCRIPTION") => writeln!(w, ".PP")?,
                Some(_) => writeln!(w, ".PP\nOptions:")?,
                None => writeln!(w, "{line}")?,
            }
        }
        if let Some(examples) = sub.get_after_help() {
            write_verbatim(w, &examples.to_string())?;
        }
    }
    if let Some(examples) = cmd.get_after_help() {
        writeln!(w, ".SH EXAMPLES")?;
        write_verbatim(w, &examples.to_string())?;
    }
    writeln!(w, ".SH SEE ALSO")?;
    writeln!(
        w,
        "README.md of {NAME} for the credential sources, every environment variable and the cache."
    )
}

/// Text as it is (examples), in a no-fill block.
fn write_verbatim(w: &mut dyn Write, text: &str) -> std::io::Result<()> {
    writeln!(w, ".PP\n.nf")?;
    for line in text.lines() {
        writeln!(w, "\\&{}", roff_escape(line))?;
    }
    writeln!(w, ".fi")
}

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\e").replace('-', "\\-")
}

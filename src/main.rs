//! The `competency` binary: parse, run, print, map the outcome to an exit code (SPEC §3).

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;
use clap::error::{ContextKind, ContextValue};
use competency::api::cli::{self, Cli};
use competency::api::output;
use competency::api::support::terminal::message;

fn main() -> ExitCode {
    // Ctrl-C during a long job rolls it back and exits 130 (see `progress`).
    competency::api::domain::progress::install_handler();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors exit 2 (help and version 0), with every echoed value escaped and cut.
        Err(e) => usage_error(e),
    };
    match cli::run(cli) {
        Ok((report, style)) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match output::render(&report, style, &mut out).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::from(report.exit),
                // A closed pipe (`competency users list | head`) is not an error.
                Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::from(report.exit),
                Err(e) => {
                    message(&format!("error: cannot write the output: {e}"));
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            if e.chain()
                .any(|c| c.is::<competency::api::domain::progress::Interrupted>())
            {
                message(&competency::api::domain::progress::Interrupted.to_string());
                return ExitCode::from(130);
            }
            message(&format!("error: {}", one_line(&format!("{e:#}"))));
            ExitCode::from(1)
        }
    }
}

/// Prints a clap error and exits as clap would, but quotes the offending value as every
/// other error does (`validate::shown`): escaped, and cut to 60 characters, so a 120 kB
/// argument or an escape sequence is not echoed to the terminal.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind as K;
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion)
        || matches!(e.kind(), K::DisplayHelpOnMissingArgumentOrSubcommand)
    {
        e.exit();
    }
    let mut text = e.render().to_string();
    for kind in [
        ContextKind::InvalidValue,
        ContextKind::InvalidArg,
        ContextKind::InvalidSubcommand,
    ] {
        if let Some(ContextValue::String(v)) = e.get(kind) {
            let shown = competency::api::support::fields::shown_plain(v);
            if shown == *v {
                continue;
            }
            let quoted = format!("'{v}'");
            text = if text.contains(&quoted) {
                text.replace(&quoted, &shown)
            } else if !v.is_empty() {
                text.replace(v.as_str(), &shown)
            } else {
                text
            };
        }
    }
    message(text.trim_end_matches('\n'));
    std::process::exit(e.exit_code())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == ErrorKind::BrokenPipe)
    })
}

/// Errors are one line: a multi-line cause (a SQLite or TOML message) is folded.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

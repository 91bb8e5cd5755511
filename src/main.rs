//! The `competency` binary: parse, run, print, map the outcome to an exit code (SPEC §3).

use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use clap::Parser;
use competency::cli::{self, Cli};
use competency::output;

fn main() -> ExitCode {
    let cli = Cli::parse(); // usage errors exit 2 from clap
    match cli::run(cli) {
        Ok((report, style)) => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            match output::render(&report, style, &mut out).and_then(|()| out.flush()) {
                Ok(()) => ExitCode::from(report.exit),
                // A closed pipe (`competency users list | head`) is not an error.
                Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::from(report.exit),
                Err(e) => {
                    eprintln!("error: cannot write the output: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
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

//! Writes a large valid rulebook to stdout, for timing validation (README, Performance).
//!
//! ```text
//! cargo run --example big_rulebook -- [COMPETENCIES] > /tmp/big.toml
//! target/release/competency rules validate /tmp/big.toml
//! ```
//!
//! The default, 45,000 competencies, gives 4.1 MB (just under the 4 MiB limit). Each
//! competency has one Silver option naming a catalogue code (Gold may be absent).
//! Keep the output out of git.

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|v| {
            v.replace('_', "")
                .parse()
                .expect("COMPETENCIES is a number")
        })
        .unwrap_or(45_000);
    let mut out = BufWriter::new(std::io::stdout().lock());
    writeln!(out, "[program]\nname = \"Big\"\n")?;
    const CODES: usize = 100;
    for c in 0..CODES {
        writeln!(
            out,
            "[[catalog]]\ncode = \"E{c}\"\ntitle = \"Exam {c}\"\nkind = \"exam\"\n"
        )?;
    }
    // Compact inline tables: 45,000 of these fit the 4 MB limit.
    for i in 0..n {
        let code = i % CODES;
        writeln!(
            out,
            "[competencies.c{i}]\nname=\"C{i}\"\n\
             silver=[{{option=\"S\",people=[{{count=1,all_of=[\"E{code}\"]}}]}}]"
        )?;
    }
    out.flush()
}

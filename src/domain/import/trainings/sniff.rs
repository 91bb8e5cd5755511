//! Recognising a Partner Center Trainings report by its header line (CSV, TSV or
//! `;`-separated, in any encoding the input layer reads), and refusing one downloaded
//! without personal data.

use anyhow::Result;

use super::normalize_header;
use crate::domain::import::Options;

/// What the header says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The field separator.
    pub delimiter: u8,
    /// The 2021+ layout, with `ExpirationDate`.
    pub with_expiry: bool,
    /// The encoding read (`UTF-8`, `UTF-16LE`, …).
    pub encoding: &'static str,
}

/// Reads the header line of the import's file and says whether it is a Trainings report
/// (`None`: an ordinary achievements CSV). A report without personal data is refused here;
/// a file in an encoding not read is refused before (by the input layer).
pub fn sniff(opts: &Options) -> Result<Option<Sniffed>> {
    let path = &opts.file;
    let source = opts.source()?;
    // The header is short; a first line longer than this is not a report's header.
    let head = source.head(64 * 1024)?;
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    // Excel's "CSV" in the languages whose decimal separator is a comma uses `;`.
    let delimiter = if tsv || line.contains('\t') {
        b'\t'
    } else if line.matches(';').count() > line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let names: Vec<String> = line
        .split(delimiter as char)
        .map(|h| normalize_header(h.trim().trim_matches('"')))
        .collect();
    let has = |n: &str| names.iter().any(|h| h == n);
    if !(has("trainingtitle") && has("trainingcompletiondate")) {
        return Ok(None);
    }
    if !has("email") && has("aaduserid") {
        return Err(crate::error::bad_file(
            path,
            1,
            "this Trainings report was downloaded without personal data (it has \
                      AADUserId and no Email column), so its trainings cannot be tied to \
                      people: download it again in Partner Center (Insights → Downloads → \
                      Trainings) signed in with the Executive report viewer role",
        ));
    }
    Ok(Some(Sniffed {
        delimiter,
        with_expiry: has("expirationdate"),
        encoding: source.encoding(),
    }))
}

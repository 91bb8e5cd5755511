//! Recognising a Partner Center Trainings report by its header line (CSV or TSV), and
//! refusing one downloaded without personal data.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};

use super::normalize_header;

/// What the header says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The field separator.
    pub delimiter: u8,
    /// The 2021+ layout, with `ExpirationDate`.
    pub with_expiry: bool,
}

/// Reads the header line of `path` and says whether it is a Trainings report (`None`: an
/// ordinary achievements CSV). A report without personal data is refused here.
pub fn sniff(path: &Path) -> Result<Option<Sniffed>> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // The header is short; a first line longer than this is not a report's header.
    let mut head = Vec::with_capacity(8192);
    (&mut file)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = if tsv || line.contains('\t') {
        b'\t'
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
    }))
}

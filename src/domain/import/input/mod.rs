//! Reading an import file: its encoding, BOM, header mapping, one reused record, raw row
//! bytes for the rejects file, and the "reading" phase of the import's progress.
//!
//! Invariants:
//! - **one text, UTF-8**: a file is read once into a [`Source`] of UTF-8 bytes before any
//!   row is looked at. UTF-8 (with or without BOM) is read in place after a check of the
//!   whole file; UTF-16 with a BOM (Excel's "Unicode text") and `--encoding
//!   utf-16|windows-1252` are decoded (by `encoding_rs`) into an unnamed temporary copy.
//!   Anything else is refused at its line with the fix, before any other message about the
//!   file's contents. Every pass over the file (the Trainings report's sniffing and date
//!   pre-scan, the import) shares that one source; rejected rows are copied from it, so a
//!   rejects file is UTF-8 whatever the input's encoding.
//! - **blank rows are no rows**: a line whose fields are all empty (Excel's `,,,`) is skipped
//!   like an empty line, never counted.
//!
//! Files: this one maps the header onto an import's columns and reads the rows; `source`
//! owns the encoding (the one UTF-8 [`Source`]); `row` one row's shape and fields.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use csv::ByteRecord;

use crate::domain::progress::{self, Progress, Reporter};

mod row;
mod source;

pub use row::Row;
pub(super) use row::trim_eol;
use row::unterminated_quote;
use source::SourceReader;
pub use source::{Encoding, Source};

/// A column an import understands: the field it fills and the normalized header names
/// that mean it.
pub struct Column {
    /// The field's name in messages.
    pub field: &'static str,
    /// Normalized header names (lower case, no spaces, `_` or `-`).
    pub names: &'static [&'static str],
}

/// Normalizes a header: lower case, without spaces, `_` and `-` (SPEC §6).
pub fn normalize_header(h: &str) -> String {
    h.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// An open import file.
pub struct Input {
    path: PathBuf,
    display: String,
    reader: csv::Reader<SourceReader<Arc<Source>>>,
    /// The text, to copy rejected rows byte for byte.
    raw: Arc<Source>,
    /// Bytes skipped before the CSV reader starts (a BOM).
    offset: u64,
    header_len: usize,
    header_line: u64,
    pub(super) header_raw: Vec<u8>,
    pub(super) eol: &'static [u8],
    /// The field separator: `,`, or a tab for a TSV file.
    pub(super) delimiter: u8,
    columns: Vec<Option<usize>>,
    ignored: Vec<String>,
    record: ByteRecord,
    progress: Reporter,
    /// The position last reported.
    reported: u64,
    since_tick: u32,
    /// The file's size in bytes (the BOM included).
    len: u64,
}

fn bad_file(path: &Path, line: u64, message: String) -> anyhow::Error {
    crate::error::bad_file(path, line, message)
}

impl Input {
    /// Opens the import's file whose first `required` columns must all be present; the
    /// error names the first one missing.
    pub fn open_requiring(
        opts: &super::Options,
        columns: &[Column],
        required: usize,
    ) -> Result<Input> {
        let input = Input::open(opts, columns)?;
        for (i, c) in columns.iter().enumerate().take(required) {
            if input.column(i).is_none() {
                return Err(input.missing(&format!("{:?}", c.field)));
            }
        }
        Ok(input)
    }

    /// Opens the import's file, reads its header and maps it onto `columns`; a column
    /// given twice or an empty file is an error naming the file and the header line.
    pub fn open(opts: &super::Options, columns: &[Column]) -> Result<Input> {
        Input::open_delimited(opts, columns, &opts.progress, b',')
    }

    /// [`Input::open`] for a file whose fields are separated by `delimiter` (a tab for TSV,
    /// `;` for European Excel), reporting to `progress`.
    pub fn open_delimited(
        opts: &super::Options,
        columns: &[Column],
        progress: &Reporter,
        delimiter: u8,
    ) -> Result<Input> {
        let path = &opts.file;
        let source = opts.source()?;
        let offset = source.offset;
        let len = source.len;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .delimiter(delimiter)
            // Records end at LF only: a CR/LF pair split between two records would put each
            // row's start (and line number) one byte early. The CR is stripped from the
            // last field instead (`Row::get`).
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(SourceReader {
                src: source.clone(),
                pos: offset,
            });
        let display = if path == Path::new("-") {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        let mut input = Input {
            path: path.to_path_buf(),
            display,
            reader,
            raw: source,
            offset,
            header_len: 0,
            header_line: 1,
            header_raw: Vec::new(),
            eol: b"\n",
            delimiter,
            columns: Vec::new(),
            ignored: Vec::new(),
            record: ByteRecord::new(),
            progress: progress.clone(),
            reported: 0,
            since_tick: 0,
            len,
        };
        input.read_header(columns)?;
        progress::phase(
            &*input.progress,
            &format!("reading {}", input.display),
            Some(len),
        )?;
        input.reported = input.reader.position().byte() + input.offset;
        input.progress.advance(input.reported);
        Ok(input)
    }

    fn read_header(&mut self, columns: &[Column]) -> Result<()> {
        let mut header = ByteRecord::new();
        let read = self
            .reader
            .read_byte_record(&mut header)
            .with_context(|| format!("cannot read {}", self.display))?;
        if !read {
            return Err(bad_file(
                &self.path,
                1,
                "the file is empty: a header row is required".into(),
            ));
        }
        let start = header.position().map_or(0, |p| p.byte());
        let end = self.reader.position().byte();
        self.header_line = header.position().map_or(1, |p| p.line());
        let raw = self.raw_bytes(start, end)?;
        if raw.ends_with(b"\r\n") {
            self.eol = b"\r\n";
        }
        self.header_raw = trim_eol(&raw).to_vec();
        self.header_len = header.len();
        let mut names = Vec::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            let h = std::str::from_utf8(h).map_err(|_| {
                bad_file(
                    &self.path,
                    self.header_line,
                    format!("header {} is not valid UTF-8", i + 1),
                )
            })?;
            names.push(h.trim().to_owned());
        }
        self.columns = vec![None; columns.len()];
        for (i, name) in names.iter().enumerate() {
            let norm = normalize_header(name);
            match columns
                .iter()
                .position(|c| c.names.contains(&norm.as_str()))
            {
                Some(c) => {
                    if let Some(prev) = self.columns[c] {
                        return Err(bad_file(
                            &self.path,
                            self.header_line,
                            format!(
                                "duplicate column {:?} (column {}): column {} {:?} is already the {}",
                                name,
                                i + 1,
                                prev + 1,
                                names[prev],
                                columns[c].field
                            ),
                        ));
                    }
                    self.columns[c] = Some(i);
                }
                None => self.ignored.push(name.clone()),
            }
        }
        Ok(())
    }

    /// The index of the file's column for `columns[i]` given at [`Input::open`].
    pub fn column(&self, i: usize) -> Option<usize> {
        self.columns[i]
    }

    /// An error for a missing required column, naming the file and header line.
    pub fn missing(&self, what: &str) -> anyhow::Error {
        bad_file(
            &self.path,
            self.header_line,
            format!(
                "missing required column {what} (the header is: {})",
                String::from_utf8_lossy(&self.header_raw)
            ),
        )
    }

    /// The file as displayed in messages.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Headers present but not used.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// The next data row, or `None` at the end. Blank rows (a CRLF line, Excel's `,,,`)
    /// are skipped, as the reader skips empty LF lines.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .with_context(|| format!("cannot read {}", self.display))?;
            if !more {
                return Ok(None);
            }
            if !self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                break;
            }
        }
        self.since_tick += 1;
        if self.since_tick == 4096 {
            self.since_tick = 0;
            let at = self.reader.position().byte() + self.offset;
            progress::advance(&*self.progress, at.saturating_sub(self.reported))?;
            self.reported = at;
        }
        let start = self.record.position().map_or(0, |p| p.byte());
        let end = self.reader.position().byte();
        // The CSV reader ends a quoted field at the end of the file without a word: only the
        // last record can run there, so only it is checked (SPEC §6: an error, FILE:LINE).
        let unterminated = end + self.offset >= self.len
            && unterminated_quote(&self.raw_bytes(start, end)?, self.delimiter);
        Ok(Some(Row {
            unterminated,
            record: &self.record,
            line: self.record.position().map_or(0, |p| p.line()),
            start,
            end,
            header_len: self.header_len,
        }))
    }

    /// The end of the "reading" phase: the rest of the file is reported read.
    pub fn finish(&mut self) {
        let at = self.reader.position().byte() + self.offset;
        self.progress.advance(at.saturating_sub(self.reported));
        self.reported = at;
    }

    /// Where the import reports its phases.
    pub fn progress(&self) -> &dyn Progress {
        &*self.progress
    }

    /// The bytes of the file between two reader positions.
    pub(super) fn raw_bytes(&self, start: u64, end: u64) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; (end - start) as usize];
        self.raw
            .file
            .read_exact_at(&mut buf, start + self.offset)
            .with_context(|| format!("cannot read {}", self.display))?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_normalize() {
        assert_eq!(normalize_header("E-Mail"), "email");
        assert_eq!(normalize_header("First_Name"), "firstname");
        assert_eq!(normalize_header(" Display Name "), "displayname");
    }
}

//! Reading an import file: BOM, header mapping, one reused record, raw row bytes for the
//! rejects file, and the "reading" phase of the import's progress.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use csv::ByteRecord;

use crate::domain::progress::{self, Progress, Reporter};

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
    reader: csv::Reader<File>,
    /// A second handle on the file, to copy rejected rows byte for byte.
    raw: File,
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
    /// Opens a file whose first `required` columns must all be present; the error names
    /// the first one missing.
    pub fn open_requiring(
        path: &Path,
        columns: &[Column],
        required: usize,
        progress: &Reporter,
    ) -> Result<Input> {
        let input = Input::open(path, columns, progress)?;
        for (i, c) in columns.iter().enumerate().take(required) {
            if input.column(i).is_none() {
                return Err(input.missing(&format!("{:?}", c.field)));
            }
        }
        Ok(input)
    }

    /// Opens `path`, reads its header and maps it onto `columns`; a column missing, a
    /// column given twice, an empty file or a header that is not UTF-8 is an error naming
    /// the file and the header line. Returns the input and, for each of `columns`, the
    /// index of the file's column.
    pub fn open(path: &Path, columns: &[Column], progress: &Reporter) -> Result<Input> {
        Input::open_delimited(path, columns, progress, b',')
    }

    /// [`Input::open`] for a file whose fields are separated by `delimiter` (a tab for TSV).
    pub fn open_delimited(
        path: &Path,
        columns: &[Column],
        progress: &Reporter,
        delimiter: u8,
    ) -> Result<Input> {
        let stdin = path == Path::new("-");
        let mut file = if stdin {
            spool_stdin()?
        } else {
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let mut bom = [0u8; 3];
        let n = file.read(&mut bom).unwrap_or(0);
        let offset = if n == 3 && bom == [0xEF, 0xBB, 0xBF] {
            3
        } else {
            0
        };
        file.seek(SeekFrom::Start(offset))
            .with_context(|| format!("cannot read {}", path.display()))?;
        // `raw` reads at absolute offsets (pread), so sharing the offset of `file` is fine.
        let raw = file
            .try_clone()
            .with_context(|| format!("cannot open {}", path.display()))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .delimiter(delimiter)
            // Records end at LF only: a CR/LF pair split between two records would put each
            // row's start (and line number) one byte early. The CR is stripped from the
            // last field instead (`Row::get`).
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(file);
        let display = if stdin {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        let mut input = Input {
            path: path.to_path_buf(),
            display,
            reader,
            raw,
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

    /// The next data row, or `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .with_context(|| format!("cannot read {}", self.display))?;
        if !more {
            return Ok(None);
        }
        if self.record.len() == 1 && self.record[0] == *b"\r" {
            // A blank CRLF line: skipped, as the reader skips blank LF lines.
            return self.next_row();
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
        let unterminated =
            end + self.offset >= self.len && unterminated_quote(&self.raw_bytes(start, end)?);
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
            .read_exact_at(&mut buf, start + self.offset)
            .with_context(|| format!("cannot read {}", self.display))?;
        Ok(buf)
    }
}

/// Without the line breaks the CSV reader counted into a record's span (a CR/LF pair may be
/// split between two records).
pub(super) fn trim_eol(mut b: &[u8]) -> &[u8] {
    while let [b'\r' | b'\n', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b'\r' | b'\n'] = b {
        b = rest;
    }
    b
}

/// Standard input copied to an unnamed private temporary file: an import reads its file
/// twice (the rows, then rejected rows byte for byte) and needs its size for the progress
/// bar. Streamed, so memory stays flat; the file is unlinked at once and vanishes on exit.
fn spool_stdin() -> Result<File> {
    let dir = std::env::temp_dir();
    let mut n = 0u32;
    let (path, mut file) = loop {
        let path = dir.join(format!(".competency-stdin-{}-{n}.csv", std::process::id()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => break (path, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => {
                return Err(anyhow!(
                    "cannot create a temporary file in {} for standard input: {e}",
                    dir.display()
                ));
            }
        }
    };
    let _ = std::fs::remove_file(&path);
    std::io::copy(&mut std::io::stdin().lock(), &mut file)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .with_context(|| format!("cannot copy standard input to {}", dir.display()))?;
    Ok(file)
}

/// Whether a record's raw bytes end inside a quoted field (a `"` opened and never closed),
/// following the CSV reader's rules: a quote opens a field only at its start, `""` inside
/// is an escaped quote.
fn unterminated_quote(raw: &[u8]) -> bool {
    #[derive(PartialEq)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::FieldStart;
    for &b in raw {
        s = match (s, b) {
            (S::FieldStart, b'"') => S::Quoted,
            (S::FieldStart | S::Unquoted | S::QuoteInQuoted, b',' | b'\n') => S::FieldStart,
            (S::FieldStart | S::Unquoted, _) => S::Unquoted,
            (S::Quoted, b'"') => S::QuoteInQuoted,
            (S::Quoted, _) => S::Quoted,
            (S::QuoteInQuoted, b'"') => S::Quoted,
            (S::QuoteInQuoted, _) => S::Unquoted,
        };
    }
    s == S::Quoted
}

/// One data row.
pub struct Row<'a> {
    /// The row's last field opens a quote the file never closes.
    unterminated: bool,
    record: &'a ByteRecord,
    line: u64,
    start: u64,
    end: u64,
    header_len: usize,
}

impl Row<'_> {
    /// The line the row starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The row's span in the file (reader positions).
    pub fn span(&self) -> (u64, u64) {
        (self.start, self.end)
    }

    /// Checks the row's shape: as many fields as the header, all UTF-8.
    pub fn check(&self) -> Result<(), String> {
        if self.unterminated {
            return Err("a quoted field opened on this line is never closed (a missing \")".into());
        }
        if self.record.len() != self.header_len {
            return Err(format!(
                "the row has {} fields; the header has {}",
                self.record.len(),
                self.header_len
            ));
        }
        for (i, f) in self.record.iter().enumerate() {
            if std::str::from_utf8(f).is_err() {
                return Err(format!("column {}: not valid UTF-8", i + 1));
            }
        }
        Ok(())
    }

    /// The field in file column `col` (empty when there is no such column); only call
    /// after [`Row::check`].
    pub fn get(&self, col: Option<usize>) -> &str {
        let Some(c) = col else { return "" };
        let mut b = self.record.get(c).unwrap_or_default();
        if c + 1 == self.record.len() {
            b = b.strip_suffix(b"\r").unwrap_or(b);
        }
        std::str::from_utf8(b).unwrap_or("")
    }

    /// The trimmed field, `None` when absent or blank.
    pub fn opt(&self, col: Option<usize>) -> Option<&str> {
        Some(self.get(col).trim()).filter(|s| !s.is_empty())
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

    #[test]
    fn unterminated_quotes_are_found() {
        for ok in [
            &b"a,b"[..],
            b"a,\"b\"\n",
            b"\"a\"\"b\",c",
            b"a,b\"c",
            b"\"x\ny\",z\r\n",
            b"\"\"",
        ] {
            assert!(!unterminated_quote(ok), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [&b"a,\"b"[..], b"\"a\"\"b", b"a,\"b\nc\n", b"\""] {
            assert!(
                unterminated_quote(bad),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn eol_trimmed_both_ends() {
        assert_eq!(trim_eol(b"\na,b\r\n"), b"a,b");
        assert_eq!(trim_eol(b"a,\"x\ny\""), b"a,\"x\ny\"");
    }
}

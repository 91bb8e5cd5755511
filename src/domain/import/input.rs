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

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The encodings an import reads without a BOM (`--encoding`); a BOM always decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// UTF-8 (the default): a file that is not is refused with its line.
    #[value(name = "utf-8")]
    Utf8,
    /// UTF-16, little-endian unless a BOM says otherwise (Excel's "Unicode text").
    #[value(name = "utf-16")]
    Utf16,
    /// Windows-1252: what Excel's "CSV (Comma delimited)" writes in Western Europe and the
    /// Americas.
    #[value(name = "windows-1252")]
    Windows1252,
}

/// An import file as UTF-8 text: the file itself, or its decoded copy.
pub struct Source {
    file: File,
    /// Bytes before the text (a UTF-8 BOM).
    offset: u64,
    /// The file's size in bytes (the BOM included).
    len: u64,
    /// The encoding read: `UTF-8`, `UTF-16LE`, `UTF-16BE` or `windows-1252`.
    encoding: &'static str,
}

impl Source {
    /// Opens `path` (`-`: standard input) and makes UTF-8 text of it: a BOM decides the
    /// encoding, else `encoding` (default UTF-8, checked through the whole file).
    pub fn open(path: &Path, encoding: Option<Encoding>) -> Result<Source> {
        let file = if path == Path::new("-") {
            spool_stdin()?
        } else {
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?
        };
        let mut head = [0u8; 3];
        let mut n = 0;
        while n < head.len() {
            match file.read_at(&mut head[n..], n as u64) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            }
        }
        let (enc, bom) = match encoding_rs::Encoding::for_bom(&head[..n]) {
            Some((enc, bom)) => (enc, bom as u64),
            None => match encoding {
                None | Some(Encoding::Utf8) => (encoding_rs::UTF_8, 0),
                Some(Encoding::Utf16) => (encoding_rs::UTF_16LE, 0),
                Some(Encoding::Windows1252) => (encoding_rs::WINDOWS_1252, 0),
            },
        };
        if enc == encoding_rs::UTF_8 {
            check_utf8(&file, bom, path)?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            return Ok(Source {
                file,
                offset: bom,
                len,
                encoding: enc.name(),
            });
        }
        let file = decode(&file, bom, enc, path)?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Source {
            file,
            offset: 0,
            len,
            encoding: enc.name(),
        })
    }

    /// The encoding read: `UTF-8`, `UTF-16LE`, `UTF-16BE` or `windows-1252`.
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// Up to `max` bytes of the text's start (for sniffing a header).
    pub fn head(&self, max: usize) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(max.min(8192));
        SourceReader {
            src: self,
            pos: self.offset,
        }
        .take(max as u64)
        .read_to_end(&mut buf)?;
        Ok(buf)
    }
}

/// Reads a [`Source`] from its own position (pread), so that several readers never share
/// a file offset.
struct SourceReader<S> {
    src: S,
    pos: u64,
}

impl<S: std::ops::Deref<Target = Source>> Read for SourceReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.src.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// What to do with a file that is not in the encoding it is read in.
const ENCODING_FIX: &str = "save it in Excel as \"CSV UTF-8\", or read it as it is with \
                            --encoding windows-1252 (Excel's \"CSV (Comma delimited)\")";

fn newlines(b: &[u8]) -> u64 {
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// The line of byte `at` of the file (counted from `from`).
fn line_at(file: &File, from: u64, at: u64, path: &Path) -> Result<u64> {
    let mut buf = vec![0u8; 1 << 16];
    let (mut pos, mut line) = (from, 1u64);
    while pos < at {
        let want = buf.len().min((at - pos) as usize);
        let n = file
            .read_at(&mut buf[..want], pos)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        line += newlines(&buf[..n]);
        pos += n as u64;
    }
    Ok(line)
}

/// Checks that the whole file from `from` on is UTF-8; the error names the line of the
/// first byte that is not, and the fix. (Lines are counted only then: the check of a good
/// file is one fast pass.)
fn check_utf8(file: &File, from: u64, path: &Path) -> Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    let (mut carry, mut pos) = (0usize, from);
    loop {
        let n = file
            .read_at(&mut buf[carry..], pos)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let start = pos - carry as u64;
        pos += n as u64;
        let filled = carry + n;
        carry = 0;
        if let Err(e) = std::str::from_utf8(&buf[..filled]) {
            let good = e.valid_up_to();
            if e.error_len().is_some() || n == 0 {
                let line = line_at(file, from, start + good as u64, path)?;
                return Err(bad_file(
                    path,
                    line,
                    format!(
                        "the file is not UTF-8 (byte 0x{:02X} on this line): {ENCODING_FIX}",
                        buf[good]
                    ),
                ));
            }
            // A character cut by the end of the buffer: read on after it.
            buf.copy_within(good..filled, 0);
            carry = filled - good;
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// Decodes the file from `from` on into an unnamed temporary UTF-8 copy; a malformed
/// sequence (possible in UTF-16) is refused with its line.
fn decode(
    file: &File,
    from: u64,
    enc: &'static encoding_rs::Encoding,
    path: &Path,
) -> Result<File> {
    let (dir, out) = anonymous_file()?;
    let io = |e: std::io::Error| {
        anyhow!(
            "cannot decode {} into {}: {e}",
            path.display(),
            dir.display()
        )
    };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut input = vec![0u8; 1 << 16];
    let mut output = vec![0u8; 1 << 18];
    let (mut pos, mut line) = (from, 1u64);
    loop {
        let n = file
            .read_at(&mut input, pos)
            .with_context(|| format!("cannot read {}", path.display()))?;
        pos += n as u64;
        let last = n == 0;
        let mut rest = &input[..n];
        loop {
            let (result, read, written) =
                decoder.decode_to_utf8_without_replacement(rest, &mut output, last);
            line += newlines(&output[..written]);
            out.write_all(&output[..written]).map_err(io)?;
            rest = &rest[read..];
            match result {
                encoding_rs::DecoderResult::InputEmpty => break,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(..) => {
                    return Err(bad_file(
                        path,
                        line,
                        format!(
                            "the file is not valid {} (read as such{}): {ENCODING_FIX}",
                            enc.name(),
                            if from > 0 {
                                " because it starts with its byte-order mark"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        }
        if last {
            break;
        }
    }
    let mut out = out.into_inner().map_err(|e| io(e.into_error()))?;
    out.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(out)
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

/// A new private file in the temporary folder, unlinked at once so that it vanishes on exit
/// (whatever ends the process); its folder, for messages.
fn anonymous_file() -> Result<(PathBuf, File)> {
    let dir = std::env::temp_dir();
    let mut n = 0u32;
    loop {
        let path = dir.join(format!(".competency-input-{}-{n}.csv", std::process::id()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok((dir, f));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => {
                return Err(anyhow!(
                    "cannot create a temporary file in {}: {e}",
                    dir.display()
                ));
            }
        }
    }
}

/// Standard input copied to an unnamed private temporary file: an import reads its file
/// more than once (the rows, then rejected rows byte for byte) and needs its size for the
/// progress bar. Streamed, so memory stays flat.
fn spool_stdin() -> Result<File> {
    let (dir, mut file) = anonymous_file()?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .with_context(|| format!("cannot copy standard input to {}", dir.display()))?;
    Ok(file)
}

/// Whether a record's raw bytes end inside a quoted field (a `"` opened and never closed),
/// following the CSV reader's rules: a quote opens a field only at its start, `""` inside
/// is an escaped quote.
fn unterminated_quote(raw: &[u8], delimiter: u8) -> bool {
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
            (S::FieldStart | S::Unquoted | S::QuoteInQuoted, b'\n') => S::FieldStart,
            (S::FieldStart | S::Unquoted | S::QuoteInQuoted, d) if d == delimiter => S::FieldStart,
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
            assert!(
                !unterminated_quote(ok, b','),
                "{:?}",
                String::from_utf8_lossy(ok)
            );
        }
        for bad in [&b"a,\"b"[..], b"\"a\"\"b", b"a,\"b\nc\n", b"\""] {
            assert!(
                unterminated_quote(bad, b','),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    fn file_of(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    #[test]
    fn utf8_is_checked_across_buffers_and_the_bad_line_named() {
        // "é" (2 bytes) cut by the 64 KiB buffer boundary, then a bad byte 3 lines later.
        let mut text = vec![b'a'; (1 << 16) - 1];
        text.extend("é\nx\ny\n".as_bytes());
        assert!(check_utf8(&file_of(&text), 0, Path::new("f.csv")).is_ok());
        text.extend(b"z\xE9z\n");
        let e = check_utf8(&file_of(&text), 0, Path::new("f.csv")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("f.csv:4: the file is not UTF-8 (byte 0xE9"),
            "{e}"
        );
        // A character cut by the end of the file.
        let e = check_utf8(&file_of(b"a,b\n\xC3"), 0, Path::new("f.csv")).unwrap_err();
        assert!(e.to_string().starts_with("f.csv:2:"), "{e}");
    }

    #[test]
    fn eol_trimmed_both_ends() {
        assert_eq!(trim_eol(b"\na,b\r\n"), b"a,b");
        assert_eq!(trim_eol(b"a,\"x\ny\""), b"a,\"x\ny\"");
    }
}

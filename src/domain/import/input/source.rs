//! An import file's encoding: the one [`Source`] of UTF-8 text every pass reads, made from
//! the file (checked through the whole file), from its decoded copy (UTF-16 with a BOM,
//! `--encoding utf-16|windows-1252`), or from standard input spooled to an unnamed file.
//!
//! Invariant: a file not in the encoding it is read in is refused at its line with the fix
//! (`ENCODING_FIX`) before any other message about its contents.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::bad_file;

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
    pub(super) file: File,
    /// Bytes before the text (a UTF-8 BOM).
    pub(super) offset: u64,
    /// The file's size in bytes (the BOM included).
    pub(super) len: u64,
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
pub(super) struct SourceReader<S> {
    pub(super) src: S,
    pub(super) pos: u64,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! The rejects file of `--skip-invalid`: the header with an `error` column, then every
//! rejected row byte for byte with its error.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::input::{Input, trim_eol};

/// The rejects file: the header with an `error` column, then every rejected row byte for
/// byte with its error. Created new (never over an existing file or through a link), mode
/// 0600 since rows carry personal data; deleted unless kept.
pub struct Rejects {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    header_written: bool,
    kept: bool,
}

impl Rejects {
    /// Creates the file (its path has passed `support::files::guard_output`).
    pub fn create(path: &Path) -> Result<Rejects> {
        let file = crate::support::files::create_private(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists
                || e.raw_os_error() == Some(libc::ELOOP)
            {
                anyhow!(
                    "the rejects file {} already exists (or is a link): choose another path \
                         with --rejects; nothing was changed",
                    path.display()
                )
            } else {
                anyhow!("cannot create the rejects file {}: {e}", path.display())
            }
        })?;
        Ok(Rejects {
            path: path.to_path_buf(),
            out: Some(BufWriter::with_capacity(1 << 16, file)),
            header_written: false,
            kept: false,
        })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the row between `start` and `end` of `input` with its error.
    pub fn write(&mut self, input: &Input, start: u64, end: u64, error: &str) -> Result<()> {
        let raw = input.raw_bytes(start, end)?;
        let out = self.out.as_mut().expect("rejects file open");
        let io = |e| anyhow!("cannot write the rejects file {}: {e}", self.path.display());
        if !self.header_written {
            out.write_all(&input.header_raw).map_err(io)?;
            out.write_all(&[input.delimiter]).map_err(io)?;
            out.write_all(b"error").map_err(io)?;
            out.write_all(input.eol).map_err(io)?;
            self.header_written = true;
        }
        out.write_all(trim_eol(&raw)).map_err(io)?;
        out.write_all(&[input.delimiter, b'"']).map_err(io)?;
        out.write_all(error.replace('"', "\"\"").as_bytes())
            .map_err(io)?;
        out.write_all(b"\"").map_err(io)?;
        out.write_all(input.eol).map_err(io)?;
        Ok(())
    }

    /// Flushes and syncs (before the transaction commits).
    pub fn sync(&mut self) -> Result<()> {
        let out = self.out.as_mut().expect("rejects file open");
        out.flush()
            .and_then(|()| out.get_ref().sync_all())
            .with_context(|| format!("cannot write the rejects file {}", self.path.display()))
    }

    /// Keeps the file; returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.kept = true;
        self.path.clone()
    }
}

impl Drop for Rejects {
    fn drop(&mut self) {
        self.out.take();
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

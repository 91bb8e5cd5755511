//! Files the tool writes besides the database: how they are created, named and kept.
//!
//! Promises, for every output file (credentials, rejects, backup, demo files, reports):
//! - it is created new (`O_CREAT|O_EXCL`, never over an existing file or through a link),
//!   with mode 0600;
//! - it is never the database or one of its `-wal`/`-shm`/`-journal` files, by name (after
//!   resolving the folder) or by identity (a hard link): [`refuse_database_path`];
//! - a default name is always free: `NAME.csv`, then `NAME-2.csv`, `NAME-3.csv`…
//!   ([`Dest::Free`]); an explicit path refuses an existing file;
//! - a file holding secrets is written to a temporary sibling and given its final name
//!   only once the transaction that issued them has committed ([`Staged`]); a temporary
//!   file left by a killed command is settled by the next one ([`leftovers`]): completed
//!   when its transaction committed, else removed (`credentials::settle_leftovers`).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::error::refused;

mod staged;
pub use staged::{Leftover, Staged, leftovers};

/// The suffix of temporary files; only files with it are ever removed as stale.
pub const TEMP_SUFFIX: &str = ".competency-tmp";

/// An empty temporary file younger than this is never treated as stale (its creator may
/// not have locked it yet).
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Where an output file goes.
#[derive(Debug, Clone)]
pub enum Dest {
    /// A path the user gave: refused if anything exists there.
    Exact(PathBuf),
    /// A default name: the first free one of `NAME.ext`, `NAME-2.ext`, `NAME-3.ext`…
    Free(PathBuf),
}

impl Dest {
    /// The path asked for (the first candidate of a default name).
    pub fn path(&self) -> &Path {
        match self {
            Dest::Exact(p) | Dest::Free(p) => p,
        }
    }

    /// The `n`-th candidate (1 is the path itself), `None` past the last.
    fn candidate(&self, n: u32) -> Option<PathBuf> {
        match self {
            Dest::Exact(p) => (n == 1).then(|| p.clone()),
            Dest::Free(p) if n == 1 => Some(p.clone()),
            Dest::Free(p) => (n <= 10_000).then(|| numbered(p, n)),
        }
    }
}

/// `dir/name.ext` → `dir/name-N.ext` (`name-N` without an extension).
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_os_string())
        .unwrap_or_default();
    let mut name = stem;
    name.push(format!("-{n}"));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

/// The folder a path is in (`.` for a bare name).
pub fn folder_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The database's own files: the file itself and the ones SQLite keeps beside it.
pub fn database_files(db: &Path) -> Vec<PathBuf> {
    let mut out = vec![db.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut s = db.as_os_str().to_os_string();
        s.push(suffix);
        out.push(PathBuf::from(s));
    }
    out
}

/// The path with its folder resolved (links, `..`) and its last component kept as given;
/// `None` when the folder does not exist.
fn resolved(path: &Path) -> Option<PathBuf> {
    let dir = fs::canonicalize(folder_of(path)).ok()?;
    Some(dir.join(path.file_name()?))
}

/// Refuses an output path that is the database or one of its `-wal`/`-shm`/`-journal`
/// files: by name once the folders are resolved, by identity (device and inode) when the
/// file exists (a hard link or a symbolic link to it). Every command that writes a file
/// calls it before creating anything.
pub fn refuse_database_path(dest: &Path, db: &Path) -> Result<()> {
    let is_db = || -> bool {
        let files = database_files(db);
        if let Some(d) = resolved(dest)
            && files
                .iter()
                .any(|f| resolved(f).as_deref() == Some(d.as_path()))
        {
            return true;
        }
        if let Ok(dm) = fs::metadata(dest) {
            return files.iter().any(|f| {
                fs::metadata(f).is_ok_and(|m| m.dev() == dm.dev() && m.ino() == dm.ino())
            });
        }
        false
    };
    if is_db() {
        return Err(refused(format!(
            "{} is the database {} or one of its files: choose another path; nothing was changed",
            dest.display(),
            db.display()
        )));
    }
    Ok(())
}

/// Creates a new file with mode 0600: never over an existing file, never through a link.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    // The umask may have removed bits the owner needs; never adds any for others.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Creates the missing folders of `dir` with mode 0700 whatever the umask; existing ones
/// are left as they are.
pub fn create_private_dirs(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dirs(parent)?;
    }
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot create the folder {}", dir.display())),
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create the folder {}", dir.display())),
    }
}

/// Creates a new private (0700) folder; refuses an existing one.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        create_private_dirs(parent)?;
    }
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .and_then(|()| fs::set_permissions(dir, fs::Permissions::from_mode(0o700)))
        .map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                refused(format!(
                    "{} already exists: choose a new path; nothing was changed",
                    dir.display()
                ))
            } else {
                anyhow!("cannot create the folder {}: {e}", dir.display())
            }
        })
}

/// True for the errors of `O_CREAT|O_EXCL|O_NOFOLLOW` on an existing file or link.
fn exists_error(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::AlreadyExists || e.raw_os_error() == Some(libc::ELOOP)
}

fn create_error(e: &std::io::Error, path: &Path, what: &str) -> anyhow::Error {
    if exists_error(e) {
        refused(format!(
            "{what} {} already exists (or is a link): choose another path; nothing was changed",
            path.display()
        ))
    } else {
        anyhow!("cannot create {what} {}: {}", path.display(), io_reason(e))
    }
}

/// A short reason for an I/O error: "the disk is full", "read-only file system", ….
pub fn io_reason(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ENOSPC) => "the disk is full".into(),
        Some(libc::EDQUOT) => "the disk quota is exceeded".into(),
        Some(libc::EROFS) => "read-only file system".into(),
        _ => e.to_string(),
    }
}

/// Syncs a folder, so a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the folder {}", dir.display()))
}

/// The temporary sibling of `path`: `.NAME.competency-tmp` in the same folder.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(TEMP_SUFFIX);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(
            numbered(Path::new("d/credentials-x.csv"), 2),
            PathBuf::from("d/credentials-x-2.csv")
        );
        assert_eq!(numbered(Path::new("plain"), 3), PathBuf::from("plain-3"));
    }

    #[test]
    fn the_database_and_its_side_files_are_refused_by_name_and_by_link() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        fs::write(&db, "x").unwrap();
        for f in database_files(&db) {
            assert!(refuse_database_path(&f, &db).is_err(), "{}", f.display());
        }
        // Through another spelling of the folder.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(refuse_database_path(&sub.join("../c.db-wal"), &db).is_err());
        // A hard link to the database.
        let hard = dir.path().join("h.csv");
        fs::hard_link(&db, &hard).unwrap();
        assert!(refuse_database_path(&hard, &db).is_err());
        assert!(refuse_database_path(&dir.path().join("other.csv"), &db).is_ok());
    }
}

//! Files the tool writes besides the database: how they are created, named and kept.
//!
//! Promises, for every output file (credentials, rejects, backup, copy target, demo files,
//! report, manual pages), with or without `--force`, all kept by one guard,
//! [`guard_output`], that every writer calls before creating anything:
//! - it is never the database or one of its `-wal`/`-shm`/`-journal` files, by name (after
//!   resolving the folder) or by identity (a hard or symbolic link);
//! - it is never anything but a new path or a regular file: a symbolic link is never
//!   followed, a FIFO never opened (so never waited on), a device, folder or socket never
//!   written;
//! - it is created new (`O_CREAT|O_EXCL|O_NOFOLLOW|O_NONBLOCK`, the descriptor checked to
//!   be a regular file), with mode 0600; `--force` replaces a regular file by renaming a
//!   new one over it ([`write_output`]), never by writing through the old name;
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

/// What an output path holds before anything is written there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing: the file will be new.
    Nothing,
    /// A regular file (not a link): `--force` may replace it by a rename, `copy` may open
    /// it as an empty database; every other writer refuses it when creating (`O_EXCL`).
    File,
}

/// The guard every output file passes before anything is created (credentials, rejects,
/// backup, copy target, report, manual pages, demo files), with or without `--force`:
/// - the database `db` and its `-wal`/`-shm`/`-journal` files are refused, by name once
///   the folders are resolved and by identity (device and inode: a hard or symbolic
///   link to one of them);
/// - anything but a new path or a regular file is refused: a symbolic link (never
///   followed), a folder, a FIFO (never opened, so never waited on), a device, a socket.
///
/// Looks with `lstat` only, opening nothing. What a creator opens afterwards is checked
/// again on the descriptor ([`create_private`]); a replacement is a rename over the name,
/// never a write through it ([`write_output`]).
pub fn guard_output(dest: &Path, db: &Path, what: &str) -> Result<Found> {
    if is_database_file(dest, db) {
        return Err(refused(format!(
            "{} is the database {} or one of its files: choose another path; nothing was changed",
            dest.display(),
            db.display()
        )));
    }
    match fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_file() => Ok(Found::File),
        Ok(m) => Err(refused(format!(
            "{what} {} is {}, not a regular file: choose another path; nothing was changed",
            dest.display(),
            kind_of(&m.file_type())
        ))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(Found::Nothing),
        // A path through a file (ENOTDIR) or a folder we may not read: creating will say.
        Err(_) => Ok(Found::Nothing),
    }
}

/// The kind of a file that is not a regular file, for messages.
fn kind_of(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Whether `dest` is the database or one of its side files: by name once the folders are
/// resolved, by identity when the file exists (a hard or symbolic link to it).
fn is_database_file(dest: &Path, db: &Path) -> bool {
    let files = database_files(db);
    if let Some(d) = resolved(dest)
        && files
            .iter()
            .any(|f| resolved(f).as_deref() == Some(d.as_path()))
    {
        return true;
    }
    if let Ok(dm) = fs::metadata(dest) {
        return files
            .iter()
            .any(|f| fs::metadata(f).is_ok_and(|m| m.dev() == dm.dev() && m.ino() == dm.ino()));
    }
    false
}

/// Writes `bytes` to an output `path` that [`guard_output`] let through, mode 0600 when
/// `private` (0644 less the umask for a public file: manual pages). A new path is created (`O_CREAT|O_EXCL`, never over a file or through a link); a regular
/// file there is replaced only when `replace` (`--force`): the bytes go to a new private
/// sibling renamed over it, so a reader never sees half a file and nothing is ever
/// written through the old name. On a failure nothing is left behind.
pub fn write_output(
    path: &Path,
    bytes: &[u8],
    replace: bool,
    private: bool,
    what: &str,
) -> Result<()> {
    if !replace {
        return write_new(path, bytes, private, what);
    }
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    write_new(&tmp, bytes, private, what)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow!(
            "cannot replace {what} {}: {}; nothing was changed",
            path.display(),
            io_reason(&e)
        )
    })
}

/// Creates `path` new and writes `bytes` to it; a failed write removes the partial file.
fn write_new(path: &Path, bytes: &[u8], private: bool, what: &str) -> Result<()> {
    use std::io::Write;
    let created = if private {
        create_private(path)
    } else {
        create_new(path, 0o644)
    };
    let mut f = created.map_err(|e| create_error(&e, path, what))?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        drop(f);
        let _ = fs::remove_file(path);
        return Err(anyhow!(
            "cannot write {what} {}: {}",
            path.display(),
            io_reason(&e)
        ));
    }
    Ok(())
}

/// Creates a new file with mode 0600: never over an existing file, never through a link.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let file = create_new(path, 0o600)?;
    // The umask may have removed bits the owner needs; never adds any for others.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// Creates a new file with `mode` (less the umask): never over an existing file, never
/// through a link. `O_NONBLOCK` and the check of the opened descriptor make sure that
/// whatever is at the path (a FIFO made between a check and the open, say) is never
/// waited on nor written.
fn create_new(path: &Path, mode: u32) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(std::io::Error::from(ErrorKind::AlreadyExists));
    }
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
            assert!(
                guard_output(&f, &db, "the file").is_err(),
                "{}",
                f.display()
            );
        }
        // Through another spelling of the folder.
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(guard_output(&sub.join("../c.db-wal"), &db, "the file").is_err());
        // A hard link to the database.
        let hard = dir.path().join("h.csv");
        fs::hard_link(&db, &hard).unwrap();
        assert!(guard_output(&hard, &db, "the file").is_err());
        // A symbolic link to it: named as the database, not merely as a link.
        let soft = dir.path().join("s.csv");
        std::os::unix::fs::symlink(&db, &soft).unwrap();
        let err = guard_output(&soft, &db, "the file")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is the database"), "{err}");
        assert_eq!(
            guard_output(&dir.path().join("other.csv"), &db, "the file").unwrap(),
            Found::Nothing
        );
    }

    #[test]
    fn only_a_new_path_or_a_regular_file_passes_the_guard() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let file = dir.path().join("f.html");
        fs::write(&file, "x").unwrap();
        assert_eq!(guard_output(&file, &db, "the file").unwrap(), Found::File);
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        for (path, kind) in [
            (fifo.as_path(), "FIFO"),
            (link.as_path(), "symbolic link"),
            (dangling.as_path(), "symbolic link"),
            (dir.path(), "folder"),
            (Path::new("/dev/null"), "device"),
        ] {
            let err = guard_output(path, &db, "the file").unwrap_err().to_string();
            assert!(err.contains(kind), "{}: {err}", path.display());
        }
        // Created new, never through what is there; a FIFO is never waited on.
        assert!(create_private(&fifo).is_err());
        assert!(write_output(&fifo, b"x", false, true, "the file").is_err());
        write_output(&file, b"new", true, true, "the file").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"new");
        assert_eq!(fs::metadata(&file).unwrap().mode() & 0o777, 0o600);
    }
}

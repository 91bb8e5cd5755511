//! SQLite's failures said as what the administrator can act on: a read-only folder or file,
//! a full disk ([`explain`]), a damaged file ([`is_damage`]).

use std::path::Path;

use rusqlite::ErrorCode;

use crate::store::sql;

/// SQLite's error code in an error's chain, if any.
fn sqlite_code(e: &anyhow::Error) -> Option<ErrorCode> {
    e.chain().find_map(|c| {
        c.downcast_ref::<rusqlite::Error>()
            .and_then(rusqlite::Error::sqlite_error_code)
            .or_else(|| {
                c.downcast_ref::<sql::Error>()
                    .and_then(sql::Error::sqlite_code)
            })
    })
}

/// True when SQLite says the file is damaged or not a database at all.
pub fn is_damage(e: &anyhow::Error) -> bool {
    matches!(
        sqlite_code(e),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    ) || e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::InvalidColumnType(..))
        ) || matches!(
            c.downcast_ref::<sql::Error>(),
            Some(sql::Error::Lite(rusqlite::Error::InvalidColumnType(..)) | sql::Error::Type(_))
        )
    })
}

/// Replaces SQLite's "attempt to write a readonly database" and "database or disk is full"
/// with what the administrator can act on: the folder or the file, and why.
pub fn explain(e: anyhow::Error, path: &Path) -> anyhow::Error {
    explain_with(e, path, |p: &Path| {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
            return true;
        };
        // SAFETY: a valid NUL-terminated path; access only reads it.
        unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
    })
}

/// [`explain`] with the question "can this process write there?" answered by `writable`.
pub(crate) fn explain_with(
    e: anyhow::Error,
    path: &Path,
    writable: impl Fn(&Path) -> bool,
) -> anyhow::Error {
    let code = sqlite_code(&e);
    let dir = crate::support::files::folder_of(path);
    match code {
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) if !writable(&dir) => anyhow::anyhow!(
            "cannot write in {}: read-only folder (the database needs to create its -wal and \
             -shm files there)",
            dir.display()
        ),
        Some(ErrorCode::ReadOnly) if !writable(path) => {
            anyhow::anyhow!("cannot write {}: read-only file", path.display())
        }
        Some(ErrorCode::ReadOnly) => anyhow::anyhow!(
            "cannot write the database {} (in {}): read-only",
            path.display(),
            dir.display()
        ),
        Some(ErrorCode::DiskFull) => anyhow::anyhow!(
            "cannot write the database {}: the disk is full",
            path.display()
        ),
        _ => e,
    }
}

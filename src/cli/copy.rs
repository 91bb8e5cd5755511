//! `copy --from SOURCE --to TARGET` (SPEC §10): every organization with its full history
//! into an empty database; and the shared pieces `backup` uses for a source that is not a
//! SQLite file.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use clap::Args;
use serde_json::json;

use super::Ctx;
use crate::domain::copy::{Copied, copy};
use crate::domain::progress::Progress;
use crate::output::{Report, Table};
use crate::store::Store;

/// `competency copy`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  competency copy --from ~/.local/share/competency/competency.db \
                        --to /srv/competency/copy.db"
)]
pub struct CopyArgs {
    /// The database to copy (it is only read, in one read transaction).
    #[arg(long, value_name = "PATH|URL")]
    pub from: PathBuf,
    /// The empty database to copy into: a new SQLite file is created (mode 0600).
    #[arg(long, value_name = "PATH|URL")]
    pub to: PathBuf,
}

/// Whether a `--db`/`--from`/`--to` value names a database server (a URL), not a file.
pub fn is_url(location: &Path) -> bool {
    let s = location.to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A database location as it may be printed: a URL without its password (SPEC §10).
pub fn shown(location: &Path) -> String {
    crate::store::shown_location(location)
}

/// Runs `copy`.
pub fn run(a: CopyArgs, ctx: &mut Ctx) -> Result<Report> {
    for location in [&a.from, &a.to] {
        if is_url(location) {
            crate::store::pg::refuse_password(&location.to_string_lossy())?;
        }
    }
    // The source first: a missing one is `no database at PATH`, and nothing is created.
    let mut source = Store::open(&a.from)?;
    let mut created = false;
    let mut target = if is_url(&a.to) {
        // An empty PostgreSQL database gets the schema; one with data is refused by the
        // copy's own check, inside its transaction.
        Store::create(&a.to)?
    } else {
        // A regular file may be there (an empty database, checked by the copy); the
        // source's own files, links, FIFOs, devices and folders never are.
        crate::support::files::guard_output(&a.to, &a.from, "the copy target")?;
        crate::support::files::create_private_dirs(&crate::support::files::folder_of(&a.to))?;
        // Created new and private (never through a link); an existing file must be an empty
        // competency database, which the copy checks inside its transaction.
        match crate::support::files::create_private(&a.to) {
            Ok(_) => created = true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(crate::error::refused(format!(
                    "{} is a symbolic link: give the path of the file itself",
                    a.to.display()
                )));
            }
            Err(e) => {
                return Err(anyhow!(
                    "cannot create {}: {}",
                    a.to.display(),
                    crate::support::files::io_reason(&e)
                ));
            }
        }
        match Store::create(&a.to) {
            Ok(s) => s,
            Err(e) => {
                if created {
                    remove_sqlite(&a.to);
                }
                return Err(e);
            }
        }
    };
    let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
    let copied = match copy(&mut source, &mut target, &*progress) {
        Ok(c) => c,
        Err(e) => {
            progress.finish();
            // A PostgreSQL target left as empty as it was found: the schema this command
            // created there goes too.
            if let Err(cleanup) = target.remove_created_schema() {
                crate::support::terminal::message(&format!(
                    "warning: the tables created in {} could not be removed: {cleanup:#}",
                    shown(&a.to)
                ));
            }
            drop(target);
            if created {
                remove_sqlite(&a.to);
            }
            return Err(e);
        }
    };
    Ok(report(&copied, &shown(&a.from), &shown(&a.to)))
}

/// Removes a SQLite file this command created, with its side files.
pub fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Copies `source` into the new, empty SQLite file `dest` (already created, mode 0600):
/// `backup` of a database that is not a SQLite file.
pub fn into_new_sqlite(source: &mut Store, dest: &Path, progress: &dyn Progress) -> Result<Copied> {
    let mut target = Store::create(dest)?;
    copy(source, &mut target, progress)
}

fn report(copied: &Copied, from: &str, to: &str) -> Report {
    let mut t = Table::new(&["table", "rows"]);
    let mut tables = serde_json::Map::new();
    for (table, n) in &copied.tables {
        t.row([table.to_string(), n.to_string()]);
        tables.insert(table.to_string(), json!(n));
    }
    Report::new(json!({
        "from": from,
        "to": to,
        "rows": copied.total(),
        "tables": tables,
    }))
    .text(format!(
        "Copied {} rows ({} tables, counts verified) from {from} to {to}",
        copied.total(),
        copied.tables.len()
    ))
    .table(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            shown(Path::new(
                "postgres://alice:s3cret@db.example.com:5432/competency"
            )),
            "postgres://alice@db.example.com:5432/competency"
        );
        assert_eq!(
            shown(Path::new("postgresql://alice:p%40ss@h/db?sslmode=require")),
            "postgresql://alice@h/db?sslmode=require"
        );
        assert_eq!(shown(Path::new("postgres://h/db")), "postgres://h/db");
        assert_eq!(shown(Path::new("/srv/a:b@c.db")), "/srv/a:b@c.db");
        assert!(is_url(Path::new("postgres://h/db")));
        assert!(!is_url(Path::new("/srv/copy.db")));
    }

    #[test]
    fn a_backup_by_copy_is_a_sqlite_file_with_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("backup.db");
        crate::support::files::create_private(&dest).unwrap();
        let mut source = Store::open_in_memory().unwrap();
        source
            .write(|db| {
                db.copy_inserter("orgs")?.insert(&[
                    7i64.into(),
                    "7".into(),
                    "Fabrikam".into(),
                    "fabrikam".into(),
                    "fabrikam.com".into(),
                    "developing".into(),
                    0i64.into(),
                    "".into(),
                    0i64.into(),
                    crate::store::copy::Value::Null,
                ])?;
                Ok(())
            })
            .unwrap();
        let copied = into_new_sqlite(&mut source, &dest, &crate::domain::progress::Silent).unwrap();
        assert_eq!(copied.total(), 1);
        let mut back = Store::open(&dest).unwrap();
        let n = back.read(|db| db.table_rows("orgs")).unwrap();
        assert_eq!(n, 1);
    }
}

//! `doctor` and `backup`: checking and copying the database.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use serde_json::json;

use super::Ctx;
use crate::domain::credentials::Settled;
use crate::output::{Report, Table};
use crate::rules::Rulebook;
use crate::store::schema;
use crate::support::terminal::message;

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

fn permissions(path: &Path) -> Option<Check> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if meta.file_type().is_symlink() {
        return Some(Check {
            name: "permissions",
            ok: false,
            detail: format!(
                "{} is a symbolic link: the database and its side files must be plain files",
                path.display()
            ),
        });
    }
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Some(Check {
            name: "owner",
            ok: false,
            detail: format!(
                "{} belongs to user id {}, not to the user running competency ({uid}): whoever \
                 owns it can change it; `chown` it to the administrator",
                path.display(),
                meta.uid()
            ),
        });
    }
    let m = meta.permissions().mode() & 0o777;
    Some(Check {
        name: "permissions",
        ok: m & 0o077 == 0,
        detail: if m & 0o077 == 0 {
            format!("{} is {:o}", path.display(), m)
        } else {
            format!(
                "{} is {:o}: others can read it; run `chmod 600 {}`",
                path.display(),
                m,
                path.display()
            )
        },
    })
}

/// The database's folder: writable by group or others, anyone there can replace or delete
/// the database and its side files.
fn folder(path: &Path) -> Option<Check> {
    let dir = crate::support::files::folder_of(path);
    let meta = std::fs::metadata(&dir).ok()?;
    let m = meta.permissions().mode() & 0o777;
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    // Its owner can replace the database: the running user or root (who can anyway).
    let owner_ok = meta.uid() == uid || meta.uid() == 0;
    let ok = m & 0o022 == 0 && owner_ok;
    Some(Check {
        name: "folder",
        ok,
        detail: if m & 0o022 != 0 {
            format!(
                "{} is {:o}: group or others can replace or delete the database; run `chmod \
                 go-w {}` or move the database to a private folder",
                dir.display(),
                m,
                dir.display()
            )
        } else if !owner_ok {
            format!(
                "{} belongs to user id {}, not to the user running competency ({uid})",
                dir.display(),
                meta.uid()
            )
        } else {
            format!("{} is {:o}", dir.display(), m)
        },
    })
}

/// Temporary credentials files left by killed commands, in the database's folder and the
/// current one (where credentials files go by default; on a PostgreSQL server only the
/// current one), settled by the database: completed when their accounts were committed,
/// removed when not; each said on stderr and in a check.
fn stale_files(path: &Path, server: bool, store: &mut crate::store::Store) -> Option<Check> {
    let mut dirs = Vec::new();
    if !server {
        dirs.push(crate::support::files::folder_of(path));
    }
    if let Ok(cwd) = std::env::current_dir()
        && dirs.first().and_then(|d| std::fs::canonicalize(d).ok())
            != std::fs::canonicalize(&cwd).ok()
    {
        dirs.push(cwd);
    }
    let found = dirs
        .iter()
        .flat_map(|d| crate::support::files::leftovers(d))
        .collect();
    let settled = match crate::domain::credentials::settle_leftovers(found, store) {
        Ok(s) => s,
        Err(e) => {
            return Some(Check {
                name: "temporary files",
                ok: false,
                detail: format!(
                    "temporary credentials files left as they are: cannot read the database \
                     to tell whether their accounts were created: {e:#}"
                ),
            });
        }
    };
    let list = |f: fn(&Settled) -> Option<String>| -> Vec<String> {
        settled.iter().filter_map(f).collect()
    };
    let recovered = list(|s| match s {
        Settled::Recovered(p) => Some(p.display().to_string()),
        _ => None,
    });
    let removed = list(|s| match s {
        Settled::Removed(p) => Some(p.display().to_string()),
        _ => None,
    });
    let left = list(|s| match s {
        Settled::Left(..) => Some(s.message()),
        _ => None,
    });
    for s in &settled {
        if matches!(s, Settled::Recovered(_)) {
            message(&s.message());
        }
    }
    let mut detail = Vec::new();
    if !recovered.is_empty() {
        detail.push(format!(
            "recovered credentials file {} from an interrupted run (its accounts were created)",
            recovered.join(", ")
        ));
    }
    if !removed.is_empty() {
        detail.push(format!(
            "removed {} left by an interrupted command (its passwords were never handed out): {}",
            if removed.len() == 1 {
                "a temporary credentials file".to_owned()
            } else {
                format!("{} temporary credentials files", removed.len())
            },
            removed.join(", ")
        ));
    }
    detail.extend(left);
    (!detail.is_empty()).then(|| Check {
        name: "temporary files",
        ok: true,
        detail: detail.join("; "),
    })
}

/// What to do about a damaged file.
const RESTORE: &str = "restore a backup: `competency backup` copies taken earlier";

use crate::store::is_damage;

fn integrity(store: &crate::store::Store) -> Result<Vec<String>> {
    store.integrity_check()
}

/// Runs `doctor`: integrity, foreign keys, schema version, permissions, rulebooks. A check
/// that cannot even run (a damaged page answers with an error) is a failed check, so every
/// problem is reported with what to do.
pub fn doctor(ctx: &mut Ctx) -> Result<Report> {
    let path = ctx.db_path().to_path_buf();
    let server = crate::store::pg::is_url(&path.to_string_lossy());
    if !server && path.symlink_metadata().is_err() {
        return Err(crate::store::no_database(&path));
    }
    let mut checks = Vec::new();
    if !server {
        for suffix in ["", "-wal", "-shm"] {
            if let Some(c) = permissions(&PathBuf::from(format!("{}{suffix}", path.display()))) {
                checks.push(c);
            }
        }
        checks.extend(folder(&path));
    }
    let store = match ctx.store() {
        Ok(store) => store,
        Err(e) if is_damage(&e) => {
            return Err(e.context(format!(
                "{} is damaged or is not a competency database; {RESTORE}",
                crate::store::shown_location(&path)
            )));
        }
        Err(e) => return Err(e),
    };
    if let Some(url) = store.url() {
        checks.push(Check {
            name: "connection",
            ok: true,
            detail: format!("connected to {url}"),
        });
        let tls = store.tls_in_use();
        checks.push(Check {
            name: "tls",
            ok: tls.is_ok(),
            detail: match tls {
                Ok(Some(true)) => "in use".to_owned(),
                Ok(_) => "not in use: the connection is not encrypted (add ?sslmode=require or \
                          verify-full to the URL when the server is not on this machine)"
                    .to_owned(),
                Err(e) => format!("{e:#}"),
            },
        });
    }
    // Only the database can tell a leftover whose accounts exist from one whose do not.
    checks.extend(stale_files(&path, server, store));
    let failed_to_run = |e: anyhow::Error| {
        if is_damage(&e) {
            format!("{e:#} ({RESTORE})")
        } else {
            format!("{e:#}")
        }
    };
    let (ok, detail) = match integrity(store) {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => (true, "ok".to_owned()),
        Ok(lines) => (false, format!("{} ({RESTORE})", lines.join("; "))),
        Err(e) => (false, failed_to_run(e)),
    };
    checks.push(Check {
        name: "integrity",
        ok,
        detail,
    });
    let fk = store.foreign_key_violations();
    checks.push(match fk {
        Ok(0) => Check {
            name: "foreign keys",
            ok: true,
            detail: "ok".into(),
        },
        Ok(n) => Check {
            name: "foreign keys",
            ok: false,
            detail: format!("{n} rows point at missing rows ({RESTORE})"),
        },
        Err(e) => Check {
            name: "foreign keys",
            ok: false,
            detail: failed_to_run(e),
        },
    });
    let v = store.schema_version()?;
    checks.push(Check {
        name: "schema version",
        ok: v == schema::current_version(),
        detail: format!("{v} (this binary: {})", schema::current_version()),
    });
    let books = store.read(|db| {
        let mut out = Vec::new();
        for org in db.orgs()? {
            let src = db.rulebook_source(org.id)?;
            let parsed = Rulebook::parse(&src, &format!("the rulebook of {}", org.slug));
            let newer = parsed
                .as_ref()
                .ok()
                .and_then(crate::domain::rulebooks::embedded_newer);
            out.push((org.slug.clone(), parsed.err(), newer));
        }
        Ok(out)
    });
    match books {
        Ok(books) => {
            for (slug, err, newer) in books {
                if let Some(note) = newer {
                    // Informational: a stored rulebook is kept on purpose until imported.
                    checks.push(Check {
                        name: "rulebook edition",
                        ok: true,
                        detail: format!("{slug}: {note}"),
                    });
                }
                checks.push(Check {
                    name: "rulebook",
                    ok: err.is_none(),
                    detail: match err {
                        None => format!("{slug}: valid"),
                        Some(e) => format!(
                            "{e:#} (fix it and run `competency --org {slug} rules import FILE`)"
                        ),
                    },
                });
            }
        }
        Err(e) => checks.push(Check {
            name: "rulebook",
            ok: false,
            detail: format!("cannot read the organizations: {}", failed_to_run(e)),
        }),
    }
    let mut t = Table::new(&["Check", "Status", "Detail"]);
    let mut j = Vec::new();
    for c in &checks {
        t.row([
            c.name.to_owned(),
            if c.ok { "ok" } else { "FAILED" }.to_owned(),
            c.detail.clone(),
        ]);
        j.push(json!({"check": c.name, "ok": c.ok, "detail": c.detail}));
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    let report = Report::new(json!({"ok": failed == 0, "checks": j})).table(t);
    if failed > 0 {
        let lines: Vec<String> = checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        crate::output::render(&report, ctx.style, &mut std::io::stdout())?;
        return Err(anyhow!(
            "doctor found {failed} problem(s): {}",
            lines.join("; ")
        ));
    }
    Ok(report)
}

/// Runs `backup PATH`: SQLite's online backup into a new file of mode 0600.
pub fn backup(ctx: &mut Ctx, dest: &Path) -> Result<Report> {
    // The source first: a missing database is an error that leaves nothing behind.
    ctx.store()?;
    crate::support::files::guard_output(dest, ctx.db_path(), "the backup")?;
    // Created new and private, so the copy is never readable by others, never written over
    // an existing file and never through a link.
    crate::support::files::create_private(dest).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists || e.raw_os_error() == Some(libc::ELOOP) {
            anyhow!(
                "{} already exists: choose a new path for the backup",
                dest.display()
            )
        } else {
            anyhow!(
                "cannot create {}: {}",
                dest.display(),
                crate::support::files::io_reason(&e)
            )
        }
    })?;
    let result = (|| -> Result<()> {
        let progress = super::progress::reporter(ctx.quiet, ctx.style.format);
        let store = ctx.store()?;
        if store.is_postgres() {
            // No file to copy page by page: the copy machinery reads the database in one
            // snapshot transaction into the new SQLite file.
            return super::copy::into_new_sqlite(store, dest, &*progress).map(|_| ());
        }
        store.backup_to(dest)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(dest);
        return Err(e.context(format!(
            "backup to {} failed; nothing was left behind",
            dest.display()
        )));
    }
    let size = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    Ok(
        Report::new(json!({"backup": dest.display().to_string(), "bytes": size})).text(format!(
            "Backed up {} to {} ({} bytes)",
            super::copy::shown(ctx.db_path()),
            dest.display(),
            size
        )),
    )
}

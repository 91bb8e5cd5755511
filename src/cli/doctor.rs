//! `doctor` and `backup`: checking and copying the database.

use std::fs::OpenOptions;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde_json::json;

use super::Ctx;
use crate::output::{Report, Table};
use crate::rules::Rulebook;
use crate::store::schema;

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

fn permissions(path: &Path) -> Option<Check> {
    let meta = std::fs::metadata(path).ok()?;
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

/// What to do about a damaged file.
const RESTORE: &str = "restore a backup: `competency backup` copies taken earlier";

/// True when SQLite says the file is damaged or not a database at all.
fn is_damage(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<rusqlite::Error>().is_some_and(|e| {
            matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ) || matches!(e, rusqlite::Error::InvalidColumnType(..))
        })
    })
}

fn integrity(store: &crate::store::Store) -> Result<Vec<String>> {
    Ok(store
        .connection()
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Runs `doctor`: integrity, foreign keys, schema version, permissions, rulebooks. A check
/// that cannot even run (a damaged page answers with an error) is a failed check, so every
/// problem is reported with what to do.
pub fn doctor(ctx: &mut Ctx) -> Result<Report> {
    let path = ctx.db_path().to_path_buf();
    if !path.exists() {
        return Err(crate::error::not_found(format!(
            "no database at {}: create it with `competency init`",
            path.display()
        )));
    }
    let mut checks = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Some(c) = permissions(&PathBuf::from(format!("{}{suffix}", path.display()))) {
            checks.push(c);
        }
    }
    let store = match ctx.store() {
        Ok(store) => store,
        Err(e) if is_damage(&e) => {
            return Err(e.context(format!(
                "{} is damaged or is not a competency database; {RESTORE}",
                path.display()
            )));
        }
        Err(e) => return Err(e),
    };
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
    let fk = store
        .connection()
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(anyhow::Error::from);
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
            out.push((
                org.slug.clone(),
                Rulebook::parse(&src, &format!("the rulebook of {}", org.slug)).err(),
            ));
        }
        Ok(out)
    });
    match books {
        Ok(books) => {
            for (slug, err) in books {
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
    // Created first, new and private, so the copy is never readable by others, never
    // written over an existing file and never through a link.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!(
                    "{} already exists: choose a new path for the backup",
                    dest.display()
                )
            } else {
                anyhow!("cannot create {}: {e}", dest.display())
            }
        })?;
    let result = (|| -> Result<()> {
        let store = ctx.store()?;
        let mut dst = rusqlite::Connection::open(dest)?;
        let backup = rusqlite::backup::Backup::new(store.connection(), &mut dst)?;
        // Small steps with pauses let other processes keep writing during a long copy.
        backup
            .run_to_completion(256, std::time::Duration::from_millis(5), None)
            .context("the backup did not complete")?;
        drop(backup);
        let ok: String = dst.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if ok != "ok" {
            return Err(anyhow!("the copy failed its integrity check: {ok}"));
        }
        Ok(())
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
            ctx.db_path().display(),
            dest.display(),
            size
        )),
    )
}

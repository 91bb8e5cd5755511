//! The credentials file, and settling the ones killed commands left behind.
//!
//! Invariants: a secret is written only to the credentials file (mode 0600, created new,
//! never over an existing file or through a link) and is stored only as a hash. Generating
//! and hashing secrets is `support::secrets`; the policy for chosen passwords is `auth`.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use crate::store::{Db, Store};
use crate::support::files::{Dest, Leftover, Staged, folder_of, leftovers};
use chrono::{DateTime, Duration, Utc};

use crate::support::clock::rfc3339;
use crate::support::terminal::message;

/// How long a temporary password is valid.
pub const TEMPORARY_VALIDITY_DAYS: i64 = 90;

/// Generating and hashing secrets, formerly here.
pub use crate::support::secrets::{OsRandom, hash_chosen, hash_generated, normalize_code, verify};

/// When a temporary password issued at `at` expires: at the latest the program's last
/// instant (never `+10000-…` in the credentials file).
pub fn temporary_expiry(at: DateTime<Utc>) -> DateTime<Utc> {
    let last = crate::support::clock::last_instant();
    at.checked_add_signed(Duration::days(TEMPORARY_VALIDITY_DAYS))
        .map_or(last, |t| t.min(last))
}

/// The default credentials file name: `credentials-<UTC timestamp>.csv`, then `-2`, `-3`…
/// when taken.
pub fn default_path(at: DateTime<Utc>) -> Dest {
    Dest::Free(PathBuf::from(format!(
        "credentials-{}.csv",
        at.format("%Y%m%dT%H%M%SZ")
    )))
}

/// The credentials file: `explicit` (refused if it exists), else the default name.
pub fn destination(explicit: Option<PathBuf>, at: DateTime<Utc>) -> Dest {
    explicit.map_or_else(|| default_path(at), Dest::Exact)
}

/// One line of the credentials file.
pub struct Issued<'a> {
    /// User name.
    pub username: &'a str,
    /// E-mail.
    pub email: &'a str,
    /// The temporary password.
    pub password: &'a str,
    /// Its expiry.
    pub expires: DateTime<Utc>,
    /// The recovery code, for self-service reset accounts.
    pub recovery_code: Option<&'a str>,
}

/// What became of a temporary credentials file left by a killed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Its transaction had committed (the accounts exist with its passwords): it was
    /// given its final name, or the next free numbered one. The path is the final one.
    Recovered(PathBuf),
    /// Its transaction had not committed (no account has its passwords): deleted.
    Removed(PathBuf),
    /// Its accounts are not in this database (another database's file, or unreadable):
    /// left as it is, with why.
    Left(PathBuf, String),
}

impl Settled {
    /// The line a command prints on stderr about it.
    pub fn message(&self) -> String {
        match self {
            Settled::Recovered(p) => format!(
                "recovered credentials file {} from an interrupted run",
                p.display()
            ),
            Settled::Removed(p) => format!(
                "removed the temporary credentials file {} of an interrupted run (its accounts \
                 were never created)",
                p.display()
            ),
            Settled::Left(p, why) => format!(
                "left the temporary credentials file {} of an interrupted run: {why}",
                p.display()
            ),
        }
    }
}

/// Whether a leftover's transaction committed, as the database says.
enum Verdict {
    Committed,
    NotCommitted,
    Unknown(String),
}

/// Decides by the database: the file's accounts were committed when one of its temporary
/// passwords verifies against the stored hash of its user name (a password of 117 random
/// bits cannot match an account that another transaction created). None matching, the
/// file is this database's (its user names are in one of this database's organization
/// domains) and did not commit; or it is another database's, and is left alone.
fn verdict(file: &File, db: &Db) -> Result<Verdict> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(file));
    let Ok(header) = r.headers().cloned() else {
        return Ok(Verdict::NotCommitted);
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(user), Some(password)) = (col("username"), col("temporary_password")) else {
        if header.is_empty() {
            return Ok(Verdict::NotCommitted);
        }
        return Ok(Verdict::Unknown("it is not a credentials file".into()));
    };
    let domains: Vec<String> = db.orgs()?.into_iter().map(|o| o.domain).collect();
    let (mut rows, mut ours) = (0u64, false);
    for rec in r.records() {
        // A command killed mid-write leaves a cut last line: skip what does not parse.
        let Ok(rec) = rec else { continue };
        let (Some(u), Some(p)) = (rec.get(user), rec.get(password)) else {
            continue;
        };
        rows += 1;
        ours |= u
            .rsplit_once('@')
            .is_some_and(|(_, d)| domains.iter().any(|x| x == d));
        // Temporary passwords are stored as `sha256$…`; an account whose password was
        // chosen since (argon2) cannot tell, and costs no slow hash here.
        if let Some(h) = db.password_hash_of(u)?
            && h.starts_with("sha256$")
            && verify(p, &h)
        {
            return Ok(Verdict::Committed);
        }
    }
    Ok(if ours || rows == 0 {
        Verdict::NotCommitted
    } else {
        Verdict::Unknown("its accounts are not in this database".into())
    })
}

/// Settles temporary credentials files left by killed commands, deciding by the database
/// (read in one transaction): a committed one is completed under its final name, an
/// uncommitted one deleted, another database's one left. Each file stays locked until it
/// is settled, so two commands never decide about the same file.
pub fn settle_leftovers(found: Vec<Leftover>, store: &mut Store) -> Result<Vec<Settled>> {
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let decide = |db: &Db| {
        found
            .iter()
            .map(|l| verdict(l.file(), db))
            .collect::<Result<Vec<_>>>()
    };
    // On PostgreSQL a file may be that of a command whose connection was lost during its
    // commit, while its session still runs on the server: the write lock is taken first,
    // so the verdict waits until that session has committed or rolled back.
    let verdicts = if store.is_postgres() {
        store.write_or_rollback(|db| Ok((decide(db)?, false)))?
    } else {
        store.read(decide)?
    };
    let mut out = Vec::new();
    for (l, v) in found.into_iter().zip(verdicts) {
        let temp = l.path().to_path_buf();
        out.push(match v {
            Verdict::Committed => match l.complete() {
                Ok(p) => Settled::Recovered(p),
                Err(e) => Settled::Left(temp, format!("its accounts exist, but {e:#}")),
            },
            Verdict::NotCommitted => match l.remove() {
                Ok(p) => Settled::Removed(p),
                Err(e) => Settled::Left(temp, format!("{e:#}")),
            },
            Verdict::Unknown(why) => Settled::Left(temp, why),
        });
    }
    Ok(out)
}

/// Before a command writes a credentials file into `dir`: settles the temporary files
/// killed commands left there, against the database at `db` (opened only when there is
/// one), and says on stderr what was recovered or could not be settled. Never fails the
/// command: a file that cannot be decided is left in place.
fn settle_before_writing(dir: &Path, db: &Path) {
    let found = leftovers(dir);
    if found.is_empty() {
        return;
    }
    let settled = Store::open(db).and_then(|mut store| settle_leftovers(found, &mut store));
    match settled {
        Ok(settled) => {
            for s in settled.iter().filter(|s| !matches!(s, Settled::Removed(_))) {
                match s {
                    Settled::Recovered(_) => message(&s.message()),
                    _ => message(&format!("warning: {}", s.message())),
                }
            }
        }
        Err(e) => message(&format!(
            "warning: temporary credentials files in {} left as they are: cannot read the \
             database to settle them: {e:#}",
            dir.display()
        )),
    }
}

/// The hidden test hook `COMPETENCY_TEST_PAUSE_AFTER_COMMIT=FILE`: once the transaction
/// committed and before the credentials file is named, create FILE and wait (at most a
/// minute), so a test can kill the command at exactly that point.
fn test_pause_after_commit() {
    if let Some(marker) = crate::support::hooks::var("PAUSE_AFTER_COMMIT") {
        let _ = File::create(marker);
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// The credentials file being written: CSV `username,email,temporary_password,expires`
/// (plus `recovery_code` when any account has self-service reset), mode 0600. It is
/// written to a temporary sibling and takes its final name only in [`CredentialsFile::keep`],
/// after the commit: a command killed before that leaves no credentials file for accounts
/// that do not exist (the next run removes the temporary file), and one killed after the
/// commit loses no password (the next run, or `doctor`, gives the file its name).
pub struct CredentialsFile {
    staged: Option<Staged>,
    out: Option<csv::Writer<BufWriter<File>>>,
    with_recovery: bool,
    count: u64,
}

impl CredentialsFile {
    /// Creates the file: never over an existing file, never through a symbolic link, never
    /// the database `db` or its side files, readable by its owner only. A [`Dest::Free`]
    /// default name takes `-2`, `-3`… when taken.
    ///
    /// Temporary files that killed commands left in the same folder are settled first,
    /// by the database: completed when their accounts were committed (said on stderr),
    /// removed when not.
    pub fn create(dest: Dest, db: &Path, with_recovery: bool) -> Result<CredentialsFile> {
        settle_before_writing(&folder_of(dest.path()), db);
        let staged = Staged::create(dest, db, "the credentials file")?;
        let file = staged
            .file()
            .try_clone()
            .with_context(|| format!("cannot write {}", staged.temp().display()))?;
        let mut out = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        let mut header = vec!["username", "email", "temporary_password", "expires"];
        if with_recovery {
            header.push("recovery_code");
        }
        let mut c = CredentialsFile {
            staged: Some(staged),
            out: None,
            with_recovery,
            count: 0,
        };
        out.write_record(&header).map_err(|e| c.io_error(e))?;
        c.out = Some(out);
        Ok(c)
    }

    fn io_error(&self, e: impl Into<std::io::Error>) -> anyhow::Error {
        let e = e.into();
        anyhow!(
            "cannot write the credentials file {}: {}",
            self.staged
                .as_ref()
                .map_or_else(String::new, |s| s.path().display().to_string()),
            crate::support::files::io_reason(&e)
        )
    }

    /// The path (the final name foreseen).
    pub fn path(&self) -> &Path {
        self.staged.as_ref().expect("credentials file open").path()
    }

    /// How many lines were written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes one account's credentials.
    pub fn write(&mut self, i: &Issued) -> Result<()> {
        let expires = rfc3339(i.expires);
        let out = self
            .out
            .as_mut()
            .expect("credentials file already finished");
        let r = if self.with_recovery {
            out.write_record([
                i.username,
                i.email,
                i.password,
                &expires,
                i.recovery_code.unwrap_or(""),
            ])
        } else {
            out.write_record([i.username, i.email, i.password, &expires])
        };
        r.map_err(|e| self.io_error(e))?;
        self.count += 1;
        Ok(())
    }

    /// Flushes and syncs the file to disk. Call it inside the transaction, before the
    /// commit: once the accounts exist, their passwords must already be safe on disk.
    pub fn sync(&mut self) -> Result<()> {
        let out = self.out.as_mut().expect("credentials file already kept");
        let r = out
            .flush()
            .and_then(|()| out.get_ref().get_ref().sync_all());
        r.map_err(|e| self.io_error(e))
    }

    /// Gives the file its final name (the transaction committed); returns its path. The
    /// final name can differ from [`CredentialsFile::path`] only for a default name that
    /// another command took meanwhile.
    pub fn keep(mut self) -> Result<PathBuf> {
        test_pause_after_commit();
        self.out.take();
        let staged = self.staged.take().expect("credentials file open");
        staged
            .keep()
            .context("the accounts were created but their credentials file could not be named")
    }

    /// After the command's transaction failed with `e`: when its outcome is unknown (the
    /// connection was lost during the commit, `store::pg::OutcomeUnknown`) the file stays
    /// under its temporary name, synced, for `doctor` (or the next command writing
    /// credentials in its folder) to settle by the database: named if the accounts exist,
    /// removed if not. Otherwise it is deleted as the transaction rolled back. Returns the
    /// error to report, which then says where the file is.
    pub fn after_failure(mut self, e: anyhow::Error) -> anyhow::Error {
        if !crate::store::pg::outcome_unknown(&e) {
            return e;
        }
        self.out.take();
        let Some(staged) = self.staged.take() else {
            return e;
        };
        let temp = staged.leave();
        e.context(format!(
            "the accounts may have been created (their credentials file is kept at {})",
            temp.display()
        ))
    }

    /// Discards the file explicitly (nothing was issued).
    pub fn discard(self) {}
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_file_refuses_existing_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let existing = dir.path().join("c.csv");
        std::fs::write(&existing, "x").unwrap();
        assert!(CredentialsFile::create(Dest::Exact(existing.clone()), &db, false).is_err());
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "x");
        let link = dir.path().join("l.csv");
        std::os::unix::fs::symlink(dir.path().join("target.csv"), &link).unwrap();
        assert!(CredentialsFile::create(Dest::Exact(link), &db, false).is_err());
        assert!(!dir.path().join("target.csv").exists());
    }
}

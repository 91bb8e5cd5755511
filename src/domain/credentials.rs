//! Secrets: temporary passwords, recovery codes, password hashing and the credentials file.
//!
//! Invariants: every secret comes from the OS random source; a secret is written only to
//! the credentials file (mode 0600, created new, never over an existing file or through a
//! link) and is stored only as a hash. Temporary passwords and recovery codes carry over
//! 90 bits of entropy, so a fast SHA-256 is enough to store them (no dictionary to attack)
//! and bulk imports of a million users stay fast; passwords people choose are hashed with
//! argon2id.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use crate::store::{Db, Store};
use crate::support::files::{Dest, Leftover, Staged, folder_of, leftovers};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::support::clock::rfc3339;

/// How long a temporary password is valid.
pub const TEMPORARY_VALIDITY_DAYS: i64 = 90;
/// Length of generated temporary passwords.
pub const TEMPORARY_LENGTH: usize = 20;
/// Minimum length of a password an employee chooses.
pub const MIN_PASSWORD_LENGTH: usize = 12;

/// Characters of temporary passwords: no look-alikes (0/O, 1/l/I), so they can be typed.
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
/// Characters of recovery codes: upper case and digits without look-alikes (32 symbols).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A buffered reader of the OS random source: one system call per 4 KiB, not per secret.
pub struct OsRandom {
    buf: [u8; 4096],
    pos: usize,
}

impl Default for OsRandom {
    fn default() -> Self {
        OsRandom {
            buf: [0; 4096],
            pos: 4096,
        }
    }
}

impl OsRandom {
    /// A new reader.
    pub fn new() -> Self {
        Self::default()
    }

    fn byte(&mut self) -> Result<u8> {
        if self.pos == self.buf.len() {
            getrandom::fill(&mut self.buf)
                .map_err(|e| anyhow!("cannot read the OS random source: {e}"))?;
            self.pos = 0;
        }
        self.pos += 1;
        Ok(self.buf[self.pos - 1])
    }

    /// A uniformly random string of `len` symbols from `alphabet` (rejection sampling, so
    /// no symbol is more likely than another).
    fn string(&mut self, alphabet: &[u8], len: usize) -> Result<String> {
        let n = alphabet.len();
        let limit = 256 - 256 % n;
        let mut out = String::with_capacity(len);
        while out.len() < len {
            let b = usize::from(self.byte()?);
            if b < limit {
                out.push(char::from(alphabet[b % n]));
            }
        }
        Ok(out)
    }

    /// A temporary password: 20 symbols from 57, about 117 bits.
    pub fn temporary_password(&mut self) -> Result<String> {
        self.string(PASSWORD_ALPHABET, TEMPORARY_LENGTH)
    }

    /// A one-time recovery code: 25 symbols from 32 (125 bits), in groups of five.
    pub fn recovery_code(&mut self) -> Result<String> {
        let raw = self.string(CODE_ALPHABET, 25)?;
        Ok(raw
            .as_bytes()
            .chunks(5)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-"))
    }
}

/// The bits of entropy of a generated temporary password.
pub fn temporary_password_bits() -> f64 {
    TEMPORARY_LENGTH as f64 * (PASSWORD_ALPHABET.len() as f64).log2()
}

/// Hashes a generated (high-entropy) secret: `sha256$<hex>`.
pub fn hash_generated(secret: &str) -> String {
    // Recovery codes are compared without their dashes or case.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256$");
    for &b in digest.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Normalizes a recovery code as typed (dashes, spaces and case do not matter).
pub fn normalize_code(code: &str) -> String {
    let raw: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    raw.as_bytes()
        .chunks(5)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("-")
}

/// Hashes a password an employee chose, with argon2id and a random salt (PHC string).
pub fn hash_chosen(password: &str) -> Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow!("cannot hash the password: {e}"))?;
    Ok(hash.to_string())
}

/// Checks a secret against a stored hash of either kind, in constant time for SHA-256.
pub fn verify(secret: &str, stored: &str) -> bool {
    if let Some(hex) = stored.strip_prefix("sha256$") {
        let computed = hash_generated(secret);
        let computed = &computed["sha256$".len()..];
        // Constant-time comparison: no early exit on the first differing byte.
        computed.len() == hex.len()
            && computed
                .bytes()
                .zip(hex.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    } else {
        match PasswordHash::new(stored) {
            Ok(parsed) => Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }
}

/// When a temporary password issued at `at` expires.
pub fn temporary_expiry(at: DateTime<Utc>) -> DateTime<Utc> {
    at.checked_add_signed(Duration::days(TEMPORARY_VALIDITY_DAYS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The 10,000 most common passwords (data/common-passwords.txt: the head of zxcvbn's
/// frequency list of leaked passwords), lower case, one a line.
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

/// Whether `password` is in the common-password list, ignoring case.
pub fn is_common_password(password: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<String>> = std::sync::OnceLock::new();
    let set = SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    });
    set.contains(&password.to_lowercase())
}

/// Whether every character follows the previous one in the alphabet or among the digits,
/// all up or all down, wrapping round (`abcdefghijkl`, `123456789012`, `zyxwvutsrqpo`).
fn is_sequence(password: &str) -> bool {
    let c: Vec<char> = password.chars().map(|c| c.to_ascii_lowercase()).collect();
    // The step from a to b within their class, and the class size.
    let step = |a: char, b: char| -> Option<(u32, u32)> {
        let n = match (a, b) {
            ('0'..='9', '0'..='9') => 10,
            ('a'..='z', 'a'..='z') => 26,
            _ => return None,
        };
        Some(((b as u32 + n - a as u32) % n, n))
    };
    let steps: Vec<Option<(u32, u32)>> = c.windows(2).map(|w| step(w[0], w[1])).collect();
    let up = steps.iter().all(|s| matches!(s, Some((1, _))));
    let down = steps
        .iter()
        .all(|s| matches!(s, Some((d, n)) if *d == n - 1));
    !steps.is_empty() && (up || down)
}

/// Checks a password an employee chooses for the account `username` / `email`, after NIST
/// SP 800-63B §5.1.1.2: at least [`MIN_PASSWORD_LENGTH`] characters; not the user name,
/// the e-mail or either's local part; not in the list of common passwords; not one
/// character repeated, nor a short pattern repeated, nor a run like `abcdefghijkl` or
/// `123456789012`. Nothing else (no composition rules).
pub fn check_chosen(password: &str, username: &str, email: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LENGTH {
        return Err(format!(
            "the new password has {n} characters; it needs at least {MIN_PASSWORD_LENGTH}"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the new password contains control characters".into());
    }
    let lower = password.to_lowercase();
    let local = |s: &str| s.split('@').next().unwrap_or_default().to_lowercase();
    if [
        username.to_lowercase(),
        email.to_lowercase(),
        local(username),
        local(email),
    ]
    .contains(&lower)
    {
        return Err("the new password is the account's user name or e-mail: choose another".into());
    }
    if is_common_password(password) {
        return Err(
            "the new password is in the list of the 10,000 most common passwords: choose another"
                .into(),
        );
    }
    let chars: Vec<char> = lower.chars().collect();
    if (1..=3).any(|p| n % p == 0 && chars.chunks(p).all(|c| c == &chars[..p])) {
        return Err(
            "the new password repeats one character or a short pattern: choose another".into(),
        );
    }
    if is_sequence(password) {
        return Err(
            "the new password is a run of consecutive letters or digits: choose another".into(),
        );
    }
    Ok(())
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
    let verdicts = store.read(|db| {
        found
            .iter()
            .map(|l| verdict(l.file(), db))
            .collect::<Result<Vec<_>>>()
    })?;
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
                    Settled::Recovered(_) => eprintln!("{}", s.message()),
                    _ => eprintln!("warning: {}", s.message()),
                }
            }
        }
        Err(e) => eprintln!(
            "warning: temporary credentials files in {} left as they are: cannot read the \
             database to settle them: {e:#}",
            dir.display()
        ),
    }
}

/// The hidden test hook `COMPETENCY_TEST_PAUSE_AFTER_COMMIT=FILE`: once the transaction
/// committed and before the credentials file is named, create FILE and wait (at most a
/// minute), so a test can kill the command at exactly that point.
fn test_pause_after_commit() {
    if let Some(marker) = std::env::var_os("COMPETENCY_TEST_PAUSE_AFTER_COMMIT") {
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

    /// Discards the file explicitly (nothing was issued).
    pub fn discard(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_random_and_unique() {
        let mut rng = OsRandom::new();
        let a = rng.temporary_password().unwrap();
        let b = rng.temporary_password().unwrap();
        assert!(a.len() >= 16);
        assert_ne!(a, b);
        assert!(temporary_password_bits() >= 90.0);
        assert!(a.bytes().all(|c| PASSWORD_ALPHABET.contains(&c)));
    }

    #[test]
    fn hashes_verify_and_reject() {
        let h = hash_generated("Secret-123");
        assert!(verify("Secret-123", &h));
        assert!(!verify("Secret-124", &h));
        assert!(!h.contains("Secret"));
        let a = hash_chosen("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &a));
        assert!(!verify("correct horse batterx", &a));
    }

    #[test]
    fn recovery_codes_normalize() {
        let mut rng = OsRandom::new();
        let c = rng.recovery_code().unwrap();
        assert_eq!(c.len(), 29);
        assert_eq!(normalize_code(&c.to_lowercase().replace('-', " ")), c);
    }

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

    #[test]
    fn chosen_passwords_follow_nist_800_63b() {
        let ok = |p: &str| check_chosen(p, "ann.contractor@acme.com", "ann.contractor@partner.org");
        // Long enough and not guessable: accepted, whatever the composition.
        assert!(ok("correct horse battery").is_ok());
        assert!(ok("plumbing-giraffe-42").is_ok());
        assert!(ok("abcdefghijkm").is_ok());
        // Too short.
        assert!(ok("Tr0ub4dor&3").unwrap_err().contains("at least 12"));
        // One character repeated, a short pattern repeated.
        for p in [
            "aaaaaaaaaaaa",
            "AAAAAAAAAAAAAAAA",
            "abababababab",
            "abcabcabcabc",
        ] {
            assert!(ok(p).unwrap_err().contains("repeats"), "{p}");
        }
        // Runs, up or down, letters or digits, wrapping round.
        for p in [
            "abcdefghijkl",
            "123456789012",
            "ZYXWVUTSRQPO",
            "98765432109876",
        ] {
            assert!(ok(p).unwrap_err().contains("consecutive"), "{p}");
        }
        // The account's own names.
        for p in [
            "ann.contractor@acme.com",
            "ANN.CONTRACTOR@PARTNER.ORG",
            "ann.contractor",
        ] {
            assert!(ok(p).unwrap_err().contains("user name or e-mail"), "{p}");
        }
        // Common passwords, whatever the case.
        for p in ["qwerasdfzxcv", "1qaz2wsx3edc", "LeaveMeAlone"] {
            assert!(ok(p).unwrap_err().contains("common"), "{p}");
        }
    }

    #[test]
    fn the_common_password_list_has_ten_thousand_entries() {
        let n = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(n, 10_000);
        assert!(is_common_password("password"));
        assert!(is_common_password("PASSWORD"));
        assert!(!is_common_password("correct horse battery"));
    }
}

//! Secrets: temporary passwords, recovery codes, password hashing and the credentials file.
//!
//! Invariants: every secret comes from the OS random source; a secret is written only to
//! the credentials file (mode 0600, created new, never over an existing file or through a
//! link) and is stored only as a hash. Temporary passwords and recovery codes carry over
//! 90 bits of entropy, so a fast SHA-256 is enough to store them (no dictionary to attack)
//! and bulk imports of a million users stay fast; passwords people choose are hashed with
//! argon2id.

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::clock::rfc3339;

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

/// Checks a password an employee chose.
pub fn check_chosen(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LENGTH {
        return Err(format!(
            "the new password has {n} characters; it needs at least {MIN_PASSWORD_LENGTH}"
        ));
    }
    if password.chars().any(char::is_control) {
        return Err("the new password contains control characters".into());
    }
    Ok(())
}

/// The default credentials file name: `credentials-<UTC timestamp>.csv`.
pub fn default_path(at: DateTime<Utc>) -> PathBuf {
    PathBuf::from(format!("credentials-{}.csv", at.format("%Y%m%dT%H%M%SZ")))
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

/// The credentials file being written: CSV `username,email,temporary_password,expires`
/// (plus `recovery_code` when any account has self-service reset), mode 0600.
pub struct CredentialsFile {
    path: PathBuf,
    out: Option<csv::Writer<BufWriter<File>>>,
    with_recovery: bool,
    count: u64,
    finished: bool,
}

impl CredentialsFile {
    /// Creates the file: never over an existing file, never through a symbolic link
    /// (`O_CREAT|O_EXCL` fails on both), and readable by its owner only.
    pub fn create(path: &Path, with_recovery: bool) -> Result<CredentialsFile> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    anyhow!(
                        "the credentials file {} already exists (or is a link): choose another \
                         path with --credentials-file; nothing was changed",
                        path.display()
                    )
                } else {
                    anyhow!("cannot create the credentials file {}: {e}", path.display())
                }
            })?;
        let mut out = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
        let mut header = vec!["username", "email", "temporary_password", "expires"];
        if with_recovery {
            header.push("recovery_code");
        }
        out.write_record(&header)?;
        Ok(CredentialsFile {
            path: path.to_path_buf(),
            out: Some(out),
            with_recovery,
            count: 0,
            finished: false,
        })
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
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
        if self.with_recovery {
            out.write_record([
                i.username,
                i.email,
                i.password,
                &expires,
                i.recovery_code.unwrap_or(""),
            ])?;
        } else {
            out.write_record([i.username, i.email, i.password, &expires])?;
        }
        self.count += 1;
        Ok(())
    }

    /// Flushes and syncs the file to disk. Call it inside the transaction, before the
    /// commit: once the accounts exist, their passwords must already be safe on disk.
    pub fn sync(&mut self) -> Result<()> {
        let out = self.out.as_mut().expect("credentials file already kept");
        out.flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        out.get_ref()
            .get_ref()
            .sync_all()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }

    /// Keeps the file (the transaction committed); returns its path.
    pub fn keep(mut self) -> PathBuf {
        self.finished = true;
        self.path.clone()
    }

    /// Discards the file explicitly (nothing was issued).
    pub fn discard(self) {}
}

impl Drop for CredentialsFile {
    /// A credentials file whose accounts were not committed is deleted: it would hand out
    /// passwords for accounts that do not exist.
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_file(&self.path);
        }
    }
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
        let existing = dir.path().join("c.csv");
        std::fs::write(&existing, "x").unwrap();
        assert!(CredentialsFile::create(&existing, false).is_err());
        assert_eq!(std::fs::read_to_string(&existing).unwrap(), "x");
        let link = dir.path().join("l.csv");
        std::os::unix::fs::symlink(dir.path().join("target.csv"), &link).unwrap();
        assert!(CredentialsFile::create(&link, false).is_err());
        assert!(!dir.path().join("target.csv").exists());
    }
}

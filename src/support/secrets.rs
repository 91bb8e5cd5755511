//! Secrets from the OS and their hashes: generated temporary passwords and recovery codes
//! (uniform over alphabets without look-alikes, read from the OS random source), the
//! SHA-256 hash of a generated secret and the argon2id hash of a chosen one, and checking
//! a secret against either in constant time for SHA-256.
//!
//! Generated secrets carry over 90 bits of entropy, so a fast SHA-256 is enough to store
//! them (no dictionary to attack) and bulk imports of a million users stay fast.

use anyhow::{Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};

/// Length of generated temporary passwords.
pub const TEMPORARY_LENGTH: usize = 20;

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
#[cfg(test)]
pub fn temporary_password_bits() -> f64 {
    TEMPORARY_LENGTH as f64 * (PASSWORD_ALPHABET.len() as f64).log2()
}

/// Hashes a generated (high-entropy) secret: `sha256$<hex>`.
pub fn hash_generated(secret: &str) -> String {
    format!("sha256${}", hex::encode(digest_generated(secret)))
}

/// The digest of a generated secret: what [`hash_generated`] writes in hex, and what the
/// database stores of it (`store::hash_bytes`). A bulk import stores it directly instead of
/// spelling it in hex and decoding it again (5 % of a users import, measured).
pub fn digest_generated(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
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
}

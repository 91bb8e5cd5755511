//! User accounts and MSA associations.

use crate::store::sql::{OptionalExtension, Row, params};
use anyhow::Result;
use chrono::{DateTime, Utc};

use crate::store::Db;
use crate::support::clock::from_unix;

/// A user account as stored (password fields are hashes, never secrets).
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Database id.
    pub id: i64,
    /// Organization id.
    pub org_id: i64,
    /// Generated user name, `local@domain`.
    pub username: String,
    /// Display name.
    pub name: String,
    /// E-mail, lower case.
    pub email: String,
    /// Roles.
    pub roles: Vec<String>,
    /// `active` or `removed`.
    pub status: String,
    /// When the account was added.
    pub created_at: DateTime<Utc>,
    /// When it was removed.
    pub removed_at: Option<DateTime<Utc>>,
    /// Why it was removed.
    pub removal_reason: Option<String>,
    /// The MSA currently associated, if any.
    pub msa: Option<String>,
    /// Since when the current MSA is associated.
    pub msa_since: Option<DateTime<Utc>>,
    /// Password hash (PHC string for argon2id, `sha256$…` for temporary ones).
    pub password_hash: String,
    /// The password is temporary and must be changed.
    pub password_temporary: bool,
    /// When the temporary password expires.
    pub password_expires_at: Option<DateTime<Utc>>,
    /// The account may reset its password with a recovery code.
    pub self_service_reset: bool,
    /// Hash of the unspent recovery code.
    pub recovery_hash: Option<String>,
}

impl UserRow {
    /// Whether the account is active (not removed).
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// A new account to insert (`users add`, and each row of `users import`).
pub struct NewUser<'a> {
    /// Organization id.
    pub org_id: i64,
    /// User name.
    pub username: &'a str,
    /// Display name.
    pub name: &'a str,
    /// E-mail, lower case.
    pub email: &'a str,
    /// Roles, `;`-joined.
    pub roles: &'a str,
    /// Temporary password hash.
    pub password_hash: &'a str,
    /// Temporary password expiry.
    pub expires_at: DateTime<Utc>,
}

/// One MSA association.
#[derive(Debug, Clone)]
pub struct MsaLink {
    /// Database id.
    pub id: i64,
    /// The MSA.
    pub msa: String,
    /// The account.
    pub user_id: i64,
    /// The account's user name.
    pub username: String,
    /// The account's organization.
    pub org_id: i64,
    /// That organization's name.
    pub org_name: String,
    /// Start.
    pub started_at: DateTime<Utc>,
}

// A user name is stored without its organization's domain (migration 10): every query that
// reads one appends the domain of the account's organization (`u.username || uo.domain`).
const USER_SELECT: &str = "SELECT u.id, u.org_id, u.username || uo.domain, u.name, u.email,
        u.roles, u.status, u.created_at, u.removed_at, u.removal_reason, l.msa, l.started_at,
        u.password_hash, u.password_temporary, u.password_expires_at,
        u.self_service_reset, u.recovery_hash
    FROM users u JOIN orgs uo ON uo.id = u.org_id
    LEFT JOIN msa_links l ON l.user_id = u.id AND l.ended_at IS NULL";

/// How a user name is stored (migration 10): without its organization's domain, as
/// `<local>@`; `None` when `username` is not `<local>@<domain>` with one `@`.
pub fn username_stem<'a>(username: &'a str, domain: &str) -> Option<&'a str> {
    username
        .strip_suffix(domain)
        .filter(|stem| stem.len() > 1 && stem.find('@') == Some(stem.len() - 1))
}

/// A user name split at its `@`: the stored part, `<local>@`, and the domain (`None` when
/// the text has no `@`, which no user name lacks).
pub fn username_parts(username: &str) -> Option<(&str, &str)> {
    let at = username.find('@')?;
    Some((&username[..=at], &username[at + 1..]))
}

/// How a hash is stored (migration 8): a `sha256$<hex>` hash of a generated secret as its
/// 32-byte digest, anything else (an argon2id PHC string, always longer) as its UTF-8 bytes.
pub fn hash_bytes(hash: &str) -> Vec<u8> {
    if let Some(hex) = hash.strip_prefix("sha256$")
        && hex.len() == 64
        && hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        && let Ok(digest) = hex::decode(hex)
    {
        return digest;
    }
    hash.as_bytes().to_vec()
}

/// The text form of a stored hash (see [`hash_bytes`]).
pub fn hash_text(bytes: &[u8]) -> String {
    if bytes.len() == 32 {
        return format!("sha256${}", hex::encode(bytes));
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn user_from_row(r: &Row) -> crate::store::sql::Result<UserRow> {
    let roles: String = r.get(5)?;
    Ok(UserRow {
        id: r.get(0)?,
        org_id: r.get(1)?,
        username: r.get(2)?,
        name: r.get(3)?,
        email: r.get(4)?,
        roles: roles
            .split(';')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        status: r.get(6)?,
        created_at: from_unix(r.get(7)?),
        removed_at: r.get::<_, Option<i64>>(8)?.map(from_unix),
        removal_reason: r.get(9)?,
        msa: r.get(10)?,
        msa_since: r.get::<_, Option<i64>>(11)?.map(from_unix),
        password_hash: hash_text(r.get_ref(12)?.as_bytes()?),
        password_temporary: r.get(13)?,
        password_expires_at: r.get::<_, Option<i64>>(14)?.map(from_unix),
        self_service_reset: r.get(15)?,
        recovery_hash: r.get_ref(16)?.as_bytes_or_null()?.map(hash_text),
    })
}

fn link_from_row(r: &Row) -> crate::store::sql::Result<MsaLink> {
    Ok(MsaLink {
        id: r.get(0)?,
        msa: r.get(1)?,
        user_id: r.get(2)?,
        username: r.get(3)?,
        org_id: r.get(4)?,
        org_name: r.get(5)?,
        started_at: from_unix(r.get(6)?),
    })
}

const LINK_SELECT: &str =
    "SELECT l.id, l.msa, l.user_id, u.username || uo.domain, l.org_id, o.name, l.started_at
    FROM msa_links l JOIN users u ON u.id = l.user_id JOIN orgs uo ON uo.id = u.org_id
    JOIN orgs o ON o.id = l.org_id";

impl Db<'_> {
    /// The domain of an organization's user names.
    pub fn org_domain(&self, org_id: i64) -> Result<String> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT domain FROM orgs WHERE id = ?1")?;
        Ok(st.query_row([org_id], |r| r.get(0))?)
    }

    /// The stored form of `username` for an account of the organization (see
    /// [`username_stem`]); an error when it is not in the organization's domain, which the
    /// callers' user-name generation never makes.
    pub fn stored_username(&self, org_id: i64, username: &str) -> Result<String> {
        let domain = self.org_domain(org_id)?;
        match username_stem(username, &domain) {
            Some(stem) => Ok(stem.to_owned()),
            None => anyhow::bail!(
                "internal error: user name {username:?} is not in its organization's domain {domain:?}"
            ),
        }
    }

    /// Inserts an account, with the hash of its recovery code when self-service reset is
    /// on; returns its id.
    pub fn insert_user(
        &self,
        u: &NewUser,
        recovery_hash: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let stem = self.stored_username(u.org_id, u.username)?;
        let mut st = self.conn().prepare_cached(
            "INSERT INTO users (org_id, username, name, email, roles, status, created_at,
                password_hash, password_temporary, password_expires_at, self_service_reset,
                recovery_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?7, 1, ?8, ?9, ?10)",
        )?;
        st.execute(params![
            u.org_id,
            stem,
            u.name,
            u.email,
            u.roles,
            at.timestamp(),
            hash_bytes(u.password_hash),
            u.expires_at.timestamp(),
            recovery_hash.is_some(),
            recovery_hash.map(hash_bytes)
        ])?;
        Ok(self.conn().last_insert_rowid()?)
    }

    /// Whether a user name exists (in any organization, active or removed): looked up in
    /// the organizations of its domain (several may share one).
    pub fn username_taken(&self, username: &str) -> Result<bool> {
        let Some((stem, domain)) = username_parts(username) else {
            return Ok(false);
        };
        let mut st = self.conn().prepare_cached(
            "SELECT 1 FROM users
             WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username = ?1",
        )?;
        Ok(st.exists(params![stem, domain])?)
    }

    /// The stored password hash of the account with this user name (any organization,
    /// active or removed): to tell whether a credentials file's passwords were committed.
    pub fn password_hash_of(&self, username: &str) -> Result<Option<String>> {
        let Some((stem, domain)) = username_parts(username) else {
            return Ok(None);
        };
        let mut st = self.conn().prepare_cached(
            "SELECT password_hash FROM users
             WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username = ?1",
        )?;
        Ok(st
            .query_row(params![stem, domain], |r| {
                Ok(hash_text(r.get_ref(0)?.as_bytes()?))
            })
            .optional()?)
    }

    /// The active account with this e-mail in the organization.
    pub fn active_user_by_email(&self, org_id: i64, email: &str) -> Result<Option<UserRow>> {
        let mut st = self.conn().prepare_cached(&format!(
            "{USER_SELECT} WHERE u.org_id = ?1 AND u.email = ?2 AND u.status = 'active'"
        ))?;
        Ok(st
            .query_row(params![org_id, email], user_from_row)
            .optional()?)
    }

    /// Every account of the organization whose user name or e-mail is `key` (trimmed,
    /// case-insensitive), most recent first. Which one a USER text names is the domain's
    /// rule ([`crate::domain::accounts::find`]).
    pub fn users_by_key(&self, org_id: i64, key: &str) -> Result<Vec<UserRow>> {
        let key = key.trim().to_lowercase();
        let domain = self.org_domain(org_id)?;
        let stem = username_stem(&key, &domain);
        // One index probe each (`users_name`, `users_email`): with `org_id = ?1` outside
        // the OR, SQLite would walk every account of the organization instead.
        let mut st = self.conn().prepare_cached(&format!(
            "{USER_SELECT} WHERE u.id IN (
                SELECT id FROM users WHERE org_id = ?1 AND username = ?3
                UNION ALL SELECT id FROM users WHERE email = ?2 AND org_id = ?1)
             ORDER BY u.id DESC"
        ))?;
        let rows = st.query_map(params![org_id, key, stem], user_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// An account by id.
    pub fn user_by_id(&self, user_id: i64) -> Result<Option<UserRow>> {
        let mut st = self
            .conn()
            .prepare_cached(&format!("{USER_SELECT} WHERE u.id = ?1"))?;
        Ok(st.query_row([user_id], user_from_row).optional()?)
    }

    /// Whether some account (any organization, any status) has this e-mail.
    pub fn email_in_use(&self, email: &str) -> Result<bool> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT 1 FROM users WHERE email = ?1")?;
        Ok(st.exists([email])?)
    }

    /// Sets a password the employee chose, only if the account is still active and its
    /// password hash is still `expected` (what the employee authenticated against). Returns
    /// whether it changed.
    pub fn replace_password_if(&self, user_id: i64, expected: &str, hash: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE users SET password_hash = ?3, password_temporary = 0, password_expires_at = NULL
             WHERE id = ?1 AND password_hash = ?2 AND status = 'active'",
            params![user_id, hash_bytes(expected), hash_bytes(hash)],
        )?;
        Ok(n == 1)
    }

    /// Spends the recovery code whose hash is `code_hash` and sets the chosen password, only
    /// if the account is still active and the code unspent. Returns whether it changed.
    pub fn spend_recovery_code(&self, user_id: i64, code_hash: &str, hash: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE users SET password_hash = ?3, password_temporary = 0, password_expires_at = NULL,
                recovery_hash = NULL
             WHERE id = ?1 AND recovery_hash = ?2 AND status = 'active'",
            params![user_id, hash_bytes(code_hash), hash_bytes(hash)],
        )?;
        Ok(n == 1)
    }

    /// Records a failed sign-in of an account.
    pub fn record_sign_in_failure(&self, user_id: i64, at: DateTime<Utc>) -> Result<()> {
        let mut st = self
            .conn()
            .prepare_cached("INSERT INTO sign_in_failures (user_id, at) VALUES (?1, ?2)")?;
        st.execute(params![user_id, at.timestamp()])?;
        Ok(())
    }

    /// The instant of the `n`-th most recent failed sign-in of the account in
    /// `(since, until]`, if there are that many.
    pub fn nth_recent_sign_in_failure(
        &self,
        user_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        n: u32,
    ) -> Result<Option<DateTime<Utc>>> {
        let mut st = self.conn().prepare_cached(
            "SELECT at FROM sign_in_failures WHERE user_id = ?1 AND at > ?2 AND at <= ?3
             ORDER BY at DESC LIMIT 1 OFFSET ?4",
        )?;
        Ok(st
            .query_row(
                params![
                    user_id,
                    since.timestamp(),
                    until.timestamp(),
                    i64::from(n.saturating_sub(1))
                ],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(from_unix))
    }

    /// Forgets the failed sign-ins of an account (after a successful one).
    pub fn clear_sign_in_failures(&self, user_id: i64) -> Result<()> {
        let mut st = self
            .conn()
            .prepare_cached("DELETE FROM sign_in_failures WHERE user_id = ?1")?;
        st.execute([user_id])?;
        Ok(())
    }

    /// The organization's accounts by user name; active only unless `all`. (Their stored
    /// names, `<local>@`, sort as the whole names do: the `@` ends every one.)
    pub fn users(&self, org_id: i64, all: bool) -> Result<Vec<UserRow>> {
        let mut st = self.conn().prepare_cached(&format!(
            "{USER_SELECT} WHERE u.org_id = ?1 AND (?2 OR u.status = 'active') ORDER BY u.username"
        ))?;
        let rows = st.query_map(params![org_id, all], user_from_row)?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// How many active accounts of the organization hold a role.
    pub fn count_active_with_role(&self, org_id: i64, role: &str) -> Result<i64> {
        let mut st = self.conn().prepare_cached(
            "SELECT count(*) FROM users WHERE org_id = ?1 AND status = 'active'
             AND (';' || roles || ';') LIKE ('%;' || ?2 || ';%')",
        )?;
        Ok(st.query_row(params![org_id, role], |r| r.get(0))?)
    }

    /// Marks an account removed (history kept).
    pub fn mark_user_removed(&self, user_id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE users SET status = 'removed', removed_at = ?2, removal_reason = ?3,
                recovery_hash = NULL WHERE id = ?1",
            params![user_id, at.timestamp(), reason],
        )?;
        Ok(())
    }

    /// Sets a password hash. `expires_at` is set for temporary passwords only.
    pub fn set_password(
        &self,
        user_id: i64,
        hash: &str,
        temporary: bool,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE users SET password_hash = ?2, password_temporary = ?3, password_expires_at = ?4
             WHERE id = ?1",
            params![
                user_id,
                hash_bytes(hash),
                temporary,
                expires_at.map(|t| t.timestamp())
            ],
        )?;
        Ok(())
    }

    /// Sets (or, with `None`, spends) the recovery code hash.
    pub fn set_recovery_hash(&self, user_id: i64, hash: Option<&str>) -> Result<()> {
        self.conn().execute(
            "UPDATE users SET recovery_hash = ?2 WHERE id = ?1",
            params![user_id, hash.map(hash_bytes)],
        )?;
        Ok(())
    }

    /// The open association of an MSA, in any organization.
    pub fn open_link_for_msa(&self, msa: &str) -> Result<Option<MsaLink>> {
        let mut st = self.conn().prepare_cached(&format!(
            "{LINK_SELECT} WHERE l.msa = ?1 AND l.ended_at IS NULL"
        ))?;
        Ok(st.query_row([msa], link_from_row).optional()?)
    }

    /// The open association of an account.
    pub fn open_link_for_user(&self, user_id: i64) -> Result<Option<MsaLink>> {
        let mut st = self.conn().prepare_cached(&format!(
            "{LINK_SELECT} WHERE l.user_id = ?1 AND l.ended_at IS NULL"
        ))?;
        Ok(st.query_row([user_id], link_from_row).optional()?)
    }

    /// Starts an association.
    pub fn insert_link(
        &self,
        msa: &str,
        user_id: i64,
        org_id: i64,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut st = self.conn().prepare_cached(
            "INSERT INTO msa_links (msa, user_id, org_id, started_at) VALUES (?1, ?2, ?3, ?4)",
        )?;
        st.execute(params![msa, user_id, org_id, at.timestamp()])?;
        Ok(())
    }

    /// Ends an association.
    pub fn end_link(&self, link_id: i64, at: DateTime<Utc>, reason: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE msa_links SET ended_at = ?2, end_reason = ?3 WHERE id = ?1",
            params![link_id, at.timestamp(), reason],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod hash_tests {
    use super::{hash_bytes, hash_text};

    #[test]
    fn hashes_are_stored_as_bytes_and_read_back_as_the_same_text() {
        let generated = crate::support::secrets::hash_generated("ABCDE-FGHJK");
        let stored = hash_bytes(&generated);
        assert_eq!(stored.len(), 32);
        assert_eq!(hash_text(&stored), generated);
        // A chosen password's PHC string, and anything that is not a well-formed SHA-256
        // hash, is kept as its text bytes.
        for text in [
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
            "sha256$00",
            &generated.to_uppercase().replace("SHA256$", "sha256$"),
        ] {
            assert_eq!(hash_bytes(text), text.as_bytes());
            assert_eq!(hash_text(&hash_bytes(text)), text);
        }
    }
}

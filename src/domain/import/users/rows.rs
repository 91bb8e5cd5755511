//! The row work of `users import`: validating a row, matching it to an existing account
//! or inserting a new one (user name, temporary password, MSA link), and the Bloom filter
//! ([`crate::support::bloom::Bloom`]) that spares a lookup for keys never seen before.

use super::*;
use staged::RowRef;

/// A row's validated fields.
pub(super) struct Fields {
    pub(super) email: String,
    pub(super) name: String,
    pub(super) msa: Option<String>,
    pub(super) roles: String,
}

/// Validates a row's fields exactly as `users add` does; the error names the field.
pub(super) fn validate_row(
    email: &str,
    name: &str,
    msa: Option<&str>,
    roles: &str,
) -> Result<Fields, String> {
    let email = fields::email(email).map_err(|e| format!("email: {e}"))?;
    let name = fields::name(name).map_err(|e| format!("name: {e}"))?;
    let msa = msa
        .map(|m| fields::email(m).map_err(|e| format!("msa: {e}")))
        .transpose()?;
    let mut parsed = Vec::new();
    for r in roles.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        parsed.push(Role::parse(r).map_err(|e| format!("role: {e}"))?);
    }
    Ok(Fields {
        email,
        name,
        msa,
        roles: Role::join(&parsed),
    })
}

pub(super) struct State<'a, 'c> {
    pub(super) st: UserStatements<'a>,
    pub(super) org: &'a Org,
    pub(super) at: DateTime<Utc>,
    pub(super) expires: DateTime<Utc>,
    /// Accounts that existed before this import and that a row of it already matched (a
    /// bit per id below `first_id`): a second row for one of them is a duplicate in the
    /// file, exactly as it was when the first import added the account.
    pub(super) touched: Vec<u64>,
    /// For each user-name local part that collided: the next number to try.
    pub(super) suffixes: HashMap<String, u64>,
    pub(super) rng: OsRandom,
    pub(super) creds: Option<&'c mut CredentialsFile>,
    /// Severed associations.
    pub(super) severed: Severed,
    pub(super) username: String,
    /// Whether the organization had an active account before the import: if not, no row
    /// can match one (the staged e-mails are distinct), and the lookup is skipped.
    pub(super) any_active: bool,
    /// Whether any MSA had an open association before the import (this import's own links
    /// are queued, and the staged MSAs are distinct): if not, that lookup is skipped too.
    pub(super) any_open_link: bool,
    /// MSA links the last row made, for the caller to queue: (msa, account).
    pub(super) links: Vec<(String, i64)>,
}

impl State<'_, '_> {
    pub(super) fn is_touched(&self, id: i64) -> bool {
        let id = id as usize;
        self.touched
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    pub(super) fn touch(&mut self, id: i64) {
        let id = id as usize;
        if self.touched.len() <= id / 64 {
            self.touched.resize(id / 64 + 1, 0);
        }
        self.touched[id / 64] |= 1 << (id % 64);
    }

    /// Whether an MSA's current account was claimed by an earlier row of this file.
    pub(super) fn claimed(&self, m: &str, l: &OpenLink) -> Option<String> {
        if self.is_touched(l.user_id) {
            return Some(format!(
                "msa: {m} is already on an earlier row of this file"
            ));
        }
        // Never taken from a colleague: only `users link-msa --move` moves it (SPEC §4).
        (l.org_id == self.org.id).then(|| {
            format!(
                "msa: {m} is the Microsoft account of {}, another account of {}: an \
                 administrator moves it with `competency users link-msa USER --msa {m} --move`",
                l.username, self.org.name
            )
        })
    }

    pub(super) fn row(
        &mut self,
        f: &RowRef<'_>,
        local: &str,
        domain: &str,
        failed: bool,
    ) -> Result<Result<Outcome, String>> {
        if self.any_active
            && let Some(ex) = self.st.active_by_email(self.org.id, f.email)?
        {
            return self.existing(f, &ex);
        }
        let sever = match f.msa {
            Some(m) => {
                let link = if self.any_open_link {
                    self.st.open_link(m)?
                } else {
                    None
                };
                if let Some(why) = link.as_ref().and_then(|l| self.claimed(m, l)) {
                    return Ok(Err(why));
                }
                link
            }
            None => None,
        };
        // A doomed all-or-nothing import or a dry run makes no secret: nothing will be kept.
        let issue = !failed && self.creds.is_some();
        let password = if issue {
            Some(self.rng.temporary_password()?)
        } else {
            None
        };
        // Stored as `users add` stores it: a generated secret's digest, or the marker.
        let digest = password
            .as_deref()
            .map(crate::support::secrets::digest_generated);
        let hash: &[u8] = digest.as_ref().map_or(b"unissued", |d| d.as_slice());
        let id = self.insert(f, local, hash, domain)?;
        if let (Some(pw), Some(creds)) = (password.as_deref(), self.creds.as_deref_mut()) {
            creds.write(&Issued {
                username: &self.username,
                email: f.email,
                password: pw,
                expires: self.expires,
                recovery_code: None,
            })?;
        }
        if let Some(m) = f.msa {
            if let Some(l) = sever {
                let (st, at) = (&mut self.st, self.at);
                let s = crate::domain::accounts::sever::sever(
                    m,
                    l.into(),
                    &self.username,
                    self.org,
                    |id, r| st.end_link(id, at, r),
                )?;
                self.severed.push(s, Some(f.line));
            }
            self.links.push((m.to_owned(), id));
        }
        Ok(Ok(Outcome::Added))
    }

    /// Inserts the account under a free user name (left in `self.username`), `local`
    /// being the user-name local part of its e-mail (`fields::username_local`).
    pub(super) fn insert(
        &mut self,
        f: &RowRef<'_>,
        local: &str,
        hash: &[u8],
        domain: &str,
    ) -> Result<i64> {
        let mut n = self.suffixes.get(local).copied();
        loop {
            self.username.clear();
            self.username.push_str(local);
            if let Some(k) = n {
                self.username.push_str(&k.to_string());
            }
            self.username.push('@');
            self.username.push_str(domain);
            let row = BulkUser {
                org_id: self.org.id,
                username: &self.username,
                name: f.name,
                email: f.email,
                roles: f.roles,
                password_hash: hash,
                expires_at: self.expires,
            };
            // Never a user name equal to another account's e-mail (SPEC §4).
            let free = self.username == f.email || !self.st.email_in_use(&self.username)?;
            if free && let Some(id) = self.st.insert_user(&row, self.at)? {
                if let Some(k) = n {
                    self.suffixes.insert(local.to_owned(), k + 1);
                }
                return Ok(id);
            }
            n = Some(match n {
                Some(k) => k + 1,
                None => (self.st.max_username_suffix(local, domain)? + 1).max(2),
            });
        }
    }

    /// A row whose e-mail is already active in the organization.
    pub(super) fn existing(
        &mut self,
        f: &RowRef<'_>,
        ex: &ExistingUser,
    ) -> Result<Result<Outcome, String>> {
        let mut diff = Vec::new();
        if ex.name != f.name {
            diff.push(format!("name {:?}", ex.name));
        }
        if ex.roles != f.roles {
            diff.push(format!("roles {}", ex.roles));
        }
        if !diff.is_empty() {
            return Ok(Err(format!(
                "email: {} is already the e-mail of active user {} with {}: change it there or \
                 remove the row",
                f.email,
                ex.username,
                diff.join(" and ")
            )));
        }
        let Some(m) = f.msa else {
            self.touch(ex.id);
            return Ok(Ok(Outcome::Unchanged));
        };
        if ex.link.as_ref().is_some_and(|(_, cur)| cur == m) {
            self.touch(ex.id);
            return Ok(Ok(Outcome::Unchanged));
        }
        let sever = self.st.open_link(m)?;
        if let Some(why) = sever.as_ref().and_then(|l| self.claimed(m, l)) {
            return Ok(Err(why));
        }
        self.touch(ex.id);
        if let Some((old_id, _)) = &ex.link {
            self.st
                .end_link(*old_id, self.at, &format!("replaced by {m}"))?;
        }
        if let Some(l) = sever {
            let (st, at) = (&mut self.st, self.at);
            let s = crate::domain::accounts::sever::sever(
                m,
                l.into(),
                &ex.username,
                self.org,
                |id, r| st.end_link(id, at, r),
            )?;
            self.severed.push(s, None);
        }
        self.links.push((m.to_owned(), ex.id));
        Ok(Ok(Outcome::Updated))
    }
}

//! `users import`: accounts with generated user names and temporary passwords.
//!
//! Per row: the fields are validated as `users add` validates them; an e-mail already
//! active in the organization is `unchanged` when name and roles match (and its MSA, when
//! the row gives one, is linked if it differs: `updated`), a rejected row otherwise; an
//! e-mail or MSA given twice in the file is rejected at its second occurrence, naming the
//! first; an MSA associated elsewhere is severed there, as `users link-msa` does.
//! User-name collisions are resolved with an in-memory map holding only the local parts
//! that collided, so an import of distinct people costs one insert per account.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::input::{Column, Input};
use super::{Options, Outcome, Pending, Rejects, Summary, drive_chunked};
use crate::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::store::import::{BulkTable, BulkUser, ExistingUser, IMPORT_CACHE_KIB, UserStatements};
use crate::store::{Db, Org};
use crate::users::{Actor, Role};
use crate::validate;

const EMAIL: usize = 0;
const NAME: usize = 1;
const FIRST: usize = 2;
const LAST: usize = 3;
const MSA: usize = 4;
const ROLE: usize = 5;

/// The columns of a users file.
pub const COLUMNS: &[Column] = &[
    Column {
        field: "email",
        names: &["email", "emailaddress"],
    },
    Column {
        field: "name",
        names: &["name", "displayname"],
    },
    Column {
        field: "first name",
        names: &["firstname", "givenname"],
    },
    Column {
        field: "last name",
        names: &["lastname", "surname", "familyname"],
    },
    Column {
        field: "msa",
        names: &["msa", "microsoftaccount"],
    },
    Column {
        field: "role",
        names: &["role", "roles"],
    },
];

/// Opens a users file and checks its header.
pub fn open(opts: &Options) -> Result<Input> {
    let input = Input::open(&opts.file, COLUMNS, opts.progress)?;
    if input.column(EMAIL).is_none() {
        return Err(input.missing("\"email\""));
    }
    if input.column(NAME).is_none() {
        match (input.column(FIRST), input.column(LAST)) {
            (Some(_), Some(_)) => {}
            (Some(_), None) => return Err(input.missing("\"last name\" (with \"first name\")")),
            (None, Some(_)) => return Err(input.missing("\"first name\" (with \"last name\")")),
            (None, None) => {
                return Err(input.missing(
                    "\"name\" (or \"display name\", or \"first name\" and \"last name\")",
                ));
            }
        }
    }
    Ok(input)
}

/// Imports the users of `input` into `org`. Returns what was done; the caller commits only
/// if [`Summary::should_commit`]. `creds` is `None` for a dry run.
pub fn import(
    db: &Db,
    org: &Org,
    actor: &Actor,
    opts: &Options,
    input: &mut Input,
    creds: Option<&mut CredentialsFile>,
    rejects: Option<&mut Rejects>,
) -> Result<Summary> {
    let mut summary = Summary::new("users", input, opts);
    let cache = db.set_cache_kib(IMPORT_CACHE_KIB)?;
    let first_id = db.next_id(BulkTable::Users)?;
    let cols = [EMAIL, NAME, FIRST, LAST, MSA, ROLE].map(|c| input.column(c));
    let mut state = State {
        st: db.user_statements()?,
        org,
        at: actor.at,
        expires: credentials::temporary_expiry(actor.at),
        first_id,
        lines: Vec::new(),
        touched: Vec::new(),
        suffixes: HashMap::new(),
        rng: OsRandom::new(),
        creds,
        severed: Vec::new(),
        sever_audit: Vec::new(),
        username: String::with_capacity(96),
    };
    let domain = org.domain.clone();
    let parse = |row: &super::input::Row| {
        let name = match cols[NAME] {
            Some(_) => row.get(cols[NAME]).to_owned(),
            None => format!(
                "{} {}",
                row.get(cols[FIRST]).trim(),
                row.get(cols[LAST]).trim()
            ),
        };
        validate_row(
            row.get(cols[EMAIL]),
            &name,
            row.opt(cols[MSA]),
            row.get(cols[ROLE]),
        )
    };
    drive_chunked(
        input,
        &mut summary,
        rejects,
        CHUNK,
        parse,
        |chunk, failed| {
            in_file_duplicates(chunk);
            // E-mail order: the user-name and e-mail indexes fill page by page.
            let mut order: Vec<usize> = (0..chunk.len())
                .filter(|&i| chunk[i].item.is_ok() && chunk[i].outcome.is_none())
                .collect();
            order.sort_by(|&a, &b| email_of(chunk, a).cmp(email_of(chunk, b)));
            for i in order {
                let line = chunk[i].line;
                let Ok(f) = &chunk[i].item else { continue };
                let outcome = state.row(f, line, &domain, failed)?;
                chunk[i].outcome = Some(outcome);
            }
            Ok(())
        },
    )?;
    summary.severed = state.severed.len() as u64;
    summary.notes = state
        .severed
        .iter()
        .take(super::MAX_LISTED_ERRORS)
        .cloned()
        .collect();
    // Another account lost its MSA: that is a change to its history, audited there, and
    // it can break a competency that organization's membership displays (SPEC §7).
    let mut severed_in: Vec<(i64, Vec<&str>)> = Vec::new();
    for (org_id, username, detail) in &state.sever_audit {
        db.audit(
            Some(*org_id),
            actor.at,
            &actor.name,
            "msa.sever",
            username,
            detail,
        )?;
        match severed_in.iter_mut().find(|(o, _)| o == org_id) {
            Some((_, users)) => users.push(username),
            None => severed_in.push((*org_id, vec![username])),
        }
    }
    for (org_id, users) in severed_in {
        let other = if org_id == org.id {
            org.clone()
        } else {
            db.org_by_id(org_id)?
        };
        let cause = match users.as_slice() {
            [one] => format!(
                "MSA of {one} severed (linked to {} by a users import)",
                org.name
            ),
            many => format!(
                "MSAs of {} accounts severed (linked to {} by a users import)",
                many.len(),
                org.name
            ),
        };
        summary.alerts.extend(crate::membership::reevaluate(
            db,
            &other,
            actor,
            Some(&cause),
        )?);
    }
    drop(state);
    db.restore_cache(cache)?;
    Ok(summary)
}

/// Rows processed together, sorted by e-mail: about 8 MiB of parsed rows.
const CHUNK: usize = 32_768;

fn email_of(chunk: &[Pending<Fields>], i: usize) -> &str {
    chunk[i].item.as_ref().map_or("", |f| f.email.as_str())
}

/// Rejects, in file order, the second occurrence of an e-mail or MSA within the chunk
/// (before the chunk is reordered, so the first occurrence wins as in a row-by-row run;
/// occurrences in earlier chunks are found in the database).
fn in_file_duplicates(chunk: &mut [Pending<Fields>]) {
    let mut emails: HashMap<String, u64> = HashMap::with_capacity(chunk.len());
    let mut msas: HashMap<String, u64> = HashMap::new();
    for p in chunk.iter_mut() {
        let Ok(f) = &p.item else { continue };
        if let Some(first) = emails.get(&f.email) {
            p.outcome = Some(Err(format!(
                "email: {} is already on line {first} of this file",
                f.email
            )));
            continue;
        }
        if let Some(m) = &f.msa {
            match msas.entry(m.clone()) {
                Entry::Occupied(e) => {
                    p.outcome = Some(Err(format!(
                        "msa: {m} is already on line {} of this file",
                        e.get()
                    )));
                    continue;
                }
                Entry::Vacant(v) => {
                    v.insert(p.line);
                }
            }
        }
        emails.insert(f.email.clone(), p.line);
    }
}

/// A row's validated fields.
struct Fields {
    email: String,
    name: String,
    msa: Option<String>,
    roles: String,
}

/// Validates a row's fields exactly as `users add` does; the error names the field.
fn validate_row(email: &str, name: &str, msa: Option<&str>, roles: &str) -> Result<Fields, String> {
    let email = validate::email(email).map_err(|e| format!("email: {e}"))?;
    let name = validate::name(name).map_err(|e| format!("name: {e}"))?;
    let msa = msa
        .map(|m| validate::email(m).map_err(|e| format!("msa: {e}")))
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

struct State<'a, 'c> {
    st: UserStatements<'a>,
    org: &'a Org,
    at: DateTime<Utc>,
    expires: DateTime<Utc>,
    first_id: i64,
    /// The line of each account this import added, by `id - first_id`.
    lines: Vec<u32>,
    /// Accounts that existed before this import and that a row of it already matched (a
    /// bit per id below `first_id`): a second row for one of them is a duplicate in the
    /// file, exactly as it was when the first import added the account.
    touched: Vec<u64>,
    /// For each user-name local part that collided: the next number to try.
    suffixes: HashMap<String, u64>,
    rng: OsRandom,
    creds: Option<&'c mut CredentialsFile>,
    /// Severed associations, one message each.
    severed: Vec<String>,
    /// Severed associations for the audit: (org, user name, detail).
    sever_audit: Vec<(i64, String, String)>,
    username: String,
}

impl State<'_, '_> {
    fn is_touched(&self, id: i64) -> bool {
        let id = id as usize;
        self.touched
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    fn touch(&mut self, id: i64) {
        let id = id as usize;
        if self.touched.len() <= id / 64 {
            self.touched.resize(id / 64 + 1, 0);
        }
        self.touched[id / 64] |= 1 << (id % 64);
    }

    /// Whether an MSA's current account was claimed by an earlier row of this file.
    fn claimed(&self, m: &str, user_id: i64) -> Option<String> {
        if user_id >= self.first_id {
            Some(format!(
                "msa: {m} is already on line {} of this file",
                self.line_of(user_id)
            ))
        } else if self.is_touched(user_id) {
            Some(format!(
                "msa: {m} is already on an earlier row of this file"
            ))
        } else {
            None
        }
    }

    fn line_of(&self, id: i64) -> u32 {
        self.lines
            .get((id - self.first_id) as usize)
            .copied()
            .unwrap_or(0)
    }

    fn row(
        &mut self,
        f: &Fields,
        line: u64,
        domain: &str,
        failed: bool,
    ) -> Result<Result<Outcome, String>> {
        if let Some(ex) = self.st.active_by_email(self.org.id, &f.email)? {
            return self.existing(f, &ex);
        }
        let sever = match &f.msa {
            Some(m) => {
                let link = self.st.open_link(m)?;
                if let Some(why) = link.as_ref().and_then(|l| self.claimed(m, l.user_id)) {
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
        let hash = password
            .as_deref()
            .map_or_else(|| "unissued".to_owned(), credentials::hash_generated);
        let id = self.insert(f, &hash, domain)?;
        let idx = (id - self.first_id) as usize;
        if self.lines.len() <= idx {
            self.lines.resize(idx + 1, 0);
        }
        self.lines[idx] = u32::try_from(line).unwrap_or(u32::MAX);
        if let (Some(pw), Some(creds)) = (password.as_deref(), self.creds.as_deref_mut()) {
            creds.write(&Issued {
                username: &self.username,
                email: &f.email,
                password: pw,
                expires: self.expires,
                recovery_code: None,
            })?;
        }
        if let Some(m) = &f.msa {
            if let Some(l) = sever {
                let reason = format!("linked to {} ({})", self.username, self.org.name);
                self.st.end_link(l.id, self.at, &reason)?;
                self.severed.push(format!(
                    "{m} was associated with {} in {}; that association is now severed (line {line})",
                    l.username, l.org_name
                ));
                self.sever_audit
                    .push((l.org_id, l.username, format!("msa={m} severed: {reason}")));
            }
            self.st.insert_link(m, id, self.org.id, self.at)?;
        }
        Ok(Ok(Outcome::Added))
    }

    /// Inserts the account under a free user name (left in `self.username`).
    fn insert(&mut self, f: &Fields, hash: &str, domain: &str) -> Result<i64> {
        let local = validate::username_local(&f.email);
        let mut n = self.suffixes.get(&local).copied();
        loop {
            self.username.clear();
            self.username.push_str(&local);
            if let Some(k) = n {
                self.username.push_str(&k.to_string());
            }
            self.username.push('@');
            self.username.push_str(domain);
            let row = BulkUser {
                org_id: self.org.id,
                username: &self.username,
                name: &f.name,
                email: &f.email,
                roles: &f.roles,
                password_hash: hash,
                expires_at: self.expires,
            };
            if let Some(id) = self.st.insert_user(&row, self.at)? {
                if let Some(k) = n {
                    self.suffixes.insert(local, k + 1);
                }
                return Ok(id);
            }
            n = Some(match n {
                Some(k) => k + 1,
                None => (self.st.max_username_suffix(&local, domain)? + 1).max(2),
            });
        }
    }

    /// A row whose e-mail is already active in the organization.
    fn existing(&mut self, f: &Fields, ex: &ExistingUser) -> Result<Result<Outcome, String>> {
        if ex.id >= self.first_id {
            return Ok(Err(format!(
                "email: {} is already on line {} of this file",
                f.email,
                self.line_of(ex.id)
            )));
        }
        if self.is_touched(ex.id) {
            return Ok(Err(format!(
                "email: {} is already on an earlier row of this file (user {})",
                f.email, ex.username
            )));
        }
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
        let Some(m) = &f.msa else {
            self.touch(ex.id);
            return Ok(Ok(Outcome::Unchanged));
        };
        if ex.link.as_ref().is_some_and(|(_, cur)| cur == m) {
            self.touch(ex.id);
            return Ok(Ok(Outcome::Unchanged));
        }
        let sever = self.st.open_link(m)?;
        if let Some(why) = sever.as_ref().and_then(|l| self.claimed(m, l.user_id)) {
            return Ok(Err(why));
        }
        self.touch(ex.id);
        if let Some((old_id, _)) = &ex.link {
            self.st
                .end_link(*old_id, self.at, &format!("replaced by {m}"))?;
        }
        if let Some(l) = sever {
            let reason = format!("linked to {} ({})", ex.username, self.org.name);
            self.st.end_link(l.id, self.at, &reason)?;
            self.severed.push(format!(
                "{m} was associated with {} in {}; that association is now severed",
                l.username, l.org_name
            ));
            self.sever_audit
                .push((l.org_id, l.username, format!("msa={m} severed: {reason}")));
        }
        self.st.insert_link(m, ex.id, self.org.id, self.at)?;
        Ok(Ok(Outcome::Updated))
    }
}

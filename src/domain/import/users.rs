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

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::input::{Column, Input};
use super::{Options, Outcome, Rejects, Summary};
use crate::domain::accounts::{Actor, Role};
use crate::domain::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::store::import::{
    BulkUser, ExistingUser, OpenLink, USERS_IMPORT_CACHE_KIB, UserStatements,
};
use crate::store::{Db, Org};
use crate::support::fields;

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
    let input = Input::open(&opts.file, COLUMNS, &opts.progress)?;
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
///
/// Three passes, memory bounded whatever the file size:
/// 1. the file is read once, each row validated and staged (or recorded as rejected) in a
///    TEMP table, in file order; a Bloom filter notes e-mails and MSAs that may repeat;
/// 2. only the rows with such an e-mail or MSA are re-read, in file order, and the second
///    occurrence of each rejected, naming the first — exactly as a row-by-row run would;
/// 3. the remaining rows are read back sorted by e-mail and written: accounts in the
///    order of the e-mail and user-name indexes, their MSA links queued and inserted at
///    the end in MSA order. Then the rejected rows are reported in file order.
pub fn import(
    db: &Db,
    org: &Org,
    actor: &Actor,
    opts: &Options,
    input: &mut Input,
    creds: Option<&mut CredentialsFile>,
    mut rejects: Option<&mut Rejects>,
) -> Result<Summary> {
    let mut summary = Summary::new("users", input, opts);
    let cache = db.set_cache_kib(USERS_IMPORT_CACHE_KIB)?;
    // A re-import reads every account: through mmap that would be the whole file resident.
    let mmap = db.set_mmap_size(0)?;
    let mut stage = db.user_stage()?;
    let cols = [EMAIL, NAME, FIRST, LAST, MSA, ROLE].map(|c| input.column(c));
    let mut rejected = 0u64;

    // 1. Validate and stage.
    let mut name = String::new();
    {
        let mut emails = Bloom::new();
        let mut msas = Bloom::new();
        while let Some(row) = input.next_row()? {
            summary.rows += 1;
            let parsed = row.check().and_then(|()| {
                let name = match cols[NAME] {
                    Some(_) => row.get(cols[NAME]),
                    None => {
                        name.clear();
                        name.push_str(row.get(cols[FIRST]).trim());
                        name.push(' ');
                        name.push_str(row.get(cols[LAST]).trim());
                        &name
                    }
                };
                validate_row(
                    row.get(cols[EMAIL]),
                    name,
                    row.opt(cols[MSA]),
                    row.get(cols[ROLE]),
                )
            });
            match parsed {
                Ok(f) => {
                    if emails.insert(&f.email) {
                        stage.candidate_email(&f.email)?;
                    }
                    if let Some(m) = &f.msa
                        && msas.insert(m)
                    {
                        stage.candidate_msa(m)?;
                    }
                    stage.add(
                        row.line(),
                        row.span(),
                        &f.email,
                        &f.name,
                        f.msa.as_deref(),
                        &f.roles,
                    )?;
                }
                Err(message) => {
                    rejected += 1;
                    stage.reject(row.line(), row.span(), &message)?;
                }
            }
        }
        input.finish();
    }

    // 2. Duplicates within the file: the first occurrence wins, a rejected row takes nothing.
    crate::domain::progress::phase(input.progress(), "checking duplicates", None)?;
    let mut dups = 0u64;
    stage.for_each_candidate(|stage, line, span, email, msa| {
        let why = if let Some(first) = stage.email_taken(email)? {
            format!("email: {email} is already on line {first} of this file")
        } else if let Some(m) = msa
            && let Some(first) = stage.msa_taken(m)?
        {
            format!("msa: {m} is already on line {first} of this file")
        } else {
            return stage.take(email, msa, line);
        };
        dups += 1;
        stage.reject(line, span, &why)
    })?;
    if dups > 0 {
        stage.drop_rejected()?;
    }
    rejected += dups;

    // 3. Write, in e-mail order.
    let mut state = State {
        dry_run: opts.dry_run,
        st: db.user_statements()?,
        org,
        at: actor.at,
        expires: credentials::temporary_expiry(actor.at),
        touched: Vec::new(),
        suffixes: HashMap::new(),
        rng: OsRandom::new(),
        creds,
        severed: Vec::new(),
        sever_audit: Vec::new(),
        username: String::with_capacity(96),
        links: Vec::new(),
        any_active: db.has_active_users(org.id)?,
        any_open_link: db.has_open_links()?,
    };
    let domain = org.domain.clone();
    let to_write = summary.rows - rejected;
    let progress = input.progress();
    crate::domain::progress::phase(
        progress,
        &format!(
            "writing {} accounts",
            crate::domain::progress::count(to_write)
        ),
        Some(to_write),
    )?;
    let mut since_tick = 0u64;
    stage.for_each_by_email(|stage, row| {
        since_tick += 1;
        if since_tick == 1024 {
            crate::domain::progress::advance(progress, since_tick)?;
            since_tick = 0;
        }
        // A doomed all-or-nothing import makes no secret: nothing will be kept.
        let failed = rejected > 0 && !opts.skip_invalid;
        let f = Fields {
            email: row.email,
            name: row.name,
            msa: row.msa,
            roles: row.roles,
        };
        match state.row(&f, row.line, &domain, failed)? {
            Ok(o) => summary.count(o),
            Err(message) => {
                rejected += 1;
                stage.reject(row.line, row.span, &message)?;
            }
        }
        for (m, id) in state.links.drain(..) {
            stage.queue_link(&m, id)?;
        }
        Ok(())
    })?;
    progress.advance(since_tick);
    crate::domain::progress::phase(progress, "linking Microsoft accounts", None)?;
    stage.insert_links(org.id, actor.at)?;

    // The rejected rows, in file order.
    stage.for_each_reject(|r| {
        summary.reject(r.line, &r.message);
        if let Some(rej) = rejects.as_deref_mut() {
            rej.write(input, r.span.0, r.span.1, &r.message)?;
        }
        Ok(())
    })?;
    stage.drop_tables()?;
    db.set_mmap_size(mmap)?;

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
        let (raised, designations) =
            crate::domain::membership::reevaluate_all(db, &other, actor, Some(&cause))?;
        if other.id == org.id {
            summary.alerts.extend(raised);
        } else {
            summary
                .elsewhere
                .push(crate::domain::membership::OrgAlerts {
                    org_name: other.name,
                    elsewhere: true,
                    alerts: raised,
                    designations,
                });
        }
    }
    drop(state);
    db.restore_cache(cache)?;
    Ok(summary)
}

/// A blocked Bloom filter of fixed size (8 MiB): whether a key may have been inserted
/// before. Its four bits lie in one 64-bit word, so an insert costs one cache miss. False
/// positives only cost a re-check; memory stays flat whatever the file size.
struct Bloom {
    words: Vec<u64>,
}

impl Bloom {
    const WORDS: usize = 1 << 20;

    fn new() -> Self {
        Bloom {
            words: vec![0; Self::WORDS],
        }
    }

    /// Inserts `key`; returns whether it may have been there already.
    fn insert(&mut self, key: &str) -> bool {
        let h = std::hash::BuildHasher::hash_one(
            &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
            key,
        )
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // 20 bits choose the word, four 6-bit fields the bits in it.
        let w = (h >> 44) as usize % Self::WORDS;
        let mask = (0..4).fold(0u64, |m, i| m | 1 << ((h >> (i * 6)) & 63));
        let present = self.words[w] & mask == mask;
        self.words[w] |= mask;
        present
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

struct State<'a, 'c> {
    /// `--dry-run`: messages say what would happen.
    dry_run: bool,
    st: UserStatements<'a>,
    org: &'a Org,
    at: DateTime<Utc>,
    expires: DateTime<Utc>,
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
    /// Whether the organization had an active account before the import: if not, no row
    /// can match one (the staged e-mails are distinct), and the lookup is skipped.
    any_active: bool,
    /// Whether any MSA had an open association before the import (this import's own links
    /// are queued, and the staged MSAs are distinct): if not, that lookup is skipped too.
    any_open_link: bool,
    /// MSA links the last row made, for the caller to queue: (msa, account).
    links: Vec<(String, i64)>,
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
    fn claimed(&self, m: &str, l: &OpenLink) -> Option<String> {
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

    fn row(
        &mut self,
        f: &Fields,
        line: u64,
        domain: &str,
        failed: bool,
    ) -> Result<Result<Outcome, String>> {
        if self.any_active
            && let Some(ex) = self.st.active_by_email(self.org.id, &f.email)?
        {
            return self.existing(f, &ex);
        }
        let sever = match &f.msa {
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
        let hash = password
            .as_deref()
            .map_or_else(|| "unissued".to_owned(), credentials::hash_generated);
        let id = self.insert(f, &hash, domain)?;
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
                    "{m} was associated with {} in {}; that association {} severed (line {line})",
                    l.username,
                    l.org_name,
                    if self.dry_run { "would be" } else { "is now" }
                ));
                self.sever_audit
                    .push((l.org_id, l.username, format!("msa={m} severed: {reason}")));
            }
            self.links.push((m.clone(), id));
        }
        Ok(Ok(Outcome::Added))
    }

    /// Inserts the account under a free user name (left in `self.username`).
    fn insert(&mut self, f: &Fields, hash: &str, domain: &str) -> Result<i64> {
        let local = fields::username_local(&f.email);
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
            // Never a user name equal to another account's e-mail (SPEC §4).
            let free = self.username == f.email || !self.st.email_in_use(&self.username)?;
            if free && let Some(id) = self.st.insert_user(&row, self.at)? {
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
        if let Some(why) = sever.as_ref().and_then(|l| self.claimed(m, l)) {
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
        self.links.push((m.clone(), ex.id));
        Ok(Ok(Outcome::Updated))
    }
}

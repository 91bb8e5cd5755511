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
use crate::domain::accounts::Severed;
use crate::domain::accounts::{Actor, Role};
use crate::domain::credentials::{self, CredentialsFile, Issued, OsRandom};
use crate::store::import::{BulkUser, ExistingUser, OpenLink, UserStatements};
use crate::store::{Db, Org};
use crate::support::fields;

mod rows;
use crate::support::bloom::Bloom;
use rows::{Fields, State, validate_row};

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
    let input = Input::open(opts, COLUMNS)?;
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
        st: stage.statements(org.id, &org.domain, actor.at)?,
        org,
        at: actor.at,
        expires: credentials::temporary_expiry(actor.at),
        touched: Vec::new(),
        suffixes: HashMap::new(),
        rng: OsRandom::new(),
        creds,
        severed: Severed::new(opts.dry_run),
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
        let failed = opts.fate(rejected) == super::Fate::Failed;
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

    // Another account lost its MSA: a change to its history, audited there (SPEC §7).
    state.severed.audit(db, actor)?;
    super::after_severing(
        db,
        org,
        actor,
        &state.severed,
        "a users import",
        &mut summary,
    )?;
    drop(state);
    Ok(summary)
}

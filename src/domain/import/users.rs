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
use crate::store::import::{BulkUser, CHUNK_ROWS, ExistingUser, OpenLink, UserStatements};
use crate::store::{Db, Org};
use crate::support::fields;

mod read;
mod rows;
mod staged;
use rows::State;
use staged::Staged;

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

/// Announces the chunk of `staged` from `from` (its rows' user-name `locals`) to the store.
fn ask_ahead(
    st: &mut UserStatements<'_>,
    staged: &Staged,
    from: usize,
    locals: &[String],
) -> Result<()> {
    if locals.is_empty() {
        return Ok(());
    }
    let keys: Vec<(&str, Option<&str>, &str)> = staged
        .rows(from, CHUNK_ROWS)
        .zip(locals)
        .map(|(r, l)| (r.email, r.msa, l.as_str()))
        .collect();
    st.ask_ahead(&keys)
}

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
/// Three passes:
/// 1. the file is read once, each row validated and kept in memory ([`Staged`]) or
///    recorded as rejected; Bloom filters note e-mails and MSAs that may repeat;
/// 2. only the rows with such an e-mail or MSA are looked at again, in file order, and the
///    second occurrence of each rejected, naming the first — exactly as a row-by-row run
///    would;
/// 3. the remaining rows are sorted by e-mail and decided in that order, a chunk at a time
///    (announced to the store before, closed after: see `store::import::UserStatements`),
///    accounts written in the order of the e-mail and user-name indexes, MSA links in MSA
///    order. Then the rejected rows are reported in file order.
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
    let cols = read::Columns {
        email: input.column(EMAIL),
        name: input.column(NAME),
        first: input.column(FIRST),
        last: input.column(LAST),
        msa: input.column(MSA),
        role: input.column(ROLE),
    };

    // 1. Read and validate (two threads: `read`).
    let len = input.len();
    let (mut staged, rows, mut rejected) = read::read(input, &cols, len)?;
    summary.rows += rows;
    input.finish();

    // 2. Duplicates within the file: the first occurrence wins, a rejected row takes nothing.
    crate::domain::progress::phase(input.progress(), "checking duplicates", None)?;
    rejected += staged.drop_repeats();
    // Asked in file order, while the arena is read in the order it was written.
    let emails_in_domain = staged.any_email_in(&org.domain);
    staged.sort_by_email();

    // 3. Decide and write, in e-mail order.
    let to_write = staged.len() as u64;
    let mut state = State {
        st: db.user_statements(org.id, &org.domain, actor.at, to_write, emails_in_domain)?,
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
    let progress = input.progress();
    crate::domain::progress::phase(
        progress,
        &format!(
            "writing {} accounts",
            crate::domain::progress::count(to_write)
        ),
        Some(to_write),
    )?;
    let mut refused = Vec::new();
    // Each row's user-name local part, made once: the store asks about the names ahead
    // (PostgreSQL) and the row's insert starts from it.
    let locals = |from: usize| -> Vec<String> {
        staged
            .rows(from, CHUNK_ROWS)
            .map(|r| fields::username_local(r.email))
            .collect()
    };
    let mut chunk = locals(0);
    ask_ahead(&mut state.st, &staged, 0, &chunk)?;
    for from in (0..staged.len()).step_by(CHUNK_ROWS) {
        for (row, local) in staged.rows(from, CHUNK_ROWS).zip(&chunk) {
            // A doomed all-or-nothing import makes no secret: nothing will be kept.
            let failed = opts.fate(rejected) == super::Fate::Failed;
            match state.row(&row, local, &domain, failed)? {
                Ok(o) => summary.count(o),
                Err(message) => {
                    rejected += 1;
                    refused.push((row.line, row.span, message));
                }
            }
            for (m, id) in state.links.drain(..) {
                state.st.queue_link(m, id);
            }
        }
        let done = chunk.len() as u64;
        // The next chunk is announced before this one is written: PostgreSQL asks its
        // lookups first, then writes this chunk while the next is decided.
        chunk = locals(from + CHUNK_ROWS);
        ask_ahead(&mut state.st, &staged, from + CHUNK_ROWS, &chunk)?;
        state.st.end_chunk()?;
        crate::domain::progress::advance(progress, done)?;
    }
    crate::domain::progress::phase(progress, "linking Microsoft accounts", None)?;
    let State { st, severed, .. } = state;
    st.finish()?;
    for (line, span, message) in refused {
        staged.reject(line, span, message);
    }

    // The rejected rows, in file order.
    for r in staged.take_rejects() {
        summary.reject(r.line, &r.message);
        if let Some(rej) = rejects.as_deref_mut() {
            rej.write(input, r.span.0, r.span.1, &r.message)?;
        }
    }

    // Another account lost its MSA: a change to its history, audited there (SPEC §7).
    severed.audit(db, actor)?;
    super::after_severing(db, org, actor, &severed, "a users import", &mut summary)?;
    Ok(summary)
}

//! `achievements import` of the Partner Center Insights **Trainings** report (SPEC §6a), the
//! file admins download as it comes, or as Excel saves it: CSV, TSV or `;`-separated, UTF-8
//! with or without BOM or UTF-16 with BOM, LF or CRLF, the older layout without
//! `ExpirationDate` or the 2021 one with it.
//!
//! Invariants, on top of those of every import (see the module above):
//! - **the report is recognised by its header** ([`sniff`]): `TrainingTitle`,
//!   `TrainingCompletionDate` and `Email`. A report downloaded without personal data
//!   (`AADUserId`, no `Email`) is refused before anything is read.
//! - **titles map through the catalogue** (`title` or `aliases`, ignoring case and runs of
//!   white space). A row whose title is in no entry is `skipped`, never an error, whatever
//!   its other fields hold; the distinct titles are counted and listed (cut to 60 characters,
//!   at most [`MAX_TITLES`] kept, so a hostile file cannot grow memory).
//! - **one date order per file**: `DD/MM/YYYY` or `MM/DD/YYYY` is decided by the first
//!   date whose first (or second) field is above 12, found by a pre-scan that stops there;
//!   `--date-order` decides when every date is ambiguous. A date that contradicts the
//!   file's order makes the whole file invalid (nothing written), naming its line and the
//!   line that set the order.
//! - **people**: each MSA's `CorpEmail` and name are kept in memory (one entry per person,
//!   not per row) to count those without a corporate e-mail and, with `--link-users` /
//!   `--create-users`, to link or create their accounts after the rows are written, in the
//!   same transaction, with the rules of the services `users link-msa` and `users add`
//!   (audited, severance rules of SPEC §4, one credentials file), a chunk at a time.
//! - **people follow from the rows taken** (a refused row claims nothing): the rows are
//!   staged and the store refuses, set-based, those of another organization's MSA and the
//!   repeated keys; then the rows it took are read back in file order and give the
//!   people, their CorpEmail and names ([`people`]); with linking, a row whose CorpEmail
//!   contradicts an earlier row taken is refused there, before anything is written. So
//!   the rule order is: the MSA's owner, the key already in the file, then the CorpEmail.

mod dates;
mod people;
mod reconcile;
mod sniff;

pub use dates::DateOrder;
pub use reconcile::{Kind as DifferenceKind, reconcile};
pub use sniff::{Sniffed, sniff};

use std::collections::HashMap;

use anyhow::Result;
use chrono::NaiveDate;
use serde::Serialize;

use super::input::{Column, Input, normalize_header};
use super::{Options, Read, Rejects, Summary, read_rows};
use crate::domain::accounts::Actor;
use crate::domain::credentials::CredentialsFile;
use crate::domain::records::ValidAchievement;
use crate::rules::Rulebook;
use crate::rules::rulebook::normalize_title;
use crate::store::import::records::RecordStage;
use crate::store::{Db, Org};
use crate::support::fields;
use dates::{date, decide_order};
use people::{Person, corp_refusal, link_people, note_person};

/// Distinct skipped titles kept for the summary; the rest are counted.
pub const MAX_TITLES: usize = 200;

const TITLE: usize = 0;
const COMPLETED: usize = 1;
const EMAIL: usize = 2;
const CORP: usize = 3;
const FIRST: usize = 4;
const LAST: usize = 5;
const EXPIRES: usize = 6;
const MPNID: usize = 7;

/// The columns of the report. The first eight are read; the others are known, so that
/// they are not reported as ignored.
pub const COLUMNS: &[Column] = &[
    Column {
        field: "TrainingTitle",
        names: &["trainingtitle"],
    },
    Column {
        field: "TrainingCompletionDate",
        names: &["trainingcompletiondate"],
    },
    Column {
        field: "Email",
        names: &["email"],
    },
    Column {
        field: "CorpEmail",
        names: &["corpemail"],
    },
    Column {
        field: "IndividualFirstName",
        names: &["individualfirstname"],
    },
    Column {
        field: "IndividualLastName",
        names: &["individuallastname"],
    },
    Column {
        field: "ExpirationDate",
        names: &["expirationdate"],
    },
    Column {
        field: "MPNId",
        names: &["mpnid"],
    },
    Column {
        field: "TrainingActivityId",
        names: &["trainingactivityid"],
    },
    Column {
        field: "TrainingType",
        names: &["trainingtype"],
    },
    Column {
        field: "Month",
        names: &["month"],
    },
    Column {
        field: "IcMCP",
        names: &["icmcp"],
    },
    Column {
        field: "MCPID",
        names: &["mcpid"],
    },
    Column {
        field: "PartnerName",
        names: &["partnername"],
    },
    Column {
        field: "PartnerCityLocation",
        names: &["partnercitylocation"],
    },
    Column {
        field: "PartnerCountryLocation",
        names: &["partnercountrylocation"],
    },
    Column {
        field: "ActivationStatus",
        names: &["activationstatus"],
    },
];

/// What the import does besides recording achievements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Linking {
    /// `--link-users`: link each person's MSA to the active account with their CorpEmail.
    pub link: bool,
    /// `--create-users`: also create the missing accounts.
    pub create: bool,
    /// `--linked-since`: the links made count from this day (00:00 UTC) instead of now,
    /// so that a full-history report keeps what Partner Center already counted.
    pub since: Option<NaiveDate>,
}

/// Checks `--linked-since DATE` against today: a link cannot start in the future (the
/// years 1900–9999 are the date parser's).
pub fn check_linked_since(since: NaiveDate, today: NaiveDate) -> Result<()> {
    if since > today {
        return Err(crate::error::bad_input(format!(
            "--linked-since {since} is in the future (today is {today}): links count from a \
             day that has begun"
        )));
    }
    Ok(())
}

/// A title outside the catalogue and how many rows had it.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedTitle {
    /// The title as in the file (cut to 60 characters).
    pub title: String,
    /// Rows with it.
    pub rows: u64,
}

/// The report's partner ID when it is not the organization's.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerMismatch {
    /// The first MPNId seen that differs.
    pub mpn_id: String,
    /// Its first line.
    pub line: u64,
    /// Rows whose MPNId differs.
    pub rows: u64,
    /// The organization's partner ID.
    pub expected: String,
}

/// What the Trainings report import found, beyond the counts of every import.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Trainings {
    /// How the file was read, e.g. "Partner Center Trainings report, 2021 layout with
    /// expiry dates, tab-separated, dates day first".
    pub layout: String,
    /// Distinct titles outside the catalogue, most frequent first (at most [`MAX_TITLES`]).
    pub skipped_titles: Vec<SkippedTitle>,
    /// How many distinct titles were skipped in all.
    pub skipped_title_count: u64,
    /// Distinct people (MSAs) of the imported rows.
    pub people: u64,
    /// Of them, those without a CorpEmail in the report.
    pub without_corp_email: u64,
    /// Accounts linked to their MSA by `--link-users` / `--create-users`.
    pub linked: u64,
    /// Accounts created by `--create-users`.
    pub created: u64,
    /// `--linked-since`: the day the links made count from.
    pub linked_since: Option<NaiveDate>,
    /// People whose account already had their MSA.
    pub already_linked: u64,
    /// People with a CorpEmail but no active account (without `--create-users`).
    pub without_account: u64,
    /// People left unlinked because of a conflict (the account has another MSA, or the MSA
    /// belongs to another account of the organization), one line each.
    pub conflicts: Vec<String>,
    /// The report's MPNId differs from the organization's partner ID.
    pub partner_mismatch: Option<PartnerMismatch>,
}

/// Opens a sniffed report.
pub fn open(opts: &Options, sniffed: Sniffed) -> Result<Input> {
    Input::open_delimited(opts, COLUMNS, &opts.progress, sniffed.delimiter).and_then(|i| {
        for c in [TITLE, COMPLETED, EMAIL] {
            if i.column(c).is_none() {
                return Err(i.missing(&format!("{:?}", COLUMNS[c].field)));
            }
        }
        Ok(i)
    })
}

/// The report's columns that are neither read nor known (warned about once).
pub fn ignored_columns(opts: &Options, sniffed: Sniffed) -> Result<Vec<String>> {
    let input = Input::open_delimited(
        opts,
        COLUMNS,
        &crate::domain::progress::none(),
        sniffed.delimiter,
    )?;
    Ok(input.ignored().to_vec())
}

/// The description of the layout read, for the admin.
pub fn describe(sniffed: Sniffed, order: Option<DateOrder>, flag: bool) -> String {
    let mut s = String::from("Partner Center Trainings report, ");
    s.push_str(if sniffed.with_expiry {
        "2021 layout with expiry dates"
    } else {
        "older layout without expiry dates (the catalogue's valid_days apply)"
    });
    if sniffed.encoding != "UTF-8" {
        s.push_str(", ");
        s.push_str(sniffed.encoding);
    }
    match sniffed.delimiter {
        b'\t' => s.push_str(", tab-separated"),
        b';' => s.push_str(", semicolon-separated"),
        _ => {}
    }
    if let Some(o) = order {
        s.push_str(", dates ");
        s.push_str(o.describe());
        if flag {
            s.push_str(" (--date-order)");
        }
    }
    s
}

/// Imports the report. `creds` is `None` for a dry run (or without `--create-users`); the
/// caller commits only if [`Summary::should_commit`].
#[allow(clippy::too_many_arguments)]
pub fn import(
    db: &Db,
    org: &Org,
    rb: &Rulebook,
    actor: &Actor,
    today: NaiveDate,
    opts: &Options,
    sniffed: Sniffed,
    date_order: Option<DateOrder>,
    linking: Linking,
    creds: Option<&mut CredentialsFile>,
    rejects: Option<&mut Rejects>,
) -> Result<(Summary, Trainings)> {
    let order = decide_order(opts, sniffed, date_order)?;
    let mut input = open(opts, sniffed)?;
    let mut summary = Summary::new("achievements", &input, opts);
    let mut t = Trainings {
        layout: describe(sniffed, order.order, date_order.is_some()),
        linked_since: linking.since,
        ..Trainings::default()
    };
    let titles = rb.title_index();
    let cols =
        [TITLE, COMPLETED, EMAIL, CORP, FIRST, LAST, EXPIRES, MPNID].map(|c| input.column(c));
    // About 200 bytes a row.
    let expected = std::fs::metadata(&opts.file).map_or(0, |m| m.len() / 200);
    let mut stage = db.record_stage(org.id, actor.at, expected)?;
    let mut skipped: HashMap<String, u64> = HashMap::new();
    let mut norm = String::new();
    let linking_on = linking.link || linking.create;
    let file = opts.file.clone();
    let each = |stage: &mut RecordStage<'_>, row: &super::input::Row, line: u64| {
        let title = row.get(cols[TITLE]);
        normalize_into(title, &mut norm);
        let Some(code) = titles.get(norm.as_str()) else {
            t.skipped_title_count += skip_title(&mut skipped, title);
            return Ok(Ok(Read::Skipped));
        };
        if let Some(id) = row.opt(cols[MPNID])
            && id != org.partner_id
        {
            let m = t.partner_mismatch.get_or_insert_with(|| PartnerMismatch {
                mpn_id: cut(id),
                line,
                rows: 0,
                expected: org.partner_id.clone(),
            });
            m.rows += 1;
        }
        let msa = match fields::email(row.get(cols[EMAIL])) {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("Email: {e}"))),
        };
        let earned = match date(
            &file,
            &order,
            line,
            "TrainingCompletionDate",
            row.get(cols[COMPLETED]),
        )? {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        if earned > today {
            return Ok(Err(format!(
                "TrainingCompletionDate: {earned} is in the future (today is {today})"
            )));
        }
        let expires = match row.opt(cols[EXPIRES]) {
            None => None,
            Some(raw) => match date(&file, &order, line, "ExpirationDate", raw)? {
                Ok(d) if d <= earned => {
                    return Ok(Err(format!(
                        "ExpirationDate: {d} is not after the completion date ({earned})"
                    )));
                }
                Ok(d) => Some(d),
                Err(e) => return Ok(Err(e)),
            },
        };
        let corp = match row.opt(cols[CORP]) {
            None => None,
            Some(c) => match fields::email(c) {
                Ok(c) => Some(c),
                // Without linking, CorpEmail is only counted: a bad one is no reason to
                // refuse the achievement.
                Err(e) if linking_on => return Ok(Err(format!("CorpEmail: {e}"))),
                Err(_) => None,
            },
        };
        let a = ValidAchievement {
            msa,
            code: code.clone(),
            earned,
            expires,
        };
        // Names in one line; without linking only whether there is a CorpEmail counts.
        let (first, last) = if linking_on {
            (
                one_line(row.get(cols[FIRST])),
                one_line(row.get(cols[LAST])),
            )
        } else {
            ("".into(), "".into())
        };
        let person = Some((corp.as_deref(), &*first, &*last));
        stage.add(
            line,
            row.span(),
            &super::achievements::staged(rb, &a, person),
        )?;
        Ok(Ok(Read::Staged))
    };
    read_rows(
        &mut input,
        &mut summary,
        &mut stage,
        RecordStage::invalid,
        each,
    )?;
    // The people follow from the rows the store took, in file order; with linking a row
    // whose CorpEmail contradicts an earlier row taken is refused before anything is
    // written, so it claims nothing.
    let mut people: HashMap<String, Person> = HashMap::new();
    let mut corp_owner: HashMap<String, String> = HashMap::new();
    if !linking_on {
        // Nothing to refuse: the records are written first, so the rows taken need not be
        // grouped by key before they are read (a file that repeats no key is never grouped).
        stage.write()?;
    }
    stage.for_each_taken(|_, msa, corp, first, last| {
        if linking_on
            && let Some(c) = corp
            && let Some(refused) = corp_refusal(&people, &corp_owner, msa, c)
        {
            return Ok(Some(refused));
        }
        let corp = corp.map(|c| {
            if linking_on {
                c.to_owned()
            } else {
                String::new()
            }
        });
        note_person(&mut people, &mut corp_owner, msa, corp, first, last);
        Ok(None)
    })?;
    super::achievements::decide(stage, org, "Email", &input, &mut summary, rejects)?;

    let mut titles: Vec<SkippedTitle> = skipped
        .into_iter()
        .map(|(title, rows)| SkippedTitle { title, rows })
        .collect();
    titles.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.title.cmp(&b.title)));
    t.skipped_titles = titles;
    t.people = people.len() as u64;
    t.without_corp_email = people.values().filter(|p| p.corp.is_none()).count() as u64;
    let doomed = opts.fate(summary.rejected) == crate::domain::import::Fate::Failed;
    if linking_on && !doomed {
        link_people(
            db,
            org,
            actor,
            opts,
            linking,
            people,
            creds,
            &mut t,
            &mut summary,
        )?;
    }
    Ok((summary, t))
}

fn normalize_into(title: &str, out: &mut String) {
    out.clear();
    for word in title.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
        } else {
            out.push_str(&normalize_title(word));
        }
    }
}

/// A field with each line break (a quoted name Excel wrapped) as one space.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\r', '\n']) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut in_break = false;
    for c in s.chars() {
        if matches!(c, '\r' | '\n') {
            if !in_break {
                out.push(' ');
            }
            in_break = true;
        } else {
            out.push(c);
            in_break = false;
        }
    }
    out.into()
}

/// Counts a skipped row; returns 1 when its title is new.
fn skip_title(skipped: &mut HashMap<String, u64>, title: &str) -> u64 {
    let shown = cut(one_line(title).trim());
    if let Some(n) = skipped.get_mut(&shown) {
        *n += 1;
        return 0;
    }
    if skipped.len() < MAX_TITLES {
        skipped.insert(shown, 1);
        return 1;
    }
    // Beyond the titles kept, a new title cannot be told from one already counted.
    0
}

/// A value from the file for the summary: cut to 60 characters (escaping is the printer's).
fn cut(value: &str) -> String {
    if value.chars().count() <= fields::SHOWN_CHARS {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(fields::SHOWN_CHARS).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn line_breaks_in_a_field_become_one_space() {
        assert_eq!(one_line("Ann\r\nMarie"), "Ann Marie");
        assert_eq!(one_line("Ann\n\nMarie\n"), "Ann Marie ");
        assert_eq!(one_line("Ann"), "Ann");
    }

    #[test]
    fn titles_normalize_like_the_catalogue() {
        let mut s = String::new();
        for t in ["  Exam 70-533:  Implementing\tAzure ", "ÉTUDE  Ünd"] {
            normalize_into(t, &mut s);
            assert_eq!(s, normalize_title(t));
        }
    }
}

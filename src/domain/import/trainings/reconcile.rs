//! `achievements reconcile REPORT` (SPEC §6a): a full-history ("Lifetime") Trainings report
//! compared with the organization, reading only.
//!
//! Partners import the report once and then lose track: people who left or unlinked in
//! Partner Center keep counting here. The comparison reads the report with the import's own
//! rules (header, titles through the catalogue, one date order per file) and reports four
//! kinds of difference, one row each:
//! - `absent`: an achievement that counts here now and has no row in the report (same MSA
//!   and catalogue code);
//! - `no-account`: a person of the report whose MSA is associated with no account here and
//!   whose CorpEmail is no active account's e-mail;
//! - `expiry`: the same achievement (MSA, code, day earned) with another expiry here;
//! - `skipped-title`: a title in no catalogue entry (its rows are counted).
//!
//! Invariants: nothing is written (the caller opens a read transaction); a row the import
//! would refuse is counted as unreadable and never compared, so a damaged report cannot
//! produce `absent` rows by itself being unreadable — they are listed as such instead.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::dates::{date, decide_order};
use super::{COMPLETED, CORP, DateOrder, EMAIL, EXPIRES, FIRST, LAST, Sniffed, TITLE, open};
use super::{cut, normalize_into, skip_title};
use crate::domain::achievements::{self, Whose};
use crate::domain::import::Options;
use crate::store::{Db, Org};
use crate::support::fields;

/// What kind of difference a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display, strum::AsRefStr)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Kind {
    /// Counts here, not in the report.
    Absent,
    /// In the report, no account here.
    NoAccount,
    /// Expiry differs.
    Expiry,
    /// A title in no catalogue entry.
    SkippedTitle,
}

/// One difference.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Its kind.
    pub kind: Kind,
    /// The MSA (empty for a skipped title).
    pub msa: String,
    /// The account here, when there is one.
    pub username: Option<String>,
    /// The report's CorpEmail (no-account rows).
    pub corp_email: Option<String>,
    /// The person's name in the report (no-account rows).
    pub name: Option<String>,
    /// The catalogue code (absent and expiry rows).
    pub code: Option<String>,
    /// The title (skipped-title rows), cut to 60 characters.
    pub title: Option<String>,
    /// The day earned (absent and expiry rows).
    pub earned: Option<NaiveDate>,
    /// The expiry recorded here (absent and expiry rows).
    pub expires_here: Option<NaiveDate>,
    /// The expiry in the report (expiry rows).
    pub expires_in_report: Option<NaiveDate>,
    /// Rows of the report concerned (no-account and skipped-title rows).
    pub rows: u64,
}

/// The comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reconciliation {
    /// The report's data rows.
    pub rows: u64,
    /// Distinct people (MSAs) in the report, on rows with a catalogue title.
    pub people: u64,
    /// Rows that could not be read (bad e-mail or date): never compared.
    pub unreadable: u64,
    /// The first unreadable rows, `FILE:LINE: field: reason`.
    pub unreadable_examples: Vec<String>,
    /// Every difference, by kind then MSA.
    pub differences: Vec<Difference>,
}

/// One person of the report.
#[derive(Default)]
struct InReport {
    corp: Option<String>,
    name: String,
    rows: u64,
    /// (code, earned) → expiry in the report.
    held: HashMap<(String, NaiveDate), Option<NaiveDate>>,
    codes: HashSet<String>,
}

/// Compares the report with the organization at `now`.
pub fn reconcile(
    db: &Db,
    org: &Org,
    rb: &crate::rules::Rulebook,
    opts: &Options,
    sniffed: Sniffed,
    date_order: Option<DateOrder>,
    now: DateTime<Utc>,
) -> Result<Reconciliation> {
    let order = decide_order(opts, sniffed, date_order)?;
    let mut input = open(opts, sniffed)?;
    let cols = [TITLE, COMPLETED, EMAIL, CORP, FIRST, LAST, EXPIRES].map(|c| input.column(c));
    let titles = rb.title_index();
    let mut out = Reconciliation::default();
    let mut skipped: HashMap<String, u64> = HashMap::new();
    let mut people: HashMap<String, InReport> = HashMap::new();
    let mut norm = String::new();
    let file = opts.file.clone();
    let bad = |out: &mut Reconciliation, line: u64, why: String| {
        out.unreadable += 1;
        if out.unreadable_examples.len() < crate::domain::import::MAX_LISTED_ERRORS {
            out.unreadable_examples
                .push(format!("{}:{line}: {why}", file.display()));
        }
    };
    while let Some(row) = input.next_row()? {
        let line = row.line();
        out.rows += 1;
        if let Err(e) = row.check() {
            bad(&mut out, line, e.to_string());
            continue;
        }
        let title = row.get(cols[0]);
        normalize_into(title, &mut norm);
        let Some(code) = titles.get(norm.as_str()) else {
            skip_title(&mut skipped, title);
            continue;
        };
        let msa = match fields::email(row.get(cols[2])) {
            Ok(m) => m,
            Err(e) => {
                bad(&mut out, line, format!("Email: {e}"));
                continue;
            }
        };
        let earned = match date(
            &opts.file,
            &order,
            line,
            "TrainingCompletionDate",
            row.get(cols[1]),
        )? {
            Ok(d) => d,
            Err(e) => {
                bad(&mut out, line, e);
                continue;
            }
        };
        let expires = match row.opt(cols[6]) {
            None => None,
            Some(raw) => match date(&opts.file, &order, line, "ExpirationDate", raw)? {
                Ok(d) => Some(d),
                Err(e) => {
                    bad(&mut out, line, e);
                    continue;
                }
            },
        };
        let p = people.entry(msa).or_default();
        p.rows += 1;
        if p.corp.is_none() {
            p.corp = row.opt(cols[3]).and_then(|c| fields::email(c).ok());
            let name = format!("{} {}", row.get(cols[4]).trim(), row.get(cols[5]).trim());
            p.name = cut(name.trim());
        }
        p.codes.insert(code.clone());
        // The latest expiry of a repeated row wins, as the import's update does.
        let e = p.held.entry((code.clone(), earned)).or_insert(expires);
        if expires > *e {
            *e = expires;
        }
    }
    out.people = people.len() as u64;

    let here = achievements::list(db, org, &Whose::All, now, None)?;
    let raw: HashMap<(String, String, NaiveDate), Option<NaiveDate>> = db
        .achievements(org.id, None)?
        .into_iter()
        .map(|r| ((r.msa, r.code, r.earned), r.expires))
        .collect();
    let mut diffs = Vec::new();
    for a in &here {
        let person = people.get(&a.msa);
        let key = (a.code.clone(), a.earned);
        match person.and_then(|p| p.held.get(&key).map(|e| (p, e))) {
            None => {
                // Absent only when it counts now and no row of the report has its code:
                // a report row with the code on another day is the same certification
                // renewed or re-earned, not a leaver.
                if a.counts && !person.is_some_and(|p| p.codes.contains(&a.code)) {
                    diffs.push(Difference {
                        kind: Kind::Absent,
                        msa: a.msa.clone(),
                        username: a.username.clone(),
                        corp_email: None,
                        name: None,
                        code: Some(a.code.clone()),
                        title: None,
                        earned: Some(a.earned),
                        expires_here: a.expires,
                        expires_in_report: None,
                        rows: 0,
                    });
                }
            }
            Some((_, reported)) => {
                // A report without expiry dates (older layout) says nothing about them.
                let Some(reported) = *reported else { continue };
                let mine = raw
                    .get(&(a.msa.clone(), a.code.clone(), a.earned))
                    .copied()
                    .flatten()
                    .or(a.expires);
                if mine != Some(reported) {
                    diffs.push(Difference {
                        kind: Kind::Expiry,
                        msa: a.msa.clone(),
                        username: a.username.clone(),
                        corp_email: None,
                        name: None,
                        code: Some(a.code.clone()),
                        title: None,
                        earned: Some(a.earned),
                        expires_here: mine,
                        expires_in_report: Some(reported),
                        rows: 0,
                    });
                }
            }
        }
    }
    let accounts = crate::domain::accounts::list(db, org, false)?;
    let emails: HashSet<&str> = accounts.iter().map(|u| u.email.as_str()).collect();
    let linked: HashMap<&str, &str> = accounts
        .iter()
        .filter_map(|u| u.msa.as_deref().map(|m| (m, u.username.as_str())))
        .collect();
    for (msa, p) in &people {
        if linked.contains_key(msa.as_str()) {
            continue;
        }
        if p.corp.as_deref().is_some_and(|c| emails.contains(c)) {
            continue;
        }
        diffs.push(Difference {
            kind: Kind::NoAccount,
            msa: msa.clone(),
            username: None,
            corp_email: p.corp.clone(),
            name: Some(p.name.clone()).filter(|n| !n.is_empty()),
            code: None,
            title: None,
            earned: None,
            expires_here: None,
            expires_in_report: None,
            rows: p.rows,
        });
    }
    for (title, rows) in skipped {
        diffs.push(Difference {
            kind: Kind::SkippedTitle,
            msa: String::new(),
            username: None,
            corp_email: None,
            name: None,
            code: None,
            title: Some(title),
            earned: None,
            expires_here: None,
            expires_in_report: None,
            rows,
        });
    }
    diffs.sort_by(|a, b| {
        (a.kind as u8, &a.msa, &a.code, a.earned, &a.title).cmp(&(
            b.kind as u8,
            &b.msa,
            &b.code,
            b.earned,
            &b.title,
        ))
    });
    out.differences = diffs;
    Ok(out)
}

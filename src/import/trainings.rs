//! `achievements import` of the Partner Center Insights **Trainings** report (SPEC §6a), the
//! file admins download as it comes: CSV or TSV, with or without BOM, LF or CRLF, the
//! older layout without `ExpirationDate` or the 2021 one with it.
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
//!   same transaction, through the services `users link-msa` and `users add` use (audited,
//!   severance rules of SPEC §4, one credentials file).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use serde::Serialize;

use super::input::{Column, Input, normalize_header};
use super::{Options, Outcome, Rejects, Summary, drive};
use crate::credentials::{CredentialsFile, OsRandom};
use crate::error::AppError;
use crate::records::ValidAchievement;
use crate::rules::Rulebook;
use crate::rules::rulebook::normalize_title;
use crate::store::import::{BulkTable, IMPORT_CACHE_KIB};
use crate::store::{Db, Org};
use crate::users::{self, Actor, AddUser, LinkedBy, Role};
use crate::validate;

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

/// Day/month order of `DD/MM/YYYY`-style dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateOrder {
    /// Day first: 25/12/2018.
    Dmy,
    /// Month first: 12/25/2018.
    Mdy,
}

impl DateOrder {
    fn describe(self) -> &'static str {
        match self {
            DateOrder::Dmy => "day first",
            DateOrder::Mdy => "month first",
        }
    }
}

/// What the header says the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    /// The field separator.
    pub delimiter: u8,
    /// The 2021+ layout, with `ExpirationDate`.
    pub with_expiry: bool,
}

/// Reads the header line of `path` and says whether it is a Trainings report (`None`: an
/// ordinary achievements CSV). A report without personal data is refused here.
pub fn sniff(path: &Path) -> Result<Option<Sniffed>> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // The header is short; a first line longer than this is not a report's header.
    let mut head = Vec::with_capacity(8192);
    (&mut file)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = if tsv || line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let names: Vec<String> = line
        .split(delimiter as char)
        .map(|h| normalize_header(h.trim().trim_matches('"')))
        .collect();
    let has = |n: &str| names.iter().any(|h| h == n);
    if !(has("trainingtitle") && has("trainingcompletiondate")) {
        return Ok(None);
    }
    if !has("email") && has("aaduserid") {
        return Err(AppError::BadFile {
            file: path.to_path_buf(),
            line: 1,
            message: "this Trainings report was downloaded without personal data (it has \
                      AADUserId and no Email column), so its trainings cannot be tied to \
                      people: download it again in Partner Center (Insights → Downloads → \
                      Trainings) signed in with the Executive report viewer role"
                .into(),
        }
        .into());
    }
    Ok(Some(Sniffed {
        delimiter,
        with_expiry: has("expirationdate"),
    }))
}

/// What the import does besides recording achievements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Linking {
    /// `--link-users`: link each person's MSA to the active account with their CorpEmail.
    pub link: bool,
    /// `--create-users`: also create the missing accounts.
    pub create: bool,
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

/// A person of the report: their CorpEmail and name. Without linking only whether they
/// have a CorpEmail matters: it is then kept as an empty string, and the name not at all.
struct Person {
    corp: Option<String>,
    first: String,
    last: String,
}

/// Opens a sniffed report.
pub fn open(opts: &Options, sniffed: Sniffed) -> Result<Input> {
    Input::open_delimited(&opts.file, COLUMNS, opts.progress, sniffed.delimiter).and_then(|i| {
        for c in [TITLE, COMPLETED, EMAIL] {
            if i.column(c).is_none() {
                return Err(i.missing(&format!("{:?}", COLUMNS[c].field)));
            }
        }
        Ok(i)
    })
}

/// The file's day/month order: `--date-order` when given, else the first date that says.
struct Order {
    order: Option<DateOrder>,
    /// The line that decided it (`None`: `--date-order`).
    line: Option<u64>,
}

/// What the pre-scan found.
enum Scan {
    /// The first date that decides the order, and its line.
    Decided(DateOrder, u64),
    /// Only ambiguous slash dates; the first one's line.
    Ambiguous(u64),
    /// No slash date at all.
    NoSlash,
}

/// Scans the file for the first slash date that decides day/month order; it stops there.
fn scan_order(opts: &Options, sniffed: Sniffed) -> Result<Scan> {
    let mut input = Input::open_delimited(&opts.file, COLUMNS, false, sniffed.delimiter)?;
    let cols = [COMPLETED, EXPIRES].map(|c| input.column(c));
    let mut ambiguous = None;
    while let Some(row) = input.next_row()? {
        if row.check().is_err() {
            continue;
        }
        for c in cols {
            if let Ok(When::Slash { a, b, .. }) = parse_when(row.get(c).trim()) {
                match evidence(a, b) {
                    Some(o) => return Ok(Scan::Decided(o, row.line())),
                    None if a <= 12 && b <= 12 => {
                        ambiguous.get_or_insert(row.line());
                    }
                    None => {}
                }
            }
        }
    }
    Ok(ambiguous.map_or(Scan::NoSlash, Scan::Ambiguous))
}

/// Decides the file's date order before the import (an error when every date is ambiguous
/// and `--date-order` was not given).
fn decide_order(opts: &Options, sniffed: Sniffed, flag: Option<DateOrder>) -> Result<Order> {
    if let Some(o) = flag {
        return Ok(Order {
            order: Some(o),
            line: None,
        });
    }
    match scan_order(opts, sniffed)? {
        Scan::Decided(o, line) => Ok(Order {
            order: Some(o),
            line: Some(line),
        }),
        Scan::Ambiguous(line) => Err(AppError::BadFile {
            file: opts.file.clone(),
            line,
            message: "every DD/MM or MM/DD date in the file could be either (no day above \
                      12): say which with --date-order dmy (25/12/2018) or --date-order mdy \
                      (12/25/2018); nothing was imported"
                .into(),
        }
        .into()),
        Scan::NoSlash => Ok(Order {
            order: None,
            line: None,
        }),
    }
}

/// The description of the layout read, for the admin.
pub fn describe(sniffed: Sniffed, order: Option<DateOrder>, flag: bool) -> String {
    let mut s = String::from("Partner Center Trainings report, ");
    s.push_str(if sniffed.with_expiry {
        "2021 layout with expiry dates"
    } else {
        "older layout without expiry dates (the catalogue's valid_days apply)"
    });
    if sniffed.delimiter == b'\t' {
        s.push_str(", tab-separated");
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
        ..Trainings::default()
    };
    let titles = rb.title_index();
    let cols =
        [TITLE, COMPLETED, EMAIL, CORP, FIRST, LAST, EXPIRES, MPNID].map(|c| input.column(c));
    let cache = db.set_cache_kib(IMPORT_CACHE_KIB)?;
    // About 200 bytes a row: a large file rebuilds the evaluation index once at the end.
    let expected_rows = std::fs::metadata(&opts.file).map_or(0, |m| m.len() / 200);
    let rebuild = db.suspend_achievements_index(expected_rows)?;
    let first_id = db.next_id(BulkTable::Achievements)?;
    let mut st = db.achievement_statements()?;
    let mut skipped: HashMap<String, u64> = HashMap::new();
    let mut people: HashMap<String, Person> = HashMap::new();
    let mut corp_owner: HashMap<String, String> = HashMap::new();
    let mut norm = String::new();
    let linking_on = linking.link || linking.create;
    let file = opts.file.clone();
    drive(&mut input, &mut summary, rejects, |row, line, _failed| {
        let title = row.get(cols[TITLE]);
        normalize_into(title, &mut norm);
        let Some(code) = titles.get(norm.as_str()) else {
            t.skipped_title_count += skip_title(&mut skipped, title);
            return Ok(Ok(Outcome::Skipped));
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
        let msa = match validate::email(row.get(cols[EMAIL])) {
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
            Some(c) => match validate::email(c) {
                Ok(c) => Some(c),
                // Without linking, CorpEmail is only counted: a bad one is no reason to
                // refuse the achievement.
                Err(e) if linking_on => return Ok(Err(format!("CorpEmail: {e}"))),
                Err(_) => None,
            },
        };
        if linking_on && let Some(c) = &corp {
            if let Some(p) = people.get(&msa)
                && let Some(pc) = &p.corp
                && pc != c
            {
                return Ok(Err(format!(
                    "CorpEmail: {c} differs from {pc}, given earlier for the same Email {msa}"
                )));
            }
            if let Some(m) = corp_owner.get(c)
                && *m != msa
            {
                return Ok(Err(format!(
                    "Email: {c} is the CorpEmail of {m} earlier in the file; an account links one MSA"
                )));
            }
        }
        let a = ValidAchievement {
            msa,
            code: code.clone(),
            earned,
            expires,
        };
        let outcome = super::achievements::record(&mut st, first_id, actor, &a)?;
        if outcome.is_ok() {
            // Without linking, only whether a person has a CorpEmail is counted.
            let corp = if linking_on {
                corp
            } else {
                corp.map(|_| String::new())
            };
            note_person(
                &mut people,
                &mut corp_owner,
                a.msa,
                corp,
                row.get(cols[FIRST].filter(|_| linking_on)),
                row.get(cols[LAST].filter(|_| linking_on)),
            );
        }
        Ok(outcome)
    })?;
    drop(st);
    if rebuild {
        db.restore_achievements_index()?;
    }
    db.restore_cache(cache)?;

    let mut titles: Vec<SkippedTitle> = skipped
        .into_iter()
        .map(|(title, rows)| SkippedTitle { title, rows })
        .collect();
    titles.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.title.cmp(&b.title)));
    t.skipped_titles = titles;
    t.people = people.len() as u64;
    t.without_corp_email = people.values().filter(|p| p.corp.is_none()).count() as u64;
    let doomed = summary.rejected > 0 && !opts.skip_invalid;
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

/// Counts a skipped row; returns 1 when its title is new.
fn skip_title(skipped: &mut HashMap<String, u64>, title: &str) -> u64 {
    let shown = cut(title.trim());
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
    if value.chars().count() <= validate::SHOWN_CHARS {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(validate::SHOWN_CHARS).collect();
        s.push('…');
        s
    }
}

fn note_person(
    people: &mut HashMap<String, Person>,
    corp_owner: &mut HashMap<String, String>,
    msa: String,
    corp: Option<String>,
    first: &str,
    last: &str,
) {
    if let Some(c) = corp.as_ref().filter(|c| !c.is_empty())
        && !corp_owner.contains_key(c)
    {
        corp_owner.insert(c.clone(), msa.clone());
    }
    let p = people.entry(msa).or_insert_with(|| Person {
        corp: None,
        first: first.trim().to_owned(),
        last: last.trim().to_owned(),
    });
    if p.corp.is_none() {
        p.corp = corp;
    }
}

/// Parses a report date in the file's order. `Ok(Err)` is a bad row; `Err` a date whose
/// day/month order contradicts the file's: the file is invalid.
fn date(
    file: &Path,
    order: &Order,
    line: u64,
    field: &str,
    raw: &str,
) -> Result<Result<NaiveDate, String>> {
    let raw = raw.trim();
    let shown = validate::shown(raw);
    let bad = || {
        Ok(Err(format!(
            "{field}: {shown} is not a date (expected 2018-12-25, 2018-12-25 23:07:22, \
             25/12/2018 23:07 or 12/25/2018 23:07)"
        )))
    };
    let Ok(when) = parse_when(raw) else {
        return bad();
    };
    let (a, b, y) = match when {
        When::Day(d) => return Ok(Ok(d)),
        When::Invalid => return Ok(Err(format!("{field}: {shown} is not a valid date"))),
        When::Slash { a, b, y } => (a, b, y),
    };
    let Some(o) = order.order else {
        // The pre-scan saw no slash date: the file changed under us.
        return bad();
    };
    if let (Some(seen), Some(first)) = (evidence(a, b), order.line)
        && seen != o
    {
        return Err(AppError::BadFile {
            file: file.to_path_buf(),
            line,
            message: format!(
                "{field}: {shown} is {}, but line {first} has dates {}: the file mixes both \
                 orders, so no date in it can be trusted; fix the file (nothing was imported)",
                seen.describe(),
                o.describe()
            ),
        }
        .into());
    }
    let (day, month) = match o {
        DateOrder::Dmy => (a, b),
        DateOrder::Mdy => (b, a),
    };
    Ok(NaiveDate::from_ymd_opt(y, month, day).ok_or_else(|| {
        format!(
            "{field}: {shown} is not a valid date (read {}{})",
            o.describe(),
            if order.line.is_none() {
                ", as --date-order says"
            } else {
                ""
            }
        )
    }))
}

/// A report date before day/month order is applied.
#[derive(Debug, PartialEq, Eq)]
enum When {
    /// An ISO date.
    Day(NaiveDate),
    /// ISO-shaped but impossible (2021-02-31).
    Invalid,
    /// `A/B/YYYY`: day and month in an order the file decides.
    Slash { a: u32, b: u32, y: i32 },
}

/// Which order a slash date proves, if any.
fn evidence(a: u32, b: u32) -> Option<DateOrder> {
    match (a > 12, b > 12) {
        (true, false) => Some(DateOrder::Dmy),
        (false, true) => Some(DateOrder::Mdy),
        _ => None,
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (one or more spaces, or `T`) and
/// `A/B/YYYY[ HH:MM[:SS]]`. `Err` when the text has none of these shapes.
fn parse_when(s: &str) -> Result<When, ()> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let y = digits(&b[0..4])?;
        let m = digits(&b[5..7])?;
        let d = digits(&b[8..10])?;
        time_part(&b[10..], true)?;
        return Ok(NaiveDate::from_ymd_opt(y as i32, m, d).map_or(When::Invalid, When::Day));
    }
    let mut parts = b.splitn(3, |&c| c == b'/');
    let (Some(a), Some(bb), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(());
    };
    if !(1..=2).contains(&a.len()) || !(1..=2).contains(&bb.len()) || rest.len() < 4 {
        return Err(());
    }
    let y = digits(&rest[0..4])?;
    time_part(&rest[4..], false)?;
    Ok(When::Slash {
        a: digits(a)?,
        b: digits(bb)?,
        y: y as i32,
    })
}

fn digits(b: &[u8]) -> Result<u32, ()> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    Ok(b.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// Checks what follows a date: nothing, or separator(s) and `HH:MM[:SS]`.
fn time_part(b: &[u8], t_allowed: bool) -> Result<(), ()> {
    if b.is_empty() {
        return Ok(());
    }
    let rest = if t_allowed && b[0] == b'T' {
        &b[1..]
    } else {
        let n = b.iter().take_while(|&&c| c == b' ').count();
        if n == 0 {
            return Err(());
        }
        &b[n..]
    };
    let mut f = rest.split(|&c| c == b':');
    let (Some(h), Some(m)) = (f.next(), f.next()) else {
        return Err(());
    };
    let s = f.next();
    if f.next().is_some() || !(1..=2).contains(&h.len()) || m.len() != 2 {
        return Err(());
    }
    if digits(h)? > 23 || digits(m)? > 59 {
        return Err(());
    }
    if let Some(s) = s
        && (s.len() != 2 || digits(s)? > 59)
    {
        return Err(());
    }
    Ok(())
}

/// Links (and with `--create-users` creates) the accounts of the report's people, in MSA
/// order so that the result never depends on hash order.
#[allow(clippy::too_many_arguments)]
fn link_people(
    db: &Db,
    org: &Org,
    actor: &Actor,
    opts: &Options,
    linking: Linking,
    people: HashMap<String, Person>,
    mut creds: Option<&mut CredentialsFile>,
    t: &mut Trainings,
    summary: &mut Summary,
) -> Result<()> {
    let mut people: Vec<(String, Person)> = people.into_iter().collect();
    people.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = OsRandom::new();
    let mut severed_in: Vec<i64> = Vec::new();
    for (msa, p) in people {
        let Some(corp) = p.corp else { continue };
        let current = db.open_link_for_msa(&msa)?;
        let account = db.active_user_by_email(org.id, &corp)?;
        if let Some(l) = &current
            && l.org_id == org.id
        {
            match &account {
                Some(u) if u.id == l.user_id => t.already_linked += 1,
                _ => t.conflicts.push(format!(
                    "{msa} is linked to {}, not to the account of {corp}: left as it is",
                    l.username
                )),
            }
            continue;
        }
        let linked = match account {
            Some(u) => {
                if let Some(other) = db.open_link_for_user(u.id)? {
                    t.conflicts.push(format!(
                        "{} ({corp}) already has the MSA {}: {msa} not linked",
                        u.username, other.msa
                    ));
                    continue;
                }
                users::link_msa(db, org, actor, u.id, &u.username, &msa, LinkedBy::Admin)?
            }
            None if !linking.create => {
                t.without_account += 1;
                continue;
            }
            None => {
                let Some(creds) = creds.as_deref_mut() else {
                    // A dry run: the account would be created.
                    t.created += 1;
                    t.linked += 1;
                    continue;
                };
                let name = format!("{} {}", p.first, p.last);
                let name = if validate::name(&name).is_ok() {
                    name
                } else {
                    validate::username_local(&corp)
                };
                let added = users::add(
                    db,
                    org,
                    actor,
                    &mut rng,
                    creds,
                    &AddUser {
                        name: &name,
                        email: &corp,
                        roles: &[Role::User],
                        msa: Some(&msa),
                        self_service_reset: false,
                    },
                )?;
                t.created += 1;
                match added.link {
                    Some(l) => l,
                    None => continue,
                }
            }
        };
        t.linked += 1;
        if let Some(s) = linked.severed {
            summary.severed += 1;
            if summary.notes.len() < super::MAX_LISTED_ERRORS {
                summary.notes.push(format!(
                    "{msa} was associated with {} in {}; that association is now severed",
                    s.username, s.org_name
                ));
            }
            if !severed_in.contains(&s.org_id) {
                severed_in.push(s.org_id);
            }
        }
    }
    if opts.dry_run {
        return Ok(());
    }
    // Another organization lost an MSA: that can break a competency its membership shows.
    for org_id in severed_in {
        let other = db.org_by_id(org_id)?;
        let cause = format!(
            "MSA severed (linked to {} by a Trainings report import)",
            org.name
        );
        summary.alerts.extend(crate::membership::reevaluate(
            db,
            &other,
            actor,
            Some(&cause),
        )?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> When {
        When::Day(NaiveDate::from_ymd_opt(y, m, day).unwrap())
    }

    #[test]
    fn report_date_layouts() {
        assert_eq!(parse_when("2018-12-25"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25  23:07:22"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25 23:07"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25T23:07:22"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2021-02-31"), Ok(When::Invalid));
        assert_eq!(
            parse_when("25/12/2018 23:07"),
            Ok(When::Slash {
                a: 25,
                b: 12,
                y: 2018
            })
        );
        assert_eq!(
            parse_when("1/2/2019 3:07"),
            Ok(When::Slash {
                a: 1,
                b: 2,
                y: 2019
            })
        );
        assert_eq!(
            parse_when("12/25/2018"),
            Ok(When::Slash {
                a: 12,
                b: 25,
                y: 2018
            })
        );
        for bad in [
            "",
            "yesterday",
            "2018-12-25x",
            "2018-12-25 25:00",
            "2018-12-25 23:7",
            "25/12/18",
            "25/12/2018 23:07:61",
            "25-12-2018",
            "=1+1",
            "2018/12/25",
        ] {
            assert_eq!(parse_when(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn order_evidence() {
        assert_eq!(evidence(25, 12), Some(DateOrder::Dmy));
        assert_eq!(evidence(12, 25), Some(DateOrder::Mdy));
        assert_eq!(evidence(3, 4), None);
        assert_eq!(evidence(13, 13), None);
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

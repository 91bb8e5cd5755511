//! The write side of the achievements imports (CSV and Trainings report), one algorithm on
//! both backends (issue 27): the rows are staged (`staging`), then these statements decide
//! them all, set-based, inside the command's one transaction (SPEC §4, §6):
//! 1. a row whose MSA is associated with an account of another organization is refused,
//!    naming that organization (run only when such associations exist at all);
//! 2. every occurrence of a key (MSA, code, earned) after its first taken one is refused,
//!    naming the expiry the first gives (the repeated keys grouped aside): a key this file
//!    already gave is invalid whatever the database holds, so a second import of an
//!    accepted file always settles;
//! 3. `INSERT … SELECT … ON CONFLICT DO NOTHING` in file order (`added`, ids in file order):
//!    the first occurrence of a new key gives its record, so step 2 runs only when some row
//!    was not added (it runs first when a caller reads the rows taken);
//! 4. `UPDATE … FROM` the records whose expiry differs or that were removed (`updated`);
//!    the rest of the rows taken are `unchanged`.
//!
//! The counts are the statements' own, and the refused rows come back in file order with
//! the invalid ones ([`RecordStage::decide`]), so the domain learns every outcome once the
//! stage is finished. A caller may refuse rows itself between 2 and 3 (the Trainings
//! import's CorpEmail rules: [`RecordStage::for_each_taken`]): a row refused there takes
//! nothing, since nothing is written before 3.
//!
//! The stage also owns how the backend is tuned for a bulk write: SQLite's page cache, and
//! the evaluations' index of achievements suspended for a large file and rebuilt once at
//! the end ([`Closing`]).

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::IMPORT_CACHE_KIB;
use super::staging::{self, Kind, Place, Stage, Table};
use crate::store::Db;
use crate::store::sql::{Param, Value, params};

/// The staging table of the achievements imports: the import's columns after the shared
/// ones (msa … last). `retired`: 1 when the row is a pass of an exam dated on or after its retirement
/// (counted among the rows taken). `corp`, `first`, `last`: the Trainings report's person,
/// NULL for the CSV.
static TABLE: Table = Table {
    kinds: &[
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Int,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Text,
        Kind::Int,
        Kind::Text,
        Kind::Text,
        Kind::Text,
    ],
    create: "CREATE TEMP TABLE import_records (line INTEGER PRIMARY KEY, span_start INTEGER,
        span_end INTEGER, verdict INTEGER, detail TEXT, msa TEXT, code TEXT, earned TEXT,
        expires TEXT, retired INTEGER, corp TEXT, first TEXT, last TEXT)",
    insert: "INSERT INTO temp.import_records
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    copy: "COPY import_records (line, span_start, span_end, verdict, detail, msa, code, earned,
        expires, retired, corp, first, last) FROM STDIN (FORMAT binary)",
    count_taken: "SELECT count(*) FROM temp.import_records WHERE verdict IS NULL",
    refused: "SELECT line, span_start, span_end, verdict, detail, msa, code, earned, expires
     FROM temp.import_records WHERE verdict IS NOT NULL ORDER BY line",
    drop: "DROP TABLE IF EXISTS temp.import_records",
    repeats: Some((
        "CREATE TEMP TABLE import_record_repeats (msa TEXT, code TEXT, earned TEXT,
            first_line INTEGER, expires TEXT, UNIQUE (msa, code, earned))",
        "DROP TABLE IF EXISTS temp.import_record_repeats",
    )),
};

/// Verdicts of refused rows (invalid ones are `staging::INVALID`).
const REPEATED: i64 = 1;
const FOREIGN: i64 = 2;
/// Refused by the caller ([`RecordStage::for_each_taken`]), with its message.
const BY_CALLER: i64 = 3;

/// 1. Rows of MSAs associated with an account of another organization (?1: this one).
const FOREIGN_ROWS: &str = "UPDATE temp.import_records SET verdict = 2,
       detail = (SELECT o.name FROM msa_links l JOIN orgs o ON o.id = l.org_id
                 WHERE l.msa = import_records.msa AND l.ended_at IS NULL)
     WHERE verdict IS NULL AND msa IN
       (SELECT msa FROM msa_links WHERE ended_at IS NULL AND org_id <> ?1)";

/// 2. The keys the file gives more than once, with their first line (a GROUP BY: a third
///    of the time of a window over the rows on SQLite, 1.5 s against 4.5 s for 1,000,000
///    rows)…
const REPEATED_KEYS: &str = "INSERT INTO temp.import_record_repeats (msa, code, earned, first_line)
     SELECT msa, code, earned, min(line) FROM temp.import_records WHERE verdict IS NULL
     GROUP BY msa, code, earned HAVING count(*) > 1";

/// … the expiry their first line gives …
const REPEATED_KEPT: &str = "UPDATE temp.import_record_repeats SET expires = s.expires
     FROM temp.import_records AS s WHERE s.line = import_record_repeats.first_line";

/// … and every later occurrence refused, naming it (in `expires`: a refused row's own
/// expiry is never used again).
const REPEATED_ROWS: &str = "UPDATE temp.import_records SET verdict = 1, expires = r.expires
     FROM temp.import_record_repeats AS r
     WHERE import_records.verdict IS NULL AND import_records.msa = r.msa
       AND import_records.code = r.code AND import_records.earned = r.earned
       AND import_records.line > r.first_line";

/// 4. Records whose expiry changes, or that come back.
const UPDATE_ROWS: &str = "UPDATE achievements SET expires = s.expires, removed_at = NULL
     FROM temp.import_records AS s
     WHERE s.verdict IS NULL AND achievements.msa = s.msa AND achievements.code = s.code
       AND achievements.earned = s.earned
       AND (achievements.expires IS DISTINCT FROM s.expires
            OR achievements.removed_at IS NOT NULL)";

/// 3. New records, in file order (?1: when).
const INSERT_ROWS: &str = "INSERT INTO achievements (msa, code, earned, expires, added_at)
     SELECT msa, code, earned, expires, CAST(?1 AS INTEGER) FROM temp.import_records
     WHERE verdict IS NULL ORDER BY line
     ON CONFLICT (msa, code, earned) DO NOTHING";

/// The rows taken, and of them the passes of a retired exam.
const COUNTS: &str = "SELECT count(*), count(CASE WHEN retired = 1 THEN 1 END)
     FROM temp.import_records WHERE verdict IS NULL";

/// The rows taken so far with a person, in file order (see [`RecordStage::for_each_taken`]).
const TAKEN_PEOPLE: &str = "SELECT line, msa, corp, first, last FROM temp.import_records
     WHERE verdict IS NULL ORDER BY line";

/// The rows the caller refuses ([`RecordStage::for_each_taken`]), staged as invalid ones
/// (their message in `detail`) and applied by one statement.
static REFUSALS: Table = Table {
    kinds: &staging::SHARED,
    create: "CREATE TEMP TABLE import_refusals (line INTEGER PRIMARY KEY, span_start INTEGER,
        span_end INTEGER, verdict INTEGER, detail TEXT)",
    insert: "INSERT INTO temp.import_refusals VALUES (?1, ?2, ?3, ?4, ?5)",
    copy: "COPY import_refusals (line, span_start, span_end, verdict, detail)
     FROM STDIN (FORMAT binary)",
    count_taken: "SELECT count(*) FROM temp.import_refusals WHERE verdict IS NULL",
    refused: "SELECT line, span_start, span_end, verdict, detail FROM temp.import_refusals
     WHERE verdict IS NOT NULL ORDER BY line",
    drop: "DROP TABLE IF EXISTS temp.import_refusals",
    repeats: None,
};

const REFUSE: &str = "UPDATE temp.import_records SET verdict = 3, detail = r.detail
     FROM temp.import_refusals AS r WHERE import_records.line = r.line";

/// A row an achievements import stages.
#[derive(Debug, Clone, Copy)]
pub struct StagedRecord<'r> {
    /// The MSA.
    pub msa: &'r str,
    /// The catalogue code.
    pub code: &'r str,
    /// When it was earned.
    pub earned: NaiveDate,
    /// When it expires.
    pub expires: Option<NaiveDate>,
    /// A pass of an exam dated on or after its retirement (it never counts).
    pub retired: bool,
    /// The Trainings report's person: CorpEmail, first and last name.
    pub person: Option<(Option<&'r str>, &'r str, &'r str)>,
}

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Invalid, with this message.
    Invalid(String),
    /// The file already gave its key: the expiry recorded for it.
    Repeated(Option<String>),
    /// Its MSA is associated with an account of another organization: its name.
    Foreign(String),
    /// Refused by the caller, with this message ([`RecordStage::for_each_taken`]).
    Refused(String),
}

/// A row refused, in file order.
#[derive(Debug, Clone)]
pub struct Refused {
    /// Where it is in the file.
    pub place: Place,
    /// The MSA (empty for an invalid row).
    pub msa: String,
    /// The code (empty for an invalid row).
    pub code: String,
    /// The earned date (`None` for an invalid row).
    pub earned: Option<NaiveDate>,
    /// Why.
    pub why: Refusal,
}

/// The counts of the deciding statements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decided {
    /// Rows added.
    pub added: u64,
    /// Rows that changed a record.
    pub updated: u64,
    /// Rows already recorded.
    pub unchanged: u64,
    /// Rows taken that are passes of a retired exam.
    pub retired: u64,
}

/// The write side of an achievements import, inside its transaction.
pub struct RecordStage<'a> {
    stage: Stage<'a>,
    org_id: i64,
    at: DateTime<Utc>,
    closing: Closing<'a>,
    owners_checked: bool,
    repeats_checked: bool,
    /// The valid rows staged that are passes of a retired exam.
    retired_staged: u64,
    /// The rows steps 1 and 2 and the caller refused: while none, the rows taken and the
    /// passes of a retired exam are the staged ones, counted as they came.
    refusals: u64,
    /// Steps 1 to 4 done ([`RecordStage::write`]): their counts.
    written: Option<Decided>,
}

/// What is undone once the rows are written: the page cache restored, the evaluations'
/// index rebuilt if it was suspended (the long part of a large import: a phase of its
/// own, see [`Closing::rebuilds`]).
pub struct Closing<'a> {
    db: &'a Db<'a>,
    cache: i64,
    rebuild: bool,
}

impl Closing<'_> {
    /// Whether [`Closing::finish`] rebuilds the evaluations' index.
    pub fn rebuilds(&self) -> bool {
        self.rebuild
    }

    /// Rebuilds the index if it was suspended and restores the page cache.
    pub fn finish(self) -> Result<()> {
        if self.rebuild {
            self.db.restore_achievements_index()?;
        }
        self.db.restore_cache(self.cache)
    }
}

impl<'a> Db<'a> {
    /// Starts the write side of an achievements import by `org_id` at `at`, of about
    /// `expected_rows` rows.
    pub fn record_stage(
        &'a self,
        org_id: i64,
        at: DateTime<Utc>,
        expected_rows: u64,
    ) -> Result<RecordStage<'a>> {
        let cache = self.set_cache_kib(IMPORT_CACHE_KIB)?;
        let rebuild = self.suspend_achievements_index(expected_rows)?;
        Ok(RecordStage {
            stage: Stage::begin(self, &TABLE)?,
            org_id,
            at,
            closing: Closing {
                db: self,
                cache,
                rebuild,
            },
            owners_checked: false,
            repeats_checked: false,
            retired_staged: 0,
            refusals: 0,
            written: None,
        })
    }
}

impl<'a> RecordStage<'a> {
    /// Stages a valid row (in file order).
    pub fn add(&mut self, line: u64, span: (u64, u64), r: &StagedRecord<'_>) -> Result<()> {
        self.retired_staged += u64::from(r.retired);
        let (earned, expires) = (r.earned.to_string(), r.expires.map(|d| d.to_string()));
        let (corp, first, last) = match r.person {
            // An empty name (none, or not asked for without linking) staged as NULL.
            Some((c, f, l)) => (
                c.map_or(Value::Null, Value::Text),
                if f.is_empty() {
                    Value::Null
                } else {
                    Value::Text(f)
                },
                if l.is_empty() {
                    Value::Null
                } else {
                    Value::Text(l)
                },
            ),
            None => (Value::Null, Value::Null, Value::Null),
        };
        self.stage.add(
            line,
            span,
            &[
                Value::Text(r.msa),
                Value::Text(r.code),
                Value::Text(&earned),
                expires.as_deref().map_or(Value::Null, Value::Text),
                Value::Int(i64::from(r.retired)),
                corp,
                first,
                last,
            ],
        )
    }

    /// Stages an invalid row, reported in file order with the refused ones.
    pub fn invalid(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<()> {
        self.stage.invalid(line, span, message)
    }

    /// Runs step 1 (see the module) once.
    fn check_owners(&mut self) -> Result<()> {
        if !self.owners_checked {
            self.owners_checked = true;
            if self.stage.db().has_open_links_elsewhere(self.org_id)? {
                self.refusals += self.stage.run(FOREIGN_ROWS, params![self.org_id])?;
            }
        }
        Ok(())
    }

    /// Runs step 2 (see the module) once.
    fn check_repeats(&mut self) -> Result<()> {
        if !self.repeats_checked {
            self.repeats_checked = true;
            if self.stage.run(REPEATED_KEYS, params![])? > 0 {
                self.stage.run(REPEATED_KEPT, params![])?;
                self.refusals += self.stage.run(REPEATED_ROWS, params![])?;
            }
        }
        Ok(())
    }

    /// Runs steps 1 and 2 (see the module) once.
    fn check(&mut self) -> Result<()> {
        self.check_owners()?;
        self.check_repeats()
    }

    /// The rows taken so far, and of them the passes of a retired exam.
    fn counts(&mut self) -> Result<(u64, u64)> {
        if self.refusals == 0 {
            // Saves a scan of the staged rows (0.3 s of 1,000,000 on SQLite).
            return Ok((self.stage.staged().0, self.retired_staged));
        }
        self.stage.flush()?;
        let (n, retired): (i64, i64) =
            self.stage
                .db()
                .conn()
                .query_row(COUNTS, &[] as &[&dyn Param], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((n as u64, retired as u64))
    }

    /// The rows taken after steps 1 and 2, in file order, with their person (the Trainings
    /// report): `f` gets (line, MSA, CorpEmail, first name, last name) and returns the
    /// message of a row it refuses. A refused row takes nothing: it is refused before the
    /// records are written (step 3). `f` must not use the connection. After
    /// [`RecordStage::write`] it reads the rows taken, and may refuse none.
    pub fn for_each_taken(
        &mut self,
        mut f: impl FnMut(u64, &str, Option<&str>, &str, &str) -> Result<Option<String>>,
    ) -> Result<()> {
        self.check()?;
        // Kept until the rows are read (the connection streams them meanwhile): one
        // message per row refused, none per row taken.
        let mut refused = Vec::new();
        let mut failed = None;
        let mut st = self.stage.db().conn().prepare_cached(TAKEN_PEOPLE)?;
        st.for_each(params![], |r| {
            // Borrowed from the row, not copied: a row read back costs no allocation.
            let text = |i: usize| -> crate::store::sql::Result<Option<&str>> {
                match r.get_ref(i)? {
                    Value::Text(t) => Ok(Some(t)),
                    Value::Null => Ok(None),
                    _ => Err(crate::store::sql::Error::Type(format!(
                        "internal error: a staged person's column {i} is not text"
                    ))),
                }
            };
            let line = r.get::<_, i64>(0)? as u64;
            let answer = f(
                line,
                text(1)?.unwrap_or(""),
                text(2)?,
                text(3)?.unwrap_or(""),
                text(4)?.unwrap_or(""),
            );
            match answer {
                Ok(Some(m)) => refused.push((line, m)),
                Ok(None) => {}
                Err(e) => {
                    failed = Some(e);
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        drop(st);
        if let Some(e) = failed {
            return Err(e);
        }
        if refused.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(
            self.written.is_none(),
            "internal error: a row refused after the records were written"
        );
        let mut refusals = Stage::begin(self.stage.db(), &REFUSALS)?;
        for (line, message) in &refused {
            refusals.invalid(*line, (0, 0), message)?;
        }
        refusals.flush()?;
        self.refusals += self.stage.run(REFUSE, params![])?;
        refusals.close();
        Ok(())
    }

    /// Writes the records (steps 1 to 4, see the module; once): after it the caller may
    /// read the rows taken ([`RecordStage::for_each_taken`]) but refuse none.
    pub fn write(&mut self) -> Result<Decided> {
        if let Some(d) = self.written {
            return Ok(d);
        }
        self.check_owners()?;
        let (staged, retired) = self.counts()?;
        // New keys first, in file order: the first occurrence of each gives the record. A
        // file all of whose rows were added repeats no key, so it needs no grouping (the
        // common first import: 1.5 s of 1,000,000 rows saved on SQLite); otherwise the
        // repeats are refused now, before any existing record is updated.
        let added = self.stage.run(INSERT_ROWS, params![self.at.timestamp()])?;
        let (taken, retired) = if added == staged {
            self.repeats_checked = true;
            (staged, retired)
        } else {
            self.check_repeats()?;
            self.counts()?
        };
        // The records just added hold their only row's expiry: this changes none of them,
        // so when every row taken was added there is nothing to update (1,000,000 index
        // look-ups saved on a first import).
        let updated = if added == taken {
            0
        } else {
            self.stage.run(UPDATE_ROWS, params![])?
        };
        let decided = Decided {
            added,
            updated,
            unchanged: taken - added - updated,
            retired,
        };
        self.written = Some(decided);
        Ok(decided)
    }

    /// Decides the staged rows (see the module); `refused` gets every invalid or refused
    /// row in file order. Returns the counts and what
    /// is left to undo ([`Closing`]).
    pub fn decide(
        mut self,
        mut refused: impl FnMut(Refused) -> Result<()>,
    ) -> Result<(Decided, Closing<'a>)> {
        let decided = self.write()?;
        if self.stage.staged().1 == 0 && self.refusals == 0 {
            // Nothing invalid, nothing refused: no scan of the staged rows for them.
            self.stage.close();
            return Ok((decided, self.closing));
        }
        self.stage.for_each_refused(|place, r| {
            let detail: Option<String> = r.get(4)?;
            let why = match place.verdict {
                super::staging::INVALID => Refusal::Invalid(detail.unwrap_or_default()),
                REPEATED => Refusal::Repeated(r.get(8)?),
                FOREIGN => Refusal::Foreign(detail.unwrap_or_default()),
                BY_CALLER => Refusal::Refused(detail.unwrap_or_default()),
                other => anyhow::bail!("internal error: unknown verdict {other}"),
            };
            let earned: Option<String> = r.get(7)?;
            refused(Refused {
                place,
                msa: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                code: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                earned: earned
                    .map(|e| NaiveDate::parse_from_str(&e, "%Y-%m-%d"))
                    .transpose()?,
                why,
            })
        })?;
        self.stage.close();
        Ok((decided, self.closing))
    }
}

//! The write side of the achievements imports (CSV and Trainings report), split in two so
//! that each backend decides rows its own way (issue 14):
//! - **stage** ([`AchievementStage::add`]): a validated row is handed over in file order.
//!   SQLite decides it at once, as it always has (statements prepared once, one insert per
//!   row, the sqlite3 shell's pace); PostgreSQL, where each statement is a round trip,
//!   buffers it for a binary COPY into a TEMP table and answers [`Verdict::Later`].
//! - **decide** ([`AchievementStage::finish`]): PostgreSQL decides the staged rows with a
//!   few set-based statements (see `pgrecords`); the counts come from those statements and
//!   the rows they refused come back in file order with the rows held as invalid
//!   ([`AchievementStage::hold`]), so the summary, the rejects file and the audit are
//!   exactly SQLite's.
//!
//! The rules are the same on both: a key (MSA, code, earned) already recorded with the same
//! expiry is unchanged, with another expiry (or removed) updated; a key this file already
//! gave is refused whatever the database holds (SPEC §6); an MSA associated with another
//! organization's account is refused (SPEC §4, issue 4).

use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};

use super::Db;
use super::import::{AchievementStatements, BulkTable, Insert};
use super::pgrecords::PgAchievements;

/// What the database decided for a staged row (or for a held one, at the end).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A new record.
    Added,
    /// Already recorded with the same expiry.
    Unchanged,
    /// Recorded with another expiry, or removed: the expiry set, the record revived.
    Updated,
    /// The file already gave this key: the expiry recorded for it now.
    Repeated(Option<String>),
    /// The MSA is associated with an account of another organization: its name.
    Foreign(String),
}

/// The answer to a staged row.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Decided now.
    Now(Decision),
    /// Decided by [`AchievementStage::finish`].
    Later,
}

/// A row refused at the end, in file order: held as invalid, or refused by the decision.
#[derive(Debug, Clone)]
pub struct Held {
    /// The line it starts on.
    pub line: u64,
    /// Its span in the file.
    pub span: (u64, u64),
    /// Why.
    pub why: HeldWhy,
}

/// Why a row was refused at the end.
#[derive(Debug, Clone)]
pub enum HeldWhy {
    /// Invalid, with this message (see [`AchievementStage::hold`]).
    Invalid(String),
    /// Refused by the decision ([`Decision::Repeated`] or [`Decision::Foreign`]).
    Refused {
        /// The MSA.
        msa: String,
        /// The code.
        code: String,
        /// The earned date.
        earned: NaiveDate,
        /// The decision.
        decision: Decision,
        /// The mark the row was staged with ([`AchievementStage::add`]).
        mark: bool,
    },
}

/// The decisions taken by [`AchievementStage::finish`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decided {
    /// Rows added.
    pub added: u64,
    /// Rows that changed a record.
    pub updated: u64,
    /// Rows already recorded.
    pub unchanged: u64,
}

/// The write side of an achievements import, inside its transaction.
pub struct AchievementStage<'a> {
    db: &'a Db<'a>,
    org_id: i64,
    check_owner: bool,
    at: DateTime<Utc>,
    backend: Backend<'a>,
}

enum Backend<'a> {
    /// Each row decided as it comes: SQLite.
    Lite {
        st: Box<AchievementStatements<'a>>,
        first_id: i64,
        seen: Seen,
    },
    Pg(PgAchievements),
}

impl<'a> Db<'a> {
    /// Starts the write side of an achievements import by `org_id` at `at`. `check_owner`:
    /// another organization has associated MSAs, so each row's MSA is checked. (A caller
    /// that must know each row's decision before the next, as the Trainings import linking
    /// people does, decides on PostgreSQL what would be refused itself before it stages a
    /// row: see [`AchievementStage::defers`].)
    pub fn achievement_stage(
        &'a self,
        org_id: i64,
        check_owner: bool,
        at: DateTime<Utc>,
    ) -> Result<AchievementStage<'a>> {
        let backend = match self.conn().pg() {
            Some(p) => Backend::Pg(PgAchievements::begin(p)?),
            None => Backend::Lite {
                first_id: self.next_id(BulkTable::Achievements)?,
                st: Box::new(self.achievement_statements()?),
                seen: Seen::default(),
            },
        };
        Ok(AchievementStage {
            db: self,
            org_id,
            check_owner,
            at,
            backend,
        })
    }
}

impl AchievementStage<'_> {
    /// Stages a validated row (in file order). `mark`: a bit of the caller's, given back
    /// with the row if it is refused at the end (the Trainings import marks the rows that
    /// gave a CorpEmail, to take it back from a refused one).
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        line: u64,
        span: (u64, u64),
        msa: &str,
        code: &str,
        earned: NaiveDate,
        expires: Option<NaiveDate>,
        mark: bool,
    ) -> Result<Verdict> {
        let (st, first_id, seen) = match &mut self.backend {
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.add(pg, line, span, msa, code, earned, expires, mark)?;
                return Ok(Verdict::Later);
            }
            Backend::Lite { st, first_id, seen } => (st, *first_id, seen),
        };
        if self.check_owner
            && let Some(l) = self.db.open_link_for_msa(msa)?
            && l.org_id != self.org_id
        {
            return Ok(Verdict::Now(Decision::Foreign(l.org_name)));
        }
        let new_expires = expires.map(|d| d.to_string());
        Ok(Verdict::Now(
            match st.insert(msa, code, earned, expires, self.at)? {
                Insert::Added(_) => Decision::Added,
                // A key this file already gave (added by this import, or an existing record
                // met earlier in the file) is invalid whatever the database holds (SPEC §6),
                // so a second import of an accepted file always settles.
                Insert::Exists(id, (exp, _)) if id >= first_id || !seen.insert(id) => {
                    Decision::Repeated(exp)
                }
                Insert::Exists(_, (exp, false)) if exp == new_expires => Decision::Unchanged,
                Insert::Exists(id, _) => {
                    st.update(id, expires)?;
                    Decision::Updated
                }
            },
        ))
    }

    /// Whether rows are decided at the end ([`Verdict::Later`]), with every refused row
    /// held ([`AchievementStage::hold`]): PostgreSQL.
    pub fn defers(&self) -> bool {
        matches!(self.backend, Backend::Pg(_))
    }

    /// Holds an invalid row to be reported with those refused at the end, in file order;
    /// false when the backend decides rows at once and the caller reports it now.
    pub fn hold(&mut self, line: u64, span: (u64, u64), message: &str) -> Result<bool> {
        match &mut self.backend {
            Backend::Lite { .. } => Ok(false),
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.hold(pg, line, span, message)?;
                Ok(true)
            }
        }
    }

    /// Decides the staged rows; then `held` gets every held or refused row in file order.
    pub fn finish(self, held: impl FnMut(Held) -> Result<()>) -> Result<Decided> {
        match self.backend {
            Backend::Lite { .. } => Ok(Decided::default()),
            Backend::Pg(p) => {
                let pg = self.db.conn().pg().expect("PostgreSQL");
                p.finish(pg, self.org_id, self.check_owner, self.at, held)
            }
        }
    }
}

/// Records that existed before an import and that a row of it already matched: a bit per
/// id below the import's first new id. A second row for one of them is a duplicate key in
/// the file, exactly as it is when the first row added the record (SPEC §6). Memory is an
/// eighth of a byte per existing record, not proportional to the file.
#[derive(Debug, Default)]
pub struct Seen(Vec<u64>);

impl Seen {
    /// Marks `id`; false when it was already marked.
    pub fn insert(&mut self, id: i64) -> bool {
        let id = usize::try_from(id).unwrap_or(0);
        let (word, bit) = (id / 64, 1u64 << (id % 64));
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
}

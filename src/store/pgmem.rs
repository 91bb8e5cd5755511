//! The memory mode of a users import's stage on PostgreSQL (issue 14): the rows of a file
//! that is large against the `users` table stay in the client, where the duplicate check
//! and the sort by e-mail happen, instead of travelling to a TEMP table and back. The
//! accounts are then decided in e-mail order inside one `COPY … FROM STDIN` into `users`,
//! so the server inserts what was sent while the client decides the next rows: with two
//! cores, the client's work (validation, user names, passwords, hashes, the credentials
//! file) and the server's overlap instead of taking turns.
//!
//! Memory is bounded: a stage holds at most [`MEM_CAP`] bytes of rows; past that (or when
//! the file turns out small against the table) its rows go to the TEMP tables and the
//! import goes on as every other one does (`pgbulk`).
//!
//! Observable behaviour is the other paths': the same decisions in the same order (e-mail
//! order in byte order, then line), the same rejects in line order.

use std::collections::{HashMap, HashSet};

use super::import::StagedUser;

/// The bytes of rows a stage keeps in memory at most: about 1,300,000 typical rows (190
/// bytes each with their headers), which with the lookups loaded beside them keeps a
/// 1,000,000-row import near 370 MB resident (measured); a larger file is staged on the
/// server.
pub const MEM_CAP: usize = 256 << 20;

/// A row that may repeat an earlier one: line, span, e-mail, MSA.
pub type Candidate = (u64, (u64, u64), String, Option<String>);

/// What a users import's stage holds in memory mode.
#[derive(Default)]
pub struct MemStage {
    /// The valid rows, in file order (phases 1 and 2), then sorted by e-mail.
    pub rows: Vec<StagedUser>,
    /// Rejected rows: line, span and message.
    pub rejects: Vec<(i64, i64, i64, String)>,
    /// E-mails and MSAs that may occur twice (the Bloom filters' positives).
    pub cand_email: HashSet<String>,
    /// See `cand_email`.
    pub cand_msa: HashSet<String>,
    /// The line that took each candidate e-mail / MSA (phase 2).
    pub seen_email: HashMap<String, u64>,
    /// See `seen_email`.
    pub seen_msa: HashMap<String, u64>,
    /// The MSA links to insert at the end: (MSA, account).
    pub links: Vec<(String, i64)>,
    /// The bytes held, roughly (strings and their headers).
    pub bytes: usize,
}

/// The cap in force: [`MEM_CAP`], or the hidden test hook `COMPETENCY_TEST_STAGE_MEMORY`
/// (bytes), with which the tests send every file through the TEMP tables.
fn cap() -> usize {
    static CAP: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| {
        crate::support::hooks::var("STAGE_MEMORY")
            .and_then(|v| v.to_str()?.parse().ok())
            .unwrap_or(MEM_CAP)
    })
}

impl MemStage {
    /// Keeps a valid row; whether the stage is now over its cap ([`MEM_CAP`]).
    pub fn add(&mut self, row: StagedUser) -> bool {
        self.bytes += std::mem::size_of::<StagedUser>()
            + row.email.len()
            + row.name.len()
            + row.msa.as_ref().map_or(0, String::len)
            + row.roles.len();
        self.rows.push(row);
        self.bytes > cap()
    }

    /// Keeps a rejected row.
    pub fn reject(&mut self, line: u64, span: (u64, u64), message: &str) -> bool {
        self.bytes += 48 + message.len();
        self.rejects.push((
            line as i64,
            span.0 as i64,
            span.1 as i64,
            message.to_owned(),
        ));
        self.bytes > cap()
    }

    /// The rows whose e-mail or MSA is a candidate duplicate, in file order: (line, span,
    /// e-mail, MSA).
    pub fn candidates(&self) -> Vec<Candidate> {
        self.rows
            .iter()
            .filter(|r| {
                self.cand_email.contains(&r.email)
                    || r.msa.as_ref().is_some_and(|m| self.cand_msa.contains(m))
            })
            .map(|r| (r.line, r.span, r.email.clone(), r.msa.clone()))
            .collect()
    }

    /// Records that `line`, accepted, takes its e-mail and MSA.
    pub fn take(&mut self, email: &str, msa: Option<&str>, line: u64) {
        self.seen_email.insert(email.to_owned(), line);
        if let Some(m) = msa {
            self.seen_msa.insert(m.to_owned(), line);
        }
    }

    /// Removes the rows rejected so far from the valid rows.
    pub fn drop_rejected(&mut self) {
        let lines: HashSet<u64> = self.rejects.iter().map(|r| r.0 as u64).collect();
        self.rows.retain(|r| !lines.contains(&r.line));
    }

    /// Takes the valid rows out, sorted by e-mail (byte order, as `COLLATE "C"`), then line.
    pub fn take_sorted(&mut self) -> Vec<StagedUser> {
        let mut rows = std::mem::take(&mut self.rows);
        rows.sort_unstable_by(|a, b| {
            a.email
                .as_bytes()
                .cmp(b.email.as_bytes())
                .then(a.line.cmp(&b.line))
        });
        rows
    }

    /// Takes the rejected rows out, in line order.
    pub fn take_rejects(&mut self) -> Vec<(i64, i64, i64, String)> {
        let mut r = std::mem::take(&mut self.rejects);
        r.sort_unstable_by_key(|r| r.0);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, email: &str, msa: Option<&str>) -> StagedUser {
        StagedUser {
            line,
            span: (line * 10, line * 10 + 9),
            email: email.to_owned(),
            name: format!("N{line}"),
            msa: msa.map(str::to_owned),
            roles: "user".to_owned(),
        }
    }

    #[test]
    fn candidates_come_in_file_order_and_rejected_rows_leave() {
        let mut m = MemStage::default();
        for (l, e, msa) in [
            (2, "b@x", Some("m1")),
            (3, "a@x", None),
            (4, "b@x", None),
            (5, "c@x", Some("m1")),
        ] {
            assert!(!m.add(row(l, e, msa)));
        }
        m.cand_email.insert("b@x".into());
        m.cand_msa.insert("m1".into());
        let lines: Vec<u64> = m.candidates().iter().map(|c| c.0).collect();
        assert_eq!(lines, [2, 4, 5]);
        m.reject(4, (40, 49), "email: b@x is already on line 2 of this file");
        m.reject(5, (50, 59), "msa: m1 is already on line 2 of this file");
        m.drop_rejected();
        let sorted: Vec<u64> = m.take_sorted().iter().map(|r| r.line).collect();
        assert_eq!(sorted, [3, 2], "a@x before b@x");
        let rejects: Vec<i64> = m.take_rejects().iter().map(|r| r.0).collect();
        assert_eq!(rejects, [4, 5]);
    }

    #[test]
    fn e_mails_sort_in_byte_order_then_by_line() {
        let mut m = MemStage::default();
        for (l, e) in [(2, "b@x"), (3, "B@x"), (4, "a@x"), (5, "_@x")] {
            m.add(row(l, e, None));
        }
        let emails: Vec<String> = m.take_sorted().into_iter().map(|r| r.email).collect();
        assert_eq!(emails, ["B@x", "_@x", "a@x", "b@x"]);
    }
}

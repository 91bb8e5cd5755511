//! The valid rows of a users file, held in memory in one text arena, and the rows rejected
//! so far. It owns the two decisions that need nothing from the database: an e-mail or MSA
//! given twice in the file is rejected at its second occurrence (the first accepted
//! occurrence wins, and a rejected row takes nothing), and the order rows are decided in
//! (e-mail, then line; byte order).
//!
//! Why memory and not a TEMP table: staging 1,000,000 rows in SQLite's TEMP schema and
//! reading them back sorted cost about 2.5 s of a 9.5 s import (the sqlite3 shell does the
//! same two steps in 3.2 s); on PostgreSQL the staging `COPY` and the cursor's reads cost
//! 2.5 s of server time besides. In memory the rows cost one arena and a 56-byte entry each
//! (about 110 MiB at 1,000,000 rows of the bench's file) and sort in a fraction of a
//! second. Invariants: an entry's text lies in the arena at `start..start + ends[3]`;
//! entries keep file order until [`Staged::sort_by_email`], which also rewrites the arena
//! in the new order (for a moment both arenas are held: about 80 MiB more at 1,000,000
//! rows).

use std::collections::{HashMap, HashSet};

use crate::support::bloom::Bloom;

/// Half the rows from which [`Staged::sort_by_email`] sorts on two threads: below, a
/// thread costs more than it saves.
const PARALLEL_SORT_FROM: usize = 1 << 15;

/// A valid row, its fields in the arena: e-mail, name, MSA (empty when none), roles.
#[derive(Debug, Clone, Copy)]
struct Entry {
    line: u64,
    span: (u64, u64),
    start: usize,
    /// The end of each field, relative to `start`.
    ends: [u32; 4],
    has_msa: bool,
}

/// A staged row's fields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowRef<'a> {
    pub(crate) line: u64,
    pub(crate) span: (u64, u64),
    pub(crate) email: &'a str,
    pub(crate) name: &'a str,
    pub(crate) msa: Option<&'a str>,
    pub(crate) roles: &'a str,
}

/// A rejected row: where it is and why.
#[derive(Debug, Clone)]
pub(crate) struct Rejected {
    pub(crate) line: u64,
    pub(crate) span: (u64, u64),
    pub(crate) message: String,
}

/// The valid rows of an import and the rows rejected so far.
pub(crate) struct Staged {
    text: String,
    rows: Vec<Entry>,
    rejects: Vec<Rejected>,
    /// Keys that may repeat (the Bloom filters said "maybe seen"): only the rows holding
    /// one are looked at again by [`Staged::drop_repeats`].
    may_repeat_email: HashSet<String>,
    may_repeat_msa: HashSet<String>,
    emails: Bloom,
    msas: Bloom,
}

/// The rows being put in decision order, their text copied into a new arena in that order
/// as they come: every later pass (each chunk is read three times) then reads the arena
/// front to back instead of jumping across it (the entry's first touch of its text was 15 %
/// of a PostgreSQL import's client samples, most of it cache misses).
struct InOrder {
    /// `None` when the allocator refused the second arena: the rows keep the first.
    text: Option<String>,
    rows: Vec<Entry>,
}

impl InOrder {
    fn new(text: &str, rows: usize) -> Self {
        let mut copy = String::new();
        InOrder {
            text: copy.try_reserve_exact(text.len()).is_ok().then_some(copy),
            rows: Vec::with_capacity(rows),
        }
    }

    /// Appends a row of the arena `from`.
    fn push(&mut self, from: &str, mut e: Entry) {
        if let Some(text) = &mut self.text {
            let start = text.len();
            text.push_str(&from[e.start..e.start + e.ends[3] as usize]);
            e.start = start;
        }
        self.rows.push(e);
    }

    /// The arena and the rows; `old`, the arena the rows came from, when there is no copy.
    fn finish(self, old: String) -> (String, Vec<Entry>) {
        match self.text {
            Some(text) => (text, self.rows),
            None => (old, self.rows),
        }
    }
}

impl Staged {
    /// Rows of a file of `len` bytes: the arena reserved at the file's size, which its
    /// fields cannot much exceed, when the allocator grants it (untouched pages cost no
    /// memory; a refused reservation only means growing as the rows come, never an abort).
    pub(crate) fn for_file(len: u64) -> Self {
        let mut text = String::new();
        let _ = text.try_reserve(usize::try_from(len).unwrap_or(0));
        Staged {
            text,
            rows: Vec::new(),
            rejects: Vec::new(),
            may_repeat_email: HashSet::new(),
            may_repeat_msa: HashSet::new(),
            emails: Bloom::new(),
            msas: Bloom::new(),
        }
    }

    /// Adds a valid row (in file order).
    pub(crate) fn add(
        &mut self,
        line: u64,
        span: (u64, u64),
        email: &str,
        name: &str,
        msa: Option<&str>,
        roles: &str,
    ) {
        if self.emails.insert(email) {
            self.may_repeat_email.insert(email.to_owned());
        }
        if let Some(m) = msa
            && self.msas.insert(m)
        {
            self.may_repeat_msa.insert(m.to_owned());
        }
        let start = self.text.len();
        let mut ends = [0u32; 4];
        for (i, f) in [email, name, msa.unwrap_or(""), roles].iter().enumerate() {
            self.text.push_str(f);
            // Fields are bounded by validation (an e-mail, a display name, roles): far
            // below 4 GiB; the conversion cannot fail on a row that passed it.
            ends[i] = u32::try_from(self.text.len() - start).unwrap_or(u32::MAX);
        }
        self.rows.push(Entry {
            line,
            span,
            start,
            ends,
            has_msa: msa.is_some(),
        });
    }

    /// Records a rejected row.
    pub(crate) fn reject(&mut self, line: u64, span: (u64, u64), message: String) {
        self.rejects.push(Rejected {
            line,
            span,
            message,
        });
    }

    fn view(&self, e: &Entry) -> RowRef<'_> {
        let t = &self.text[e.start..e.start + e.ends[3] as usize];
        let [a, b, c, d] = e.ends.map(|x| x as usize);
        RowRef {
            line: e.line,
            span: e.span,
            email: &t[..a],
            name: &t[a..b],
            msa: e.has_msa.then(|| &t[b..c]),
            roles: &t[c..d],
        }
    }

    fn email_of(&self, e: &Entry) -> &str {
        &self.text[e.start..e.start + e.ends[0] as usize]
    }

    /// Rejects the second occurrence of an e-mail or MSA, naming the first, in file order;
    /// a rejected row takes nothing. Returns how many were rejected. Only rows holding a key
    /// the Bloom filters flagged are looked at.
    pub(crate) fn drop_repeats(&mut self) -> u64 {
        self.emails = Bloom::default();
        self.msas = Bloom::default();
        if self.may_repeat_email.is_empty() && self.may_repeat_msa.is_empty() {
            return 0;
        }
        let mut first_email: HashMap<&str, u64> = HashMap::new();
        let mut first_msa: HashMap<&str, u64> = HashMap::new();
        let mut dead = Vec::new();
        for (i, e) in self.rows.iter().enumerate() {
            let email_may = self.may_repeat_email.contains(self.email_of(e));
            let msa_may = e.has_msa && !self.may_repeat_msa.is_empty() && {
                let t = &self.text[e.start..];
                self.may_repeat_msa
                    .contains(&t[e.ends[1] as usize..e.ends[2] as usize])
            };
            if !email_may && !msa_may {
                continue;
            }
            let r = self.view(e);
            let why = if let Some(first) = first_email.get(r.email).filter(|_| email_may) {
                format!("email: {} is already on line {first} of this file", r.email)
            } else if let Some(m) = r.msa
                && let Some(first) = first_msa.get(m).filter(|_| msa_may)
            {
                format!("msa: {m} is already on line {first} of this file")
            } else {
                if email_may {
                    first_email.insert(r.email, r.line);
                }
                if let Some(m) = r.msa.filter(|_| msa_may) {
                    first_msa.insert(m, r.line);
                }
                continue;
            };
            dead.push((i, why));
        }
        let n = dead.len() as u64;
        let mut keep = vec![true; self.rows.len()];
        for (i, why) in dead {
            keep[i] = false;
            let e = self.rows[i];
            self.reject(e.line, e.span, why);
        }
        let mut k = keep.iter();
        self.rows.retain(|_| *k.next().unwrap_or(&true));
        self.may_repeat_email = HashSet::new();
        self.may_repeat_msa = HashSet::new();
        n
    }

    /// Sorts the rows into the order they are decided in: e-mail (bytes), then line.
    ///
    /// Large files are sorted in two halves on two threads, then merged: the sort took
    /// 0.35–0.45 s of a 1,000,000-row import, while the database (on PostgreSQL, the
    /// server) waits for its first rows.
    pub(crate) fn sort_by_email(&mut self) {
        let mut rows = std::mem::take(&mut self.rows);
        let text = &self.text;
        let email = |e: &Entry| &text.as_bytes()[e.start..e.start + e.ends[0] as usize];
        let order = |a: &Entry, b: &Entry| email(a).cmp(email(b)).then(a.line.cmp(&b.line));
        let half = rows.len() / 2;
        let both = half >= PARALLEL_SORT_FROM && {
            let (low, high) = rows.split_at_mut(half);
            std::thread::scope(|s| {
                let other = std::thread::Builder::new()
                    .name("competency-sort".into())
                    .spawn_scoped(s, || low.sort_unstable_by(order));
                high.sort_unstable_by(order);
                other.is_ok_and(|t| t.join().is_ok())
            })
        };
        let mut out = InOrder::new(text, rows.len());
        if both {
            // The merge: (e-mail, line) is a total order (lines are distinct), so the
            // result is the one sort of the whole would give.
            let (low, high) = rows.split_at(half);
            let (mut i, mut j) = (0, 0);
            while i < low.len() && j < high.len() {
                if order(&high[j], &low[i]).is_lt() {
                    out.push(text, high[j]);
                    j += 1;
                } else {
                    out.push(text, low[i]);
                    i += 1;
                }
            }
            low[i..]
                .iter()
                .chain(&high[j..])
                .for_each(|e| out.push(text, *e));
        } else {
            // Small, or no thread to be had (or it stopped): one sort of the whole.
            rows.sort_unstable_by(order);
            rows.iter().for_each(|e| out.push(text, *e));
        }
        drop(rows);
        (self.text, self.rows) = out.finish(std::mem::take(&mut self.text));
    }

    /// How many valid rows there are.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows from `from`, at most `n` of them.
    pub(crate) fn rows(&self, from: usize, n: usize) -> impl Iterator<Item = RowRef<'_>> {
        self.rows.iter().skip(from).take(n).map(|e| self.view(e))
    }

    /// Whether some row's e-mail ends with `@<domain>` (ASCII case ignored: a superset).
    pub(crate) fn any_email_in(&self, domain: &str) -> bool {
        self.rows.iter().any(|e| {
            let email = self.email_of(e).as_bytes();
            let d = domain.as_bytes();
            email.len() > d.len()
                && email[email.len() - d.len() - 1] == b'@'
                && email[email.len() - d.len()..].eq_ignore_ascii_case(d)
        })
    }

    /// The rejected rows, in file order.
    pub(crate) fn take_rejects(&mut self) -> Vec<Rejected> {
        let mut r = std::mem::take(&mut self.rejects);
        r.sort_by_key(|r| r.line);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged(rows: &[(u64, &str, Option<&str>)]) -> Staged {
        let mut s = Staged::for_file(0);
        for &(line, email, msa) in rows {
            s.add(line, (line * 10, line * 10 + 9), email, "N", msa, "user");
        }
        s
    }

    #[test]
    fn file_repeats_keep_the_first_accepted_occurrence() {
        let mut s = staged(&[
            (2, "b@x", Some("m1")),
            (3, "a@x", Some("m1")),
            (4, "a@x", Some("m2")),
            (5, "b@x", None),
        ]);
        assert_eq!(s.drop_repeats(), 2);
        s.sort_by_email();
        let kept: Vec<u64> = s.rows(0, usize::MAX).map(|r| r.line).collect();
        // Line 3 loses m1 to line 2 and so takes no e-mail: line 4 keeps a@x.
        assert_eq!(kept, [4, 2], "e-mail order");
        let rejects: Vec<(u64, String)> = s
            .take_rejects()
            .into_iter()
            .map(|r| (r.line, r.message))
            .collect();
        assert_eq!(
            rejects,
            [
                (3, "msa: m1 is already on line 2 of this file".to_owned()),
                (5, "email: b@x is already on line 2 of this file".to_owned())
            ]
        );
    }

    #[test]
    fn fields_round_trip_through_the_arena_and_the_sort() {
        let mut s = Staged::for_file(0);
        s.add(2, (0, 5), "zed@x", "Zed", None, "user");
        s.add(
            3,
            (5, 9),
            "amy@x",
            "Amy É",
            Some("amy@live.com"),
            "admin;user",
        );
        s.reject(4, (9, 12), "email: bad".into());
        assert_eq!(s.drop_repeats(), 0);
        s.sort_by_email();
        let rows: Vec<RowRef> = s.rows(0, 10).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].line, rows[0].email, rows[0].name, rows[0].msa),
            (3, "amy@x", "Amy É", Some("amy@live.com"))
        );
        assert_eq!((rows[0].roles, rows[0].span), ("admin;user", (5, 9)));
        assert_eq!(
            (rows[1].email, rows[1].msa, rows[1].roles),
            ("zed@x", None, "user")
        );
        assert_eq!(s.rows(1, 5).count(), 1);
        assert!(s.any_email_in("X") && !s.any_email_in("y"));
        assert_eq!(s.take_rejects()[0].line, 4);
    }

    #[test]
    fn a_size_no_allocator_grants_is_no_reservation() {
        let mut s = Staged::for_file(u64::MAX);
        s.add(2, (0, 1), "a@x", "A", None, "user");
        assert_eq!(s.rows(0, 1).next().map(|r| r.email), Some("a@x"));
    }

    #[test]
    fn a_key_the_filter_merely_suspects_rejects_nothing() {
        // Many distinct keys: whatever the filter suspects, only true repeats go.
        let rows: Vec<(u64, String, String)> = (0..20_000u64)
            .map(|i| (i + 2, format!("p{i}@x"), format!("m{i}@live.com")))
            .collect();
        let mut s = Staged::for_file(0);
        for (l, e, m) in &rows {
            s.add(*l, (0, 0), e, "N", Some(m), "user");
        }
        s.add(30_000, (0, 0), "p7@x", "N", None, "user");
        assert_eq!(s.drop_repeats(), 1);
        assert_eq!(s.len(), 20_000);
    }

    /// A file large enough for the two-thread sort comes out in the order one sort of the
    /// whole gives: e-mail bytes, then line (equal e-mails, as before their repeats are
    /// dropped, keep file order), every row once.
    #[test]
    fn a_large_file_sorted_on_two_threads_is_in_e_mail_then_line_order() {
        let n = 2 * PARALLEL_SORT_FROM as u64 + 1001;
        let mut s = Staged::for_file(0);
        // Few distinct e-mails, spread over both halves, and a prefix of another.
        for line in 0..n {
            let k = (line * 7919) % 997;
            let email = if k % 3 == 0 {
                format!("a{k}")
            } else {
                format!("a{k}@x")
            };
            s.add(line + 2, (line, line + 1), &email, "N", None, "user");
        }
        s.sort_by_email();
        let rows: Vec<(String, u64)> = s
            .rows(0, usize::MAX)
            .map(|r| (r.email.to_owned(), r.line))
            .collect();
        assert_eq!(rows.len() as u64, n);
        let mut expected = rows.clone();
        expected.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(a.1.cmp(&b.1)));
        assert_eq!(rows, expected);
        let mut lines: Vec<u64> = rows.iter().map(|r| r.1).collect();
        lines.sort_unstable();
        lines.dedup();
        assert_eq!(lines.len() as u64, n, "every row once");
    }
}

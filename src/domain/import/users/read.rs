//! Pass 1 of `users import`: the file read and each row validated into [`Staged`], on two
//! threads. This thread reads the CSV, copies each row's raw fields into batches and keeps
//! the rows a second thread has validated (or records their rejection), in file order.
//!
//! Why two: the server waits idle while the file is read (every decision needs the whole
//! file sorted), and reading and validating were 1.0–1.9 s of a 1,000,000-row import,
//! about a tenth of it on PostgreSQL. The halves are about equal (`perf`: the CSV reader,
//! the copies, the Bloom filters and the arena on one side; the fields' checks on the
//! other).
//!
//! Invariants: the rows reach [`Staged`] in file order, exactly as one thread would put
//! them; every row is counted by the caller and is either kept or rejected; an error of
//! the file (its reading) stops both threads and is the caller's, with nothing kept.

use std::sync::mpsc;

use anyhow::Result;

use super::rows::validate_row;
use super::staged::Staged;
use crate::domain::import::input::Input;

/// Rows handed to the validating thread at once.
const BATCH_ROWS: usize = 4096;

/// The columns a row's fields come from: e-mail, name (or first and last name), MSA, role.
pub(super) struct Columns {
    pub(super) email: Option<usize>,
    pub(super) name: Option<usize>,
    pub(super) first: Option<usize>,
    pub(super) last: Option<usize>,
    pub(super) msa: Option<usize>,
    pub(super) role: Option<usize>,
}

/// A row as read: where it is, and its raw fields in the batch's text (e-mail, name, MSA,
/// roles; the MSA absent when blank) or why its shape is wrong.
struct RawRow {
    line: u64,
    span: (u64, u64),
    fields: Result<([u32; 4], bool), String>,
}

/// Rows read and not yet validated.
#[derive(Default)]
struct Batch {
    text: String,
    rows: Vec<RawRow>,
}

/// Rows validated, not yet kept: their fields as stored (e-mail, name, MSA, roles) in the
/// batch's text, or why they are rejected.
struct Valid {
    text: String,
    rows: Vec<RawRow>,
}

impl Batch {
    /// Validates the rows, exactly as `users add` validates its arguments.
    fn validate(self) -> Valid {
        let mut valid = Valid {
            text: String::with_capacity(self.text.len() + self.text.len() / 8),
            rows: Vec::with_capacity(self.rows.len()),
        };
        let mut at = 0;
        for r in self.rows {
            let fields = r.fields.and_then(|(ends, has_msa)| {
                let t = &self.text[at..at + ends[3] as usize];
                at += ends[3] as usize;
                let [a, b, c, _] = ends.map(|e| e as usize);
                let f = validate_row(&t[..a], &t[a..b], has_msa.then(|| &t[b..c]), &t[c..])?;
                let start = valid.text.len();
                let mut ends = [0u32; 4];
                for (i, v) in [&f.email, &f.name, f.msa.as_deref().unwrap_or(""), &f.roles]
                    .into_iter()
                    .enumerate()
                {
                    valid.text.push_str(v);
                    ends[i] = u32::try_from(valid.text.len() - start).unwrap_or(u32::MAX);
                }
                Ok((ends, f.msa.is_some()))
            });
            valid.rows.push(RawRow {
                line: r.line,
                span: r.span,
                fields,
            });
        }
        valid
    }
}

impl Valid {
    /// Keeps the valid rows and records the rejected ones, in order; how many were
    /// rejected.
    fn keep(self, staged: &mut Staged) -> u64 {
        let mut rejected = 0;
        let mut at = 0;
        for r in self.rows {
            match r.fields {
                Ok((ends, has_msa)) => {
                    let t = &self.text[at..at + ends[3] as usize];
                    at += ends[3] as usize;
                    let [a, b, c, _] = ends.map(|e| e as usize);
                    staged.add(
                        r.line,
                        r.span,
                        &t[..a],
                        &t[a..b],
                        has_msa.then(|| &t[b..c]),
                        &t[c..],
                    );
                }
                Err(message) => {
                    rejected += 1;
                    staged.reject(r.line, r.span, message);
                }
            }
        }
        rejected
    }
}

/// Reads every row of `input` (a file of `len` bytes): the rows kept, how many rows were
/// read, and how many of them were rejected.
pub(super) fn read(input: &mut Input, cols: &Columns, len: u64) -> Result<(Staged, u64, u64)> {
    let mut staged = Staged::for_file(len);
    let mut rejected = 0;
    std::thread::scope(|s| {
        // To the validating thread a bounded queue (the reader waits when it is ahead);
        // back an unbounded one, emptied after every batch sent, so that neither thread
        // can wait for the other forever.
        let (tx, rx) = mpsc::sync_channel::<Batch>(4);
        let (back_tx, back) = mpsc::channel::<Valid>();
        let worker = std::thread::Builder::new()
            .name("competency-validate".into())
            .spawn_scoped(s, move || {
                for batch in rx {
                    if back_tx.send(batch.validate()).is_err() {
                        return;
                    }
                }
            });
        match worker {
            Ok(worker) => {
                let read = read_batches(input, cols, |batch| {
                    let sent = tx.send(batch).is_ok();
                    while let Ok(valid) = back.try_recv() {
                        rejected += valid.keep(&mut staged);
                    }
                    sent
                });
                // The worker ends once the batches do (an error of the file included).
                drop(tx);
                for valid in &back {
                    rejected += valid.keep(&mut staged);
                }
                worker.join().map_err(|_| {
                    anyhow::anyhow!("internal error: the validating thread stopped")
                })?;
                Ok(read?)
            }
            // No thread to be had: this one validates each batch itself.
            Err(_) => read_batches(input, cols, |batch| {
                rejected += batch.validate().keep(&mut staged);
                true
            }),
        }
    })
    .map(|rows| (staged, rows, rejected))
}

/// Reads the rows into batches handed to `send` (which answers whether the batches are
/// still taken); how many rows were read.
fn read_batches(
    input: &mut Input,
    cols: &Columns,
    mut send: impl FnMut(Batch) -> bool,
) -> Result<u64> {
    let mut rows = 0u64;
    let mut batch = Batch::default();
    while let Some(row) = input.next_row()? {
        rows += 1;
        let fields = row.check().and_then(|()| {
            let start = batch.text.len();
            let mut ends = [0usize; 4];
            batch.text.push_str(row.get(cols.email));
            ends[0] = batch.text.len() - start;
            match cols.name {
                Some(_) => batch.text.push_str(row.get(cols.name)),
                None => {
                    batch.text.push_str(row.get(cols.first).trim());
                    batch.text.push(' ');
                    batch.text.push_str(row.get(cols.last).trim());
                }
            }
            ends[1] = batch.text.len() - start;
            let msa = row.opt(cols.msa);
            batch.text.push_str(msa.unwrap_or(""));
            ends[2] = batch.text.len() - start;
            batch.text.push_str(row.get(cols.role));
            ends[3] = batch.text.len() - start;
            // Offsets are kept in 32 bits: a row of 4 GiB or more is refused, not cut.
            if u32::try_from(ends[3]).is_err() {
                batch.text.truncate(start);
                return Err("the row is 4 GiB or longer".into());
            }
            Ok((ends.map(|e| e as u32), msa.is_some()))
        });
        batch.rows.push(RawRow {
            line: row.line(),
            span: row.span(),
            fields,
        });
        if batch.rows.len() == BATCH_ROWS && !send(std::mem::take(&mut batch)) {
            anyhow::bail!("internal error: the validating thread stopped");
        }
    }
    if !batch.rows.is_empty() && !send(batch) {
        anyhow::bail!("internal error: the validating thread stopped");
    }
    Ok(rows)
}

//! Copying a whole database into another (`competency copy`, SPEC §10; and `backup` from a
//! backend that has no file to copy): every organization with its full history, every
//! table, the audit included, ids preserved.
//!
//! The source is read inside one read transaction (one consistent view, whatever others
//! write meanwhile); the target is written inside one write transaction, which first checks
//! that the target is empty and last checks, table by table, that it holds exactly as many
//! rows as the source: any difference, any error, and nothing is committed. Only store
//! methods touch the databases, so the copy works between any two backends the store has.

use anyhow::Result;

use super::progress::{self, Progress};
use crate::store::Store;
use crate::store::copy::TABLES;

/// The rows copied, table by table, in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// (table, rows).
    pub tables: Vec<(&'static str, u64)>,
}

impl Copied {
    /// Rows copied in all.
    pub fn total(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Copies everything from `source` into the empty `target` (see the module comment).
pub fn copy(source: &mut Store, target: &mut Store, progress: &dyn Progress) -> Result<Copied> {
    let _armed = progress::arm();
    let copied = source.read(|src| {
        target.write(|dst| {
            progress::phase(progress, "checking that the target is empty", None)?;
            let mut filled = Vec::new();
            for t in TABLES {
                let n = dst.table_rows(t.name)?;
                if n > 0 {
                    filled.push(format!("{}: {n}", t.name));
                }
            }
            if !filled.is_empty() {
                return Err(crate::error::refused(format!(
                    "the target database is not empty ({}): copy only into a new or empty \
                     database; nothing was copied",
                    filled.join(", ")
                )));
            }
            let mut tables = Vec::with_capacity(TABLES.len());
            for t in TABLES {
                let table = t.name;
                let expected = src.table_rows(table)?;
                progress::phase(
                    progress,
                    &format!("copying {table} ({} rows)", progress::count(expected)),
                    Some(expected),
                )?;
                let mut insert = dst.copy_inserter(table)?;
                let streamed = src.copy_rows(table, |batch| {
                    for row in batch {
                        insert.insert(row)?;
                    }
                    progress::advance(progress, batch.len() as u64)?;
                    Ok(())
                })?;
                tables.push((table, expected, streamed));
            }
            dst.copy_finish()?;
            progress::phase(progress, "verifying row counts", None)?;
            let mut out = Vec::with_capacity(tables.len());
            for (table, expected, streamed) in tables {
                let landed = dst.table_rows(table)?;
                if streamed != expected || landed != expected {
                    anyhow::bail!(
                        "the copy of table {table} does not match: {expected} rows in the \
                         source, {streamed} read, {landed} in the target; nothing was copied"
                    );
                }
                out.push((table, landed));
            }
            Ok(Copied { tables: out })
        })
    })?;
    progress.finish();
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::progress::Recording;

    #[test]
    fn copies_every_table_and_reports_its_phases() {
        let mut source = Store::open_in_memory().unwrap();
        source
            .write(|db| {
                db.copy_inserter("orgs")?.insert(&[
                    1i64.into(),
                    "1".into(),
                    "Contoso".into(),
                    "contoso".into(),
                    "contoso.com".into(),
                    "developed".into(),
                    0i64.into(),
                    "".into(),
                    0i64.into(),
                    crate::store::copy::Value::Null,
                ])?;
                Ok(())
            })
            .unwrap();
        let mut target = Store::open_in_memory().unwrap();
        let rec = Recording::default();
        let copied = copy(&mut source, &mut target, &rec).unwrap();
        assert_eq!(copied.total(), 1);
        assert_eq!(copied.tables.len(), TABLES.len());
        let phases = rec.phases();
        assert_eq!(phases.first().unwrap(), "checking that the target is empty");
        assert!(phases.contains(&"copying orgs (1 rows)".to_owned()));
        assert_eq!(phases.last().unwrap(), "verifying row counts");
        // A second copy into the now filled target is refused, and changes nothing.
        let err = copy(&mut source, &mut target, &rec).unwrap_err();
        assert!(err.to_string().contains("not empty (orgs: 1)"), "{err}");
        let n = target.read(|db| db.table_rows("orgs")).unwrap();
        assert_eq!(n, 1);
    }
}

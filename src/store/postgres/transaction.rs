//! A command's transaction on PostgreSQL: a write takes the one write lock first, a read a
//! snapshot; a commit whose answer never came is [`OutcomeUnknown`]; a lock timeout, a
//! serialization failure or a deadlock is said as "busy: run the command again".

use anyhow::Result;

use super::Pg;
use crate::store::sql::Error;

/// Begins a write transaction: the advisory lock every writer takes (one per database; the
/// key spells "competen"), waited for at most [`crate::store::BUSY_TIMEOUT`].
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL lock_timeout = '30s'; \
                           SELECT pg_advisory_xact_lock(7165065861675640174)";

/// Begins a command's transaction: a write takes the write lock first (waiting at most
/// the busy timeout), a read takes a consistent snapshot.
pub fn begin(pg: &Pg, write: bool) -> Result<()> {
    let sql = if write {
        BEGIN_WRITE
    } else {
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    };
    match pg.batch_raw(sql) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = pg.batch_raw("ROLLBACK");
            Err(busy(e.into()))
        }
    }
}

/// A COMMIT whose answer never came: the connection was lost after it was sent, so the
/// transaction may have committed or not. Only the database can tell, later: `doctor` (or
/// the next command writing credentials there) settles what the command left staged.
#[derive(Debug, thiserror::Error)]
#[error("{lost} during the commit: the outcome is unknown: run `competency doctor`")]
pub struct OutcomeUnknown {
    lost: String,
}

/// Whether an error is an [`OutcomeUnknown`] commit.
pub fn outcome_unknown(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<OutcomeUnknown>())
}

/// Commits; a transaction that an error aborted on the server is reported, not committed.
/// A connection lost once the COMMIT was sent is [`OutcomeUnknown`], never "not committed".
pub fn commit(pg: &Pg) -> Result<()> {
    // A COPY still running in the background ends first: its failure (a lost connection
    // among them) is a failure before the COMMIT was sent, not an unknown outcome.
    if let Err(e) = pg.settle() {
        let _ = pg.batch_raw("ROLLBACK");
        return Err(busy(
            anyhow::Error::from(e).context("cannot commit the transaction"),
        ));
    }
    match pg.batch_raw("SELECT 1; COMMIT") {
        Ok(()) => Ok(()),
        Err(Error::Lost(lost)) => Err(OutcomeUnknown { lost }.into()),
        Err(e) => {
            let _ = pg.batch_raw("ROLLBACK");
            Err(busy(
                anyhow::Error::from(e).context("cannot commit the transaction"),
            ))
        }
    }
}

/// An error whose connection was lost without saying so (a COPY writer's own error), said
/// with the database it was lost to.
pub fn named(pg: &Pg, e: anyhow::Error) -> anyhow::Error {
    let lost = e.chain().any(|c| {
        c.downcast_ref::<Error>()
            .is_some_and(|e| matches!(e, Error::Lost(_)))
    });
    let closed = e.chain().any(|c| {
        c.downcast_ref::<postgres::Error>()
            .or_else(|| match c.downcast_ref::<Error>() {
                Some(Error::Pg(p)) => Some(p),
                _ => None,
            })
            .is_some_and(|p| p.as_db_error().is_none() && p.is_closed())
    });
    if closed && !lost && !outcome_unknown(&e) {
        let place = pg.lost_to();
        e.context(format!("the connection to {place} was lost"))
    } else {
        e
    }
}

/// Rolls back.
pub fn rollback(pg: &Pg) -> Result<()> {
    // A COPY still running in the background ends first; its error does not stop the
    // rollback.
    let _ = pg.settle();
    pg.batch_raw("ROLLBACK")?;
    Ok(())
}

/// A lock wait that timed out, a serialization failure or a deadlock, said as what it is:
/// nothing changed and the command may simply be run again.
pub fn busy(e: anyhow::Error) -> anyhow::Error {
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<Error>())
        .and_then(|e| e.pg_code().map(str::to_owned))
        .or_else(|| {
            e.chain()
                .find_map(|c| c.downcast_ref::<postgres::Error>())
                .and_then(|e| e.code().map(|c| c.code().to_owned()))
        });
    match code.as_deref() {
        Some("55P03" | "40001" | "40P01") => e.context(
            "the database is busy: another competency command holds it; nothing was changed, \
             run the command again",
        ),
        _ => e,
    }
}

/// Runs `f` in one write transaction (the write lock taken first) and commits when it
/// answers `true`, rolls back when `false`; an error rolls back, unless the outcome of the
/// commit is unknown (there is nothing left to roll back on a lost connection).
pub fn write<T>(pg: &Pg, f: impl FnOnce() -> anyhow::Result<(T, bool)>) -> anyhow::Result<T> {
    begin(pg, true)?;
    let r = f().and_then(|(out, commit_it)| {
        if commit_it {
            // A Ctrl-C during a long job (`progress::arm`): nothing is committed.
            crate::support::interrupt::check()?;
            commit(pg)?;
        } else {
            rollback(pg)?;
        }
        Ok(out)
    });
    if r.as_ref().is_err_and(|e| !outcome_unknown(e)) {
        let _ = rollback(pg);
    }
    r.map_err(|e| busy(named(pg, e)))
}

/// Runs `f` on one consistent snapshot (REPEATABLE READ READ ONLY), then ends it.
pub fn read<T>(pg: &Pg, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    begin(pg, false)?;
    let r = f();
    let end = rollback(pg);
    let out = r.map_err(|e| named(pg, e))?;
    end?;
    Ok(out)
}

//! The users import's operations whose execution differs per backend, one match each (see
//! `store/import/users.rs`): what the import keeps between its rows ([`UserWrites`]: on
//! SQLite the links queued for the end and the page cache it replaced; on PostgreSQL each
//! chunk's prefetched answers and buffered writes, and whether the foreign keys are
//! suspended) and the one query whose text differs (numbered user names: SQLite's `GLOB`
//! uses the index, PostgreSQL has none).

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Conn, params};
use crate::store::import::{BulkUser, ExistingUser, OpenLink};
use crate::store::{pg, sqlite};

/// What a users import keeps between its rows, per backend.
pub enum UserWrites {
    /// SQLite: rows are written at once; links wait for the end (MSA order).
    Lite {
        links: LinkQueue,
        tuning: sqlite::users::Tuning,
    },
    /// PostgreSQL: the chunk's answers and writes, and whether the keys are suspended.
    Pg {
        cache: Box<pg::users::PgUsers>,
        keys_suspended: bool,
    },
}

/// What [`Conn::begin_user_writes`] needs to know of the import.
pub struct UserImport<'d> {
    /// The organization imported into and its domain.
    pub org_id: i64,
    pub domain: &'d str,
    /// The import's time.
    pub at: DateTime<Utc>,
    /// Its rows, and an upper bound of the accounts already there.
    pub rows: i64,
    pub accounts: i64,
    /// What it may meet: [active accounts in the organization, a user name that is an
    /// e-mail, an open association, an account in the domain].
    pub ask: [bool; 4],
}

impl Conn {
    /// Tunes the backend for a users import and starts what it keeps between rows.
    pub fn begin_user_writes(&self, i: &UserImport<'_>) -> Result<UserWrites> {
        match self {
            Conn::Lite(c) => Ok(UserWrites::Lite {
                links: LinkQueue::default(),
                tuning: sqlite::users::tune(c)?,
            }),
            Conn::Pg(p) => Ok(UserWrites::Pg {
                cache: Box::new(pg::users::PgUsers::new(
                    i.org_id,
                    i.domain,
                    i.at.timestamp(),
                    i.ask,
                )),
                keys_suspended: pg::users::begin(p, i.rows, i.accounts)?,
            }),
        }
    }

    /// The user names `<local><n>@` of the organizations of a domain: the prepared query
    /// (`?1` the pattern, `?2` the domain) and the pattern for `local`. SQLite's `GLOB`
    /// uses the index; PostgreSQL's `LIKE` finds a superset (`_` matches any character),
    /// which the caller narrows exactly.
    pub fn numbered_names(&self, local: &str) -> Result<(super::Stmt<'_>, String)> {
        match self {
            Conn::Lite(_) => Ok((
                self.prepare_cached(NUMBERED_NAMES_GLOB)?,
                format!("{local}[0-9]*@"),
            )),
            Conn::Pg(_) => Ok((
                self.prepare_cached(NUMBERED_NAMES_LIKE)?,
                format!("{local}%@"),
            )),
        }
    }
}

/// See [`Conn::numbered_names`] (SQLite).
const NUMBERED_NAMES_GLOB: &str = "SELECT username FROM users
     WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username GLOB ?1";

/// See [`Conn::numbered_names`] (PostgreSQL).
const NUMBERED_NAMES_LIKE: &str = "SELECT username FROM users
     WHERE org_id IN (SELECT id FROM orgs WHERE domain = ?2) AND username LIKE ?1";

/// The links a SQLite import writes at its end: every MSA in one text arena instead of a
/// `String` each (a million allocations fewer at 1,000,000 links; peak RSS 237 MiB against
/// 242 MiB, measured).
#[derive(Default)]
pub struct LinkQueue {
    text: String,
    links: Vec<(usize, usize, i64)>,
}

impl LinkQueue {
    fn push(&mut self, msa: &str, user_id: i64) {
        let start = self.text.len();
        self.text.push_str(msa);
        self.links.push((start, self.text.len(), user_id));
    }

    /// The links in MSA order (then account).
    fn sorted(&mut self) -> impl Iterator<Item = (&str, i64)> {
        let text = &self.text;
        self.links
            .sort_unstable_by(|a, b| text[a.0..a.1].cmp(&text[b.0..b.1]).then(a.2.cmp(&b.2)));
        self.links.iter().map(move |l| (&text[l.0..l.1], l.2))
    }
}

impl UserWrites {
    /// Announces a chunk of rows (e-mail, MSA, user-name local part): PostgreSQL fetches
    /// what they will ask.
    pub fn ask_ahead(&mut self, conn: &Conn, rows: &[(&str, Option<&str>, &str)]) -> Result<()> {
        match (self, conn) {
            (UserWrites::Pg { cache, .. }, Conn::Pg(p)) => Ok(cache.prefetch(p, rows)?),
            _ => Ok(()),
        }
    }

    /// The active account of an e-mail, when the chunk's prefetch knows it.
    pub fn active_by_email(&self, email: &str) -> Option<Option<ExistingUser>> {
        match self {
            UserWrites::Pg { cache, .. } => cache.active_by_email(email),
            UserWrites::Lite { .. } => None,
        }
    }

    /// The open association of an MSA, when the chunk's prefetch knows it.
    pub fn open_link(&self, msa: &str) -> Option<Option<OpenLink>> {
        match self {
            UserWrites::Pg { cache, .. } => cache.open_link(msa),
            UserWrites::Lite { .. } => None,
        }
    }

    /// Whether an e-mail is in use, when known without asking the database.
    pub fn email_in_use(&self, email: &str) -> Option<bool> {
        match self {
            UserWrites::Pg { cache, .. } => cache.email_in_use(email),
            UserWrites::Lite { .. } => None,
        }
    }

    /// An association ended: PostgreSQL's chunk forgets it.
    pub fn link_ended(&mut self, link_id: i64) {
        if let UserWrites::Pg { cache, .. } = self {
            cache.link_ended(link_id);
        }
    }

    /// PostgreSQL buffers a new account (stored user name `stem`) for the chunk's `COPY`:
    /// `Some(its id)`, or `Some(None)` when the name is taken (in the database or by a
    /// buffered account). SQLite: `None` (the caller inserts it).
    pub fn buffer_user(
        &mut self,
        conn: &Conn,
        db: &crate::store::Db<'_>,
        u: &BulkUser,
        stem: &str,
    ) -> Result<Option<Option<i64>>> {
        let (UserWrites::Pg { cache, .. }, Conn::Pg(p)) = (self, conn) else {
            return Ok(None);
        };
        let taken = match cache.username_taken(u.username) {
            Some(t) => t,
            // Not one of the buffered accounts' names (they answer `Some(true)`).
            None => db.username_taken(u.username)?,
        };
        if taken {
            return Ok(Some(None));
        }
        Ok(Some(Some(cache.add(p, u, stem)?)))
    }

    /// Queues the link of an MSA to an account.
    pub fn queue_link(&mut self, msa: String, user_id: i64) {
        match self {
            UserWrites::Pg { cache, .. } => cache.queue_link(msa, user_id),
            UserWrites::Lite { links, .. } => links.push(&msa, user_id),
        }
    }

    /// PostgreSQL writes the accounts buffered so far (`end_of_chunk`: and the chunk's
    /// links, and forgets what it made: the server knows it now).
    pub fn write_buffered(&mut self, conn: &Conn, end_of_chunk: bool) -> Result<()> {
        match (self, conn) {
            (UserWrites::Pg { cache, .. }, Conn::Pg(p)) => Ok(cache.write_new(p, end_of_chunk)?),
            _ => Ok(()),
        }
    }

    /// Writes what is still queued (SQLite's links, in MSA order: the B-trees of
    /// `msa_links` fill page by page) and puts the backend's tuning back.
    pub fn finish(mut self, conn: &Conn, org_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.write_buffered(conn, true)?;
        match (self, conn) {
            (UserWrites::Lite { mut links, tuning }, Conn::Lite(c)) => {
                let mut st = conn.prepare_cached(
                    "INSERT INTO msa_links (msa, user_id, org_id, started_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (msa, id) in links.sorted() {
                    st.execute(params![msa, id, org_id, at.timestamp()])?;
                }
                sqlite::users::restore(c, tuning)
            }
            (UserWrites::Pg { keys_suspended, .. }, Conn::Pg(p)) => {
                Ok(pg::users::end(p, keys_suspended)?)
            }
            _ => anyhow::bail!("internal error: a users import changed backend"),
        }
    }
}

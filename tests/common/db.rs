//! Reading (and, for tests that damage it on purpose, changing) a sandbox's database
//! directly, on whichever backend it is: the SQLite file through rusqlite, the PostgreSQL
//! database through the `postgres` client. SQL is written once with `$1`, `$2`… placeholders
//! (SQLite reads them as `?1`, `?2`…) in the dialect both share.

use super::Env;

/// A value a test binds: anything both clients can bind (text, bytes, integers).
pub trait Param {
    fn lite(&self) -> &dyn rusqlite::ToSql;
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn lite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn pg(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// One column of a row read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Val {
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }
    pub fn text(&self) -> &str {
        match self {
            Val::Text(s) => s,
            other => panic!("not text: {other:?}"),
        }
    }
    pub fn bytes(&self) -> &[u8] {
        match self {
            Val::Bytes(b) => b,
            other => panic!("not bytes: {other:?}"),
        }
    }
    /// The value as text whatever its type (NULL as `NULL`), for dumps and searches.
    pub fn shown(&self) -> String {
        match self {
            Val::Null => "NULL".into(),
            Val::Int(i) => i.to_string(),
            Val::Real(f) => f.to_string(),
            Val::Text(s) => s.clone(),
            Val::Bytes(b) => format!("x'{}'", hex::encode(b)),
        }
    }
}

/// An open connection to a sandbox's database.
pub enum Db {
    Sqlite(rusqlite::Connection),
    Pg(postgres::Client),
}

impl Env {
    /// A connection to this sandbox's database, on its backend.
    pub fn open_db(&self) -> Db {
        match &self.pg {
            Some((_, url, _)) => Db::Pg(super::pg_admin(url)),
            None => Db::Sqlite(rusqlite::Connection::open(self.db()).expect("open the database")),
        }
    }

    /// `SELECT count(*) FROM table` on this sandbox's database.
    pub fn count(&self, table: &str) -> i64 {
        self.open_db()
            .scalar(&format!("SELECT count(*) FROM {table}"), &[])
            .int()
    }
}

/// `$1` → `?1` (SQLite's numbered parameters).
fn lite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn pg_val(row: &postgres::Row, i: usize) -> Val {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    let v = if ty == Type::INT8 {
        row.get::<_, Option<i64>>(i).map(Val::Int)
    } else if ty == Type::INT4 {
        row.get::<_, Option<i32>>(i).map(|v| Val::Int(v.into()))
    } else if ty == Type::INT2 {
        row.get::<_, Option<i16>>(i).map(|v| Val::Int(v.into()))
    } else if ty == Type::BOOL {
        row.get::<_, Option<bool>>(i).map(|v| Val::Int(v.into()))
    } else if ty == Type::FLOAT8 {
        row.get::<_, Option<f64>>(i).map(Val::Real)
    } else if ty == Type::FLOAT4 {
        row.get::<_, Option<f32>>(i).map(|v| Val::Real(v.into()))
    } else if ty == Type::BYTEA {
        row.get::<_, Option<Vec<u8>>>(i).map(Val::Bytes)
    } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(&ty) {
        row.get::<_, Option<String>>(i).map(Val::Text)
    } else {
        panic!("column {i} is of type {ty}: cast it in the SQL")
    };
    v.unwrap_or(Val::Null)
}

fn lite_val(v: rusqlite::types::ValueRef<'_>) -> Val {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(i) => Val::Int(i),
        ValueRef::Real(f) => Val::Real(f),
        ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Val::Bytes(b.to_vec()),
    }
}

impl Db {
    pub fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    /// Every row of `sql`.
    pub fn query(&mut self, sql: &str, params: &[&dyn Param]) -> Vec<Vec<Val>> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c
                    .prepare(&lite_sql(sql))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = st.column_count();
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.lite()).collect();
                let mut rows = st
                    .query(p.as_slice())
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let mut out = Vec::new();
                while let Some(r) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
                    out.push((0..n).map(|i| lite_val(r.get_ref(i).unwrap())).collect());
                }
                out
            }
            Db::Pg(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.pg()).collect();
                c.query(sql, &p)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|r| (0..r.len()).map(|i| pg_val(r, i)).collect())
                    .collect()
            }
        }
    }

    /// The one row of `sql`, if any (more than one fails the test).
    pub fn row(&mut self, sql: &str, params: &[&dyn Param]) -> Option<Vec<Val>> {
        let mut rows = self.query(sql, params);
        assert!(rows.len() <= 1, "{sql}: {} rows", rows.len());
        rows.pop()
    }

    /// The one value of `sql`'s one row.
    pub fn scalar(&mut self, sql: &str, params: &[&dyn Param]) -> Val {
        let row = self
            .row(sql, params)
            .unwrap_or_else(|| panic!("{sql}: no row"));
        row.into_iter().next().expect("a column")
    }

    /// Runs a statement that changes the database; returns the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> u64 {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<&dyn rusqlite::ToSql> = params.iter().map(|p| p.lite()).collect();
                c.execute(&lite_sql(sql), p.as_slice())
                    .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
            }
            Db::Pg(c) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.pg()).collect();
                c.execute(sql, &p).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// The names of the program's tables, sorted.
    pub fn tables(&mut self) -> Vec<String> {
        let sql = if self.is_pg() {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY 1"
        } else {
            "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
        };
        self.query(sql, &[])
            .into_iter()
            .map(|r| r[0].text().to_owned())
            .collect()
    }

    /// Every row of every table as text, in a stable order: what a refused command must
    /// leave unchanged, and where a secret must not be found.
    pub fn dump(&mut self) -> String {
        let mut out = String::new();
        for t in self.tables() {
            out.push_str(&format!("== {t}\n"));
            // Both backends order whole rows by their text (SQLite by rowid: the same rows
            // in insertion order, which a refused command leaves alone too).
            let sql = if self.is_pg() {
                format!("SELECT t::text FROM \"{t}\" t ORDER BY 1")
            } else {
                format!("SELECT * FROM \"{t}\" ORDER BY rowid")
            };
            for row in self.query(&sql, &[]) {
                let cells: Vec<String> = row.iter().map(Val::shown).collect();
                out.push_str(&cells.join(" | "));
                out.push('\n');
            }
        }
        out
    }

    /// The database is sound after a crash: SQLite's integrity and foreign-key checks pass;
    /// on PostgreSQL (whose server keeps its own files and constraints sound) the killed
    /// client's session is gone, and with it its transaction and the writers' advisory lock.
    pub fn assert_sound(&mut self) {
        match self {
            Db::Sqlite(c) => {
                let rows: Vec<String> = c
                    .prepare("PRAGMA integrity_check")
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(rows, vec!["ok".to_owned()]);
                let fk: i64 = c
                    .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })
                    .unwrap();
                assert_eq!(fk, 0, "rows break a foreign key");
            }
            Db::Pg(_) => {
                // A killed client's server session ends once the server notices the closed
                // connection (at once when it waits for the client; after its statement
                // when it runs one): wait for that, with a deadline.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                loop {
                    let left = self.query(
                        "SELECT pid::bigint, coalesce(state, ''), coalesce(query, '') \
                         FROM pg_stat_activity \
                         WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        &[],
                    );
                    if left.is_empty() {
                        break;
                    }
                    assert!(
                        std::time::Instant::now() < deadline,
                        "another session still holds the database a minute on: {left:?}"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                let locks = self
                    .scalar(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
                         WHERE l.locktype = 'advisory' AND d.datname = current_database()",
                        &[],
                    )
                    .int();
                assert_eq!(locks, 0, "the writers' advisory lock is still held");
            }
        }
    }
}

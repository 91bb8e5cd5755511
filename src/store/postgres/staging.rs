//! Filling a staging table on PostgreSQL (see `import::staging`): the rows are buffered and
//! streamed by binary COPY a batch at a time (memory stays flat), into an unindexed TEMP
//! table whose text is byte-ordered (`COLLATE "C"`, as the store's tables). Values travel as
//! typed binary fields, never as SQL text. No statement is sent while a COPY is open: a
//! batch is sent whole, then the connection is free again.

use anyhow::Result;
use postgres::types::{IsNull, ToSql, Type};

use crate::store::import::staging::{Kind, Table};
use crate::store::sql::{Pg, Value};

/// Rows buffered before a COPY.
const COPY_BATCH: usize = 4096;

/// A buffered value.
#[derive(Debug)]
enum Owned {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl ToSql for Owned {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Owned::Null => Value::Null.to_sql(ty, out),
            Owned::Int(i) => Value::Int(*i).to_sql(ty, out),
            Owned::Real(f) => Value::Real(*f).to_sql(ty, out),
            Owned::Text(s) => Value::Text(s).to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Creates a TEMP table from the store's DDL (a leftover dropped first), translated as the
/// store's own tables are (`pg::pg_ddl`: BIGINT, DOUBLE PRECISION, byte-ordered text).
pub fn create(pg: &Pg, drop: &'static str, create: &str) -> Result<()> {
    pg.batch(drop)?;
    pg.batch_raw(&crate::store::pg::pg_ddl(create))?;
    Ok(())
}

/// The buffered rows of one staging table and its COPY.
pub struct Fill {
    copy: &'static str,
    types: Vec<Type>,
    width: usize,
    buffered: Vec<Owned>,
}

impl Fill {
    /// Creates the table and its table of repeated keys (leftovers dropped first) inside
    /// the transaction: the store's
    /// DDL without the line as key (the table stays unindexed for the COPY) and with
    /// byte-ordered text, as the store's own tables (`pg::pg_ddl`).
    pub fn begin(pg: &Pg, table: &Table) -> Result<Self> {
        if let Some((create_repeats, drop)) = table.repeats {
            create(pg, drop, create_repeats)?;
        }
        pg.batch(table.drop)?;
        pg.batch_raw(&crate::store::pg::pg_ddl(&table.create.replacen(
            " PRIMARY KEY",
            "",
            1,
        )))?;
        Ok(Fill {
            copy: table.copy,
            types: table
                .kinds
                .iter()
                .map(|k| match k {
                    Kind::Int => Type::INT8,
                    Kind::Real => Type::FLOAT8,
                    Kind::Text => Type::TEXT,
                })
                .collect(),
            width: table.kinds.len(),
            buffered: Vec::with_capacity(COPY_BATCH * table.kinds.len()),
        })
    }

    /// Buffers one row (the shared columns, then the import's); a full batch is sent.
    pub fn add(&mut self, pg: &Pg, shared: &[Value<'_>], values: &[Value<'_>]) -> Result<()> {
        self.buffered
            .extend(shared.iter().chain(values).map(|v| match *v {
                Value::Null => Owned::Null,
                Value::Int(i) => Owned::Int(i),
                Value::Real(f) => Owned::Real(f),
                Value::Text(s) => Owned::Text(s.to_owned()),
                Value::Blob(b) => Owned::Text(String::from_utf8_lossy(b).into_owned()),
            }));
        if self.buffered.len() >= COPY_BATCH * self.width {
            self.flush(pg)?;
        }
        Ok(())
    }

    /// Sends the buffered rows.
    pub fn flush(&mut self, pg: &Pg) -> Result<()> {
        if self.buffered.is_empty() {
            return Ok(());
        }
        let (rows, width) = (&self.buffered, self.width);
        pg.copy_in(self.copy, &self.types, |w| {
            let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(width);
            for row in rows.chunks(width) {
                refs.clear();
                refs.extend(row.iter().map(|v| v as &(dyn ToSql + Sync)));
                w.write(&refs)?;
            }
            Ok(())
        })?;
        self.buffered.clear();
        Ok(())
    }
}

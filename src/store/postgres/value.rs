//! Values between the store and PostgreSQL: a [`Value`] bound to whatever type the server
//! inferred for its placeholder (an integer bound to a BOOLEAN or DOUBLE PRECISION parameter
//! is converted), and a column read back as a [`Value`] whatever its type (BOOLEAN reads as
//! 0/1, as in SQLite).

use postgres::types::{IsNull, Type};

use crate::store::sql::{Error, Result, Value};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, BoxError> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::FLOAT8 => (i as f64).to_sql(ty, out),
                Type::FLOAT4 => (i as f32).to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                _ => i.to_string().as_str().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (f as f32).to_sql(ty, out),
                _ => f.to_string().as_str().to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The column at `i` of a PostgreSQL row.
pub(crate) fn value(r: &postgres::Row, i: usize) -> Result<Value<'_>> {
    let Some(col) = r.columns().get(i) else {
        return Err(Error::Type(format!("no column {i}")));
    };
    let ty = col.type_().clone();
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value<'static>) -> Value<'static> {
        v.map_or(Value::Null, f)
    }
    Ok(match ty {
        Type::INT8 => opt(r.try_get::<_, Option<i64>>(i)?, Value::Int),
        Type::INT4 => opt(r.try_get::<_, Option<i32>>(i)?, |v| Value::Int(v.into())),
        Type::INT2 => opt(r.try_get::<_, Option<i16>>(i)?, |v| Value::Int(v.into())),
        Type::BOOL => opt(r.try_get::<_, Option<bool>>(i)?, |v| Value::Int(v.into())),
        Type::FLOAT8 => opt(r.try_get::<_, Option<f64>>(i)?, Value::Real),
        Type::FLOAT4 => opt(r.try_get::<_, Option<f32>>(i)?, |v| Value::Real(v.into())),
        Type::BYTEA => r
            .try_get::<_, Option<&[u8]>>(i)?
            .map_or(Value::Null, Value::Blob),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => r
            .try_get::<_, Option<&str>>(i)?
            .map_or(Value::Null, Value::Text),
        other => {
            return Err(Error::Type(format!(
                "column {} has PostgreSQL type {other}, which the store does not read (cast it)",
                col.name()
            )));
        }
    })
}

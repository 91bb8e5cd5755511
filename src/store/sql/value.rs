//! What a statement binds and what a row holds, the same on both backends: [`Value`] (NULL,
//! integer, real, text, bytes), [`Param`]/[`Params`] (Rust values bound as `Value`s, the
//! `params!` macro) and [`FromValue`] (a column read back as a Rust type). SQLite binds a
//! `Value` as it is; PostgreSQL's conversion (to the type it inferred for each placeholder)
//! lives in `store/postgres/value.rs`.

use super::{Error, Result};

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// NULL.
    Null,
    /// An integer (booleans are 0/1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> Value<'a> {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }

    /// The text.
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            Value::Text(s) => Ok(s),
            Value::Blob(b) => std::str::from_utf8(b).map_err(|e| Error::Type(e.to_string())),
            v => Err(Error::Type(format!("expected text, found {}", v.kind()))),
        }
    }

    /// The text, or `None` for NULL.
    pub fn as_str_or_null(&self) -> Result<Option<&'a str>> {
        match self {
            Value::Null => Ok(None),
            v => v.as_str().map(Some),
        }
    }

    /// The bytes of text or bytes.
    pub fn as_bytes(&self) -> Result<&'a [u8]> {
        match *self {
            Value::Text(s) => Ok(s.as_bytes()),
            Value::Blob(b) => Ok(b),
            v => Err(Error::Type(format!("expected text, found {}", v.kind()))),
        }
    }

    /// The bytes, or `None` for NULL.
    pub fn as_bytes_or_null(&self) -> Result<Option<&'a [u8]>> {
        match self {
            Value::Null => Ok(None),
            v => v.as_bytes().map(Some),
        }
    }
}

/// A Rust value that binds as a [`Value`].
pub trait Param {
    /// The value to bind.
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_param!(i64, i32, u32, u16, u8, i16);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}
impl Param for Value<'_> {
    fn value(&self) -> Value<'_> {
        *self
    }
}

/// A statement's parameters: `params![a, b]` or an array `[a]`.
pub trait Params {
    /// The values, in placeholder order.
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for &[&dyn Param] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|p| p.value()).collect()
    }
}

impl<T: Param, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|p| p.value()).collect()
    }
}

/// `params![a, b, ...]`: heterogeneous parameters.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::store::sql::Param] };
    ($($x:expr),+ $(,)?) => { &[$(&$x as &dyn $crate::store::sql::Param),+] as &[&dyn $crate::store::sql::Param] };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(i),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A column position.
pub trait RowIndex {
    /// The 0-based position.
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// A Rust type read from a [`Value`].
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(v: Value<'_>) -> Result<Self>;
}

fn mismatch<T>(want: &str, v: Value<'_>) -> Result<T> {
    Err(Error::Type(format!(
        "a column holds {}, expected {want}",
        v.kind()
    )))
}

impl FromValue for i64 {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(i),
            v => mismatch("an integer", v),
        }
    }
}
macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Value<'_>) -> Result<Self> {
                let i = i64::from_value(v)?;
                <$t>::try_from(i).map_err(|_| Error::Type(format!("{i} is out of range")))
            }
        }
    )*};
}
int_from!(i32, u32, u64, usize, u16, u8);
impl FromValue for bool {
    fn from_value(v: Value<'_>) -> Result<Self> {
        Ok(i64::from_value(v)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Int(i) => Ok(i as f64),
            Value::Real(f) => Ok(f),
            v => mismatch("a number", v),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value<'_>) -> Result<Self> {
        v.as_str().map(str::to_owned)
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: Value<'_>) -> Result<Self> {
        v.as_bytes().map(<[u8]>::to_vec)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Value<'_>) -> Result<Self> {
        match v {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

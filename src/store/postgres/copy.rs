//! Rows sent by binary `COPY … FROM STDIN`: encoded here, handed to the connection 64 KiB at
//! a time.
//!
//! Hand-written (the format's framing: a header, a field count per row, a length per value,
//! a trailer) rather than the `postgres` crate's `BinaryCopyInWriter`, because the
//! synchronous client enters its async runtime for every row that writer sends: the
//! runtime's entry and exit were most of the COPY thread's time in a 1,000,000-row users
//! import (`perf`: 20 % of the client's samples, two thirds of them in `tokio`), and here
//! it is entered once per 64 KiB. The values are still encoded by the crate's `ToSql`.
//!
//! Invariant: what reaches the server is exactly the format of PostgreSQL's documentation
//! ("COPY, Binary Format"): the 11-byte signature, flags 0, no header extension; each row
//! its field count (i16) and each field its length (i32, -1 for NULL) and bytes; -1 (i16)
//! at the end. A row whose values do not match the columns' types is an error, not a row.

use std::io::Write;

use bytes::BufMut;
use postgres::types::{IsNull, ToSql, Type};

use crate::store::sql::{Error, Result};

/// The signature, the flags (no OIDs) and the header extension's length (none).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Bytes encoded before they are handed to the connection.
const FLUSH_AT: usize = 64 * 1024;

/// A binary `COPY` being written (see the module).
pub struct CopyWriter<'a> {
    out: postgres::CopyInWriter<'a>,
    types: &'a [Type],
    buf: bytes::BytesMut,
}

/// A write error of the connection, as the client's own error when it is one.
fn io_error(e: std::io::Error) -> Error {
    match e.into_inner().map(|b| b.downcast::<postgres::Error>()) {
        Some(Ok(pg)) => Error::Pg(*pg),
        Some(Err(other)) => Error::Lost(format!("the connection was lost ({other})")),
        None => Error::Lost("the connection was lost".into()),
    }
}

impl<'a> CopyWriter<'a> {
    /// Starts the rows of a `COPY` whose columns are of `types`.
    pub fn new(out: postgres::CopyInWriter<'a>, types: &'a [Type]) -> Self {
        let mut buf = bytes::BytesMut::with_capacity(FLUSH_AT + 4096);
        buf.put_slice(HEADER);
        CopyWriter { out, types, buf }
    }

    /// Encodes one row (a value per column, in order).
    pub fn write(&mut self, values: &[&(dyn ToSql + Sync)]) -> Result<()> {
        let Ok(n) = i16::try_from(values.len()) else {
            return Err(Error::Type(
                "internal error: too many columns to COPY".into(),
            ));
        };
        if values.len() != self.types.len() {
            return Err(Error::Type(format!(
                "internal error: a COPY row of {} values for {} columns",
                values.len(),
                self.types.len()
            )));
        }
        self.buf.put_i16(n);
        for (v, ty) in values.iter().zip(self.types) {
            let at = self.buf.len();
            self.buf.put_i32(-1);
            let null = v
                .to_sql_checked(ty, &mut self.buf)
                .map_err(|e| Error::Type(format!("a value for a COPY column of type {ty}: {e}")))?;
            if let IsNull::No = null {
                let len = i32::try_from(self.buf.len() - at - 4)
                    .map_err(|_| Error::Type("a value too large to COPY".into()))?;
                self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
        if self.buf.len() >= FLUSH_AT {
            self.send()?;
        }
        Ok(())
    }

    /// Hands what is encoded to the connection.
    fn send(&mut self) -> Result<()> {
        self.out.write_all(&self.buf).map_err(io_error)?;
        self.out.flush().map_err(io_error)?;
        self.buf.clear();
        Ok(())
    }

    /// Ends the rows and the `COPY`; the number of rows the server copied.
    pub fn finish(mut self) -> Result<u64> {
        self.buf.put_i16(-1);
        self.send()?;
        Ok(self.out.finish()?)
    }
}

#[cfg(test)]
mod tests {
    /// The header is the documented one: signature, zero flags, zero extension length.
    #[test]
    fn the_header_is_the_documented_signature_then_two_zero_words() {
        assert_eq!(super::HEADER.len(), 11 + 4 + 4);
        assert_eq!(&super::HEADER[..11], b"PGCOPY\n\xff\r\n\0");
        assert!(super::HEADER[11..].iter().all(|&b| b == 0));
    }
}

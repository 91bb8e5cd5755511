//! Report dates: the layouts Partner Center wrote (`2018-12-25  23:07:22`,
//! `25/12/2018 23:07`, `12/25/2018 23:07`, ISO) and the one day/month order of a file, decided
//! by its first date with a field above 12 (a pre-scan that stops there) or by `--date-order`.
//! A date that contradicts the file's order makes the whole file invalid.

use std::path::Path;

use anyhow::Result;
use chrono::NaiveDate;

use super::{COLUMNS, COMPLETED, EXPIRES, Sniffed};
use crate::domain::import::{Input, Options};
use crate::error::bad_file;
use crate::support::fields;

/// Day/month order of `DD/MM/YYYY`-style dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateOrder {
    /// Day first: 25/12/2018.
    Dmy,
    /// Month first: 12/25/2018.
    Mdy,
}

impl DateOrder {
    pub(super) fn describe(self) -> &'static str {
        match self {
            DateOrder::Dmy => "day first",
            DateOrder::Mdy => "month first",
        }
    }
}

/// The file's day/month order: `--date-order` when given, else the first date that says.
pub(super) struct Order {
    pub(super) order: Option<DateOrder>,
    /// The line that decided it (`None`: `--date-order`).
    pub(super) line: Option<u64>,
}

/// What the pre-scan found.
enum Scan {
    /// The first date that decides the order, and its line.
    Decided(DateOrder, u64),
    /// Only ambiguous slash dates; the first one's line.
    Ambiguous(u64),
    /// No slash date at all.
    NoSlash,
}

/// Scans the file for the first slash date that decides day/month order; it stops there.
fn scan_order(opts: &Options, sniffed: Sniffed) -> Result<Scan> {
    let mut input = Input::open_delimited(
        opts,
        COLUMNS,
        &crate::domain::progress::none(),
        sniffed.delimiter,
    )?;
    let cols = [COMPLETED, EXPIRES].map(|c| input.column(c));
    let mut ambiguous = None;
    while let Some(row) = input.next_row()? {
        if row.check().is_err() {
            continue;
        }
        for c in cols {
            if let Ok(When::Slash { a, b, .. }) = parse_when(row.get(c).trim()) {
                match evidence(a, b) {
                    Some(o) => return Ok(Scan::Decided(o, row.line())),
                    None if a <= 12 && b <= 12 => {
                        ambiguous.get_or_insert(row.line());
                    }
                    None => {}
                }
            }
        }
    }
    Ok(ambiguous.map_or(Scan::NoSlash, Scan::Ambiguous))
}

/// Decides the file's date order before the import (an error when every date is ambiguous
/// and `--date-order` was not given).
pub(super) fn decide_order(
    opts: &Options,
    sniffed: Sniffed,
    flag: Option<DateOrder>,
) -> Result<Order> {
    if let Some(o) = flag {
        return Ok(Order {
            order: Some(o),
            line: None,
        });
    }
    match scan_order(opts, sniffed)? {
        Scan::Decided(o, line) => Ok(Order {
            order: Some(o),
            line: Some(line),
        }),
        Scan::Ambiguous(line) => Err(bad_file(
            &opts.file,
            line,
            "every DD/MM or MM/DD date in the file could be either (no day above \
             12): say which with --date-order dmy (25/12/2018) or --date-order mdy \
             (12/25/2018); nothing was imported",
        )),
        Scan::NoSlash => Ok(Order {
            order: None,
            line: None,
        }),
    }
}

/// Parses a report date in the file's order. `Ok(Err)` is a bad row; `Err` a date whose
/// day/month order contradicts the file's: the file is invalid.
pub(super) fn date(
    file: &Path,
    order: &Order,
    line: u64,
    field: &str,
    raw: &str,
) -> Result<Result<NaiveDate, String>> {
    let raw = raw.trim();
    let shown = fields::shown(raw);
    let bad = || {
        Ok(Err(format!(
            "{field}: {shown} is not a date (expected 2018-12-25, 2018-12-25 23:07:22, \
             25/12/2018 23:07 or 12/25/2018 23:07)"
        )))
    };
    let Ok(when) = parse_when(raw) else {
        return bad();
    };
    // SPEC §2: dates are 1900–9999 (a year 0000 or 1899 could not even be copied to
    // PostgreSQL).
    let bounded = |d: NaiveDate| {
        crate::support::clock::in_range(d).map_err(|e| format!("{field}: {shown}: {e}"))
    };
    let (a, b, y) = match when {
        When::Day(d) => return Ok(bounded(d)),
        When::Invalid => return Ok(Err(format!("{field}: {shown} is not a valid date"))),
        When::Slash { a, b, y } => (a, b, y),
    };
    let Some(o) = order.order else {
        // The pre-scan saw no slash date: the file changed under us.
        return bad();
    };
    if let (Some(seen), Some(first)) = (evidence(a, b), order.line)
        && seen != o
    {
        return Err(bad_file(
            file,
            line,
            format!(
                "{field}: {shown} is {}, but line {first} has dates {}: the file mixes both \
                 orders, so no date in it can be trusted; fix the file (nothing was imported)",
                seen.describe(),
                o.describe()
            ),
        ));
    }
    let (day, month) = match o {
        DateOrder::Dmy => (a, b),
        DateOrder::Mdy => (b, a),
    };
    Ok(NaiveDate::from_ymd_opt(y, month, day)
        .ok_or_else(|| {
            format!(
                "{field}: {shown} is not a valid date (read {}{})",
                o.describe(),
                if order.line.is_none() {
                    ", as --date-order says"
                } else {
                    ""
                }
            )
        })
        .and_then(bounded))
}

/// A report date before day/month order is applied.
#[derive(Debug, PartialEq, Eq)]
enum When {
    /// An ISO date.
    Day(NaiveDate),
    /// ISO-shaped but impossible (2021-02-31).
    Invalid,
    /// `A/B/YYYY`: day and month in an order the file decides.
    Slash { a: u32, b: u32, y: i32 },
}

/// Which order a slash date proves, if any.
fn evidence(a: u32, b: u32) -> Option<DateOrder> {
    match (a > 12, b > 12) {
        (true, false) => Some(DateOrder::Dmy),
        (false, true) => Some(DateOrder::Mdy),
        _ => None,
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (one or more spaces, or `T`) and
/// `A/B/YYYY[ HH:MM[:SS]]`. `Err` when the text has none of these shapes.
fn parse_when(s: &str) -> Result<When, ()> {
    let b = s.as_bytes();
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let y = digits(&b[0..4])?;
        let m = digits(&b[5..7])?;
        let d = digits(&b[8..10])?;
        time_part(&b[10..], true)?;
        return Ok(NaiveDate::from_ymd_opt(y as i32, m, d).map_or(When::Invalid, When::Day));
    }
    let mut parts = b.splitn(3, |&c| c == b'/');
    let (Some(a), Some(bb), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(());
    };
    if !(1..=2).contains(&a.len()) || !(1..=2).contains(&bb.len()) || rest.len() < 4 {
        return Err(());
    }
    let y = digits(&rest[0..4])?;
    time_part(&rest[4..], false)?;
    Ok(When::Slash {
        a: digits(a)?,
        b: digits(bb)?,
        y: y as i32,
    })
}

fn digits(b: &[u8]) -> Result<u32, ()> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    Ok(b.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

/// Checks what follows a date: nothing, or separator(s) and `HH:MM[:SS]`.
fn time_part(b: &[u8], t_allowed: bool) -> Result<(), ()> {
    if b.is_empty() {
        return Ok(());
    }
    let rest = if t_allowed && b[0] == b'T' {
        &b[1..]
    } else {
        let n = b.iter().take_while(|&&c| c == b' ').count();
        if n == 0 {
            return Err(());
        }
        &b[n..]
    };
    let mut f = rest.split(|&c| c == b':');
    let (Some(h), Some(m)) = (f.next(), f.next()) else {
        return Err(());
    };
    let s = f.next();
    if f.next().is_some() || !(1..=2).contains(&h.len()) || m.len() != 2 {
        return Err(());
    }
    if digits(h)? > 23 || digits(m)? > 59 {
        return Err(());
    }
    if let Some(s) = s
        && (s.len() != 2 || digits(s)? > 59)
    {
        return Err(());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> When {
        When::Day(NaiveDate::from_ymd_opt(y, m, day).unwrap())
    }

    #[test]
    fn report_date_layouts() {
        assert_eq!(parse_when("2018-12-25"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25  23:07:22"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25 23:07"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2018-12-25T23:07:22"), Ok(d(2018, 12, 25)));
        assert_eq!(parse_when("2021-02-31"), Ok(When::Invalid));
        assert_eq!(
            parse_when("25/12/2018 23:07"),
            Ok(When::Slash {
                a: 25,
                b: 12,
                y: 2018
            })
        );
        assert_eq!(
            parse_when("1/2/2019 3:07"),
            Ok(When::Slash {
                a: 1,
                b: 2,
                y: 2019
            })
        );
        assert_eq!(
            parse_when("12/25/2018"),
            Ok(When::Slash {
                a: 12,
                b: 25,
                y: 2018
            })
        );
        for bad in [
            "",
            "yesterday",
            "2018-12-25x",
            "2018-12-25 25:00",
            "2018-12-25 23:7",
            "25/12/18",
            "25/12/2018 23:07:61",
            "25-12-2018",
            "=1+1",
            "2018/12/25",
        ] {
            assert_eq!(parse_when(bad), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn order_evidence() {
        assert_eq!(evidence(25, 12), Some(DateOrder::Dmy));
        assert_eq!(evidence(12, 25), Some(DateOrder::Mdy));
        assert_eq!(evidence(3, 4), None);
        assert_eq!(evidence(13, 13), None);
    }
}

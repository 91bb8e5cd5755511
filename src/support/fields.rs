//! Validation of what administrators type or import: e-mails, MSAs, names, identifiers.
//!
//! Every function returns the normalized value or a message that names the value and what
//! is wrong with it; callers add the file, line or flag.

/// Defined with the rules, which may import nothing of ours; one definition for all.
pub use crate::rules::limits::{SHOWN_CHARS, shown, unsafe_char, unsafe_char_reason};

/// Like [`shown`], but a short value without control characters or bidirectional overrides
/// is left as it is (unquoted): for messages that name a value in running text.
pub fn shown_plain(value: &str) -> String {
    if value.chars().count() <= SHOWN_CHARS && unsafe_char(value).is_none() {
        value.to_owned()
    } else {
        shown(value)
    }
}

/// What SPEC §2 tells whoever wrote a number with a comma or another grouping mark.
pub const NUMBER_FIX: &str = "use a point for decimals and no thousands separator";

/// Whether a would-be number has a decimal comma or a grouping mark (`12,5`, `62,400`,
/// `62 400`, `62'400`, `62_400`): Excel in most languages writes them, and read any other
/// way they become another number (`1,5` as 15), so they are refused, never guessed.
fn grouped(t: &str) -> bool {
    t.bytes().any(|b| b.is_ascii_digit())
        && t.chars().any(|c| {
            matches!(
                c,
                ',' | '_' | '\'' | '\u{2019}' | ' ' | '\u{A0}' | '\u{202F}'
            )
        })
}

fn grouping_refusal(what: &str, t: &str) -> String {
    if what.is_empty() {
        format!("{}: {NUMBER_FIX}", shown(t))
    } else {
        format!("{what} {}: {NUMBER_FIX}", shown(t))
    }
}

fn labelled(what: &str, message: String) -> String {
    if what.is_empty() {
        message
    } else {
        format!("{what}: {message}")
    }
}

/// Reads a number as files and arguments write it (SPEC §2): a point for decimals and no
/// grouping (`12.5`, `-2`, `62400`). A comma or a grouping mark is refused with the fix
/// (`value "12,5": use a point for decimals and no thousands separator`), never read as
/// another number; so are `inf` and `NaN`. `what` names the value (a column, a flag; empty
/// when the caller names it). Every number an administrator gives is read here.
pub fn number(what: &str, raw: &str) -> Result<f64, String> {
    let t = raw.trim();
    if grouped(t) {
        return Err(grouping_refusal(what, t));
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(labelled(
            what,
            format!("{} is not a finite number", shown(t)),
        )),
        Err(_) => Err(labelled(what, format!("{} is not a number", shown(t)))),
    }
}

/// Reads a whole number (a count, a limit) as [`number`] does: digits only, a comma or a
/// grouping mark refused with the fix.
pub fn whole_number(what: &str, raw: &str) -> Result<u64, String> {
    let t = raw.trim();
    if grouped(t) {
        return Err(grouping_refusal(what, t));
    }
    t.parse::<u64>()
        .map_err(|_| labelled(what, format!("{} is not a whole number", shown(t))))
}

/// The longest display name accepted.
pub const MAX_NAME: usize = 256;

/// Validates and lower-cases an e-mail address (also used for MSAs, which are e-mail
/// addresses). Deliberately stricter than RFC 5321: quoted local parts, IP literals and
/// comments are refused, since Partner Center refuses them too.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim().to_lowercase();
    let bad = |why: &str| {
        Err(format!(
            "{} is not an e-mail address ({why})",
            shown(raw.trim())
        ))
    };
    if e.is_empty() {
        return Err("the e-mail address is empty".into());
    }
    if starts_formula(raw.trim_start_matches(' ')) {
        return Err(formula_refusal("the e-mail address", raw.trim()));
    }
    if e.len() > 254 {
        return bad("longer than 254 characters");
    }
    let Some((local, domain)) = e.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() {
        return bad("nothing before the @");
    }
    if local.len() > 64 {
        return bad("more than 64 characters before the @");
    }
    if !local
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c))
    {
        return bad("a character not allowed before the @");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("misplaced dot before the @");
    }
    domain_name(domain)
        .map_err(|why| format!("{} is not an e-mail address ({why})", shown(raw.trim())))?;
    Ok(e)
}

/// Validates a DNS domain name (lower case expected).
pub fn domain_name(d: &str) -> Result<(), String> {
    if d.is_empty() {
        return Err("no domain".into());
    }
    if d.len() > 253 {
        return Err("domain longer than 253 characters".into());
    }
    if !d.contains('.') {
        return Err(format!("domain {} has no dot", shown(d)));
    }
    for label in d.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!(
                "domain {} has an empty or over-long label",
                shown(d)
            ));
        }
        if !label
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        {
            return Err(format!(
                "domain {} has a character other than letters, digits, - and .",
                shown(d)
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "domain {} has a label starting or ending with -",
                shown(d)
            ));
        }
    }
    Ok(())
}

/// Whether a value would start a spreadsheet formula when exported (`=`, `+`, `-`, `@`, tab
/// or carriage return first): such values are refused at input (CSV injection).
pub fn starts_formula(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

fn formula_refusal(what: &str, value: &str) -> String {
    format!(
        "{what} {} starts with {:?}, which a spreadsheet would run as a formula",
        shown(value),
        value.chars().next().unwrap_or_default()
    )
}

/// Validates free text such as a removal reason: trimmed, no control characters or
/// bidirectional overrides, not a formula, at most 1,000 characters; may be empty.
pub fn reason(raw: &str) -> Result<String, String> {
    if starts_formula(raw.trim_start_matches(' ')) {
        return Err(formula_refusal("the reason", raw.trim()));
    }
    let r = raw.trim();
    if let Some(c) = unsafe_char(r) {
        return Err(format!("the reason contains {}", unsafe_char_reason(c)));
    }
    let len = r.chars().count();
    if len > 1000 {
        return Err(format!(
            "the reason has {len} characters; at most 1000 are allowed"
        ));
    }
    Ok(r.to_owned())
}

/// Validates a display name: trimmed, not empty, no control characters or bidirectional
/// overrides, not a spreadsheet formula, not too long.
pub fn name(raw: &str) -> Result<String, String> {
    if starts_formula(raw.trim_start_matches(' ')) {
        return Err(formula_refusal("the name", raw.trim()));
    }
    let n = raw.trim();
    if n.is_empty() {
        return Err("the name is empty".into());
    }
    if let Some(c) = unsafe_char(n) {
        return Err(format!(
            "the name {} contains {}",
            shown(n),
            unsafe_char_reason(c)
        ));
    }
    let len = n.chars().count();
    if len > MAX_NAME {
        return Err(format!(
            "the name has {len} characters; at most {MAX_NAME} are allowed"
        ));
    }
    Ok(n.to_owned())
}

/// Validates a partner ID: Partner IDs (MPN IDs) are numbers, 1 to 32 digits.
pub fn partner_id(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if p.is_empty() || p.len() > 32 || !p.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{} is not a partner ID (a number: 1 to 32 digits)",
            shown(p)
        ));
    }
    Ok(p.to_owned())
}

/// Derives a slug from a name: lower case ASCII letters and digits, `-` between words;
/// accented and other non-ASCII letters are transliterated ("Société Générale" →
/// `societe-generale`), not dropped.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(name).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() { "org".into() } else { out }
}

/// The user-name local part derived from an e-mail's local part: lower case, only
/// characters a user principal name allows (letters, digits, `.`, `_`, `-`).
pub fn username_local(email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut out: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    out = out.trim_matches('.').to_owned();
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    if out.is_empty() { "user".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email(" Ada.Lovelace@Example.COM ").unwrap(),
            "ada.lovelace@example.com"
        );
        for bad in [
            "",
            "bob@",
            "@x.com",
            "a@b",
            "a..b@x.com",
            "a b@x.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(email(bad).is_err(), "{bad} accepted");
        }
        assert!(email("bob@").unwrap_err().contains("\"bob@\""));
    }

    #[test]
    fn slugs_and_locals() {
        assert_eq!(slug("Contoso Ltd."), "contoso-ltd");
        assert_eq!(slug("  ***  "), "org");
        assert_eq!(slug("Société Générale"), "societe-generale");
        assert_eq!(slug("Müller & Söhne GmbH"), "muller-sohne-gmbh");
        assert_eq!(username_local("Jean+news@x.com"), "jeannews");
        assert_eq!(username_local("+++@x.com"), "user");
    }

    #[test]
    fn partner_ids_are_numbers() {
        assert_eq!(partner_id(" 4242 ").unwrap(), "4242");
        for bad in ["", "abc", "12-34", "12a", &"1".repeat(33)] {
            assert!(partner_id(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn formulas_are_refused_at_input() {
        for bad in [
            "=HYPERLINK(\"x\")",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            " =1",
        ] {
            assert!(name(bad).is_err(), "{bad:?} accepted as a name");
            assert!(reason(bad).is_err(), "{bad:?} accepted as a reason");
        }
        for bad in ["=1+2@x.com", "+cmd@outlook.com", "-a@x.com", "\t=a@x.com"] {
            let e = email(bad).unwrap_err();
            assert!(
                e.contains("formula") || e.contains("not an e-mail"),
                "{bad:?}: {e}"
            );
        }
        assert!(email("=1+2@x.com").unwrap_err().contains("formula"));
        assert_eq!(name("Ann-Marie O'Neil").unwrap(), "Ann-Marie O'Neil");
        assert_eq!(email("a+b=c@x.com").unwrap(), "a+b=c@x.com");
        assert_eq!(reason("").unwrap(), "");
    }

    #[test]
    fn names_refuse_bidi_overrides() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let e = name(&format!("Ann{c}xe.exe")).unwrap_err();
            assert!(e.contains("bidirectional"), "{e}");
        }
        assert!(name("Zoë Ångström").is_ok());
    }

    #[test]
    fn numbers_are_written_with_a_point_and_no_grouping() {
        assert_eq!(number("value", " 12.5 "), Ok(12.5));
        assert_eq!(number("value", "-2"), Ok(-2.0));
        assert_eq!(number("value", "62400"), Ok(62400.0));
        assert_eq!(
            number("value", "12,5").unwrap_err(),
            "value \"12,5\": use a point for decimals and no thousands separator"
        );
        for bad in [
            "1,5",
            "62,400",
            "62 400",
            "62'400",
            "62_400",
            "1\u{A0}000",
            ",5",
        ] {
            let e = number("value", bad).unwrap_err();
            assert!(e.ends_with(NUMBER_FIX), "{bad:?}: {e}");
            assert!(whole_number("", bad).unwrap_err().ends_with(NUMBER_FIX));
        }
        assert_eq!(
            number("value", "abc").unwrap_err(),
            "value: \"abc\" is not a number"
        );
        assert!(number("value", "inf").unwrap_err().contains("finite"));
        assert!(number("value", "NaN").unwrap_err().contains("finite"));
        assert_eq!(whole_number("--limit", "30"), Ok(30));
        assert!(whole_number("--limit", "1.5").is_err());
        assert!(whole_number("--limit", "-1").is_err());
    }

    #[test]
    fn names() {
        assert!(name("  ").is_err());
        assert!(name("a\u{7}b").is_err());
        assert!(name(&"x".repeat(MAX_NAME + 1)).is_err());
        assert_eq!(name(" Ada ").unwrap(), "Ada");
    }
}

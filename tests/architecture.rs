//! The layering of DESIGN.md, checked over the sources: `cli → domain → {rules, store}`,
//! one arrow direction only. Grep-based on purpose: comments and string literals are blanked
//! first, then each rule looks for the paths it forbids. A failure names every offence as
//! `file:line`.

use std::path::{Path, PathBuf};

/// A source file: its path relative to the crate, and its lines with comments and the
/// contents of string and character literals blanked (so `"postgres://"` or a doc comment
/// naming a module is not an offence).
struct Source {
    path: String,
    lines: Vec<String>,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("source file");
            Source {
                path: f
                    .strip_prefix(root)
                    .expect("under the crate")
                    .display()
                    .to_string(),
                lines: blank_comments_and_strings(&text),
            }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Replaces comments and the insides of string/char literals by spaces, keeping lines.
fn blank_comments_and_strings(text: &str) -> Vec<String> {
    #[derive(PartialEq)]
    enum State {
        Code,
        Line,
        Block(usize),
        Str,
        Raw(usize),
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            if state == State::Line {
                state = State::Code;
            }
            out.push('\n');
            i += 1;
            continue;
        }
        match state {
            State::Code => {
                if c == '/' && next == Some('/') {
                    state = State::Line;
                    out.push(' ');
                } else if c == '/' && next == Some('*') {
                    state = State::Block(1);
                    out.push_str("  ");
                    i += 1;
                } else if c == '"' {
                    state = State::Str;
                    out.push('"');
                } else if c == 'r'
                    && (next == Some('"') || next == Some('#'))
                    && !prev_is_ident(&chars, i)
                {
                    let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
                    if chars.get(i + 1 + hashes) == Some(&'"') {
                        state = State::Raw(hashes);
                        out.push('"');
                        out.extend(std::iter::repeat_n(' ', hashes + 1));
                        i += hashes + 1;
                    } else {
                        out.push(c);
                    }
                } else if c == '\'' && is_char_literal(&chars, i) {
                    let end = chars[i + 1..]
                        .iter()
                        .enumerate()
                        .skip(1)
                        .find(|&(k, &ch)| ch == '\'' && chars[i + k] != '\\')
                        .map_or(i + 1, |(k, _)| i + 1 + k);
                    out.push('\'');
                    out.extend(std::iter::repeat_n(' ', end - i - 1));
                    out.push('\'');
                    i = end;
                } else {
                    out.push(c);
                }
            }
            State::Line => out.push(' '),
            State::Block(depth) => {
                if c == '*' && next == Some('/') {
                    state = if depth == 1 {
                        State::Code
                    } else {
                        State::Block(depth - 1)
                    };
                    out.push_str("  ");
                    i += 1;
                } else if c == '/' && next == Some('*') {
                    state = State::Block(depth + 1);
                    out.push_str("  ");
                    i += 1;
                } else {
                    out.push(' ');
                }
            }
            State::Str => {
                if c == '\\' {
                    out.push(' ');
                    if next.is_some_and(|n| n != '\n') {
                        out.push(' ');
                        i += 1;
                    }
                } else if c == '"' {
                    state = State::Code;
                    out.push('"');
                } else {
                    out.push(' ');
                }
            }
            State::Raw(hashes) => {
                let closes = c == '"'
                    && chars[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes;
                if closes {
                    state = State::Code;
                    out.push('"');
                    out.extend(std::iter::repeat_n(' ', hashes));
                    i += hashes;
                } else {
                    out.push(' ');
                }
            }
        }
        i += 1;
    }
    out.lines().map(str::to_owned).collect()
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// `'x'`, `'\n'`, `'\u{1F600}'` — not a lifetime such as `'a` or `'static`.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!(
        (chars.get(i + 1), chars.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// Every `crate::NAME` the file refers to, with its line: plain paths and the first level of
/// grouped imports (`use crate::{error::AppError, output};` gives `error` and `output`).
fn crate_refs(src: &Source) -> Vec<(usize, String)> {
    let text = src.lines.join("\n");
    let bytes: Vec<char> = text.chars().collect();
    let mut refs = Vec::new();
    let needle: Vec<char> = "crate::".chars().collect();
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if bytes[i..i + needle.len()] == needle[..] && !prev_is_ident(&bytes, i) {
            let line = bytes[..i].iter().filter(|&&c| c == '\n').count() + 1;
            let mut j = i + needle.len();
            while bytes.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            if bytes.get(j) == Some(&'{') {
                // The names at depth 1 of the group.
                let mut depth = 0;
                let mut at_name = true;
                let mut line_no = line;
                while j < bytes.len() {
                    let c = bytes[j];
                    match c {
                        '\n' => line_no += 1,
                        '{' => {
                            depth += 1;
                            at_name = depth == 1;
                        }
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => at_name = true,
                        c if at_name && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                            let name: String = bytes[j..]
                                .iter()
                                .take_while(|c| c.is_alphanumeric() || **c == '_')
                                .collect();
                            j += name.len() - 1;
                            refs.push((line_no, name));
                            at_name = false;
                        }
                        _ => {}
                    }
                    j += 1;
                }
            } else {
                let name: String = bytes[j..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_')
                    .collect();
                refs.push((line, name));
            }
            i += needle.len();
        } else {
            i += 1;
        }
    }
    refs
}

/// Lines that use one of `crates` as a path (`rusqlite::…`, `use rusqlite;`, `extern crate`).
fn crate_uses(src: &Source, crates: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in src.lines.iter().enumerate() {
        for name in crates {
            let mut from = 0;
            while let Some(at) = line[from..].find(name) {
                let start = from + at;
                let end = start + name.len();
                from = end;
                let before = line[..start].chars().next_back();
                let after = &line[end..];
                let whole = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                    && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                let as_path = after.starts_with("::")
                    || line[..start].trim_end().ends_with("use")
                    || line[..start].trim_end().ends_with("crate");
                if whole && as_path {
                    found.push((n + 1, (*name).to_owned()));
                }
            }
        }
    }
    found
}

fn in_dir(src: &Source, dir: &str) -> bool {
    src.path.starts_with(dir)
}

/// Fails naming each offence as `file:line: what`.
fn assert_none(rule: &str, offences: Vec<String>) {
    assert!(offences.is_empty(), "{rule}:\n  {}", offences.join("\n  "));
}

#[test]
fn the_blanking_keeps_code_and_drops_comments_and_strings() {
    let src = "use a; // crate::cli\nlet s = \"crate::cli\"; /* crate::cli\n */ crate::rules::x();\nlet c = '\"'; let r = r#\"crate::cli\"#; fn f<'a>(x: &'a str) {}\n";
    let lines = blank_comments_and_strings(src);
    assert_eq!(lines.len(), 4);
    assert!(!lines.join("\n").contains("cli"), "{lines:?}");
    assert!(lines[2].contains("crate::rules::x()"), "{lines:?}");
    assert!(lines[3].contains("fn f<'a>(x: &'a str)"), "{lines:?}");
    let s = Source {
        path: "src/x.rs".into(),
        lines: blank_comments_and_strings(
            "use crate::{\n    error::AppError,\n    output::{self, number},\n};\nfn g() { crate::store::Db::open(); }\nuse rusqlite::Connection;\nlet u = \"postgres://h/db\";\n",
        ),
    };
    let refs = crate_refs(&s);
    assert_eq!(
        refs,
        [
            (2, "error".to_owned()),
            (3, "output".to_owned()),
            (5, "store".to_owned())
        ]
    );
    assert_eq!(
        crate_uses(&s, &["rusqlite", "postgres"]),
        [(6, "rusqlite".to_owned())]
    );
}

#[test]
fn only_the_store_touches_the_database_crates() {
    let offences = sources()
        .iter()
        .filter(|s| !in_dir(s, "src/store/"))
        .flat_map(|s| {
            crate_uses(s, &["rusqlite", "postgres"])
                .into_iter()
                .map(move |(n, c)| format!("{}:{n}: uses {c}", s.path))
        })
        .collect();
    assert_none("rusqlite/postgres outside src/store/", offences);
}

/// The PostgreSQL client crates: only `src/store/postgres/` names them.
const POSTGRES_CRATES: [&str; 5] = [
    "postgres",
    "postgres_types",
    "tokio_postgres",
    "tokio_postgres_rustls",
    "rustls",
];

fn postgres_uses(s: &Source) -> Vec<String> {
    crate_uses(s, &POSTGRES_CRATES)
        .into_iter()
        .map(|(n, c)| format!("{}:{n}: uses {c}", s.path))
        .collect()
}

#[test]
fn only_the_postgres_folder_names_the_postgres_client() {
    // DESIGN "Store": the rest of the store reaches the server through `store::sql::Conn`;
    // `store::postgres` is a module of ours, so `super::postgres::…` is no offence (the
    // crate is named with no `::` before it).
    let offences = sources()
        .iter()
        .filter(|s| !in_dir(s, "src/store/postgres/"))
        .flat_map(postgres_uses)
        .collect();
    assert_none(
        "the postgres client crates named outside src/store/postgres/",
        offences,
    );
}

/// How the store asks which backend it runs on: a match on one of the `sql` enums' arms, or
/// one of `Conn`'s questions.
const BACKEND_BRANCHES: [&str; 16] = [
    "Conn::Pg",
    "Conn::Lite",
    "Stmt::Pg",
    "Stmt::Lite",
    "Rows::Pg",
    "Rows::Lite",
    "Row::Pg",
    "Row::Lite",
    "Error::Pg",
    "Error::Lite",
    ".is_pg()",
    ".pg()",
    ".lite()",
    ".is_postgres()",
    "pg_code()",
    "sqlite_code()",
];

/// Where the store may branch on the backend: the interface and each backend's own folder
/// (and the migrations, where a step is each backend's own text).
fn may_branch(src: &Source) -> bool {
    [
        "src/store/sql/",
        "src/store/sqlite/",
        "src/store/postgres/",
        "src/store/schema/",
    ]
    .iter()
    .any(|d| in_dir(src, d))
}

fn backend_branches(s: &Source) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in s.lines.iter().enumerate() {
        for idiom in BACKEND_BRANCHES {
            if line.contains(idiom) {
                found.push(format!("{}:{}: {idiom}", s.path, n + 1));
            }
        }
    }
    found
}

#[test]
fn only_the_interface_and_the_backend_folders_branch_on_the_backend() {
    let offences = sources()
        .iter()
        .filter(|s| in_dir(s, "src/store/") && !may_branch(s))
        .flat_map(backend_branches)
        .collect();
    assert_none(
        "a backend branch in src/store/ outside sql/, sqlite/, postgres/ and schema/ (make it \
         an operation of store::sql::Conn)",
        offences,
    );
}

/// The ~600-line limit of DESIGN: a file longer than that holds more than one
/// responsibility.
const MAX_LINES: usize = 600;

/// Files over [`MAX_LINES`] today that issue 27's layout work does not own, each with who
/// splits it. The list only shrinks: a file back under the limit fails the test until it
/// is removed here.
const LONG_FILES: [&str; 0] = [];

#[test]
fn no_source_file_exceeds_the_line_limit() {
    let all = sources();
    let offences = all
        .iter()
        .filter(|s| s.lines.len() > MAX_LINES && !LONG_FILES.contains(&s.path.as_str()))
        .map(|s| format!("{}: {} lines", s.path, s.lines.len()))
        .collect();
    assert_none(
        &format!("a source file over {MAX_LINES} lines (split it by responsibility)"),
        offences,
    );
    let stale = LONG_FILES
        .iter()
        .filter(|f| {
            !all.iter()
                .any(|s| s.path == **f && s.lines.len() > MAX_LINES)
        })
        .map(|f| format!("{f}: gone or within {MAX_LINES} lines"))
        .collect();
    assert_none(
        "LONG_FILES lists a file that no longer needs it: remove it",
        stale,
    );
}

#[test]
fn only_the_cli_and_output_touch_the_terminal_and_the_formatter() {
    let offences = sources()
        .iter()
        .filter(|s| {
            // lib.rs only re-exports `output::render` for the binary (its `api`).
            !in_dir(s, "src/cli/")
                && !in_dir(s, "src/output/")
                && s.path != "src/output.rs"
                && s.path != "src/lib.rs"
        })
        .flat_map(|s| {
            let crates = crate_uses(s, &["indicatif", "comfy_table"])
                .into_iter()
                .map(move |(n, c)| format!("{}:{n}: uses {c}", s.path));
            let output = crate_refs(s)
                .into_iter()
                .filter(|(_, name)| name == "output")
                .map(move |(n, _)| format!("{}:{n}: uses crate::output", s.path));
            crates.chain(output).collect::<Vec<_>>()
        })
        .collect();
    assert_none(
        "indicatif/comfy_table/crate::output outside src/cli/ and src/output(.rs|/)",
        offences,
    );
}

#[test]
fn only_the_clock_reads_the_time() {
    let mut offences = Vec::new();
    for s in sources()
        .iter()
        .filter(|s| s.path != "src/support/clock.rs")
    {
        for (n, line) in s.lines.iter().enumerate() {
            for call in ["Utc::now", "SystemTime::now", "Local::now"] {
                if line.contains(call) {
                    offences.push(format!("{}:{}: calls {call}", s.path, n + 1));
                }
            }
        }
    }
    assert_none(
        "the system clock read outside src/support/clock.rs",
        offences,
    );
}

/// `crate::X` references from files under `dir` for which `offends(X)`.
fn imports_from(dir: &str, offends: impl Fn(&str) -> bool) -> Vec<String> {
    sources()
        .iter()
        .filter(|s| in_dir(s, dir))
        .flat_map(|s| {
            crate_refs(s)
                .into_iter()
                .filter(|(_, name)| offends(name))
                .map(move |(n, name)| format!("{}:{n}: uses crate::{name}", s.path))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_rules_import_nothing_of_ours_but_themselves_and_errors() {
    assert_none(
        "src/rules/ importing more than crate::rules and crate::error",
        imports_from("src/rules/", |m| m != "rules" && m != "error"),
    );
}

#[test]
fn the_store_imports_nothing_above_it() {
    assert_none(
        "src/store/ importing crate::domain or crate::cli",
        imports_from("src/store/", |m| m == "domain" || m == "cli"),
    );
}

#[test]
fn the_domain_imports_nothing_of_the_cli() {
    assert_none(
        "src/domain/ importing crate::cli",
        imports_from("src/domain/", |m| m == "cli"),
    );
}

#[test]
fn the_thinned_commands_build_no_json_by_hand_and_reach_no_store() {
    const THIN: [&str; 6] = [
        "src/cli/membership/mod.rs",
        "src/cli/membership/tables.rs",
        "src/cli/membership/views.rs",
        "src/cli/designations/mod.rs",
        "src/cli/designations/views.rs",
        "src/cli/competencies.rs",
    ];
    let mut offences = Vec::new();
    for s in sources().iter().filter(|s| THIN.contains(&s.path.as_str())) {
        for (n, line) in s.lines.iter().enumerate() {
            if line.contains("json!") {
                offences.push(format!(
                    "{}:{}: json! (a typed view instead)",
                    s.path,
                    n + 1
                ));
            }
        }
        for (n, name) in crate_refs(s) {
            if name == "store" {
                offences.push(format!("{}:{n}: uses crate::store", s.path));
            }
        }
    }
    assert_eq!(
        sources()
            .iter()
            .filter(|s| THIN.contains(&s.path.as_str()))
            .count(),
        THIN.len(),
        "a thinned command file moved: update THIN"
    );
    assert_none("json! or the store in a thinned command file", offences);
}

#[test]
fn only_the_effects_module_re_evaluates_after_a_change() {
    // DESIGN "Effects": every writer asks `domain::effects` what its change touched; no
    // subject re-evaluates another (or itself) on its own.
    let mut offences = Vec::new();
    for s in sources()
        .iter()
        .filter(|s| s.path != "src/domain/effects.rs")
    {
        for (n, line) in s.lines.iter().enumerate() {
            for call in ["membership::reevaluate", "designations::reevaluate"] {
                if line.contains(call) {
                    offences.push(format!("{}:{}: calls {call}", s.path, n + 1));
                }
            }
        }
    }
    assert_none(
        "re-evaluation after a change outside src/domain/effects.rs",
        offences,
    );
}

#[test]
fn only_the_hooks_module_reads_the_test_hooks() {
    // Strings are blanked in `sources()`, and a hook's name is a string: read the raw text.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    let mut offences = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("under the crate")
            .display()
            .to_string();
        if rel == "src/support/hooks.rs" || rel.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("\"COMPETENCY_TEST_") {
                offences.push(format!("{rel}:{}: reads a test hook", n + 1));
            }
        }
    }
    assert_none(
        "a COMPETENCY_TEST_ hook read outside src/support/hooks.rs (a release binary must \
         not honour it)",
        offences,
    );
}

/// The HTML elements a page is built of: a string literal holding one of them as a tag
/// (`<td`, `</td>`, `<svg viewBox=…`) builds markup by hand.
const HTML_TAGS: [&str; 52] = [
    "html", "head", "body", "meta", "link", "style", "script", "header", "footer", "main",
    "section", "article", "nav", "div", "span", "p", "a", "b", "i", "em", "strong", "code", "pre",
    "br", "img", "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "h1", "h2", "h3",
    "h4", "h5", "h6", "time", "svg", "g", "rect", "line", "circle", "path", "text", "title",
    "desc", "defs", "pattern",
];

/// The first HTML tag in `s`, if any: `<` or `</`, a name of [`HTML_TAGS`] (any case), then
/// `>`, `/` or white space — so `Vec<String>`, `<FILE>` or `a <b` in prose are not tags,
/// but `<td>`, `</b>`, `<svg class=` and `<br/>` are.
fn html_tag(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    lower.match_indices('<').find_map(|(i, _)| {
        let rest = lower[i + 1..].trim_start_matches('/');
        let name: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let after = rest[name.len()..].chars().next();
        let ends = matches!(after, Some('>' | '/')) || after.is_some_and(char::is_whitespace);
        (ends && HTML_TAGS.contains(&name.as_str())).then_some(name)
    })
}

/// Every string literal of `text` with the line it starts on: the spans the blanking
/// empties (`"…"`, `r#"…"#`, `b"…"`), read back from the raw text.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    let raw: Vec<char> = text.chars().collect();
    let blanked: Vec<char> = blank_comments_and_strings(text)
        .join("\n")
        .chars()
        .collect();
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, &c) in blanked.iter().enumerate() {
        if c != '"' || raw.get(i).is_none() {
            continue;
        }
        match open.take() {
            None => open = Some(i),
            Some(start) => {
                let line = raw[..start].iter().filter(|&&c| c == '\n').count() + 1;
                out.push((line, raw[start + 1..i].iter().collect()));
            }
        }
    }
    out
}

#[test]
fn only_the_output_layer_builds_html() {
    // The detector itself: it must see markup and leave Rust types, usage lines and prose.
    for markup in [
        "<td>",
        "x</b> y",
        "<svg class=\"bar\">",
        "<br/>",
        "<DIV\n id=a>",
    ] {
        assert!(html_tag(markup).is_some(), "{markup:?} not seen as markup");
    }
    for plain in ["Vec<String>", "--out <FILE>", "a <b", "1 < 2 > 0", "<-"] {
        assert!(html_tag(plain).is_none(), "{plain:?} seen as markup");
    }
    assert_eq!(
        string_literals("let a = \"<td>\"; // \"<b>\"\nlet c = '\"'; let r = r#\"x\"#;\n"),
        [(1, "<td>".to_owned()), (2, "#\"x".to_owned())]
    );

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    files.sort();
    let mut offences = Vec::new();
    let mut rendered = false;
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("under the crate")
            .display()
            .to_string();
        let text = std::fs::read_to_string(&f).expect("source file");
        let output = rel == "src/output.rs" || rel.starts_with("src/output/");
        let src = Source {
            path: rel.clone(),
            lines: blank_comments_and_strings(&text),
        };
        // `html!` as a macro call, however it was imported.
        for (n, line) in src.lines.iter().enumerate() {
            let calls = line.match_indices("html!").any(|(i, _)| {
                !line[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if calls && output {
                rendered = true;
            } else if calls {
                offences.push(format!("{rel}:{}: html! outside the output layer", n + 1));
            }
        }
        if output {
            continue;
        }
        for (n, name) in crate_uses(&src, &["maud"]) {
            offences.push(format!("{rel}:{n}: uses {name}"));
        }
        for (n, literal) in string_literals(&text) {
            if let Some(tag) = html_tag(&literal) {
                offences.push(format!("{rel}:{n}: builds HTML (a <{tag}> tag)"));
            }
        }
    }
    assert!(rendered, "no html! in src/output*: did the report move?");
    assert_none(
        "HTML built outside src/output.rs and src/output/ (the domain builds a view, the \
         output layer renders it with maud)",
        offences,
    );
}

/// The `src/domain/` modules (top-level files and folders) that `src` names, by `use` path
/// or inline path: `crate::domain::NAME`, `crate::domain::{A, B}` and `super::…::NAME` where
/// the `super`s climb to `domain`. Only names in `subjects` count. Each such path is
/// rewritten to `crate::NAME` (and every other `crate::` path hidden) for [`crate_refs`].
fn domain_refs(src: &Source, subjects: &[String]) -> Vec<(usize, String)> {
    let rel = src.path.trim_start_matches("src/domain/");
    let parts: Vec<&str> = rel.split('/').collect();
    // How many `super::` lead from this file's module up to `domain`.
    let to_domain = parts.len() - usize::from(parts.last() == Some(&"mod.rs"));
    let lines = src
        .lines
        .iter()
        .map(|l| {
            let l = l
                .replace("crate::", "krate::")
                .replace("krate::domain::", "crate::");
            if to_domain > 0 {
                l.replace(&"super::".repeat(to_domain), "crate::")
            } else {
                l
            }
        })
        .collect();
    let rewritten = Source {
        path: src.path.clone(),
        lines,
    };
    crate_refs(&rewritten)
        .into_iter()
        .filter(|(_, name)| subjects.contains(name))
        .collect()
}

#[test]
fn the_domain_subjects_import_each_other_without_a_cycle() {
    // Issue 27 item 4: a subject is understood from the subjects below it. `effects` (which
    // every writer calls after a change and which calls the subjects back), `import` and
    // `report` sit above the subjects and are left out; the subjects never import those two.
    const ABOVE: [&str; 3] = ["effects", "import", "report"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain");
    let mut modules: Vec<String> = std::fs::read_dir(&root)
        .expect("src/domain")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "mod.rs")
        .map(|n| n.trim_end_matches(".rs").to_owned())
        .collect();
    modules.sort();
    modules.dedup();
    let subject_of = |path: &str| -> Option<String> {
        let rel = path.strip_prefix("src/domain/")?;
        let first = rel.split('/').next()?;
        (first != "mod.rs").then(|| first.trim_end_matches(".rs").to_owned())
    };
    // edges[a][b]: where a names b.
    let mut edges: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
        Default::default();
    let mut upward = Vec::new();
    for s in sources() {
        let Some(from) = subject_of(&s.path) else {
            continue;
        };
        if ABOVE.contains(&from.as_str()) {
            continue;
        }
        for (line, to) in domain_refs(&s, &modules) {
            if to == from || to == "effects" {
                continue;
            }
            if ABOVE.contains(&to.as_str()) {
                upward.push(format!("{}:{line}: {from} imports {to}", s.path));
                continue;
            }
            edges
                .entry(from.clone())
                .or_default()
                .entry(to)
                .or_insert_with(|| format!("{}:{line}", s.path));
        }
    }
    assert_none("a subject imports a module above the subjects", upward);
    // Depth-first search; a back edge closes a cycle, printed with where each arrow is.
    fn visit(
        n: &str,
        edges: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
        state: &mut std::collections::HashMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_owned(), 1);
        stack.push(n.to_owned());
        for next in edges.get(n).into_iter().flat_map(|m| m.keys()) {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == next).expect("on the stack");
                    let mut cycle = stack[at..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_owned(), 2);
        None
    }
    let mut state = std::collections::HashMap::new();
    for n in edges.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0
            && let Some(cycle) = visit(n, &edges, &mut state, &mut Vec::new())
        {
            let arrows: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], edges[&w[0]][&w[1]]))
                .collect();
            panic!(
                "the domain subjects import each other in a cycle: {}\n  {}",
                cycle.join(" -> "),
                arrows.join("\n  ")
            );
        }
    }
}

#[test]
fn no_subject_re_evaluates_itself_by_an_unqualified_call() {
    // `only_the_effects_module_re_evaluates_after_a_change` catches `membership::reevaluate`;
    // a subject calling its own `reevaluate(…)` (through `use super::*`) escaped it, as
    // `designations track` did.
    let mut offences = Vec::new();
    for s in sources()
        .iter()
        .filter(|s| s.path != "src/domain/effects.rs")
    {
        for (n, line) in s.lines.iter().enumerate() {
            let mut from = 0;
            while let Some(at) = line[from..].find("reevaluate(") {
                let start = from + at;
                from = start + 1;
                let before = &line[..start];
                let whole = !before.ends_with(|c: char| c.is_alphanumeric() || c == '_');
                if whole && !before.trim_end().ends_with("fn") {
                    offences.push(format!("{}:{}: calls reevaluate", s.path, n + 1));
                }
            }
        }
    }
    assert_none(
        "re-evaluation outside src/domain/effects.rs (call effects::after with the change)",
        offences,
    );
}

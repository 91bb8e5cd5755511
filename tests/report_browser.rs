//! The report in a real browser: headless Chromium renders it to PNG at desktop (1280) and
//! phone (390) widths and to PDF. The PNGs must not be blank; the PDF must have the
//! expected number of A4 pages.
//!
//! Without a Chromium binary the test says "skipped: no Chromium (apt-get install
//! chromium)" on stderr and returns — unless `CI` is set, where a missing browser fails.
//! Every Chromium run has a private profile folder and is killed after 60 seconds.
// Notes for the person running the tests (clippy.toml keeps `print!` out of src/).
#![allow(clippy::disallowed_macros)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Env;

const NOW: &str = "2026-12-01T10:00:00Z";
const DEADLINE: Duration = Duration::from_secs(60);

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

/// The browser, or `None` after saying why the test is skipped (failing under CI).
fn browser_or_skip() -> Option<PathBuf> {
    match chromium() {
        Some(b) => Some(b),
        None if std::env::var_os("CI").is_some() => {
            panic!("no Chromium under CI: apt-get install chromium (or set CHROMIUM)")
        }
        None => {
            // Straight to the stderr file descriptor: the test harness captures `eprintln!`.
            let _ = writeln!(
                std::io::stderr(),
                "report_browser: skipped: no Chromium (apt-get install chromium)"
            );
            None
        }
    }
}

/// Runs Chromium headless on `page` with `args`; kills it at the deadline.
fn run_chromium(browser: &Path, work: &Path, page: &Path, args: &[String]) {
    let profile = tempfile::tempdir_in(work).expect("profile dir");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--force-device-scale-factor=1",
            "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .env("HOME", work)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait chromium") {
            assert!(status.success(), "chromium failed: {status} ({args:?})");
            return;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {DEADLINE:?} ({args:?})");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Decodes a PNG and checks its width and that it is not blank: many colours, and a fair
/// share of pixels that are not the background.
fn assert_not_blank(path: &Path, width: u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("png written"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    assert_eq!(info.width, width, "{}", path.display());
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut ink = 0usize;
    let total = px.len() / channels;
    for p in px.chunks(channels) {
        let rgb = (p[0], p[1], p[2]);
        colours.insert(rgb);
        if rgb != (255, 255, 255) {
            ink += 1;
        }
    }
    assert!(
        colours.len() > 50,
        "{}: only {} colours",
        path.display(),
        colours.len()
    );
    assert!(
        ink * 100 > total,
        "{}: {ink} of {total} pixels are not white",
        path.display()
    );
    // The report's red (level-breaking renewals, alerts) is on the page.
    assert!(
        colours.iter().any(|&(r, g, b)| r > 150 && g < 80 && b < 80),
        "{}: no red at all",
        path.display()
    );
}

/// The number of page objects in a PDF (`/Type /Page`, not `/Pages`).
fn pdf_pages(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("pdf written");
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let mut n = 0;
    let mut i = 0;
    while let Some(off) = find(&bytes[i..], b"/Type") {
        let mut j = i + off + 5;
        while bytes.get(j).is_some_and(|b| b.is_ascii_whitespace()) {
            j += 1;
        }
        if bytes[j..].starts_with(b"/Page")
            && !bytes.get(j + 5).is_some_and(|b| b.is_ascii_alphanumeric())
        {
            n += 1;
        }
        i = j;
    }
    n
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A rulebook with one competency (tests/data/one-competency.toml): its report fits on one A4 page.
const ONE_COMPETENCY: &str = include_str!("data/one-competency.toml");

#[test]
fn the_report_renders_in_chromium_on_desktop_phone_and_a4() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let env = Env::demo(NOW);
    env.ok(&["report", "--now", NOW, "--out", "demo.html"]);
    let page = env.path("demo.html");
    let work = env.dir.path();

    let desktop = env.path("desktop.png");
    run_chromium(
        &browser,
        work,
        &page,
        &[
            "--window-size=1280,1600".into(),
            format!("--screenshot={}", desktop.display()),
        ],
    );
    assert_not_blank(&desktop, 1280);

    let phone = env.path("phone.png");
    run_chromium(
        &browser,
        work,
        &page,
        &[
            "--window-size=390,1600".into(),
            format!("--screenshot={}", phone.display()),
        ],
    );
    assert_not_blank(&phone, 390);

    // The demo's 18 competencies take several A4 pages; the small rulebook's report one.
    let pdf = env.path("demo.pdf");
    run_chromium(
        &browser,
        work,
        &page,
        &[format!("--print-to-pdf={}", pdf.display())],
    );
    let pages = pdf_pages(&pdf);
    assert!(
        (4..=16).contains(&pages),
        "the demo report printed on {pages} pages"
    );

    let small = Env::new();
    std::fs::write(small.path("rules.toml"), ONE_COMPETENCY).unwrap();
    small.add_org("Contoso Ltd", "1234567", "rules.toml", "2026-01-01");
    small.ok(&["report", "--now", NOW, "--out", "small.html"]);
    let small_pdf = small.path("small.pdf");
    run_chromium(
        &browser,
        small.dir.path(),
        &small.path("small.html"),
        &[format!("--print-to-pdf={}", small_pdf.display())],
    );
    assert_eq!(
        pdf_pages(&small_pdf),
        1,
        "the one-competency report fits one A4 page"
    );
}

#[test]
fn the_pdf_page_counter_counts_pages_not_the_page_tree() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.pdf");
    std::fs::write(
        &p,
        b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >> endobj\n2 0 obj << /Type /Page >> endobj\n\
          3 0 obj <</Type/Page/Parent 1 0 R>> endobj\n4 0 obj << /Type /PageLabel >> endobj\n",
    )
    .unwrap();
    assert_eq!(pdf_pages(&p), 2);
}

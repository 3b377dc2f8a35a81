//! `vixens report`: both files written where a release manager expects them, and the HTML page
//! rendered by a real browser (Debian's headless Chromium) into a screenshot of the chart.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::prelude::*;

use crate::promote::{A, Lab, SECRET};

#[test]
fn the_report_writes_markdown_and_html_under_target_vixens_report() {
    let lab = Lab::with_ledger("fault-in-cycle-3.jsonl");
    let out = lab.path("target/vixens/report");
    lab.vixens("report", "stress-five-passed.xml", &["--revision", A]).assert().success().stdout(format!(
        "promotion verdict for lab: REFUSED\nwrote {}\nwrote {}\n",
        out.join("lab.md").display(),
        out.join("lab.html").display()
    ));
    let markdown = std::fs::read_to_string(out.join("lab.md")).unwrap();
    assert!(markdown.contains("❌ **PROMOTION REFUSED**"), "{markdown}");
    assert!(markdown.contains("cycle 3 failed in phase argocd: traefik Degraded"), "{markdown}");
    assert!(markdown.contains("- JUnit: ["), "{markdown}");
    let html = std::fs::read_to_string(out.join("lab.html")).unwrap();
    assert!(html.contains("<svg"), "the page has no chart");
    assert!(html.contains("../../../evidence/lab.jsonl"), "the ledger link is not relative to the report");
}

#[test]
fn out_chooses_the_folder() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let out = lab.path("elsewhere");
    lab.vixens("report", "stress-five-passed.xml", &["--revision", A, "--out"]).arg(&out).assert().success();
    assert!(out.join("lab.md").is_file() && out.join("lab.html").is_file());
    assert!(!lab.path("target").exists());
}

#[test]
fn the_report_redacts_secrets_and_escapes_markup() {
    let lab = Lab::with_ledger("hostile.jsonl");
    lab.vixens("report", "stress-five-passed.xml", &["--revision", A]).assert().success();
    for file in ["lab.md", "lab.html"] {
        let text = std::fs::read_to_string(lab.path("target/vixens/report").join(file)).unwrap();
        assert!(!text.contains(SECRET), "{file} leaks a secret");
        assert!(!text.contains("<script>alert"), "{file} lets markup through");
    }
}

#[test]
fn an_unreadable_evidence_set_is_an_error() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    std::fs::write(lab.path("evidence/lab.jsonl"), "not json\n").unwrap();
    lab.vixens("report", "stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lab.jsonl:1: not a cycle record"));
}

/// Chromium's flags for a screenshot with no network and no state: a fresh profile each time.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("VIXENS_CHROMIUM") {
        return path.into();
    }
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(|name| std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file()));
    found.unwrap_or_else(|| {
        panic!("headless Chromium renders the HTML report in this test and none was found on PATH: install Debian's `chromium` (apt-get install -y chromium) or set VIXENS_CHROMIUM")
    })
}

fn run_chromium(profile: &Path, args: &[String]) -> vixens_drivers::process::Finished {
    let done = vixens_drivers::process::Command::new(chromium())
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .timeout(Duration::from_secs(120))
        .run()
        .expect("chromium runs");
    assert!(done.success(), "chromium failed ({}):\n{}", done.code(), done.stderr_tail(20));
    done
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Renders the report of a long history (a failed cycle, an older revision, the window) in
/// headless Chromium: the DOM Chromium built must hold the chart, and the screenshot is kept at
/// `$CARGO_TARGET_TMPDIR/report-screenshot/lab.png` (the path is printed) for people to look at.
#[test]
fn the_html_report_renders_in_headless_chromium_with_its_chart() {
    let lab = Lab::with_ledger("mixed-history.jsonl");
    lab.vixens("report", "stress-last-five-of-mixed-history.xml", &["--revision", A]).assert().success();
    let html = lab.path("target/vixens/report/lab.html");
    let url = format!("file://{}", html.display());
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("lab.png");
    let _ = std::fs::remove_file(&png);

    let dom = run_chromium(&lab.path("chromium-dom"), &["--dump-dom".into(), url.clone()]).stdout;
    assert!(dom.contains("<h1>Promotion report: lab</h1>"), "Chromium did not load the page:\n{dom}");
    let bars = dom.matches("<rect").count();
    // 8 cycles × 6 phases, plus 6 legend swatches and the failed cycle's frame.
    assert_eq!(bars, 8 * 6 + 6 + 1, "the chart Chromium built has {bars} rects");
    assert!(dom.contains("budget 30m"), "the budget line is missing");

    run_chromium(&lab.path("chromium-shot"), &["--window-size=1280,1500".into(), format!("--screenshot={}", png.display()), url]);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(png_size(&bytes), (1280, 1500));
    // A blank page compresses to a few kilobytes; text, tables and a coloured chart do not.
    assert!(bytes.len() > 50_000, "the screenshot looks blank ({} bytes)", bytes.len());
    eprintln!("screenshot of the report: {}", png.display());
}

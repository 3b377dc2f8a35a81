//! Reading the JUnit report nextest writes (`target/nextest/<profile>/junit.xml`).
//!
//! Only what the gate needs is kept: for every `<testcase>`, its test binary, its stress
//! iteration, its name and how it ended. nextest's shape (checked against nextest 0.9.143):
//! `<testsuites>` → one `<testsuite name="<package>::<binary>">` per test binary, or one per
//! binary and iteration named `<package>::<binary>@stress-<i>` under `--stress-count`; each
//! `<testcase>` holds `<failure>`/`<error>` when it failed, `<rerunFailure>`/`<rerunError>` for
//! failed retries, `<flakyFailure>`/`<flakyError>` when it passed only on retry, `<skipped>`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vixens_diagnostic::input;

/// The largest JUnit report read (a regular file only): the promotion profile keeps every
/// test's output, a few megabytes for a stress run of recreate cycles.
const MAX_REPORT_BYTES: u64 = 256 * input::MIB;

/// One test as the JUnit report records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// The nextest binary id without the stress tag (`lab::suites`).
    pub binary: String,
    /// The 0-based stress iteration (`@stress-2` → 2), when the run was a stress run.
    pub stress_iteration: Option<u32>,
    /// The test's name (`fresh_cluster_validation::recreate_cycle`).
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// When it started and how long it took (`timestamp` and `time`), when the report says.
    pub span: Option<(jiff::Timestamp, Duration)>,
}

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Passed on its first attempt.
    Passed,
    /// Passed, but only after failed attempts: the first failure's message.
    Flaky(String),
    /// Failed: the failure's message.
    Failed(String),
    /// Not run.
    Skipped,
}

/// Clock slack when matching a cycle's recorded start to the test that ran it: the ledger and
/// nextest read the clock a moment apart and round differently.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

impl TestRun {
    /// True when `time` falls within this run, give or take two seconds of clock slack.
    #[must_use]
    pub fn covers(&self, time: jiff::Timestamp) -> bool {
        let Some((started, took)) = self.span else { return false };
        let slack = jiff::SignedDuration::try_from(CLOCK_SLACK).unwrap_or_default();
        let took = jiff::SignedDuration::try_from(took).unwrap_or_default();
        let (Ok(from), Ok(to)) = (started.checked_sub(slack), started.checked_add(took + slack)) else { return false };
        from <= time && time <= to
    }

    /// The package the test binary belongs to (`lab` for `lab::suites`).
    #[must_use]
    pub fn package(&self) -> &str {
        self.binary.split_once("::").map_or(self.binary.as_str(), |(package, _)| package)
    }

    /// Where the run sits, for messages: `lab::suites (stress run 3)`, 1-based as nextest prints.
    #[must_use]
    pub fn place(&self) -> String {
        match self.stress_iteration {
            Some(i) => format!("{} (stress run {})", self.binary, i + 1),
            None => self.binary.clone(),
        }
    }
}

/// A JUnit report, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Junit {
    /// The file it was read from.
    pub path: PathBuf,
    /// Every test case, in file order.
    pub runs: Vec<TestRun>,
}

/// Why a JUnit file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read the JUnit report {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not well-formed XML.
    #[error("{path}: not well-formed XML: {message}")]
    Xml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The XML is not a JUnit report as nextest writes it.
    #[error("{path}:{line}: {message}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// 1-based line of the offending element.
        line: u32,
        /// What is wrong.
        message: String,
    },
}

/// Reads `path`.
///
/// # Errors
/// [`Error::Io`] when it cannot be read (a missing file included: the caller decides whether
/// that refuses or fails), [`Error::Xml`] and [`Error::Shape`] naming the line of a bad report.
pub fn read(path: &Path) -> Result<Junit, Error> {
    let text = input::read_to_string(path, MAX_REPORT_BYTES).map_err(|e| match e {
        input::InputError::Io { source, .. } => Error::Io { path: path.to_owned(), source },
        other => Error::Io { path: path.to_owned(), source: std::io::Error::other(other.to_string()) },
    })?;
    parse(path, &text)
}

/// Parses the text of a JUnit report read from `path`.
///
/// # Errors
/// See [`read`].
pub fn parse(path: &Path, text: &str) -> Result<Junit, Error> {
    let doc = roxmltree::Document::parse(text).map_err(|e| Error::Xml { path: path.to_owned(), message: e.to_string() })?;
    let shape = |node: roxmltree::Node<'_, '_>, message: String| Error::Shape {
        path: path.to_owned(),
        line: doc.text_pos_at(node.range().start).row,
        message,
    };
    let root = doc.root_element();
    if root.tag_name().name() != "testsuites" {
        return Err(shape(root, format!("the root element is <{}>, not <testsuites>", root.tag_name().name())));
    }
    let mut runs = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let Some(suite_name) = suite.attribute("name") else {
            return Err(shape(suite, "a <testsuite> has no name".into()));
        };
        let (binary, stress_iteration) = split_stress_tag(suite_name);
        for case in suite.children().filter(|n| n.has_tag_name("testcase")) {
            let Some(name) = case.attribute("name") else {
                return Err(shape(case, format!("a <testcase> of {suite_name} has no name")));
            };
            runs.push(TestRun { binary: binary.to_owned(), stress_iteration, name: name.to_owned(), outcome: outcome(case), span: span(case) });
        }
    }
    Ok(Junit { path: path.to_owned(), runs })
}

/// A test case's `timestamp` (RFC 3339) and `time` (seconds).
fn span(case: roxmltree::Node<'_, '_>) -> Option<(jiff::Timestamp, Duration)> {
    let started = case.attribute("timestamp")?.parse().ok()?;
    let seconds: f64 = case.attribute("time")?.parse().ok()?;
    Some((started, Duration::try_from_secs_f64(seconds).ok()?))
}

/// `lab::suites@stress-2` → (`lab::suites`, Some(2)).
fn split_stress_tag(suite: &str) -> (&str, Option<u32>) {
    match suite.rsplit_once("@stress-") {
        Some((binary, i)) => match i.parse() {
            Ok(i) => (binary, Some(i)),
            Err(_) => (suite, None),
        },
        None => (suite, None),
    }
}

fn outcome(case: roxmltree::Node<'_, '_>) -> Outcome {
    let child = |tags: &[&str]| case.children().find(|n| tags.iter().any(|t| n.has_tag_name(*t)));
    if let Some(failure) = child(&["failure", "error"]) {
        return Outcome::Failed(message(failure, case));
    }
    if let Some(flaky) = child(&["flakyFailure", "flakyError"]) {
        return Outcome::Flaky(message(flaky, flaky));
    }
    if child(&["skipped"]).is_some() {
        return Outcome::Skipped;
    }
    Outcome::Passed
}

/// The most telling line of a failure: the panic message nextest puts on the element's text
/// after the `thread '…' panicked at …:` line, else the `message` attribute, else the first line
/// of the test's own failure block in its captured output (`---- NAME ----`, which libtest and
/// libtest-mimic print for a test that returned an error instead of panicking).
fn message(element: roxmltree::Node<'_, '_>, output_holder: roxmltree::Node<'_, '_>) -> String {
    let text = element.children().filter(|n| n.is_text()).filter_map(|n| n.text()).collect::<String>();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next();
    let panic_message = match first {
        Some(line) if line.starts_with("thread '") && line.contains("panicked at") => lines.next(),
        other => other,
    };
    panic_message
        .or(element.attribute("message"))
        .map(str::to_owned)
        .or_else(|| failure_block(output_holder))
        .unwrap_or_else(|| "no message".to_owned())
}

/// The first line after `---- NAME ----` in the `<system-out>` of `holder`.
fn failure_block(holder: roxmltree::Node<'_, '_>) -> Option<String> {
    let out = holder.children().find(|n| n.has_tag_name("system-out"))?.text()?;
    let mut lines = out.lines().map(str::trim);
    lines.find(|l| l.starts_with("---- ") && l.ends_with(" ----"))?;
    lines.find(|l| !l.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Junit {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("tests/fixtures/junit")
            .join(name);
        read(&path).unwrap()
    }

    #[test]
    fn a_stress_run_gives_one_test_run_per_iteration() {
        let junit = fixture("stress-five-passed.xml");
        let iterations: Vec<_> = junit.runs.iter().map(|r| r.stress_iteration).collect();
        assert_eq!(iterations, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
        assert!(junit.runs.iter().all(|r| r.binary == "lab::suites" && r.package() == "lab"));
        assert!(junit.runs.iter().all(|r| r.name == "fresh_cluster_validation::recreate_cycle" && r.outcome == Outcome::Passed));
    }

    #[test]
    fn a_stress_run_without_fail_fast_reports_every_iteration_failed_ones_included() {
        // nextest 0.9.143, `--stress-count 6 --no-fail-fast`: exit 0, the first iteration failed.
        let junit = fixture("stress-no-fail-fast-first-failed.xml");
        let outcomes: Vec<(Option<u32>, bool)> = junit.runs.iter().map(|r| (r.stress_iteration, r.outcome == Outcome::Passed)).collect();
        assert_eq!(outcomes, [(Some(0), false), (Some(1), true), (Some(2), true), (Some(3), true), (Some(4), true), (Some(5), true)]);
        assert_eq!(junit.runs[0].outcome, Outcome::Failed("cycle failed in phase argocd: traefik Degraded".into()));
    }

    #[test]
    fn a_failed_iteration_keeps_its_panic_message() {
        let junit = fixture("stress-third-failed.xml");
        assert_eq!(junit.runs.len(), 3, "nextest stops the stress run at the first failure");
        assert_eq!(junit.runs[2].outcome, Outcome::Failed("cycle failed in phase argocd: traefik Degraded <script>".into()));
        assert_eq!(junit.runs[2].place(), "lab::suites (stress run 3)");
    }

    #[test]
    fn a_suite_test_that_returned_an_error_keeps_its_first_line() {
        let junit = fixture("suite-test-failed.xml");
        let message = "recreate_cycle on lab failed in phase argocd: traefik has been Degraded for 3s 1ms, beyond its 3s grace: health is Degraded";
        assert_eq!(junit.runs[0].outcome, Outcome::Failed(message.into()));
    }

    #[test]
    fn a_test_that_passed_on_retry_is_flaky() {
        let junit = fixture("flaky.xml");
        let recreate = junit.runs.iter().find(|r| r.name.ends_with("recreate_cycle")).unwrap();
        assert!(matches!(&recreate.outcome, Outcome::Flaky(m) if m.contains("traefik Degraded")), "{recreate:?}");
        assert_eq!(recreate.stress_iteration, None);
    }

    #[test]
    fn a_skipped_test_is_not_a_pass() {
        let xml = r#"<testsuites><testsuite name="lab::suites"><testcase name="t"><skipped/></testcase></testsuite></testsuites>"#;
        assert_eq!(parse(Path::new("j.xml"), xml).unwrap().runs[0].outcome, Outcome::Skipped);
    }

    #[test]
    fn broken_xml_is_reported_with_its_position() {
        let err = parse(Path::new("j.xml"), "<testsuites>\n<testsuite name=\"a\">\n</testsuites>").unwrap_err();
        assert!(err.to_string().starts_with("j.xml: not well-formed XML: "), "{err}");
        assert!(err.to_string().contains("3:"), "{err}");
    }

    #[test]
    fn xml_that_is_not_junit_names_the_line() {
        let err = parse(Path::new("j.xml"), "<html>\n</html>").unwrap_err();
        assert_eq!(err.to_string(), "j.xml:1: the root element is <html>, not <testsuites>");
        let err = parse(Path::new("j.xml"), "<testsuites>\n<testsuite name=\"lab::suites\">\n<testcase/></testsuite></testsuites>").unwrap_err();
        assert_eq!(err.to_string(), "j.xml:3: a <testcase> of lab::suites has no name");
    }
}

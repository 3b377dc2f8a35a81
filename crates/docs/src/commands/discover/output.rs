//! Rendering a [`Discovery`]: `file:line: rule: message` lines with a summary, or one JSON
//! document for tools.
//!
//! The JSON document carries `"version": 1`:
//!
//! ```json
//! {"version": 1, "passed": false, "grace": "24h", "now": "2026-11-26T10:00:00Z", "files": 9,
//!  "patterns": [
//!    {"pattern": "talosctl upgrade --nodes", "status": "undocumented", "severity": "error",
//!     "age_seconds": 172800, "commit": "1a2b…", "since": "2026-11-24T10:00:00Z",
//!     "uses": [{"file": "scripts/upgrade.sh", "line": 4, "command": "talosctl -n \"$NODE\" upgrade",
//!               "commit": "1a2b…", "since": "2026-11-24T10:00:00Z"}]},
//!    {"pattern": "talosctl health", "status": "documented", "entry": "check-talos-health", "uses": […]},
//!    {"pattern": "cargo build", "status": "ignored", "reason": "…", "uses": […]}],
//!  "unused_ignores": [{"pattern": "…", "line": 3}], "problems": [], "notes": []}
//! ```
//!
//! `commit` is `null` for a line not committed yet.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::{CONFIG_PATH, Discovery, Finding, Severity, Status, Use};
use crate::commands::DOC_PATH;

/// The version of the JSON document.
pub const JSON_VERSION: u32 = 1;

/// The rule name undocumented patterns are reported under.
pub const RULE: &str = "undocumented-command";

/// Every error, then every warning, one a line.
#[must_use]
pub fn lines(discovery: &Discovery) -> Vec<String> {
    let mut lines = errors(discovery);
    lines.extend(warnings(discovery));
    lines
}

/// What fails discovery: the files that could not be read, and each pattern undocumented past
/// the grace period.
#[must_use]
pub fn errors(discovery: &Discovery) -> Vec<String> {
    let mut lines: Vec<String> = discovery.problems.iter().map(|p| format!("{p} (its commands were not read)")).collect();
    lines.extend(discovery.undocumented(Severity::Error).filter_map(|f| line(discovery, f)));
    lines
}

/// What does not fail it: each pattern undocumented within the grace period, and each ignore
/// that matches nothing.
#[must_use]
pub fn warnings(discovery: &Discovery) -> Vec<String> {
    let mut lines: Vec<String> = discovery.undocumented(Severity::Warning).filter_map(|f| line(discovery, f)).collect();
    lines.extend(
        discovery
            .unused_ignores
            .iter()
            .map(|i| format!("{CONFIG_PATH}:{}: unused-ignore: warning: `{}` matches no undocumented command: remove it", i.line, i.pattern)),
    );
    lines
}

/// The line of one undocumented pattern: where it is used first, since when, and what to do.
fn line(discovery: &Discovery, finding: &Finding) -> Option<String> {
    let Status::Undocumented { age, severity } = &finding.status else { return None };
    let first = finding.uses.first()?;
    let pattern = &finding.pattern;
    let since = since(first, *age);
    let todo = format!("add an entry whose example runs it, or ignore it in {CONFIG_PATH} with a reason");
    let message = match severity {
        Severity::Error => format!("`{pattern}` is in no entry of {DOC_PATH}, {since}: past the {} grace; {todo}", grace(discovery.grace)),
        Severity::Warning => format!(
            "warning: `{pattern}` is in no entry of {DOC_PATH} yet, {since}: {todo} within {}",
            // Rounded up: "within 22h 0m" rather than "21h 59m" a few seconds after two hours.
            age_text(Duration::from_secs(discovery.grace.saturating_sub(*age).as_secs().div_ceil(60) * 60))
        ),
    };
    let mut text = format!("{}:{}: {RULE}: {message}", first.file, first.line);
    let also: Vec<String> = finding.uses.iter().skip(1).map(|u| format!("{}:{}", u.file, u.line)).collect();
    if !also.is_empty() {
        let _ = write!(text, " (also {})", also.join(", "));
    }
    Some(text)
}

/// `since commit 1a2b3c4d5e6f (2026-11-24 10:00 UTC), 2d 0h ago` or `not committed yet`.
fn since(first: &Use, age: Duration) -> String {
    match first.dated.as_ref().and_then(|d| d.commit.as_ref().map(|c| (c, d.time))) {
        Some((commit, time)) => {
            format!("since commit {} ({}), {} ago", short(commit), time.strftime("%Y-%m-%d %H:%M UTC"), age_text(age))
        }
        None => "not committed yet".to_owned(),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The closing line: how many patterns, of which kind, in how many files.
#[must_use]
pub fn summary(discovery: &Discovery) -> String {
    let errors = discovery.undocumented(Severity::Error).count();
    let warnings = discovery.undocumented(Severity::Warning).count();
    let mut text = format!(
        "{} undocumented ({errors} past the {} grace), {} documented, {} ignored, in {} files",
        count(errors + warnings, "operation pattern"),
        grace(discovery.grace),
        discovery.documented(),
        discovery.ignored(),
        discovery.files
    );
    if !discovery.problems.is_empty() {
        let _ = write!(text, "; {} could not be read", count(discovery.problems.len(), "file"));
    }
    text
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// A grace period as it is given: `24h`, `90m`, `2d`.
#[must_use]
pub fn grace(grace: Duration) -> String {
    let secs = grace.as_secs();
    match secs {
        0 => "0s".into(),
        s if s % 86_400 == 0 && s >= 2 * 86_400 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// An age in its two largest units: `2d 3h`, `5h 12m`, `40m`, `under a minute`.
#[must_use]
pub fn age_text(age: Duration) -> String {
    let minutes = age.as_secs() / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// The discovery as one JSON document (see the module documentation).
#[must_use]
pub fn json(discovery: &Discovery) -> String {
    let patterns: Vec<Value> = discovery.findings.iter().map(finding_json).collect();
    let unused: Vec<Value> = discovery.unused_ignores.iter().map(|i| json!({"pattern": i.pattern.to_string(), "line": i.line})).collect();
    let document = json!({
        "version": JSON_VERSION,
        "passed": discovery.passed(),
        "grace": grace(discovery.grace),
        "now": discovery.now.to_string(),
        "files": discovery.files,
        "patterns": patterns,
        "unused_ignores": unused,
        "problems": discovery.problems,
        "notes": discovery.notes,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn finding_json(finding: &Finding) -> Value {
    let uses: Vec<Value> = finding.uses.iter().map(use_json).collect();
    let mut value = json!({"pattern": finding.pattern.to_string(), "uses": uses});
    let fields = match &finding.status {
        Status::Documented { entry } => json!({"status": "documented", "entry": entry}),
        Status::Ignored { reason } => json!({"status": "ignored", "reason": reason}),
        Status::Undocumented { age, severity } => {
            let first = finding.uses.first().and_then(|u| u.dated.as_ref());
            json!({
                "status": "undocumented",
                "severity": if *severity == Severity::Error { "error" } else { "warning" },
                "age_seconds": age.as_secs(),
                "commit": first.and_then(|d| d.commit.clone()),
                "since": first.map(|d| d.time.to_string()),
            })
        }
    };
    if let (Value::Object(map), Value::Object(extra)) = (&mut value, fields) {
        map.extend(extra);
    }
    value
}

fn use_json(u: &Use) -> Value {
    let mut value = json!({"file": u.file, "line": u.line, "command": u.command});
    if let (Value::Object(map), Some(dated)) = (&mut value, &u.dated) {
        map.insert("commit".into(), json!(dated.commit));
        map.insert("since".into(), json!(dated.time.to_string()));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(grace(Duration::from_secs(86_400)), "24h");
        assert_eq!(grace(Duration::from_secs(2 * 86_400)), "2d");
        assert_eq!(grace(Duration::from_secs(5400)), "90m");
        assert_eq!(age_text(Duration::from_secs(2 * 86_400 + 3 * 3600 + 59)), "2d 3h");
        assert_eq!(age_text(Duration::from_secs(2 * 3600 + 5 * 60)), "2h 5m");
        assert_eq!(age_text(Duration::from_secs(30)), "under a minute");
    }
}

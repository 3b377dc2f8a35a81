//! What `vixens docs secrets` prints: one `file:line: secrets: rule (…)` line per finding and a
//! summary, or one JSON document. Neither ever holds a secret: findings carry only their first
//! characters, length and fingerprint.

use std::fmt::Write as _;

use serde::Serialize;

use super::allow::{ALLOW_PATH, Allowed, Entry};
use super::repository::Scan;
use super::{Finding, RULE};

/// Every finding, one a line.
#[must_use]
pub fn lines(scan: &Scan) -> String {
    scan.findings.iter().fold(String::new(), |mut out, f| {
        let _ = writeln!(out, "{f}");
        out
    })
}

/// What fails the check: every finding, then every file that could not be scanned.
#[must_use]
pub fn problems(scan: &Scan) -> Vec<String> {
    scan.findings.iter().map(ToString::to_string).chain(scan.unreadable.iter().map(|u| format!("{u} ({RULE})"))).collect()
}

/// One warning per allow entry that accepts nothing any more.
#[must_use]
pub fn warnings(scan: &Scan) -> Vec<String> {
    scan.unused
        .iter()
        .map(|e| {
            format!(
                "{ALLOW_PATH}:{}: {RULE}: warning: the entry for {} (fingerprint {}) accepts nothing any more: remove it",
                e.line, e.file, e.fingerprint
            )
        })
        .collect()
}

/// `2 secrets in 14 files under docs (1 accepted by .config/secrets.yaml)`.
#[must_use]
pub fn summary(scan: &Scan) -> String {
    let accepted = match scan.allowed.len() {
        0 => String::new(),
        n => format!(" ({n} accepted by {ALLOW_PATH})"),
    };
    let unreadable = match scan.unreadable.len() {
        0 => String::new(),
        n => format!(", {} not scanned", count(n, "file")),
    };
    format!("{} in {} under {}{accepted}{unreadable}", count(scan.findings.len(), "secret"), count(scan.files, "file"), scan.directory)
}

fn count(n: usize, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

#[derive(Serialize)]
struct Json<'a> {
    version: u32,
    directory: &'a str,
    files: usize,
    findings: &'a [Finding],
    allowed: &'a [Allowed],
    unused: &'a [Entry],
    unreadable: &'a [String],
}

/// `vixens docs secrets --format json`.
#[must_use]
pub fn json(scan: &Scan) -> String {
    let doc = Json {
        version: 1,
        directory: &scan.directory,
        files: scan.files,
        findings: &scan.findings,
        allowed: &scan.allowed,
        unused: &scan.unused,
        unreadable: &scan.unreadable,
    };
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan() -> Scan {
        Scan {
            directory: "docs".into(),
            files: 3,
            findings: vec![Finding::new("docs/a.md", 4, "github-token", "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", 0..0)],
            allowed: vec![],
            unused: vec![Entry { file: "docs/gone.md".into(), fingerprint: "0123456789abcdef".into(), rule: None, reason: "x".into(), line: 3 }],
            unreadable: vec!["docs/b.md: cannot read it: permission denied".into()],
        }
    }

    #[test]
    fn text_names_file_line_rule_and_the_redacted_value() {
        let scan = scan();
        let fingerprint = &scan.findings[0].fingerprint;
        assert_eq!(lines(&scan), format!("docs/a.md:4: secrets: github-token (ghp_… 40 chars, fingerprint {fingerprint})\n"));
        assert_eq!(summary(&scan), "1 secret in 3 files under docs, 1 file not scanned");
        assert_eq!(problems(&scan)[1], "docs/b.md: cannot read it: permission denied (secrets)");
        assert_eq!(
            warnings(&scan),
            [
                ".config/secrets.yaml:3: secrets: warning: the entry for docs/gone.md (fingerprint 0123456789abcdef) accepts nothing any more: remove it"
            ]
        );
    }

    #[test]
    fn json_holds_the_redacted_fields_and_no_span() {
        let value: serde_json::Value = serde_json::from_str(&json(&scan())).unwrap();
        let finding = &value["findings"][0];
        assert_eq!(finding["rule"], "github-token");
        assert_eq!(finding["redacted"], "ghp_…");
        assert_eq!(finding["length"], 40);
        assert!(finding.get("span").is_none());
        assert!(!json(&scan()).contains("aUfiSDF"));
    }
}

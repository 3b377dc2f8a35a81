//! `.config/secrets.yaml`: the findings of the `secrets` rule accepted on purpose, one entry per
//! file and fingerprint, each with its reason. `vixens docs secrets`, `vixens adr lint` and
//! `vixens commands lint` read the same file.
//!
//! ```yaml
//! version: 1
//! allow:
//!   - file: docs/adr/009-secrets-live-in-infisical.md   # repository-relative
//!     fingerprint: "43a0ab38368cc8f0"                    # as the finding printed it
//!     rule: github-token                                 # optional: then it must match too
//!     reason: revoked on 2026-11-20 and kept as the incident's evidence
//! ```
//!
//! The line is not part of an entry, so editing the text above a secret keeps it accepted; the
//! same value twice in one file shares one entry; an entry never covers another file. There are
//! no globs and no rule-wide switches: accepting a whole file or rule would hide the next real
//! secret in it. The value itself never appears here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::Finding;
use super::rules;

/// Where the file lives, relative to the repository root.
pub const ALLOW_PATH: &str = ".config/secrets.yaml";

/// The findings a repository accepts.
#[derive(Debug, Clone, Default)]
pub struct Allow {
    /// Its entries, in file order.
    pub entries: Vec<Entry>,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The file, repository-relative with `/` separators.
    pub file: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// The finding's rule, when the entry names one.
    pub rule: Option<String>,
    /// Why it is accepted.
    pub reason: String,
    /// The entry's line in the allow file.
    pub line: usize,
}

/// A finding an entry accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allowed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The entry's reason.
    pub reason: String,
}

/// Why the allow file cannot be used: every problem, each on its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.lines().join("\n"))]
pub struct AllowError {
    /// The file.
    pub path: PathBuf,
    /// Each problem: its line (0 when there is none) and what is wrong.
    pub problems: Vec<(usize, String)>,
}

impl AllowError {
    /// One `file:line: message` per problem.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(|(line, message)| format!("{}:{line}: {message}", self.path.display())).collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowFile {
    version: Spanned<u32>,
    #[serde(default)]
    allow: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    file: Spanned<String>,
    fingerprint: Spanned<String>,
    #[serde(default)]
    rule: Option<Spanned<String>>,
    reason: Spanned<String>,
}

impl Allow {
    /// `repo`'s [`ALLOW_PATH`]; nothing accepted when the repository has none.
    ///
    /// # Errors
    /// [`AllowError`] when the file cannot be read or is not valid.
    pub fn for_repo(repo: &Path) -> Result<Self, AllowError> {
        let path = repo.join(ALLOW_PATH);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(AllowError { path, problems: vec![(0, format!("cannot read the file: {e}"))] }),
        }
    }

    /// Parses an allow file; `path` names it in messages.
    ///
    /// # Errors
    /// [`AllowError`] listing every problem: YAML that does not parse, an unknown key, a
    /// `version` other than 1, a fingerprint that is not 16 lower-case hex digits, an unknown
    /// rule, an empty reason, an absolute path, the same file and fingerprint twice.
    pub fn parse(path: &Path, text: &str) -> Result<Self, AllowError> {
        let fail = |problems| AllowError { path: path.to_owned(), problems };
        let file: AllowFile = serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line() as usize);
            fail(vec![(line, crate::adr::config::yaml_message(&e))])
        })?;
        let mut problems = Vec::new();
        if file.version.value != 1 {
            problems.push((file.version.referenced.line() as usize, format!("version {} is not known: write `version: 1`", file.version.value)));
        }
        let mut entries: Vec<Entry> = Vec::new();
        for raw in file.allow {
            let line = raw.file.referenced.line() as usize;
            let entry = Entry {
                file: raw.file.value.trim().to_owned(),
                fingerprint: raw.fingerprint.value.trim().to_owned(),
                rule: raw.rule.as_ref().map(|r| r.value.trim().to_owned()),
                reason: raw.reason.value.trim().to_owned(),
                line,
            };
            problems.extend(entry_problems(&entry, &raw, &entries));
            entries.push(entry);
        }
        if problems.is_empty() { Ok(Self { entries }) } else { Err(fail(problems)) }
    }

    /// The entry accepting `finding` found in `file` (repository-relative).
    #[must_use]
    pub fn entry_for(&self, file: &str, finding: &Finding) -> Option<&Entry> {
        self.entries.iter().find(|e| e.file == file && e.fingerprint == finding.fingerprint && e.rule.as_deref().is_none_or(|r| r == finding.rule))
    }

    /// Splits `findings` (whose `file` is repository-relative) into those reported and those
    /// accepted.
    #[must_use]
    pub fn split(&self, findings: Vec<Finding>) -> (Vec<Finding>, Vec<Allowed>) {
        let mut reported = Vec::new();
        let mut allowed = Vec::new();
        for finding in findings {
            match self.entry_for(&finding.file, &finding) {
                Some(entry) => allowed.push(Allowed { reason: entry.reason.clone(), finding }),
                None => reported.push(finding),
            }
        }
        (reported, allowed)
    }

    /// The entries that accept none of `allowed`: the secret was removed, or a rule change moved
    /// it. Only meaningful after a scan of every file the entries may name.
    #[must_use]
    pub fn unused(&self, allowed: &[Allowed]) -> Vec<Entry> {
        self.entries.iter().filter(|e| !allowed.iter().any(|a| self.entry_for(&a.finding.file, &a.finding) == Some(*e))).cloned().collect()
    }
}

fn entry_problems(entry: &Entry, raw: &EntryFile, earlier: &[Entry]) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    let file_line = raw.file.referenced.line() as usize;
    if entry.file.is_empty() || entry.file.starts_with('/') || entry.file.split('/').any(|part| part == "..") {
        problems.push((file_line, format!("`{}` must be a file relative to the repository root, with `/` separators", entry.file)));
    }
    let fingerprint_ok = entry.fingerprint.len() == 16 && entry.fingerprint.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !fingerprint_ok {
        problems.push((
            raw.fingerprint.referenced.line() as usize,
            format!("fingerprint `{}` is not 16 lower-case hex digits: copy it from the finding", entry.fingerprint),
        ));
    }
    if let (Some(rule), Some(raw_rule)) = (&entry.rule, &raw.rule)
        && rules::by_id(rule).is_none()
    {
        let known: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
        problems.push((raw_rule.referenced.line() as usize, format!("no rule `{rule}`; the rules are {}", known.join(", "))));
    }
    if entry.reason.is_empty() {
        problems.push((raw.reason.referenced.line() as usize, "the reason is empty: say why this finding is accepted".to_owned()));
    }
    if let Some(first) = earlier.iter().find(|e| e.file == entry.file && e.fingerprint == entry.fingerprint) {
        problems.push((file_line, format!("the same file and fingerprint as the entry on line {}", first.line)));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(file: &str, rule: &'static str, value: &str) -> Finding {
        Finding::new(file, 7, rule, value, 0..0)
    }

    fn parse(text: &str) -> Result<Allow, AllowError> {
        Allow::parse(Path::new(".config/secrets.yaml"), text)
    }

    #[test]
    fn an_entry_accepts_its_file_and_fingerprint_only() {
        let secret = finding("docs/adr/009-x.md", "github-token", "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");
        let text = format!(
            "version: 1\nallow:\n  - file: docs/adr/009-x.md\n    fingerprint: \"{}\"\n    rule: github-token\n    reason: revoked, kept as evidence\n",
            secret.fingerprint
        );
        let allow = parse(&text).unwrap();
        assert_eq!(allow.entries[0].line, 3);
        let elsewhere = Finding { file: "docs/adr/010-y.md".into(), ..secret.clone() };
        let other_rule = Finding { rule: "secret-assignment", ..secret.clone() };
        let (reported, allowed) = allow.split(vec![secret.clone(), elsewhere.clone(), other_rule.clone()]);
        assert_eq!(reported, [elsewhere, other_rule]);
        assert_eq!(allowed, [Allowed { finding: secret, reason: "revoked, kept as evidence".into() }]);
        assert_eq!(allow.unused(&allowed), []);
        assert_eq!(allow.unused(&[]).len(), 1);
    }

    #[test]
    fn a_missing_file_accepts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Allow::for_repo(dir.path()).unwrap().entries.is_empty());
    }

    #[test]
    fn every_problem_is_named_at_its_line() {
        let text = "version: 2\nallow:\n  - file: /etc/x.md\n    fingerprint: \"ABC\"\n    rule: no-such-rule\n    reason: \"\"\n  - file: docs/a.md\n    fingerprint: \"0123456789abcdef\"\n    reason: ok\n  - file: docs/a.md\n    fingerprint: \"0123456789abcdef\"\n    reason: again\n";
        let error = parse(text).unwrap_err();
        let lines = error.lines();
        assert!(lines[0].starts_with(".config/secrets.yaml:1: version 2 is not known"), "{lines:?}");
        assert!(lines[1].starts_with(".config/secrets.yaml:3: `/etc/x.md` must be a file relative"), "{lines:?}");
        assert!(lines[2].starts_with(".config/secrets.yaml:4: fingerprint `ABC` is not 16 lower-case hex digits"), "{lines:?}");
        assert!(lines[3].starts_with(".config/secrets.yaml:5: no rule `no-such-rule`; the rules are private-key-pem, "), "{lines:?}");
        assert_eq!(lines[4], ".config/secrets.yaml:6: the reason is empty: say why this finding is accepted");
        assert_eq!(lines[5], ".config/secrets.yaml:10: the same file and fingerprint as the entry on line 7");
        assert_eq!(lines.len(), 6);
    }

    #[test]
    fn unknown_keys_and_missing_reasons_are_errors_naming_the_line() {
        let error = parse("version: 1\nallow:\n  - file: docs/a.md\n    fingerprint: \"0123456789abcdef\"\n    glob: \"*\"\n").unwrap_err();
        assert_eq!(error.problems.len(), 1);
        assert!(error.to_string().starts_with(".config/secrets.yaml:5: unknown field `glob`"), "{error}");
        let error = parse("version: 1\nallow:\n  - file: docs/a.md\n    fingerprint: \"0123456789abcdef\"\n").unwrap_err();
        assert!(error.to_string().contains("missing field `reason`"), "{error}");
    }
}

//! Secrets committed in the documentation: the `secrets` rule of `vixens adr lint` and
//! `vixens commands lint`, and `vixens docs secrets` over `docs/**` (Markdown, YAML, shell).
//!
//! Documentation is where credentials leak: an expected output pasted from
//! `kubectl get secret -o yaml`, a kubeconfig or talosconfig snippet, a
//! `curl -H "Authorization: …"` example, a password written in an ADR's prose. The harness
//! keeps them out of its own output; these checks keep them out of the documents it gates.
//!
//! - [`rules`]: the reviewed rule table, each rule with its source, example and look-alike;
//! - [`checks`]: the tests a matched value goes through (placeholders, entropy, public material);
//! - [`scan`](mod@scan): one text in, its [`Finding`]s out;
//! - [`allow`]: `.config/secrets.yaml`, the findings accepted on purpose, each with a reason;
//! - [`repository`]: `docs/**` of a repository, walked without following links;
//! - [`output`]: what `vixens docs secrets` prints.
//!
//! A finding never holds the secret: only its first characters, its length and its
//! fingerprint, so it can be printed, serialised, put in JUnit or a report, and debugged.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use libtest_mimic::{Failed, Trial};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub mod allow;
pub mod checks;
pub mod output;
pub mod repository;
pub mod rules;
pub mod scan;

pub use allow::{Allow, AllowError, Allowed};
pub use repository::{Scan, ScanError, scan_repository};
pub use scan::{Kind, scan};

/// The rule's name in the ADR and commands lints, and the word after `file:line:` in every
/// finding.
pub const RULE: &str = "secrets";

/// One secret found: where, which rule, and the value redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, as the caller named it (repository-relative for a repository scan).
    pub file: String,
    /// 1-based line (a PEM block's BEGIN line).
    pub line: usize,
    /// The rule's id (`github-token`).
    pub rule: &'static str,
    /// The value's first characters and `…`: 4 of them, or a quarter of a value shorter than 16
    /// characters, so that a short password plus its fingerprint cannot be brute-forced from a
    /// CI log.
    pub redacted: String,
    /// The value's length in characters.
    pub length: usize,
    /// The first 16 hex digits of sha256(rule id, a newline, the value): what
    /// `.config/secrets.yaml` names to accept a finding. For a PEM key the value is its base64
    /// body, so re-indenting the block keeps it.
    pub fingerprint: String,
    /// The value's bytes in the scanned text (for [`scrub`]).
    #[serde(skip)]
    pub span: Range<usize>,
}

impl Finding {
    pub(crate) fn new(file: &str, line: usize, rule: &'static str, value: &str, span: Range<usize>) -> Self {
        let length = value.chars().count();
        let shown = if length >= 16 { 4 } else { length / 4 };
        Self {
            file: file.to_owned(),
            line,
            rule,
            redacted: format!("{}…", value.chars().take(shown).collect::<String>()),
            length,
            fingerprint: fingerprint(rule, value),
            span,
        }
    }

    /// `github-token (ghp_… 40 chars, fingerprint 43a0ab38368cc8f0)`.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{} ({} {} chars, fingerprint {})", self.rule, self.redacted, self.length, self.fingerprint)
    }
}

/// `docs/adr/009-x.md:14: secrets: github-token (ghp_… 40 chars, fingerprint 43a0ab38368cc8f0)`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {RULE}: {}", self.file, self.line, self.describe())
    }
}

/// What to do about a finding, said once under the findings.
pub const REMEDY: &str = "replace each secret with a placeholder (`${VAR}`, `<TOKEN>`, `[REDACTED]`, or in docs/commands.md a \
     placeholder with a pattern) and rotate it: it is in the history; or accept a finding in .config/secrets.yaml with \
     its file, fingerprint and reason";

/// The fingerprint of `value` under `rule`: the first 16 hex digits of
/// sha256(rule id, a newline, the value).
#[must_use]
pub fn fingerprint(rule: &str, value: &str) -> String {
    Sha256::digest(format!("{rule}\n{value}").as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A command's output with every secret the rules find replaced by the redactor's placeholder,
/// `[REDACTED:<rule>]`, and the rules that found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scrubbed {
    /// The output, scrubbed.
    pub text: String,
    /// The rule of each secret replaced, in order; empty when the output held none.
    pub rules: Vec<&'static str>,
}

/// Scrubs `text`: a command's output ([`Kind::Output`]: every line is output, so a lone token
/// counts) after the environment's redactor has replaced the secrets it knows, to find the ones
/// it does not, such as a password `argocd admin initial-password` just printed; or a command
/// line ([`Kind::Text`]) about to be shown in a message.
#[must_use]
pub fn scrub(text: &str, kind: Kind) -> Scrubbed {
    let mut findings = scan("", text, kind);
    let rules = findings.iter().map(|f| f.rule).collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.span.start));
    let mut scrubbed = text.to_owned();
    for finding in &findings {
        scrubbed.replace_range(finding.span.clone(), &format!("[REDACTED:{}]", finding.rule));
    }
    Scrubbed { text: scrubbed, rules }
}

/// The `docs::secrets` trial for `repo`: fails with every finding of `docs/**`, and when the
/// scan cannot run (no `docs/`, a broken `.config/secrets.yaml`, an unreadable file).
#[must_use]
pub fn trials(repo: &Path) -> Vec<Trial> {
    let repo = repo.to_owned();
    vec![Trial::test("docs::secrets", move || {
        let scan = scan_repository(&repo).map_err(|e| Failed::from(e.to_string()))?;
        let problems = output::problems(&scan);
        if problems.is_empty() { Ok(()) } else { Err(Failed::from(problems.join("\n"))) }
    })]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_shows_four_characters_or_a_quarter_of_a_short_value() {
        let long = Finding::new("docs/x.md", 3, "github-token", "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", 0..0);
        assert_eq!(long.redacted, "ghp_…");
        assert_eq!(long.length, 40);
        assert_eq!(long.to_string(), format!("docs/x.md:3: secrets: github-token (ghp_… 40 chars, fingerprint {})", long.fingerprint));
        let short = Finding::new("docs/x.md", 3, "url-credentials", "L!k6+YWrz4d5", 0..0);
        assert_eq!((short.redacted.as_str(), short.length), ("L!k…", 12));
    }

    #[test]
    fn the_fingerprint_is_sha256_of_rule_and_value() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'github-token\nghp_x').hexdigest()[:16])"
        assert_eq!(fingerprint("github-token", "ghp_x"), "6ddaacb3141f8161");
    }

    #[test]
    fn scrubbing_replaces_each_secret_with_the_redactor_s_placeholder() {
        let output = "NAME   AGE\nargocd 3m\ngs8w85Tiij3Mp3KM\ntoken: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dml4ZW5zOnJlYWRlciJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU\n";
        let scrubbed = scrub(output, Kind::Output);
        assert_eq!(scrubbed.text, "NAME   AGE\nargocd 3m\n[REDACTED:bare-secret-output]\ntoken: [REDACTED:jwt]\n");
        assert_eq!(scrubbed.rules, ["bare-secret-output", "jwt"]);
        assert_eq!(scrub("NAME   AGE\n", Kind::Output).rules, Vec::<&str>::new());
        let command = scrub("argocd login lab --password gs8w85Tiij3Mp3KM --grpc-web", Kind::Text);
        assert_eq!(command.text, "argocd login lab --password [REDACTED:secret-cli-flag] --grpc-web");
    }

    #[test]
    fn the_trial_fails_on_a_secret_and_passes_on_clean_docs() {
        let args = libtest_mimic::Arguments { test_threads: Some(1), quiet: true, ..Default::default() };
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir(repo.path().join("docs")).unwrap();
        std::fs::write(repo.path().join("docs/notes.md"), "Nothing secret here.\n").unwrap();
        assert_eq!(libtest_mimic::run(&args, trials(repo.path())).num_passed, 1);
        std::fs::write(repo.path().join("docs/notes.md"), "password: gs8w85Tiij3Mp3KM\n").unwrap();
        assert_eq!(libtest_mimic::run(&args, trials(repo.path())).num_failed, 1);
    }
}

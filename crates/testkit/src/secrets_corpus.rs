//! The composed FR/EN repository the `secrets` rule is tested on: templates committed under
//! `tests/fixtures/secrets/corpus/`, expanded at test time with [`Fakes`] (see that module for
//! why no fake credential is committed).
//!
//! Markers in the templates:
//!
//! - `{{P:rule:fake}}`: a planted FAKE secret that `rule` must report on this line;
//! - `{{A:rule:fake:reason}}`: a planted FAKE secret reported without the allow file and
//!   accepted by it (the corpus's `.config/secrets.yaml` is written with its fingerprint);
//! - `{{V:fake}}`: a fake value that is no finding by itself (look-alike material);
//! - `{{L:why}}`: this line is a look-alike, nothing may be reported on it (the marker is
//!   removed).
//!
//! A marker alone on its line that expands to a block (a PEM key) is written one line under the
//! other, each with the marker's prefix (indentation, `> `); its finding is at the first line.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fakes::{Fake, Fakes};

/// Where a planted secret is, and the rule that must report it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Planted {
    /// Repository-relative path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The rule id.
    pub rule: String,
}

/// A line on which nothing may be reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookAlike {
    /// Repository-relative path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Why it is not a secret.
    pub why: String,
}

/// The corpus written into a folder.
pub struct Corpus {
    /// The repository root it was written to.
    pub root: PathBuf,
    /// Planted secrets that are reported (with the allow file in place).
    pub findings: Vec<Planted>,
    /// Planted secrets the allow file accepts.
    pub allowed: Vec<Planted>,
    /// Look-alike lines.
    pub lookalikes: Vec<LookAlike>,
    /// Every fake value written, blocks' lines included: none may appear in any output.
    pub values: Vec<String>,
}

impl Corpus {
    /// Expands the committed templates into `root` (an empty folder), with the corpus's
    /// `.config/secrets.yaml`.
    ///
    /// # Panics
    /// When the templates cannot be read or the folder written: a broken test setup.
    #[must_use]
    pub fn write(root: &Path) -> Self {
        let templates = crate::fixture("secrets/corpus");
        let mut fakes = Fakes::default();
        let mut corpus = Corpus { root: root.to_owned(), findings: Vec::new(), allowed: Vec::new(), lookalikes: Vec::new(), values: Vec::new() };
        let mut allow =
            String::from("# Findings accepted on purpose: one entry per file and fingerprint, each with its reason.\nversion: 1\nallow:\n");
        for rel in files(&templates, Path::new("")) {
            let template = std::fs::read_to_string(templates.join(&rel)).expect("a readable template");
            let file = rel.to_string_lossy().replace('\\', "/");
            let text = corpus.expand(&file, &template, &mut fakes, &mut allow);
            let target = root.join(&rel);
            std::fs::create_dir_all(target.parent().expect("a file in a folder")).expect("the corpus folder is writable");
            std::fs::write(target, text).expect("the corpus folder is writable");
        }
        std::fs::create_dir_all(root.join(".config")).expect("the corpus folder is writable");
        std::fs::write(root.join(".config/secrets.yaml"), allow).expect("the corpus folder is writable");
        corpus.values = fakes.generated();
        corpus
    }

    fn expand(&mut self, file: &str, template: &str, fakes: &mut Fakes, allow: &mut String) -> String {
        let mut out: Vec<String> = Vec::new();
        for raw in template.split('\n') {
            let line_no = out.len() + 1;
            let mut line = String::new();
            let mut block: Option<(String, Vec<String>)> = None;
            let mut lookalike = None;
            let mut rest = raw;
            while let Some((before, marker, after)) = next_marker(rest) {
                line.push_str(before);
                rest = after;
                let (kind, arg) = marker;
                let fake = match kind {
                    'L' => {
                        lookalike = Some(arg.to_owned());
                        continue;
                    }
                    'V' => fakes.get(arg),
                    _ => {
                        let mut parts = arg.splitn(3, ':');
                        let (rule, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                        let fake = fakes.get(name);
                        let planted = Planted { file: file.to_owned(), line: line_no, rule: rule.to_owned() };
                        if kind == 'A' {
                            let reason = parts.next().unwrap_or_default();
                            allow.push_str(&format!(
                                "  - file: {file}\n    fingerprint: \"{}\"\n    rule: {rule}\n    reason: \"{reason}\"\n",
                                fingerprint(rule, &fake.secret())
                            ));
                            self.allowed.push(planted);
                        } else {
                            self.findings.push(planted);
                        }
                        fake
                    }
                };
                match fake {
                    Fake::Line(value) => line.push_str(&value),
                    Fake::Block(lines) => block = Some((line.clone(), lines)),
                }
            }
            line.push_str(rest);
            match block {
                Some((prefix, lines)) => out.extend(lines.iter().map(|l| format!("{prefix}{l}").trim_end().to_owned())),
                None => out.push(line),
            }
            if let Some(why) = lookalike {
                self.lookalikes.push(LookAlike { file: file.to_owned(), line: out.len(), why });
            }
        }
        out.join("\n")
    }
}

/// The next `{{K:arg}}` marker of `text` (K one of P, A, V, L): the text before it, its kind
/// and argument, and the text after it. Other `{{` (Helm templates) are text.
fn next_marker(text: &str) -> Option<(&str, (char, &str), &str)> {
    let mut from = 0;
    while let Some(start) = text[from..].find("{{").map(|i| i + from) {
        let body = &text[start + 2..];
        let mut chars = body.chars();
        if let (Some(kind @ ('P' | 'A' | 'V' | 'L')), Some(':')) = (chars.next(), chars.next())
            && let Some(end) = body.find("}}")
        {
            return Some((&text[..start], (kind, &body[2..end]), &body[end + 2..]));
        }
        from = start + 2;
    }
    None
}

/// The fingerprint the `secrets` rule prints: the first 16 hex digits of
/// sha256(rule id, a newline, the value). Computed here independently of the scanner.
#[must_use]
pub fn fingerprint(rule: &str, value: &str) -> String {
    let digest = Sha256::digest(format!("{rule}\n{value}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir`, relative to it, sorted.
fn files(root: &Path, rel: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel)).expect("a readable template folder").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    let mut out = Vec::new();
    for path in entries {
        let name = rel.join(path.file_name().expect("a named entry"));
        if path.is_dir() { out.extend(files(root, &name)) } else { out.push(name) }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_and_helm_templates_are_text() {
        assert_eq!(next_marker("a {{ .Values.x }} b {{L:why}} c"), Some(("a {{ .Values.x }} b ", ('L', "why"), " c")));
        assert_eq!(next_marker("no marker {{ here }}"), None);
    }

    #[test]
    fn the_fingerprint_is_sha256_of_rule_and_value() {
        // python3 -c "import hashlib; print(hashlib.sha256(b'github-token\nghp_x').hexdigest()[:16])"
        assert_eq!(fingerprint("github-token", "ghp_x"), "6ddaacb3141f8161");
    }
}

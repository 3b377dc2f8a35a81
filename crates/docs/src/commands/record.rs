//! The validation record: the `Validated on:` lines under each entry, bound to the entry's
//! content by a digest, and their atomic rewrite by `vixens commands run ENV --record`.
//!
//! One line per environment:
//!
//! ```markdown
//! Validated on:
//! - `lab` on 2026-11-26 with kubectl v1.34.1, talosctl v1.13.9 (digest `3f9a1c2e4b5d`)
//! ```
//!
//! The digest covers the whole `console` block (commands, expected status and output), so
//! changing any of it leaves the old records stale until the entry passes again.
//! Rewriting touches only those lines: the new text is written to a temporary file beside the
//! document and renamed over it. In CI (`CI=true`) the document is never rewritten; the result
//! goes to `<doc>.new` for review instead, as insta does with snapshots.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::document::{Document, Entry};
use super::parse::{self, LoadError};
use super::validation::{Digest, Validation};
use crate::secrets::Finding;

/// Entries that passed on one environment, to be recorded.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The environment they passed on.
    pub env: String,
    /// True when that environment is simulated (the embedded lab): the record says so.
    pub simulated: bool,
    /// Today's UTC date.
    pub date: String,
    /// Each entry that passed.
    pub passed: Vec<Passed>,
}

/// One entry that passed.
#[derive(Debug, Clone)]
pub struct Passed {
    /// The entry's id.
    pub id: String,
    /// The digest of the block that ran: recorded only if the document still has it.
    pub digest: Digest,
    /// The versions of the tools it ran.
    pub tools: Vec<String>,
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The file written: the document itself, or `<doc>.new` in CI. `None` when nothing
    /// changed.
    pub written: Option<PathBuf>,
    /// Ids of the entries whose record was written or refreshed.
    pub entries: Vec<String>,
    /// Ids of entries that passed but were edited (or removed) in the document since the run
    /// started: not recorded, because what passed is not what is written.
    pub changed_since_run: Vec<String>,
}

/// Why [`record`] could not write.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The document could not be read again.
    #[error("cannot read the document to record into it")]
    Load(#[from] LoadError),
    /// The new text could not be written or renamed into place.
    #[error("cannot write {path}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `recording` into the `Validated on:` lists of the document at `path`, changing
/// nothing else. With `ci`, writes `<path>.new` instead and leaves the document alone.
///
/// # Errors
/// [`RecordError::Load`] if the document cannot be read, [`RecordError::Write`] if the result
/// cannot be written. The document is either fully updated or untouched.
pub fn record(path: &Path, recording: &Recording, ci: bool) -> Result<Recorded, RecordError> {
    let text = parse::read(path)?;
    let doc = parse::parse(path, &text);
    let mut edits = Vec::new();
    let mut recorded = Recorded { written: None, entries: Vec::new(), changed_since_run: Vec::new() };
    for passed in &recording.passed {
        let entry = doc.entries.iter().find(|e| e.id == passed.id);
        let Some((entry, closing)) = entry.and_then(|e| Some((e, e.example.as_ref()?.closing_line?))) else {
            recorded.changed_since_run.push(passed.id.clone());
            continue;
        };
        if entry.example.as_ref().map(|e| &e.digest) != Some(&passed.digest) {
            recorded.changed_since_run.push(passed.id.clone());
            continue;
        }
        let validation = Validation {
            env: recording.env.clone(),
            simulated: recording.simulated,
            date: recording.date.clone(),
            tools: passed.tools.clone(),
            digest: passed.digest.clone(),
        };
        edits.extend(edits_for(entry, closing, &validation, &text));
        recorded.entries.push(passed.id.clone());
    }
    let new_text = apply(&text, edits);
    if new_text == text {
        return Ok(recorded);
    }
    let target = if ci { with_suffix(path, ".new") } else { path.to_owned() };
    write_atomically(&target, path, &new_text)?;
    recorded.written = Some(target);
    Ok(recorded)
}

/// The rewrite of one entry's record for one environment.
#[derive(Debug)]
enum Edit {
    /// Put `text` in place of line `line`.
    Replace { line: usize, text: String },
    /// Remove line `line` (a second record for the same environment).
    Delete { line: usize },
    /// Insert `lines` after line `line`.
    InsertAfter { line: usize, lines: Vec<String> },
}

fn edits_for(entry: &Entry, closing_line: usize, validation: &Validation, text: &str) -> Vec<Edit> {
    let Some(list) = &entry.validated_on else {
        let prefix = entry.example.as_ref().map(|e| e.prefix.clone()).unwrap_or_default();
        return vec![Edit::InsertAfter {
            line: closing_line,
            lines: vec![prefix.trim_end().to_owned(), format!("{prefix}Validated on:"), format!("{prefix}- {validation}")],
        }];
    };
    let same_env: Vec<usize> = list.records.iter().filter(|r| r.record.as_ref().is_some_and(|v| v.env == validation.env)).map(|r| r.line).collect();
    match same_env.split_first() {
        Some((&first, rest)) => {
            let bullet = bullet_prefix(text.lines().nth(first - 1).unwrap_or_default());
            let mut edits = vec![Edit::Replace { line: first, text: format!("{bullet}{validation}") }];
            edits.extend(rest.iter().map(|&line| Edit::Delete { line }));
            edits
        }
        None => {
            let last = list.records.last().map_or(list.line, |r| r.line);
            let bullet = match list.records.last() {
                Some(r) => bullet_prefix(text.lines().nth(r.line - 1).unwrap_or_default()),
                None => format!("{}- ", list.prefix),
            };
            vec![Edit::InsertAfter { line: last, lines: vec![format!("{bullet}{validation}")] }]
        }
    }
}

/// The part of a list item's line up to and including its bullet: `  - `.
fn bullet_prefix(line: &str) -> String {
    let body = line.trim_start_matches([' ', '\t', '>']);
    let indent = &line[..line.len() - body.len()];
    let bullet: String = body.chars().take_while(|c| matches!(c, '-' | '*' | '+')).take(1).collect();
    let after = &body[bullet.len()..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    format!("{indent}{bullet}{}", " ".repeat(spaces.max(1)))
}

/// Applies `edits` to `text`, keeping every other line byte for byte (line endings included).
fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    if lines.last().is_some_and(|l| !l.ends_with('\n')) {
        // The last line gains a newline only if something is inserted after it.
        let last = lines.len() - 1;
        if edits.iter().any(|e| matches!(e, Edit::InsertAfter { line, .. } if *line == last + 1)) {
            lines[last].push_str(newline);
        }
    }
    let line_of = |e: &Edit| match e {
        Edit::Replace { line, .. } | Edit::Delete { line } | Edit::InsertAfter { line, .. } => *line,
    };
    // From the bottom up, so earlier line numbers stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse(line_of(e)));
    let mut deleted = BTreeSet::new();
    for edit in edits {
        match edit {
            Edit::Replace { line, text } => {
                let ending = line_ending(&lines[line - 1]).to_owned();
                lines[line - 1] = text + &ending;
            }
            Edit::Delete { line } => {
                if deleted.insert(line) {
                    lines.remove(line - 1);
                }
            }
            Edit::InsertAfter { line, lines: new } => {
                let at = line.min(lines.len());
                for (i, l) in new.into_iter().enumerate() {
                    lines.insert(at + i, l + newline);
                }
            }
        }
    }
    lines.concat()
}

fn line_ending(line: &str) -> &str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes `text` to a temporary file beside `target` and renames it over `target`, keeping the
/// permissions of `original`: readers see the old file or the new one, never half of one.
fn write_atomically(target: &Path, original: &Path, text: &str) -> Result<(), RecordError> {
    let fail = |source| RecordError::Write { path: target.to_owned(), source };
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".commands.md.").tempfile_in(dir).map_err(fail)?;
    temp.write_all(text.as_bytes()).map_err(fail)?;
    temp.as_file().sync_all().map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(original) {
        std::fs::set_permissions(temp.path(), meta.permissions()).map_err(fail)?;
    }
    temp.persist(target).map_err(|e| fail(e.error))?;
    Ok(())
}

/// A passed entry that is not recorded: its block holds a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The entry's id.
    pub id: String,
    /// The first secret in its block (never the value).
    pub finding: Finding,
}

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not recorded: `{}` holds a secret at {}:{}, {}: a record certifies the block as written; put a placeholder in its place \
             (in expected output, what `vixens commands run` shows: `[REDACTED:{}]`), or accept it in .config/secrets.yaml",
            self.id,
            self.finding.file,
            self.finding.line,
            self.finding.describe(),
            self.finding.rule
        )
    }
}

/// Takes out of `recording` the entries whose `console` block holds one of `doc`'s secrets
/// (after [`super::accept_secrets`]): `--record` never certifies a block that holds a
/// credential, in its commands or in its expected output.
pub fn withhold_secrets(recording: &mut Recording, doc: &Document) -> Vec<Withheld> {
    let mut withheld = Vec::new();
    recording.passed.retain(|passed| {
        let block =
            doc.entries.iter().find(|e| e.id == passed.id).and_then(|e| e.example.as_ref()).map(|e| e.line..=e.closing_line.unwrap_or(usize::MAX));
        let found = block.and_then(|lines| doc.secrets.iter().find(|f| lines.contains(&f.line)));
        match found {
            Some(finding) => {
                withheld.push(Withheld { id: passed.id.clone(), finding: finding.clone() });
                false
            }
            None => true,
        }
    });
    withheld
}

/// Today's date in UTC, as records write it.
#[must_use]
pub fn today() -> String {
    jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date().to_string()
}

/// True when `doc` is recorded as validated, with its current digest, on `env`.
#[must_use]
pub fn is_current_on(doc: &Document, id: &str, env: &str) -> bool {
    doc.entries.iter().filter(|e| e.id == id).any(|e| e.current_validations().any(|v| v.env == env))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validation(env: &str, digest: &Digest) -> Validation {
        Validation { env: env.into(), simulated: false, date: "2026-11-26".into(), tools: vec!["kubectl v1.34.1".into()], digest: digest.clone() }
    }

    #[test]
    fn an_entry_whose_block_holds_a_secret_is_withheld_from_the_recording() {
        let doc = parse::parse(
            Path::new("docs/commands.md"),
            "### Login\n\nContext: x.\n\n```console\n$ argocd login lab --password gs8w85Tiij3Mp3KM\n? 0\n```\n\n### Clean\n\nContext: y.\n\n```console\n$ true\n? 0\n```\n",
        );
        let passed = |id: &str| Passed { id: id.into(), digest: Digest::of("x"), tools: vec![] };
        let mut recording =
            Recording { env: "lab".into(), simulated: true, date: "2026-11-26".into(), passed: vec![passed("login"), passed("clean")] };
        let withheld = withhold_secrets(&mut recording, &doc);
        assert_eq!(recording.passed.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["clean"]);
        assert_eq!(withheld.len(), 1);
        let message = withheld[0].to_string();
        assert!(
            message.starts_with("not recorded: `login` holds a secret at docs/commands.md:6, secret-cli-flag (gs8w… 16 chars, fingerprint "),
            "{message}"
        );
        assert!(!message.contains("gs8w85Tiij3Mp3KM"), "{message}");
    }

    #[test]
    fn a_record_line_reads_back_what_it_writes() {
        let v = Validation {
            env: "dev".into(),
            simulated: false,
            date: "2026-11-26".into(),
            tools: vec!["kubectl v1.34.1".into(), "talosctl v1.13.9".into()],
            digest: Digest::of("$ true\n"),
        };
        let line = v.to_string();
        assert_eq!(line, format!("`dev` on 2026-11-26 with kubectl v1.34.1, talosctl v1.13.9 (digest `{}`)", v.digest));
        assert_eq!(Validation::parse(&line).unwrap(), v);
        let bare = Validation { tools: vec![], ..v };
        assert_eq!(Validation::parse(&bare.to_string()).unwrap(), bare);
    }

    #[test]
    fn a_record_of_a_simulated_environment_says_so_and_reads_back() {
        let v = Validation {
            env: "lab-ha".into(),
            simulated: true,
            date: "2026-11-26".into(),
            tools: vec!["vixens-lab 0.1.0".into()],
            digest: Digest::of("$ true\n"),
        };
        let line = v.to_string();
        assert_eq!(line, format!("`lab-ha` (simulated) on 2026-11-26 with vixens-lab 0.1.0 (digest `{}`)", v.digest));
        assert_eq!(Validation::parse(&line).unwrap(), v);
    }

    #[test]
    fn a_malformed_record_line_says_what_is_expected() {
        let err = Validation::parse("lab, yesterday").unwrap_err();
        assert!(err.contains("expected \"`ENV` on YYYY-MM-DD"), "{err}");
    }

    #[test]
    fn the_digest_ignores_trailing_whitespace_and_blank_lines() {
        assert_eq!(Digest::of("$ echo hi\nhi\n"), Digest::of("$ echo hi  \nhi\n\n\n"));
        assert_ne!(Digest::of("$ echo hi\nhi\n"), Digest::of("$ echo ho\nhi\n"));
        assert_eq!(Digest::of("x").as_str().len(), 12);
    }

    const DOC: &str = "# Ops\r\n\r\n### Say hi\r\n\r\nContext: greets.\r\n\r\n```console\r\n$ echo hi\r\nhi\r\n```\r\n\r\nValidated on:\r\n- `old` on 2020-01-01 (digest `000000000000`)\r\n\r\nTrailing prose.";

    fn recording(env: &str, doc: &Document) -> Recording {
        Recording {
            env: env.into(),
            simulated: false,
            date: "2026-11-26".into(),
            passed: doc
                .entries
                .iter()
                .map(|e| Passed { id: e.id.clone(), digest: e.example.as_ref().unwrap().digest.clone(), tools: vec!["kubectl v1.34.1".into()] })
                .collect(),
        }
    }

    #[test]
    fn recording_appends_a_line_and_changes_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.md");
        std::fs::write(&path, DOC).unwrap();
        let doc = parse::load(&path).unwrap();
        let digest = doc.entries[0].example.as_ref().unwrap().digest.clone();
        let done = record(&path, &recording("lab", &doc), false).unwrap();
        assert_eq!(done.written.as_deref(), Some(path.as_path()));
        assert_eq!(done.entries, ["say-hi"]);
        let after = std::fs::read_to_string(&path).unwrap();
        let expected = DOC.replace("(digest `000000000000`)\r\n", &format!("(digest `000000000000`)\r\n- {}\r\n", validation("lab", &digest)));
        assert_eq!(after, expected);
    }

    #[test]
    fn recording_again_replaces_the_environments_line_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.md");
        std::fs::write(&path, DOC).unwrap();
        let doc = parse::load(&path).unwrap();
        record(&path, &recording("old", &doc), false).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        let digest = doc.entries[0].example.as_ref().unwrap().digest.clone();
        assert_eq!(after, DOC.replace("`old` on 2020-01-01 (digest `000000000000`)", &validation("old", &digest).to_string()));
        // Nothing left to change: the file is not rewritten.
        let again = record(&path, &recording("old", &doc), false).unwrap();
        assert_eq!(again.written, None);
    }

    #[test]
    fn the_first_record_starts_a_list_under_the_block_with_its_indentation() {
        let text = "### In a list\n\nContext: nested.\n\n1. Run it:\n   ~~~console\n   $ echo hi\n   hi\n   ~~~\n2. Done.\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.md");
        std::fs::write(&path, text).unwrap();
        let doc = parse::load(&path).unwrap();
        record(&path, &recording("lab", &doc), false).unwrap();
        let after = std::fs::read_to_string(&path).unwrap();
        let digest = doc.entries[0].example.as_ref().unwrap().digest.clone();
        assert_eq!(after, text.replace("   ~~~\n2.", &format!("   ~~~\n\n   Validated on:\n   - {}\n2.", validation("lab", &digest))));
        let reread = parse::load(&path).unwrap();
        assert!(is_current_on(&reread, "in-a-list", "lab"), "{:?}", reread.entries[0].validated_on);
    }

    #[test]
    fn an_entry_edited_since_the_run_is_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.md");
        std::fs::write(&path, DOC).unwrap();
        let doc = parse::load(&path).unwrap();
        std::fs::write(&path, DOC.replace("$ echo hi", "$ echo HI")).unwrap();
        let done = record(&path, &recording("lab", &doc), false).unwrap();
        assert_eq!(done.changed_since_run, ["say-hi"]);
        assert_eq!(done.written, None);
    }

    #[test]
    fn in_ci_the_document_is_left_alone_and_the_result_goes_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("commands.md");
        std::fs::write(&path, DOC).unwrap();
        let doc = parse::load(&path).unwrap();
        let done = record(&path, &recording("lab", &doc), true).unwrap();
        let new = dir.path().join("commands.md.new");
        assert_eq!(done.written.as_deref(), Some(new.as_path()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DOC);
        assert!(std::fs::read_to_string(&new).unwrap().contains("`lab` on 2026-11-26"));
    }

    #[test]
    fn bullets_keep_their_indentation_and_marker() {
        assert_eq!(bullet_prefix("  * `lab` on"), "  * ");
        assert_eq!(bullet_prefix("-   `lab` on"), "-   ");
        assert_eq!(bullet_prefix("> - `lab`"), "> - ");
    }
}

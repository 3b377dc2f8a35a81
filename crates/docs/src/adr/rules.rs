//! The rules one ADR is held to on its own: a title, a known status, non-empty Context,
//! Decision and Consequences with a positive and a negative part, a reference to a spec and one
//! to the implementation, and links and path mentions that resolve.

use std::collections::BTreeSet;

use super::config::Config;
use super::diagnostic::{Findings, Rule};
use super::markdown::{BlockKind, TextLine};
use super::record::{Record, Section};
use super::references::{Repo, Target, kinds};
use super::vocabulary::{Half, SectionKind, Status, Vocabulary};

/// Checks `record` and adds what it finds to `out`.
pub(crate) fn check(record: &Record, repo: &Repo, config: &Config, out: &mut Findings) {
    for problem in &record.problems {
        out.push(&record.path, problem.line, problem.rule, problem.message.clone());
    }
    if !record.readable {
        return;
    }
    if record.title.is_none() {
        out.push(&record.path, 1, Rule::Title, "no title: start with a `# ADR-NNN: Title` heading");
    }
    status(record, out);
    for kind in [SectionKind::Context, SectionKind::Decision, SectionKind::Consequences] {
        section(record, kind, out);
    }
    if let Some(consequences) = record.section(SectionKind::Consequences)
        && record.markdown.has_content(&consequences.body)
    {
        halves(record, consequences, &config.vocabulary, out);
    }
    references(record, repo, config, out);
}

fn status(record: &Record, out: &mut Findings) {
    if record.statuses.is_empty() {
        out.push(
            &record.path,
            record.title_line(),
            Rule::Status,
            "no status: write `**Status:** Accepted`, a `## Status` section, or `status:` in the front matter",
        );
        return;
    }
    let mut known: Option<(Status, usize)> = None;
    for decl in &record.statuses {
        match (decl.status, known) {
            (None, _) if decl.raw.is_empty() => out.push(&record.path, decl.line, Rule::Status, "the Status section is empty"),
            (None, _) => out.push(
                &record.path,
                decl.line,
                Rule::Status,
                format!(
                    "unknown status `{}`: expected Proposed, Accepted, Deprecated, Superseded or Rejected \
                     (another spelling can be mapped under `statuses:` in the configuration)",
                    decl.raw
                ),
            ),
            (Some(status), None) => known = Some((status, decl.line)),
            // adr-tools keeps "Accepted" above the "Superceded by" line it adds.
            (Some(Status::Superseded), Some(_)) => known = known.map(|(_, l)| (Status::Superseded, l)),
            (Some(status), Some((earlier, line))) if status != earlier => {
                out.push(&record.path, decl.line, Rule::Status, format!("says {status} here but {earlier} on line {line}"))
            }
            (Some(_), Some(_)) => {}
        }
    }
}

fn section(record: &Record, kind: SectionKind, out: &mut Findings) {
    match record.section(kind) {
        None => {
            let names = match kind {
                SectionKind::Context => "Context or Contexte",
                SectionKind::Decision => "Decision or Décision",
                SectionKind::Consequences | SectionKind::Status => "Consequences or Conséquences",
            };
            out.push(
                &record.path,
                record.title_line(),
                Rule::Section,
                format!("no {kind} section (a heading named {names}, or an alias from the configuration)"),
            );
        }
        Some(found) if !record.markdown.has_content(&found.body) => {
            out.push(&record.path, found.line, Rule::Section, format!("the {kind} section is empty"));
        }
        Some(_) => {}
    }
}

/// Finds the Positive and Negative parts of the Consequences: sub-headings, or labels that open
/// a paragraph or list item (`**Pros:**`, `Inconvénients :`).
fn halves(record: &Record, consequences: &Section, words: &Vocabulary, out: &mut Findings) {
    let md = &record.markdown;
    let mut found: BTreeSet<Half> = BTreeSet::new();
    for heading in md.headings.iter().filter(|h| consequences.body.contains(&h.body.start) && h.level > consequences.level) {
        let Some(half) = words.half(&heading.text) else { continue };
        if md.has_content(&heading.body) {
            found.insert(half);
        } else {
            out.push(&record.path, heading.line, Rule::Consequences, format!("the {} part is empty", half_name(half)));
            found.insert(half);
        }
    }
    for line in md.lines_in(&consequences.body) {
        if let Some(half) = label(line).and_then(|l| words.half(l)) {
            found.insert(half);
        }
    }
    let missing = match (found.contains(&Half::Positive), found.contains(&Half::Negative)) {
        (true, true) => return,
        (false, true) => "no positive part (a heading or label named Positive, Avantages or Pros)",
        (true, false) => "no negative part (a heading or label named Negative, Inconvénients or Cons)",
        (false, false) => "neither a positive nor a negative part (headings or labels named Positive/Avantages/Pros and Negative/Inconvénients/Cons)",
    };
    out.push(&record.path, consequences.line, Rule::Consequences, format!("the Consequences have {missing}"));
}

/// The label a line opens with: its bold start, or the short text before a colon or a comma
/// (`Inconvénients :`, MADR's `Good, because ...`).
fn label(line: &TextLine) -> Option<&str> {
    if !matches!(line.kind, BlockKind::Paragraph | BlockKind::Item) {
        return None;
    }
    let text = line.text.trim();
    let head = text.split([':', ',']).next().unwrap_or(text);
    let short = head.split_whitespace().count() <= 4;
    ((line.starts_emphasised || head.len() < text.len()) && short).then_some(head)
}

fn half_name(half: Half) -> &'static str {
    match half {
        Half::Positive => "Positive",
        Half::Negative => "Negative",
    }
}

fn references(record: &Record, repo: &Repo, config: &Config, out: &mut Findings) {
    let mut spec = false;
    let mut implementation = false;
    let mut reported: BTreeSet<(usize, String)> = BTreeSet::new();
    for line in &record.markdown.lines {
        for reference in repo.references(line, &record.path) {
            let is_relation = reference.is_link && record.relation_links.contains(&(line.line, reference.written.clone()));
            let k = kinds(&reference.target, repo, config);
            spec |= k.spec;
            implementation |= k.implementation;
            if is_relation || !reported.insert((reference.line, reference.written.clone())) {
                continue;
            }
            match (&reference.target, reference.is_link) {
                (Target::Path { exists: false, path }, true) => {
                    out.push(&record.path, reference.line, Rule::BrokenLink, format!("link to `{}`: {path} does not exist", reference.written))
                }
                (Target::Path { exists: false, .. }, false) => out.push(
                    &record.path,
                    reference.line,
                    Rule::MissingPath,
                    format!("`{}` names a file that does not exist in the repository", reference.written),
                ),
                (Target::Outside, _) => {
                    out.push(&record.path, reference.line, Rule::BrokenLink, format!("link to `{}` points outside the repository", reference.written))
                }
                _ => {}
            }
        }
    }
    if !spec {
        let what = config.spec.as_ref().map_or_else(
            || "a document under docs/, a Markdown file outside the ADR folder, or a web address".to_owned(),
            |p| format!("a path or address matching {}", p.texts().join(", ")),
        );
        out.push(&record.path, record.title_line(), Rule::SpecReference, format!("no reference to a specification ({what})"));
    }
    if !implementation {
        let what = config.implementation.as_ref().map_or_else(
            || "a link or path to a repository file outside the ADR folder that is not documentation".to_owned(),
            |p| format!("a link or path matching {}", p.texts().join(", ")),
        );
        out.push(&record.path, record.title_line(), Rule::ImplementationReference, format!("no reference to the implementation ({what})"));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const GOOD: &str = "# ADR-001: Cache\n\n**Status:** Accepted\n\n## Context\n\nWhy, per [the spec](../spec.md).\n\n\
        ## Decision\n\nCache in `src/cache.rs`.\n\n## Consequences\n\n### Positive\n\nFast.\n\n### Negative\n\nStale.\n";

    fn check_text(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for file in ["docs/spec.md", "src/cache.rs"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let repo = Repo::new(dir.path(), Path::new("docs/adr"));
        let config = Config::default();
        let record = Record::read("docs/adr/001-cache.md", text.as_bytes(), &config.vocabulary);
        let mut out = Findings::default();
        check(&record, &repo, &config, &mut out);
        out.found.iter().map(|f| format!("{}: {}: {}", f.line.unwrap_or(0), f.rule, f.message)).collect()
    }

    #[test]
    fn a_complete_adr_passes() {
        assert_eq!(check_text(GOOD), Vec::<String>::new());
    }

    #[test]
    fn a_missing_negative_part_is_named() {
        let text = GOOD.replace("### Negative\n\nStale.\n", "");
        assert_eq!(
            check_text(&text),
            ["13: consequences: the Consequences have no negative part (a heading or label named Negative, Inconvénients or Cons)"]
        );
    }

    #[test]
    fn labels_count_as_halves() {
        let text = GOOD.replace("### Positive\n\nFast.\n\n### Negative\n\nStale.\n", "- **Pros:** fast\n- **Cons:** stale\n");
        assert_eq!(check_text(&text), Vec::<String>::new());
    }

    #[test]
    fn an_empty_section_is_reported_at_its_heading() {
        let text = GOOD.replace("Cache in `src/cache.rs`.", "<!-- what did we decide? -->\n\nSee src/cache.rs");
        assert_eq!(check_text(&text), Vec::<String>::new());
        let text = GOOD.replace("Cache in `src/cache.rs`.", "<!-- what did we decide? -->");
        assert_eq!(
            check_text(&text),
            [
                "9: section: the Decision section is empty",
                "1: implementation-reference: no reference to the implementation (a link or path to a repository file outside the ADR folder that is not documentation)"
            ]
        );
    }

    #[test]
    fn conflicting_and_unknown_statuses() {
        let text = GOOD.replace("**Status:** Accepted", "**Status:** Accepted\n\n## Statut\n\nRejeté");
        assert_eq!(check_text(&text), ["7: status: says Rejected here but Accepted on line 3"]);
        let text = GOOD.replace("**Status:** Accepted", "**Status:** Living");
        assert!(check_text(&text)[0].starts_with("3: status: unknown status `Living`"));
    }

    #[test]
    fn dead_links_and_paths_are_reported_once_each() {
        let text = GOOD.replace("Fast.", "Fast, see [bench](../../bench/cache.rs) and src/cahce.rs, src/cahce.rs.");
        assert_eq!(
            check_text(&text),
            [
                "17: broken-link: link to `../../bench/cache.rs`: bench/cache.rs does not exist",
                "17: missing-path: `src/cahce.rs` names a file that does not exist in the repository",
            ]
        );
    }
}

//! The rules one ADR is held to on its own: a title, a known status, non-empty Context,
//! Decision and Consequences with a positive and a negative part, a reference to a spec and one
//! to the implementation, and links and path mentions that resolve.
//!
//! Every message says what to write. A missing path or link is reported once per cause: links
//! written from the repository root by mistake are one finding, a folder that moved is one
//! finding, and what they would reference once fixed counts as the ADR's references.

use std::collections::{BTreeMap, BTreeSet};

use super::config::Config;
use super::diagnostic::{Findings, Location, Rule};
use super::markdown::{BlockKind, Heading, TextLine};
use super::prose;
use super::record::{Record, Section, file_number};
use super::references::{Repo, Target, kinds, parent};
use super::vocabulary::{Half, SectionKind, Status, Vocabulary, declares_absent, fold};

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
    status(record, &config.vocabulary, out);
    for kind in [SectionKind::Context, SectionKind::Decision] {
        section(record, kind, out);
    }
    consequences(record, &config.vocabulary, out);
    references(record, repo, config, out);
}

fn status(record: &Record, words: &Vocabulary, out: &mut Findings) {
    if record.statuses.is_empty() {
        let example = if record.is_french() { "`**Statut :** Accepté`" } else { "`**Status:** Accepted`" };
        out.push(
            &record.path,
            record.title_line(),
            Rule::Status,
            format!("no status: write {example} under the title, a `## Status` section, or `status:` in the front matter"),
        );
        return;
    }
    let mut known: Option<(Status, usize)> = None;
    for decl in &record.statuses {
        match (decl.status, known) {
            (None, _) if decl.raw.is_empty() => {
                out.push(&record.path, decl.line, Rule::Status, "the Status section is empty: write the status on its first line (`Accepted`)")
            }
            (None, _) => out.push(&record.path, decl.line, Rule::Status, unknown_status(&decl.raw, record.is_french(), words)),
            (Some(status), None) => known = Some((status, decl.line)),
            // adr-tools keeps "Accepted" above the "Superceded by" line it adds.
            (Some(Status::Superseded), Some(_)) => known = known.map(|(_, l)| (Status::Superseded, l)),
            (Some(status), Some((earlier, line))) if status != earlier => out.push(
                &record.path,
                decl.line,
                Rule::Status,
                format!("says {status} here but {earlier} on line {line}: keep the status in force and remove the other"),
            ),
            (Some(_), Some(_)) => {}
        }
    }
}

/// What to write instead of an unknown status: the known spelling it is closest to, the two
/// statuses a work-in-progress word means, or the list; always in the ADR's language.
fn unknown_status(raw: &str, french: bool, words: &Vocabulary) -> String {
    const IN_PROGRESS: &[&str] =
        &["ongoing", "en cours", "in progress", "wip", "work in progress", "pending", "en attente", "open", "todo", "a faire"];
    let value = raw.split(['(', ',', ';', '—', '–']).next().unwrap_or(raw).trim();
    let folded = fold(value);
    let close = words
        .spellings()
        .map(|(spelling, status)| (strsim::levenshtein(&folded, spelling), spelling, status))
        .filter(|(d, spelling, _)| *d <= 2 && spelling.len() > 4)
        .min_by_key(|(d, _, _)| *d);
    let write = if let Some((_, _, status)) = close {
        format!("write `{}`", spelled(status, french))
    } else if IN_PROGRESS.contains(&folded.as_str()) {
        if french {
            "write Proposé (encore en discussion) or Accepté (en vigueur)".to_owned()
        } else {
            "write Proposed (still under discussion) or Accepted (in force)".to_owned()
        }
    } else {
        let all: Vec<&str> = [Status::Proposed, Status::Accepted, Status::Deprecated, Status::Superseded, Status::Rejected]
            .into_iter()
            .map(|s| spelled(s, french))
            .collect();
        format!("write one of {}", all.join(", "))
    };
    format!("unknown status `{value}`: {write}, or map `{value}` under `statuses:` in .config/adr.yaml")
}

/// A status as an ADR in that language writes it.
pub(crate) fn spelled(status: Status, french: bool) -> &'static str {
    match (status, french) {
        (Status::Proposed, false) => "Proposed",
        (Status::Accepted, false) => "Accepted",
        (Status::Deprecated, false) => "Deprecated",
        (Status::Superseded, false) => "Superseded",
        (Status::Rejected, false) => "Rejected",
        (Status::Proposed, true) => "Proposé",
        (Status::Accepted, true) => "Accepté",
        (Status::Deprecated, true) => "Déprécié",
        (Status::Superseded, true) => "Remplacé",
        (Status::Rejected, true) => "Rejeté",
    }
}

fn section(record: &Record, kind: SectionKind, out: &mut Findings) {
    let french = record.is_french();
    match record.section(kind) {
        None => out.push(&record.path, record.title_line(), Rule::Section, missing_section(record, kind, french)),
        Some(found) if !record.markdown.has_content(&found.body) => {
            let what = match kind {
                SectionKind::Context => "why a decision was needed",
                SectionKind::Decision => "what was decided",
                SectionKind::Consequences | SectionKind::Status => "what follows from it, good and bad",
            };
            out.push(&record.path, found.line, Rule::Section, format!("the {kind} section is empty: write {what} under its heading"));
        }
        Some(_) => {}
    }
}

fn missing_section(record: &Record, kind: SectionKind, french: bool) -> String {
    match kind {
        SectionKind::Context => {
            let heading = if french { "## Contexte" } else { "## Context" };
            format!("no Context section: add `{heading}` saying why a decision was needed")
        }
        SectionKind::Decision => {
            let heading = if french { "## Décision" } else { "## Decision" };
            let name = if french { "Décision" } else { "Decision" };
            let alike: Vec<String> = record
                .markdown
                .headings
                .iter()
                .filter(|h| h.level > 1 && ["decision", "option", "choix", "choice"].iter().any(|w| fold(&h.text).contains(w)))
                .map(|h| format!("`{} {}`", "#".repeat(h.level.into()), h.text))
                .collect();
            let outcome = if french { String::new() } else { " (or `## Decision Outcome`)".to_owned() };
            match alike.as_slice() {
                [] => format!("no {name} section: add `{heading}`{outcome} saying what was decided"),
                [one] => format!("no {name} section: {one} does not say what was chosen; add `{heading}`{outcome} naming the chosen option"),
                [init @ .., last] => format!(
                    "no {name} section: {} and {last} do not say what was chosen; add `{heading}`{outcome} naming the chosen option",
                    init.join(", ")
                ),
            }
        }
        SectionKind::Consequences | SectionKind::Status => {
            if french {
                "no Conséquences section: add `## Conséquences` with `### Positives` and `### Négatives`".to_owned()
            } else {
                "no Consequences section: add `## Consequences` with `### Positive` and `### Negative`".to_owned()
            }
        }
    }
}

/// The Consequences: a section with a positive and a negative part, or the two parts as
/// sections of their own (`## Avantages`, `## Inconvénients`).
fn consequences(record: &Record, words: &Vocabulary, out: &mut Findings) {
    match record.section(SectionKind::Consequences) {
        Some(section) if record.markdown.has_content(&section.body) => halves(record, section, words, out),
        Some(_) => self::section(record, SectionKind::Consequences, out),
        None => sibling_halves(record, words, out),
    }
}

/// Halves written as sections beside Context and Decision (`## Avantages`), or inside the
/// Decision as MADR 2 writes them (`### Positive Consequences` under `## Decision Outcome`).
fn sibling_halves(record: &Record, words: &Vocabulary, out: &mut Findings) {
    let decision = record.section(SectionKind::Decision);
    let level = decision.or_else(|| record.section(SectionKind::Context)).map_or(2, |s| s.level);
    let in_decision = |h: &Heading| decision.is_some_and(|d| d.body.contains(&h.body.start) && h.level > d.level);
    let siblings: Vec<(&Heading, Half)> = record
        .markdown
        .headings
        .iter()
        .filter(|h| h.level == level || in_decision(h))
        .filter_map(|h| words.sibling_half(&h.text).map(|half| (h, half)))
        .collect();
    let has = |half| siblings.iter().any(|(_, h)| *h == half);
    match (siblings.first(), has(Half::Positive), has(Half::Negative)) {
        (None, _, _) => self::section(record, SectionKind::Consequences, out),
        (_, true, true) => {}
        (Some((heading, half)), _, _) => {
            let french = record.is_french();
            let other = match (half, french) {
                (Half::Positive, false) => "## Negative Consequences",
                (Half::Positive, true) => "## Inconvénients",
                (Half::Negative, false) => "## Positive Consequences",
                (Half::Negative, true) => "## Avantages",
            };
            out.push(
                &record.path,
                heading.line,
                Rule::Consequences,
                format!("the consequences have `## {}` but no {} part: add `{other}`", heading.text, opposite_name(*half)),
            );
        }
    }
}

/// Finds the Positive and Negative parts of the Consequences: sub-headings, or labels that open
/// a paragraph or list item (`**Pros:**`, `Inconvénients :`, MADR's `Good, because`).
fn halves(record: &Record, consequences: &Section, words: &Vocabulary, out: &mut Findings) {
    let md = &record.markdown;
    let mut found: BTreeSet<Half> = BTreeSet::new();
    let mut parts: Vec<String> = Vec::new();
    for heading in md.headings.iter().filter(|h| consequences.body.contains(&h.body.start) && h.level > consequences.level) {
        parts.push(heading.text.clone());
        let Some(half) = words.half(&heading.text) else { continue };
        if !md.has_content(&heading.body) {
            let what = if half == Half::Positive { "what the decision brings" } else { "what the decision costs" };
            out.push(&record.path, heading.line, Rule::Consequences, format!("the {} part is empty: write {what}", half_name(half)));
        }
        found.insert(half);
    }
    for line in md.lines_in(&consequences.body) {
        if let Some(half) = label(line).and_then(|l| words.half(l)) {
            found.insert(half);
        }
    }
    let french = record.is_french();
    // Named as written: "the Trade-offs have ...".
    let heading = md.headings.iter().find(|h| h.line == consequences.line).map_or("", |h| h.text.as_str());
    let name = heading.trim_start_matches(|c: char| !c.is_alphabetic()).trim_end_matches([':', ' ', '\u{a0}']);
    let (positive, negative) = if french { ("### Positives", "### Négatives") } else { ("### Positive", "### Negative") };
    // "have Positive and Neutral but no negative part", or "have no negative part".
    let have = match parts.as_slice() {
        [] => String::new(),
        [one] => format!("{one} but "),
        [init @ .., last] => format!("{} and {last} but ", init.join(", ")),
    };
    let message = match (found.contains(&Half::Positive), found.contains(&Half::Negative)) {
        (true, true) => return,
        (false, true) => format!("the {name} have {have}no positive part: add a `{positive}` subsection"),
        (true, false) => format!("the {name} have {have}no negative part: add a `{negative}` subsection"),
        (false, false) => format!(
            "the {name} have {have}neither a positive nor a negative part: add `{positive}` and `{negative}` subsections (or `**Pros:**` and `**Cons:**` labels)"
        ),
    };
    out.push(&record.path, consequences.line, Rule::Consequences, message);
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

fn opposite_name(half: Half) -> &'static str {
    match half {
        Half::Positive => "negative",
        Half::Negative => "positive",
    }
}

/// A link or path that does not resolve, and what the writer most likely meant.
#[derive(Debug, Clone)]
struct Broken {
    line: usize,
    /// As written.
    written: String,
    is_link: bool,
    /// Where it resolves, repository-relative.
    path: String,
    meant: Meant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Meant {
    /// A link written from the repository root, read from the ADR's folder: this path exists.
    FromRoot(String),
    /// Files of the same name, the likeliest first.
    Elsewhere(Vec<String>),
    /// A file of a close name in the same folder: a typo.
    Close(String),
    /// Nothing found.
    Nothing,
}

fn references(record: &Record, repo: &Repo, config: &Config, out: &mut Findings) {
    let mut spec = false;
    let mut implementation = false;
    // A bare file name (`renovate.json`) is a file of the implementation, never the spec.
    let mut count = |target: &Target, bare_name: bool| {
        let k = kinds(target, repo, config);
        spec |= k.spec && !bare_name;
        implementation |= k.implementation;
    };
    let mut seen: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut broken: Vec<Broken> = Vec::new();
    let lines = &record.markdown.lines;
    let paragraphs = prose::paragraphs(lines);
    for (i, line) in lines.iter().enumerate() {
        for reference in repo.references(line, &record.path) {
            let bare_name = !reference.is_link && !matches!(reference.target, Target::Url(_)) && !reference.written.contains('/');
            count(&reference.target, bare_name);
            let is_relation = reference.is_link && record.relation_links.contains(&(line.line, reference.written.clone()));
            if is_relation || !seen.insert((reference.line, reference.written.clone())) {
                continue;
            }
            match &reference.target {
                Target::Path { exists: false, path } if reference.is_link => {
                    let meant = meant_by_link(repo, &record.path, &reference.written, path);
                    for target in meant_targets(&meant) {
                        count(&target, false);
                    }
                    broken.push(Broken { line: line.line, written: reference.written, is_link: true, path: path.clone(), meant });
                }
                Target::Path { exists: false, path } => {
                    if declared_absent(&paragraphs, i, line, &reference.written) {
                        continue;
                    }
                    let meant = meant_by_path(repo, path);
                    for target in meant_targets(&meant) {
                        count(&target, false);
                    }
                    broken.push(Broken { line: line.line, written: reference.written, is_link: false, path: path.clone(), meant });
                }
                Target::Outside => out.push(
                    &record.path,
                    reference.line,
                    Rule::BrokenLink,
                    format!("link to `{}` points outside the repository: link to a file of the repository, or to its web address", reference.written),
                ),
                Target::Path { exists: true, .. } | Target::Url(_) | Target::Ignored => {}
            }
        }
    }
    report_broken(record, repo, &broken, out);
    if !spec {
        let what = config.spec.as_ref().map_or_else(
            || "a link to a document under docs/ or outside the ADR folder, or a web address".to_owned(),
            |p| format!("a link or path matching {}", p.texts().join(", ")),
        );
        out.push(&record.path, record.title_line(), Rule::SpecReference, format!("no reference to a specification: add {what}, in the Context"));
    }
    if !implementation {
        let what = config.implementation.as_ref().map_or_else(
            || "the path of a repository file outside the ADR folder that is not documentation (`terraform/modules/x/main.tf`)".to_owned(),
            |p| format!("a link or path matching {}", p.texts().join(", ")),
        );
        out.push(
            &record.path,
            record.title_line(),
            Rule::ImplementationReference,
            format!("no reference to the implementation: name {what}, in the Decision"),
        );
    }
}

/// What a dead link most likely meant: read from the root (written without `./`, `../` or
/// `/`), or a file of the same name elsewhere.
fn meant_by_link(repo: &Repo, from: &str, written: &str, path: &str) -> Meant {
    let plain = !(written.starts_with("./") || written.starts_with("../") || written.starts_with('/'));
    if plain && let Target::Path { path: rooted, exists: true } = repo.link(&format!("/{written}"), from) {
        return Meant::FromRoot(rooted);
    }
    meant_by_path(repo, path)
}

/// What a missing path most likely meant: a file of the same name elsewhere, else a close name
/// in its folder.
fn meant_by_path(repo: &Repo, path: &str) -> Meant {
    if let Some(adr) = same_number_adr(repo, path) {
        return Meant::Close(adr);
    }
    match repo.same_name(path) {
        found if !found.is_empty() => Meant::Elsewhere(found),
        _ => repo.close_name(path).map_or(Meant::Nothing, Meant::Close),
    }
}

/// A missing file of the ADR folder named like an ADR: the ADR renumbered since (same title,
/// `007-infisical.md` → `011-infisical.md`), else renamed since (same number, a title word in
/// common, `0008-add-status.md` → `0008-add-status-field.md`).
fn same_number_adr(repo: &Repo, path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let number = file_number(name).filter(|_| repo.in_adr_dir(path) && parent(path) == repo.adr_dir())?;
    let entries = std::fs::read_dir(repo.root().join(repo.adr_dir())).ok()?;
    let names: Vec<String> =
        entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.ends_with(".md")).collect();
    let only = |found: Vec<&String>| match found.as_slice() {
        [one] => Some(format!("{}/{one}", repo.adr_dir())),
        _ => None,
    };
    let words = |n: &str| -> BTreeSet<String> { slug(n).split(['-', '_']).filter(|w| w.len() > 3).map(str::to_owned).collect() };
    only(names.iter().filter(|n| slug(n) == slug(name) && file_number(n).is_some()).collect()).or_else(|| {
        let wanted = words(name);
        only(names.iter().filter(|n| file_number(n) == Some(number) && !words(n).is_disjoint(&wanted)).collect())
    })
}

/// `011-infisical-secrets-management.md` → `infisical-secrets-management`.
fn slug(name: &str) -> &str {
    let stem = name.strip_suffix(".md").unwrap_or(name);
    let unprefixed = if stem.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("adr")) { &stem[3..] } else { stem };
    unprefixed.trim_start_matches(['-', '_']).trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['-', '_', '.'])
}

/// The targets a broken reference would have once fixed: they count as the ADR's references.
fn meant_targets(meant: &Meant) -> impl Iterator<Item = Target> + '_ {
    let paths: &[String] = match meant {
        Meant::FromRoot(path) | Meant::Close(path) => std::slice::from_ref(path),
        Meant::Elsewhere(found) if found.len() == 1 => found,
        Meant::Elsewhere(_) | Meant::Nothing => &[],
    };
    paths.iter().map(|p| Target::Path { path: p.clone(), exists: true })
}

/// True when the sentence around `written` on the `i`-th line says it was removed or is still
/// to be created.
fn declared_absent(paragraphs: &[prose::Paragraph], i: usize, line: &TextLine, written: &str) -> bool {
    let Some(offset) = line.text.find(written) else { return false };
    let Some(paragraph) = prose::paragraph_of(paragraphs, i) else { return false };
    let at = paragraph.position(i, offset);
    let sentence = paragraph.sentence(at);
    let folded_at = fold(&paragraph.text[sentence.start..at]).len();
    declares_absent(&fold(&paragraph.text[sentence.clone()]), folded_at)
}

/// One finding per cause: all links written from the root, each moved folder, each dead
/// target, each missing path; the other places are listed with it.
fn report_broken(record: &Record, repo: &Repo, broken: &[Broken], out: &mut Findings) {
    let file = &record.path;
    let also = |items: &[&Broken]| -> Vec<Location> { items.iter().skip(1).map(|b| Location::at(file, b.line)).collect() };
    let from_root: Vec<&Broken> = broken.iter().filter(|b| matches!(b.meant, Meant::FromRoot(_))).collect();
    if let Some(first) = from_root.first() {
        out.push_also(file, first.line, Rule::BrokenLink, from_root_message(repo, &from_root), also(&from_root));
    }
    let mut groups: BTreeMap<(bool, String), Vec<&Broken>> = BTreeMap::new();
    for b in broken.iter().filter(|b| !matches!(b.meant, Meant::FromRoot(_))) {
        let key = match (&b.meant, b.is_link) {
            (Meant::Elsewhere(found), false) if found.len() == 1 => {
                let (old, new) = moved_prefixes(&b.path, &found[0]);
                format!("moved {old} {new}")
            }
            _ => b.path.clone(),
        };
        groups.entry((b.is_link, key)).or_default().push(b);
    }
    let mut ordered: Vec<Vec<&Broken>> = groups.into_values().collect();
    ordered.sort_by_key(|g| g[0].line);
    for group in ordered {
        let first = group[0];
        let (rule, message) =
            if first.is_link { (Rule::BrokenLink, dead_link_message(repo, first)) } else { (Rule::MissingPath, missing_path_message(repo, &group)) };
        out.push_also(file, first.line, rule, message, also(&group));
    }
}

fn from_root_message(repo: &Repo, links: &[&Broken]) -> String {
    let dir = repo.adr_dir();
    let up = "../".repeat(dir.split('/').filter(|p| !p.is_empty()).count());
    let targets: Vec<&str> = links
        .iter()
        .filter_map(|b| match &b.meant {
            Meant::FromRoot(path) => Some(path.as_str()),
            _ => None,
        })
        .collect();
    let example = targets.first().copied().unwrap_or_default();
    match links {
        [one] => format!(
            "link to `{}` is written from the repository root but resolves from {dir}/ ({} does not exist, {example} does): write it as `/{example}` or `{up}{example}`",
            one.written, one.path
        ),
        _ => format!(
            "{} links are written from the repository root but resolve from {dir}/ ({} exist from the root): write them as `/{example}` or `{up}{example}`",
            links.len(),
            targets.join(", ")
        ),
    }
}

fn dead_link_message(repo: &Repo, link: &Broken) -> String {
    let rooted = link.written.starts_with('/');
    let shown = if rooted { format!("/{}", link.path) } else { link.path.clone() };
    let read = if rooted { " (read from the repository root)" } else { "" };
    let name = link.path.rsplit('/').next().unwrap_or(&link.path);
    match &link.meant {
        Meant::Elsewhere(found) => {
            format!("link to `{}`{read}: {shown} does not exist; {}: fix the link", link.written, same_name_at(found))
        }
        Meant::Close(close) => format!("link to `{}`{read}: {shown} does not exist; did you mean {close}? fix the link", link.written),
        Meant::Nothing | Meant::FromRoot(_) => format!(
            "link to `{}`{read}: {shown} does not exist and {}: fix or remove the link (`git log --all --oneline -- {}` shows whether it ever existed)",
            link.written,
            elsewhere_note(repo, name),
            link.path
        ),
    }
}

fn missing_path_message(repo: &Repo, group: &[&Broken]) -> String {
    let first = group[0];
    let paths: BTreeSet<&str> = group.iter().map(|b| b.written.as_str()).collect();
    let lines: Vec<String> = group.iter().skip(1).map(|b| b.line.to_string()).collect();
    let elsewhere = if lines.is_empty() { String::new() } else { format!(" here and on line {}", lines.join(", ")) };
    match &first.meant {
        Meant::Elsewhere(found) if found.len() == 1 && paths.len() > 1 => {
            let (old, new) = moved_prefixes(&first.path, &found[0]);
            let listed: Vec<&str> = paths.into_iter().collect();
            format!("{old}/ seems to have become {new}/ ({} paths: {}): update them", listed.len(), listed.join(", "))
        }
        Meant::Elsewhere(found) => {
            let (old, new) = moved_prefixes(&first.path, &found[0]);
            let folder =
                if found.len() == 1 && !old.is_empty() && old != new { format!(" ({old}/ seems to have become {new}/)") } else { String::new() };
            format!("`{}` does not exist; {}{folder}: update the path{elsewhere}", first.written, same_name_at(found))
        }
        Meant::Close(close) => format!("`{}` does not exist; did you mean {close}? fix the path{elsewhere}", first.written),
        Meant::Nothing | Meant::FromRoot(_) => {
            let name = first.path.trim_end_matches('/').rsplit('/').next().unwrap_or(&first.path);
            let holds = folder_contents(repo, parent(first.path.trim_end_matches('/')));
            format!(
                "`{}` does not exist and {}{holds}: fix the path{elsewhere}, or say it is still to be created or was removed (`git log --all --oneline -- {}` shows its history)",
                first.written,
                elsewhere_note(repo, name),
                first.path
            )
        }
    }
}

fn same_name_at(found: &[String]) -> String {
    match found {
        [one] => format!("a file of the same name is at {one}"),
        _ => format!("files of the same name are at {}", found.join(", ")),
    }
}

/// "no file named x is in the repository", or where the files of that name are.
fn elsewhere_note(repo: &Repo, name: &str) -> String {
    match repo.named(name) {
        [] => format!("no file named {name} is in the repository"),
        [one] => format!("the only file named {name} is {one}"),
        many if many.len() <= 3 => format!("files named {name} are at {}", many.join(", ")),
        many => format!("{} files named {name} are in the repository ({}, ...)", many.len(), many[..3].join(", ")),
    }
}

/// ` (apps/00-infra/gateway/ holds gateway.yaml and httproutes/)` when the folder exists and is
/// small enough to list.
fn folder_contents(repo: &Repo, folder: &str) -> String {
    if folder.is_empty() || !repo.exists(folder) {
        return String::new();
    }
    let Ok(entries) = std::fs::read_dir(repo.root().join(folder)) else { return String::new() };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) { format!("{name}/") } else { name }
        })
        .collect();
    names.sort();
    match names.as_slice() {
        [] => format!(" ({folder}/ is empty)"),
        [one] => format!(" ({folder}/ holds {one})"),
        [init @ .., last] if names.len() <= 5 => format!(" ({folder}/ holds {} and {last})", init.join(", ")),
        _ => String::new(),
    }
}

/// The folders a moved file went between: `apps/monitoring/prometheus/values.yaml` and
/// `apps/02-monitoring/prometheus/values.yaml` → (`apps/monitoring`, `apps/02-monitoring`).
fn moved_prefixes(old: &str, new: &str) -> (String, String) {
    let old_parts: Vec<&str> = old.trim_end_matches('/').split('/').collect();
    let new_parts: Vec<&str> = new.trim_end_matches('/').split('/').collect();
    let shared = old_parts.iter().rev().zip(new_parts.iter().rev()).take_while(|(a, b)| a == b).count();
    (old_parts[..old_parts.len() - shared].join("/"), new_parts[..new_parts.len() - shared].join("/"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const GOOD: &str = "# ADR-001: Cache\n\n**Status:** Accepted\n\n## Context\n\nWhy, per [the spec](../spec.md).\n\n\
        ## Decision\n\nCache in `src/cache.rs`.\n\n## Consequences\n\n### Positive\n\nFast.\n\n### Negative\n\nStale.\n";

    fn check_text(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for file in ["docs/spec.md", "src/cache.rs", ".claude/agent.md", "renovate.json"] {
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
        assert_eq!(check_text(&text), ["13: consequences: the Consequences have Positive but no negative part: add a `### Negative` subsection"]);
    }

    #[test]
    fn labels_count_as_halves() {
        let text = GOOD.replace("### Positive\n\nFast.\n\n### Negative\n\nStale.\n", "- **Pros:** fast\n- **Cons:** stale\n");
        assert_eq!(check_text(&text), Vec::<String>::new());
        let text = GOOD.replace("### Positive\n\nFast.\n\n### Negative\n\nStale.\n", "- **Pros:** fast\n");
        assert_eq!(check_text(&text), ["13: consequences: the Consequences have no negative part: add a `### Negative` subsection"]);
        let text =
            GOOD.replace("## Consequences\n\n### Positive\n\nFast.\n\n### Negative", "## Trade-offs\n\n### Accepted\n\nFast.\n\n### Mitigations");
        assert_eq!(
            check_text(&text),
            ["13: consequences: the Trade-offs have Accepted and Mitigations but neither a positive nor a negative part: add `### Positive` and \
              `### Negative` subsections (or `**Pros:**` and `**Cons:**` labels)"]
        );
    }

    #[test]
    fn an_empty_section_is_reported_at_its_heading() {
        let text = GOOD.replace("Cache in `src/cache.rs`.", "<!-- what did we decide? -->\n\nSee src/cache.rs");
        assert_eq!(check_text(&text), Vec::<String>::new());
        let text = GOOD.replace("Cache in `src/cache.rs`.", "<!-- what did we decide? -->");
        assert_eq!(
            check_text(&text),
            [
                "9: section: the Decision section is empty: write what was decided under its heading",
                "1: implementation-reference: no reference to the implementation: name the path of a repository file outside the ADR folder \
                 that is not documentation (`terraform/modules/x/main.tf`), in the Decision"
            ]
        );
    }

    #[test]
    fn conflicting_and_unknown_statuses() {
        let text = GOOD.replace("**Status:** Accepted", "**Status:** Accepted\n\n## Statut\n\nRejeté");
        assert_eq!(check_text(&text), ["7: status: says Rejected here but Accepted on line 3: keep the status in force and remove the other"]);
        let text = GOOD.replace("**Status:** Accepted", "**Status:** Living");
        assert_eq!(
            check_text(&text),
            [
                "3: status: unknown status `Living`: write one of Proposed, Accepted, Deprecated, Superseded, Rejected, or map `Living` under `statuses:` in .config/adr.yaml"
            ]
        );
        let text = GOOD.replace("**Status:** Accepted", "**Status:** Acepted (2024-01-02)");
        assert!(check_text(&text)[0].starts_with("3: status: unknown status `Acepted`: write `Accepted`, or map"), "{:?}", check_text(&text));
        let text = GOOD.replace("**Status:** Accepted", "**Statut :** En cours");
        assert!(check_text(&text)[0].contains("write Proposé (encore en discussion) or Accepté (en vigueur)"), "{:?}", check_text(&text));
    }

    #[test]
    fn dead_links_and_paths_are_reported_once_each_with_what_was_meant() {
        let text = GOOD.replace("Fast.", "Fast, see [bench](../../bench/cache.rs) and src/cahce.rs, src/cahce.rs.");
        assert_eq!(
            check_text(&text),
            [
                "17: missing-path: `src/cahce.rs` does not exist; did you mean src/cache.rs? fix the path",
                "17: broken-link: link to `../../bench/cache.rs`: bench/cache.rs does not exist; a file of the same name is at src/cache.rs: fix the link",
            ]
        );
    }

    #[test]
    fn a_link_to_an_adr_renumbered_or_renamed_since_names_it() {
        let dir = tempfile::tempdir().unwrap();
        for file in
            ["docs/spec.md", "src/cache.rs", "docs/adr/011-infisical-secrets.md", "docs/adr/007-renovate.md", "docs/adr/008-add-status-field.md"]
        {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let repo = Repo::new(dir.path(), std::path::Path::new("docs/adr"));
        assert_eq!(same_number_adr(&repo, "docs/adr/007-infisical-secrets.md").as_deref(), Some("docs/adr/011-infisical-secrets.md"));
        assert_eq!(same_number_adr(&repo, "docs/adr/008-add-status.md").as_deref(), Some("docs/adr/008-add-status-field.md"));
        assert_eq!(same_number_adr(&repo, "docs/adr/007-secrets-rotation.md"), None, "007 is another decision");
        assert_eq!(slug("ADR-0007-x-y.md"), "x-y");
    }

    #[test]
    fn a_path_said_removed_or_still_to_be_created_is_not_missing() {
        for sentence in [
            "The old `src/lru.rs` was removed in the same change.",
            "L'ancien module `src/lru.rs` a été supprimé.",
            "Next step: create\n`src/lru.rs`, the eviction policy.",
            "Il faut créer `src/lru.rs` pour porter la règle.",
            "Suppression de `src/lru/` une fois migré.",
        ] {
            let text = GOOD.replace("Fast.", sentence);
            assert_eq!(check_text(&text), Vec::<String>::new(), "{sentence}");
        }
        let text = GOOD.replace("Fast.", "The cache moved from `src/lru.rs` to `src/lfu.rs`.");
        assert_eq!(check_text(&text).len(), 1, "the move's target must exist");
        assert!(check_text(&text)[0].contains("`src/lfu.rs` does not exist"));
    }

    #[test]
    fn links_written_from_the_root_are_one_finding_and_still_references() {
        let text = GOOD.replace("[the spec](../spec.md)", "[the spec](docs/spec.md)").replace("`src/cache.rs`", "[cache](src/cache.rs)");
        let found = check_text(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(
                "7: broken-link: 2 links are written from the repository root but resolve from docs/adr/ (docs/spec.md, src/cache.rs exist from the root): \
                 write them as `/docs/spec.md` or `../../docs/spec.md`"
            ),
            "{found:?}"
        );
        // A hidden folder at the root is written from the root too.
        let text = GOOD.replace("[the spec](../spec.md)", "[the agent](.claude/agent.md)");
        let found = check_text(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("7: broken-link: link to `.claude/agent.md` is written from the repository root"), "{found:?}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_adr_shaped_text_is_checked_without_panicking(
            text in "(# |## |### |- |\n|Décision finale : |Avantages|Inconvénients|Trade-offs|Good, because |`src/cahce.rs`|src/gone/x.rs|\\[l\\]\\(docs/spec\\.md\\)|\\[l\\]\\(/src/x\\.rs\\)|https://e\\.org/x|a été supprimé|Il faut créer |was removed|moved from |ADR-0[0-9] is superseded by this ADR|ne remplace pas|`renovate\\.json`|é|…|[a-z :;.,\n]){0,200}"
        ) {
            let _ = check_text(&text);
        }
    }

    #[test]
    fn a_bare_address_and_a_root_file_name_are_references() {
        let text = GOOD.replace("[the spec](../spec.md)", "https://example.org/spec").replace("`src/cache.rs`", "`renovate.json`");
        assert_eq!(check_text(&text), Vec::<String>::new());
        // A name the repository does not have is no reference, and never a missing path.
        let text = GOOD.replace("`src/cache.rs`", "`Cargo.toml`");
        assert_eq!(
            check_text(&text),
            ["1: implementation-reference: no reference to the implementation: name the path of a repository file outside the ADR folder \
              that is not documentation (`terraform/modules/x/main.tf`), in the Decision"]
        );
    }

    #[test]
    fn the_decision_may_carry_its_outcome_and_the_consequences_may_be_sections_of_their_own() {
        let text = GOOD.replace("## Decision", "## Décision finale : un cache");
        assert_eq!(check_text(&text), Vec::<String>::new());
        let text = GOOD.replace("## Consequences\n\n### Positive", "## Avantages").replace("### Negative", "## Inconvénients");
        assert_eq!(check_text(&text), Vec::<String>::new());
        let text = GOOD.replace("## Consequences\n\n### Positive", "## Avantages").replace("### Negative\n\nStale.\n", "");
        assert_eq!(
            check_text(&text),
            ["13: consequences: the consequences have `## Avantages` but no negative part: add `## Negative Consequences`"]
        );
        let text = GOOD.replace("### Positive\n\nFast.\n\n### Negative\n\nStale.\n", "* Good, because fast.\n* Bad, because stale.\n");
        assert_eq!(check_text(&text), Vec::<String>::new());
        // MADR 2: the two parts under the Decision Outcome.
        let text = GOOD
            .replace("## Decision\n", "## Decision Outcome\n")
            .replace("## Consequences\n\n### Positive", "### Positive Consequences")
            .replace("### Negative", "### Negative Consequences");
        assert_eq!(check_text(&text), Vec::<String>::new());
    }
}

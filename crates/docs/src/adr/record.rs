//! One ADR file, read: its number, title, date, status (from the places a status is declared),
//! sections, the ADRs it says it supersedes or is superseded by, and every ADR it mentions.
//!
//! Reading never fails: an odd file (not UTF-8, empty, too large, broken front matter) becomes
//! findings, and whatever could be read is kept for the other rules.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::diagnostic::Rule;
use super::markdown::{BlockKind, Markdown, TextLine};
use super::prose;
use super::vocabulary::{Field, SectionKind, Status, Vocabulary, fold, passive_claims, predecessor_verb_end};

/// ADR files larger than this are reported, not parsed: no decision record is 8 MiB long, and
/// a generated or binary file dropped in the folder should not stall the lint.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// `ADR-017`, `ADR 17`, `adr_0017`.
pub(crate) static ADR_MENTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\badr[\s_-]?0*(\d{1,9})\b").expect("valid regex"));
/// A bare number right after `by`/`par`: `Superseded by 17`.
static BY_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\b(?:by|par)\s+#?0*(\d{1,9})\b").expect("valid regex"));
/// The number a title starts with: `ADR-003: ...`, `3. ...` (adr-tools), `003 - ...`.
static TITLE_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*\[?(?:adr[\s_-]*0*(\d{1,9})\b|0*(\d{1,9})\s*([.:)\-–—]))").expect("valid regex"));
/// The number a file name starts with: `003-x.md`, `ADR-0003-x.md`, `0003_x.md`.
static FILE_NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^(?:adr[-_]?)?0*(\d{1,9})(?:[-_.\s]|$)").expect("valid regex"));

/// The number a file name starts with, if any.
#[must_use]
pub fn file_number(file_name: &str) -> Option<u32> {
    FILE_NUMBER.captures(file_name).and_then(|c| c[1].parse().ok())
}

/// How a status was declared: the suggestions of the messages are written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclForm {
    /// `status:` in the YAML front matter (MADR).
    FrontMatter,
    /// A `Status: X` field or a `| Status | X |` row, in the header or a Status section.
    Field,
    /// A line of a `## Status` section (adr-tools): the section's first line, the last row of
    /// a history table, or the last item of a history list.
    Section,
}

/// Where one declaration of the status was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDecl {
    /// Its line.
    pub line: usize,
    /// The value as written.
    pub raw: String,
    /// The value, normalised; `None` when no known word starts it.
    pub status: Option<Status>,
    /// How it was declared.
    pub form: DeclForm,
    /// The field name or the section heading as written (`Status`, `Statut`).
    pub key: String,
}

/// A reference to another ADR, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefTarget {
    /// By number (`ADR-017`).
    Number(u32),
    /// By link destination, relative to the ADR's folder.
    Link(String),
}

/// A reference to another ADR, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdrRef {
    /// Its line.
    pub line: usize,
    /// What it names.
    pub target: RefTarget,
}

/// A section found, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Which section.
    pub kind: SectionKind,
    /// Its heading's level.
    pub level: u8,
    /// Its heading's line.
    pub line: usize,
    /// Its body's byte range.
    pub body: Range<usize>,
}

/// A problem found while reading, before any rule ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadProblem {
    /// Its line.
    pub line: usize,
    /// The rule (encoding, unreadable, empty, front-matter).
    pub rule: Rule,
    /// What is wrong.
    pub message: String,
}

/// One ADR file, read.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// The file, relative to the repository, `/`-separated.
    pub path: String,
    /// The file name without `.md`: the trial is `adr::<stem>`.
    pub stem: String,
    /// The number its file name starts with.
    pub file_number: Option<u32>,
    /// Problems found while reading.
    pub problems: Vec<ReadProblem>,
    /// False when the file could not be read at all (too large, empty): no rule looks further.
    pub readable: bool,
    /// The Markdown, reduced.
    pub markdown: Markdown,
    /// The title and its line.
    pub title: Option<(String, usize)>,
    /// The number the title starts with.
    pub title_number: Option<u32>,
    /// The date of the decision, as written in a `Date:` field or the front matter.
    pub date: Option<String>,
    /// Every status declaration, in file order.
    pub statuses: Vec<StatusDecl>,
    /// Sections found, in file order.
    pub sections: Vec<Section>,
    /// The ADRs it names as its successors.
    pub successors: Vec<AdrRef>,
    /// The ADRs it says it supersedes: in a `Supersedes:` field or the front matter, after a
    /// verb ("This ADR supersedes ADR-3"), or in a passive sentence ("ADR-3 is superseded by
    /// this ADR").
    pub predecessors: Vec<AdrRef>,
    /// Links that name an ADR in a supersession statement: the supersession rules judge them,
    /// so the broken-link rule leaves them alone.
    pub relation_links: Vec<(usize, String)>,
    /// Every ADR it mentions anywhere: `ADR-N`, and relative links to Markdown files.
    pub mentions: Vec<AdrRef>,
    /// True when a `Supersedes:` field (or `supersedes:` in the front matter) names the ADRs
    /// it replaces.
    pub supersedes_field: bool,
}

#[derive(Deserialize, Default)]
struct FrontMatter {
    #[serde(default)]
    status: Option<Spanned<String>>,
    #[serde(default)]
    title: Option<Spanned<String>>,
    #[serde(default)]
    date: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    supersedes: Option<Spanned<serde_json::Value>>,
    #[serde(default, alias = "superseded_by", rename = "superseded-by")]
    superseded_by: Option<Spanned<serde_json::Value>>,
}

impl Record {
    /// Reads an ADR from its bytes; `path` is repository-relative.
    #[must_use]
    pub fn read(path: &str, bytes: &[u8], words: &Vocabulary) -> Self {
        let mut record = Self::named(path);
        if bytes.len() > MAX_BYTES {
            record.problem(1, Rule::Unreadable, format!("is {} MiB; an ADR over {} MiB is not read", bytes.len() >> 20, MAX_BYTES >> 20));
            return record;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(e) => {
                let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
                record.problem(line, Rule::Encoding, "is not valid UTF-8 (checked with the bad bytes replaced): save it as UTF-8");
                String::from_utf8_lossy(bytes)
            }
        };
        if text.trim().is_empty() {
            record.problem(1, Rule::Empty, "is empty: write the decision, or delete the file");
            return record;
        }
        record.readable = true;
        record.markdown = Markdown::parse(&text);
        let front = record.front_matter();
        record.title = record.markdown.headings.iter().find(|h| h.level == 1).map(|h| (h.text.clone(), h.line));
        if record.title.is_none() {
            record.title = front.title.as_ref().map(|t| (t.value.clone(), t.referenced.line() as usize + record.front_line() - 1));
        }
        record.title_number = record.title.as_ref().and_then(|(t, _)| title_number(t));
        record.date = front.date.as_ref().map(|d| json_text(&d.value));
        record.read_sections(words);
        record.read_front_matter_relations(&front, words);
        record.read_statuses(words);
        record.read_predecessors_in_prose();
        record.read_mentions();
        record.statuses.sort_by_key(|d| d.line);
        record
    }

    /// A file that could not be read at all.
    #[must_use]
    pub fn unreadable(path: &str, error: &std::io::Error) -> Self {
        let mut record = Self::named(path);
        record.problem(1, Rule::Unreadable, format!("cannot be read: {error}"));
        record
    }

    fn named(path: &str) -> Self {
        let name = path.rsplit('/').next().unwrap_or(path);
        let stem = name.strip_suffix(".md").or_else(|| name.strip_suffix(".markdown")).unwrap_or(name).to_owned();
        Self { path: path.to_owned(), file_number: file_number(name), stem, ..Self::default() }
    }

    fn problem(&mut self, line: usize, rule: Rule, message: impl Into<String>) {
        self.problems.push(ReadProblem { line, rule, message: message.into() });
    }

    /// The line the front matter's YAML starts on.
    fn front_line(&self) -> usize {
        self.markdown.front_matter.as_ref().map_or(1, |(_, line)| *line)
    }

    fn front_matter(&mut self) -> FrontMatter {
        let Some((yaml, first)) = self.markdown.front_matter.clone() else { return FrontMatter::default() };
        if yaml.trim().is_empty() {
            return FrontMatter::default();
        }
        match serde_saphyr::from_str::<FrontMatter>(&yaml) {
            Ok(front) => front,
            Err(e) => {
                let line = e.location().map_or(first, |l| first + (l.line() as usize).saturating_sub(1));
                let message = super::config::yaml_message(&e);
                self.problem(line, Rule::FrontMatter, format!("the front matter is not valid YAML: {message}: fix it, or remove the front matter"));
                FrontMatter::default()
            }
        }
    }

    /// The current status: Superseded when any declaration says so, else the first known value.
    #[must_use]
    pub fn status(&self) -> Option<Status> {
        // adr-tools keeps "Accepted" above the "Superceded by" line it adds: Superseded wins.
        if self.statuses.iter().any(|d| d.status == Some(Status::Superseded)) {
            return Some(Status::Superseded);
        }
        self.statuses.iter().find_map(|d| d.status)
    }

    /// The declaration that gives the current status.
    #[must_use]
    pub fn status_decl(&self) -> Option<&StatusDecl> {
        let status = self.status()?;
        self.statuses.iter().find(|d| d.status == Some(status))
    }

    /// The line of the first status declaration, else of the title, else 1.
    #[must_use]
    pub fn status_line(&self) -> usize {
        self.statuses.first().map_or_else(|| self.title_line(), |d| d.line)
    }

    /// The line of the title, else 1.
    #[must_use]
    pub fn title_line(&self) -> usize {
        self.title.as_ref().map_or(1, |t| t.1)
    }

    /// The first section of `kind`.
    #[must_use]
    pub fn section(&self, kind: SectionKind) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    /// True when the ADR is written in French (its status field, or its section headings), so
    /// that suggestions are written in its language.
    #[must_use]
    pub fn is_french(&self) -> bool {
        if let Some(decl) = self.statuses.first().filter(|d| d.form != DeclForm::FrontMatter) {
            return matches!(fold(decl.key.trim()).as_str(), "statut" | "etat");
        }
        self.markdown.headings.iter().any(|h| ["Contexte", "Décision", "Conséquences"].iter().any(|w| h.text.contains(w)))
    }

    /// Sections by heading. A heading that carries its value (`## Status: Accepted`) is a
    /// declaration, not a section.
    fn read_sections(&mut self, words: &Vocabulary) {
        let title_line = self.title.as_ref().map(|t| t.1);
        let headings = self.markdown.headings.clone();
        for h in headings.iter().filter(|h| h.level > 1 || Some(h.line) != title_line) {
            if let Some((key, value)) = h.text.split_once(':')
                && words.field(key) == Some(Field::Status)
                && !value.trim().is_empty()
            {
                self.declare(h.line, value.trim(), DeclForm::Field, key, words);
                continue;
            }
            if let Some(kind) = words.section(&h.text) {
                self.sections.push(Section { kind, level: h.level, line: h.line, body: h.body.clone() });
            }
        }
    }

    fn read_front_matter_relations(&mut self, front: &FrontMatter, words: &Vocabulary) {
        let first = self.front_line();
        let line_of = |at: &serde_saphyr::Location| first + (at.line() as usize).saturating_sub(1);
        if let Some(status) = &front.status {
            let line = line_of(&status.referenced);
            self.declare(line, &status.value, DeclForm::FrontMatter, "status", words);
            if words.status(&status.value) == Some(Status::Superseded) {
                self.successors.extend(refs_in_text(&status.value, line, true));
            }
        }
        for (value, successor) in [(&front.superseded_by, true), (&front.supersedes, false)] {
            let Some(value) = value else { continue };
            let line = line_of(&value.referenced);
            let texts: Vec<String> = match &value.value {
                serde_json::Value::Array(items) => items.iter().map(json_text).collect(),
                other => vec![json_text(other)],
            };
            for text in texts {
                let refs = refs_in_text(&text, line, true);
                if successor {
                    self.successors.extend(refs);
                } else {
                    self.supersedes_field = true;
                    self.predecessors.extend(refs);
                }
            }
        }
    }

    /// The status is declared in the front matter, in the header (the lines before the first
    /// `##` section), or in a Status section. A `**Status:**` label further down describes
    /// something else (an option that was considered), and is read only when the ADR declares
    /// its status nowhere else.
    fn read_statuses(&mut self, words: &Vocabulary) {
        let first_section = self.markdown.headings.iter().find(|h| h.level > 1).map_or(usize::MAX, |h| h.body.start);
        let status_sections: Vec<Section> = self.sections.iter().filter(|s| s.kind == SectionKind::Status).cloned().collect();
        let lines = std::mem::take(&mut self.markdown.lines);
        let in_status_section = |line: &TextLine| status_sections.iter().any(|s| s.body.contains(&line.offset));
        for line in lines.iter().filter(|l| l.kind != BlockKind::Heading && l.offset < first_section && !in_status_section(l)) {
            self.header_field(line, words);
        }
        for section in &status_sections {
            let body: Vec<&TextLine> =
                lines.iter().filter(|l| section.body.contains(&l.offset) && l.kind != BlockKind::Heading && !l.text.trim().is_empty()).collect();
            self.status_section(section, &body, words);
        }
        if self.statuses.is_empty() {
            // Declared nowhere else: a bold field or a metadata table row further down (under a
            // `## Metadata` heading), else a plain `Status:` line.
            let is_status = |l: &&TextLine| matches!(field_of(l, words), Some((Field::Status, _)));
            let marked = lines.iter().filter(|l| l.starts_emphasised || l.kind == BlockKind::TableRow).find(is_status);
            if let Some(line) = marked.or_else(|| lines.iter().filter(|l| l.kind != BlockKind::Heading).find(is_status)) {
                self.header_field(line, words);
            }
        }
        self.markdown.lines = lines;
    }

    /// A field of the header: the status, a successor, the date.
    fn header_field(&mut self, line: &TextLine, words: &Vocabulary) {
        let Some((field, value_at)) = field_of(line, words) else { return };
        let value = line.text[value_at..].trim();
        let key = field_key(line, value_at);
        match field {
            Field::Status => self.status_field(line, value, value_at, &key, DeclForm::Field, words),
            Field::SupersededBy => self.successors_on(line, value_at),
            Field::Date => {
                if self.date.is_none() && !value.is_empty() {
                    self.date = Some(value.to_owned());
                }
            }
            Field::Supersedes => self.supersedes_field = true,
        }
    }

    /// A Status section: its fields, else a history (a table with a Status column, or a list
    /// of dated statuses) whose latest entry is the status, else its first line (and
    /// adr-tools' `Superceded by` line under it).
    fn status_section(&mut self, section: &Section, body: &[&TextLine], words: &Vocabulary) {
        let heading = self.markdown.headings.iter().find(|h| h.line == section.line).map(|h| h.text.clone()).unwrap_or_default();
        if body.iter().any(|l| matches!(field_of(l, words), Some((Field::Status | Field::SupersededBy, _)))) {
            for line in body {
                self.header_field(line, words);
            }
            return;
        }
        let Some(first) = body.first() else {
            self.statuses.push(StatusDecl { line: section.line, raw: String::new(), status: None, form: DeclForm::Section, key: heading });
            return;
        };
        if let Some((line, value)) = history_table(body, words).or_else(|| history_list(body, words)) {
            self.declare(line, &value, DeclForm::Section, &heading, words);
            if words.status(&value) == Some(Status::Superseded) {
                self.successors.extend(refs_in_text(&value, line, false));
            }
            return;
        }
        self.status_field(first, first.text.trim(), 0, &heading, DeclForm::Section, words);
        for line in &body[1..] {
            // adr-tools adds "Superceded by [...]" under the old status line.
            if words.status(&line.text) == Some(Status::Superseded) {
                self.status_field(line, line.text.trim(), 0, &heading, DeclForm::Section, words);
            }
        }
    }

    fn declare(&mut self, line: usize, value: &str, form: DeclForm, key: &str, words: &Vocabulary) {
        let status = words.status(value);
        self.statuses.push(StatusDecl { line, raw: value.to_owned(), status, form, key: key.trim().to_owned() });
    }

    fn status_field(&mut self, line: &TextLine, value: &str, value_at: usize, key: &str, form: DeclForm, words: &Vocabulary) {
        self.declare(line.line, value, form, key, words);
        if words.status(value) == Some(Status::Superseded) {
            self.successors_on(line, value_at);
        }
    }

    /// ADR references from byte `from` of `line` on, as successors.
    fn successors_on(&mut self, line: &TextLine, from: usize) {
        let refs = refs_on_line(line, from, line.text.len());
        self.relation_links.extend(relation_links(line, from, line.text.len()));
        self.successors.extend(refs);
    }

    /// `Supersedes [ADR-3](003-x.md)`, `Cet ADR remplace l'ADR-003`, `**Supersedes:** ADR-3`:
    /// the ADRs named after the verb, up to the end of the sentence. Then the passive form,
    /// across the lines of a paragraph: "The cache of ADR-028 is superseded by this decision".
    fn read_predecessors_in_prose(&mut self) {
        let lines = std::mem::take(&mut self.markdown.lines);
        for line in &lines {
            let folded = fold(&line.text);
            let Some(end) = predecessor_verb_end(&folded) else { continue };
            let chars = folded[..end].chars().count();
            let from = line.text.char_indices().nth(chars).map_or(line.text.len(), |(i, _)| i);
            let to = sentence_end(&line.text, from);
            self.predecessors.extend(refs_on_line(line, from, to));
            self.relation_links.extend(relation_links(line, from, to));
        }
        for paragraph in prose::paragraphs(&lines) {
            for sentence in paragraph.sentences() {
                let text = &paragraph.text[sentence.clone()];
                let folded = fold(text);
                for claim in passive_claims(&folded) {
                    let before = folded[..claim].chars().count();
                    let claim_at = text.char_indices().nth(before).map_or(text.len(), |(i, _)| i);
                    if let Some((at, target)) = last_adr_reference(&paragraph, &lines, sentence.start, sentence.start + claim_at) {
                        let (i, _) = paragraph.locate(at);
                        if let RefTarget::Link(dest) = &target {
                            self.relation_links.push((lines[i].line, dest.clone()));
                        }
                        self.predecessors.push(AdrRef { line: lines[i].line, target });
                    }
                }
            }
        }
        self.markdown.lines = lines;
    }

    /// Every `ADR-N` and every relative link to a Markdown file: any of them names an ADR the
    /// supersession rules may look for.
    fn read_mentions(&mut self) {
        for line in &self.markdown.lines {
            for link in line.links.iter().filter(|l| is_relative(&l.dest)) {
                let path = link.dest.split(['#', '?']).next().unwrap_or_default();
                if path.ends_with(".md") || path.ends_with(".markdown") {
                    self.mentions.push(AdrRef { line: line.line, target: RefTarget::Link(link.dest.clone()) });
                }
            }
            for captures in ADR_MENTION.captures_iter(&line.text) {
                if let Ok(n) = captures[1].parse() {
                    self.mentions.push(AdrRef { line: line.line, target: RefTarget::Number(n) });
                }
            }
        }
    }
}

/// The last ADR a paragraph names before byte `before` of its text, from byte `from` on: a
/// relative link (by its destination) or an `ADR-N`, with its position.
fn last_adr_reference(paragraph: &prose::Paragraph, lines: &[TextLine], from: usize, before: usize) -> Option<(usize, RefTarget)> {
    let mut found: Option<(usize, RefTarget)> = None;
    for captures in ADR_MENTION.captures_iter(&paragraph.text[from..before]) {
        if let (Some(whole), Ok(n)) = (captures.get(0), captures[1].parse()) {
            found = Some((from + whole.start(), RefTarget::Number(n)));
        }
    }
    let mut i = paragraph.first;
    while paragraph.holds(i) && i < lines.len() {
        for link in lines[i].links.iter().filter(|l| is_relative(&l.dest)) {
            let at = paragraph.position(i, link.text.start);
            if (from..before).contains(&at) && found.as_ref().is_none_or(|(f, _)| at >= *f) {
                found = Some((at, RefTarget::Link(link.dest.clone())));
            }
        }
        i += 1;
    }
    found
}

/// A history table: a header with a Status column, then one row per change. The status is
/// that column in the last row that fills it.
fn history_table(body: &[&TextLine], words: &Vocabulary) -> Option<(usize, String)> {
    let header = body.first().filter(|l| l.kind == BlockKind::TableRow && l.header)?;
    let column = header.cells.iter().position(|c| words.field(c) == Some(Field::Status))?;
    body[1..]
        .iter()
        .take_while(|l| l.kind == BlockKind::TableRow)
        .filter_map(|row| row.cells.get(column).map(|c| (row.line, c.trim().to_owned())))
        .filter(|(_, cell)| !cell.is_empty())
        .last()
}

/// A history list: items that each start with a status (`- Proposé le 2024-09-30`,
/// `- Accepted 2024-10-07`). The status is the last item not struck through.
fn history_list(body: &[&TextLine], words: &Vocabulary) -> Option<(usize, String)> {
    let items: Vec<&&TextLine> = body.iter().take_while(|l| l.kind == BlockKind::Item).filter(|l| l.block_start).collect();
    if items.len() < 2 || !items.iter().all(|l| words.status(&l.text).is_some()) {
        return None;
    }
    items.iter().rev().find(|l| !l.starts_struck).map(|l| (l.line, l.text.trim().to_owned()))
}

/// The field a line declares, and where its value starts: `Status: X` (the key may be bold),
/// or a table row whose first cell is the key.
fn field_of(line: &TextLine, words: &Vocabulary) -> Option<(Field, usize)> {
    if line.kind == BlockKind::TableRow {
        let key = line.cells.first()?;
        let field = words.field(key)?;
        return Some((field, line.text.find(" | ").map_or(line.text.len(), |i| i + 3)));
    }
    let colon = line.text.find(':')?;
    let key = &line.text[..colon];
    if key.chars().count() > 40 {
        return None;
    }
    words.field(key).map(|field| (field, colon + 1))
}

/// The field's name as written, before its value.
fn field_key(line: &TextLine, value_at: usize) -> String {
    let key = if line.kind == BlockKind::TableRow { line.cells.first().map_or("", String::as_str) } else { &line.text[..value_at] };
    key.trim().trim_end_matches(['|', ':']).trim().to_owned()
}

/// Where the sentence that starts at `from` ends: the first `. ` or `;` after it.
fn sentence_end(text: &str, from: usize) -> usize {
    let rest = &text[from..];
    let stops = [rest.find(". "), rest.find(';')];
    from + stops.into_iter().flatten().min().unwrap_or(rest.len())
}

/// ADR references in `line.text[from..to]`: its links if it has any, else `ADR-N` mentions,
/// else a bare number right after `by`.
fn refs_on_line(line: &TextLine, from: usize, to: usize) -> Vec<AdrRef> {
    let links: Vec<AdrRef> = line
        .links
        .iter()
        .filter(|l| l.text.start >= from && l.text.start < to.max(from + 1) && is_relative(&l.dest))
        .map(|l| AdrRef { line: line.line, target: RefTarget::Link(l.dest.clone()) })
        .collect();
    if !links.is_empty() {
        return links;
    }
    refs_in_text(&line.text[from..to], line.line, from == 0 || line.text[..from].trim_end().ends_with(':'))
}

fn relation_links(line: &TextLine, from: usize, to: usize) -> Vec<(usize, String)> {
    line.links
        .iter()
        .filter(|l| l.text.start >= from && l.text.start < to.max(from + 1) && is_relative(&l.dest))
        .map(|l| (line.line, l.dest.clone()))
        .collect()
}

/// ADR references in plain text: `ADR-N` mentions, else a bare number after `by`/`par` (or a
/// bare number alone, for a value that is only a reference, such as front matter `supersedes: 3`).
fn refs_in_text(text: &str, line: usize, bare_value: bool) -> Vec<AdrRef> {
    let mut numbers: Vec<u32> = ADR_MENTION.captures_iter(text).filter_map(|c| c[1].parse().ok()).collect();
    if numbers.is_empty() {
        numbers = BY_NUMBER.captures_iter(text).filter_map(|c| c[1].parse().ok()).collect();
    }
    if numbers.is_empty() && bare_value {
        let trimmed = text.trim().trim_start_matches('#');
        if let Ok(n) = trimmed.trim_start_matches('0').parse::<u32>() {
            numbers.push(n);
        } else if trimmed.ends_with(".md") && !trimmed.contains(char::is_whitespace) {
            return vec![AdrRef { line, target: RefTarget::Link(trimmed.to_owned()) }];
        }
    }
    numbers.dedup();
    numbers.into_iter().map(|n| AdrRef { line, target: RefTarget::Number(n) }).collect()
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// True for a link into the repository (not a URL, not an anchor).
#[must_use]
pub fn is_relative(dest: &str) -> bool {
    !dest.is_empty() && !dest.starts_with('#') && !has_scheme(dest)
}

/// True for `https:`, `mailto:` and the like.
#[must_use]
pub fn has_scheme(dest: &str) -> bool {
    let Some(colon) = dest.find(':') else { return false };
    let scheme = &dest[..colon];
    scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The number a title starts with. A number joined to another by a dash is not one: `3-2-1
/// backups` names the backup rule.
fn title_number(title: &str) -> Option<u32> {
    let captures = TITLE_NUMBER.captures(title)?;
    if let Some(separator) = captures.get(3) {
        let joined = matches!(separator.as_str(), "-" | "–" | "—") && title[separator.end()..].starts_with(|c: char| c.is_ascii_digit());
        if joined {
            return None;
        }
    }
    captures.get(1).or_else(|| captures.get(2)).and_then(|m| m.as_str().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Record {
        Record::read("docs/adr/003-cache.md", text.as_bytes(), &Vocabulary::default())
    }

    fn statuses(record: &Record) -> Vec<(usize, Option<Status>)> {
        record.statuses.iter().map(|d| (d.line, d.status)).collect()
    }

    #[test]
    fn file_and_title_numbers_in_every_usual_form() {
        assert_eq!(file_number("003-cache.md"), Some(3));
        assert_eq!(file_number("ADR-0003-cache.md"), Some(3));
        assert_eq!(file_number("0003_cache.md"), Some(3));
        assert_eq!(file_number("cache.md"), None);
        assert_eq!(title_number("ADR-003: Cache"), Some(3));
        assert_eq!(title_number("3. Cache"), Some(3));
        assert_eq!(title_number("[ADR 12] Cache"), Some(12));
        assert_eq!(title_number("003 - Cache"), Some(3));
        assert_eq!(title_number("Cache everything"), None);
        assert_eq!(title_number("3D printing"), None);
        assert_eq!(title_number("3-2-1 backups for the NAS volumes"), None);
        assert_eq!(title_number("3-2-1 : copie hors site"), None);
        assert_eq!(title_number("ADR-012 : Renovate"), Some(12));
    }

    #[test]
    fn bold_status_fields_in_both_spellings() {
        let r = read("# ADR-003: Cache\n\n**Date:** 2024-01-01\n**Status:** Accepted\n\n## Context\n");
        assert_eq!(statuses(&r), [(4, Some(Status::Accepted))]);
        let r = read("# ADR-003: Cache\n\n**Status**: Active\n");
        assert_eq!(statuses(&r), [(3, Some(Status::Accepted))]);
    }

    #[test]
    fn a_french_status_section() {
        let r = read("# 003 Cache\n\n## Statut\n\nAccepté\n\n## Contexte\n\nPourquoi.\n");
        assert_eq!(statuses(&r), [(5, Some(Status::Accepted))]);
    }

    #[test]
    fn madr_front_matter_with_its_successor() {
        let r = read("---\nstatus: superseded by ADR-0005\ndate: 2024-01-01\n---\n# Cache\n");
        assert_eq!(statuses(&r), [(2, Some(Status::Superseded))]);
        assert_eq!(r.successors, [AdrRef { line: 2, target: RefTarget::Number(5) }]);
    }

    #[test]
    fn adr_tools_status_section_with_superceded_by() {
        let r = read("# 3. Cache\n\n## Status\n\nAccepted\n\nSuperceded by [5. Redis](0005-redis.md)\n");
        assert_eq!(statuses(&r), [(5, Some(Status::Accepted)), (7, Some(Status::Superseded))]);
        assert_eq!(r.successors, [AdrRef { line: 7, target: RefTarget::Link("0005-redis.md".into()) }]);
        assert_eq!(r.relation_links, [(7, "0005-redis.md".to_owned())]);
    }

    #[test]
    fn supersedes_in_a_field_in_prose_and_in_french() {
        let r = read(
            "# ADR-007: Redis\n\n**Supersedes:** [ADR-003](003-cache.md)\n\n## Context\n\nThis ADR supersedes ADR-2 and ADR-1. It is not about ADR-9.\n\nCet ADR remplace l'ADR-004.\n",
        );
        let targets: Vec<RefTarget> = r.predecessors.iter().map(|p| p.target.clone()).collect();
        assert_eq!(targets, [RefTarget::Link("003-cache.md".into()), RefTarget::Number(2), RefTarget::Number(1), RefTarget::Number(4)]);
    }

    #[test]
    fn a_status_history_table_gives_its_last_row() {
        let r = read(
            "# ADR-003: Cache\n\n## Status\n\n| Date | Status |\n|---|---|\n| 2024-01-01 | Proposed |\n| 2024-02-01 | Accepted |\n\n## Context\n",
        );
        assert_eq!(statuses(&r), [(8, Some(Status::Accepted))]);
    }

    #[test]
    fn a_status_history_list_gives_its_last_item_not_struck() {
        let r = read("# ADR-003 : Cache\n\n## Statut\n\n- Proposé le 2024-09-30\n- Accepté le 2024-10-07\n\n## Contexte\n");
        assert_eq!(statuses(&r), [(6, Some(Status::Accepted))]);
        assert!(r.is_french());
        let r = read("# ADR-003: Cache\n\n## Status\n\n- Proposed\n- ~~Accepted~~\n");
        assert_eq!(statuses(&r), [(5, Some(Status::Proposed))]);
    }

    #[test]
    fn a_status_label_in_the_body_describes_something_else() {
        let r = read("# ADR-003: Cache\n\n**Status:** Accepted\n\n## Considered Options\n\n- **Status:** deprecated upstream\n");
        assert_eq!(statuses(&r), [(3, Some(Status::Accepted))]);
        // ... unless the ADR declares its status nowhere else.
        let r = read("# ADR-003: Cache\n\n## Context\n\n**Status:** Accepted\n");
        assert_eq!(statuses(&r), [(5, Some(Status::Accepted))]);
        let r = read("# ADR-003: Cache\n\n## Metadata\n\n| Field | Value |\n|---|---|\n| Status | Accepted |\n");
        assert_eq!(statuses(&r), [(7, Some(Status::Accepted))]);
        let r = read("# ADR-003: Cache\n\n## Status: Accepted\n\n## Context\n");
        assert_eq!((statuses(&r), r.section(SectionKind::Status)), (vec![(3, Some(Status::Accepted))], None));
    }

    #[test]
    fn passive_sentences_name_a_predecessor_across_lines() {
        let r = read(
            "# ADR-024: Sets\n\n**Status:** Accepted\n\n## Decision\n\nThe root Application of\nADR-005 is superseded by this ADR; ADR-014 is not superseded by this ADR.\n",
        );
        assert_eq!(r.predecessors, [AdrRef { line: 8, target: RefTarget::Number(5) }]);
        let r = read("# ADR-036 : Cache\n\n**Statut :** Accepté\n\nLe cache de l'ADR-035 est remplacé par cette décision.\n");
        assert_eq!(r.predecessors, [AdrRef { line: 5, target: RefTarget::Number(35) }]);
    }

    #[test]
    fn every_mention_of_an_adr_is_kept_with_the_date() {
        let r =
            read("# ADR-014: Gateway\n\n**Date:** 2024-07-01\n**Status:** Accepted\n\n## References\n\n- [ADR-006](006-traefik.md): the ingress\n");
        assert_eq!(r.date.as_deref(), Some("2024-07-01"));
        let targets: Vec<&RefTarget> = r.mentions.iter().map(|m| &m.target).collect();
        assert_eq!(targets, [&RefTarget::Number(14), &RefTarget::Link("006-traefik.md".into()), &RefTarget::Number(6)]);
    }

    #[test]
    fn a_status_word_in_prose_is_not_a_status() {
        let r = read("# ADR-003: Cache\n\n**Status:** Accepted\n\n## Context\n\nStatus: the cluster is flaky.\n");
        assert_eq!(statuses(&r), [(3, Some(Status::Accepted))]);
    }

    #[test]
    fn a_file_over_the_limit_is_reported_not_parsed() {
        let huge = vec![b'a'; MAX_BYTES + 1];
        let r = Record::read("docs/adr/003-x.md", &huge, &Vocabulary::default());
        assert_eq!((r.problems[0].rule, r.readable), (Rule::Unreadable, false));
        assert_eq!(r.problems[0].message, "is 8 MiB; an ADR over 8 MiB is not read");
    }

    #[test]
    fn a_large_file_under_the_limit_is_read_with_its_lines() {
        let mut text = String::from("# ADR-003: Big\n\n**Status:** Accepted\n\n## Context\n\n");
        while text.len() < 4 * 1024 * 1024 {
            text.push_str("- a line of context with `src/cache.rs` and [a link](../spec.md)\n");
        }
        text.push_str("\n## Decision\n\nDone.\n");
        let r = read(&text);
        assert_eq!(r.status(), Some(Status::Accepted));
        let decision = r.section(SectionKind::Decision).unwrap();
        assert_eq!(decision.line, text.lines().count() - 2);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let r = Record::read("docs/adr/003-x.md", &bytes, &Vocabulary::default());
            let lines = 2 + bytes.iter().filter(|&&b| b == b'\n').count();
            for problem in &r.problems {
                proptest::prop_assert!(problem.line >= 1 && problem.line <= lines);
            }
            for decl in &r.statuses {
                proptest::prop_assert!(decl.line >= 1 && decl.line <= lines);
            }
        }

        #[test]
        fn adr_shaped_text_is_read_without_panicking(
            text in "(# |## |### |\\*\\*Status:\\*\\* |## Statut\n|- |  |\\| |---\n|~~~\n|```\n|\\[ADR-1\\]\\(001-a\\.md\\)|Superseded by ADR-[0-9]|Remplacé par |supersedes |remplace |<!-- |-->|Accepté|Context|Décision|Consequences|Positive|Cons:|\\*\\*|`|src/a\\.rs|\\.\\./|[a-zé :;.,\r\n]){0,300}"
        ) {
            let r = read(&text);
            let lines = 2 + text.matches('\n').count();
            for line in r.statuses.iter().map(|d| d.line).chain(r.sections.iter().map(|s| s.line)).chain(r.successors.iter().map(|s| s.line)) {
                proptest::prop_assert!(line >= 1 && line <= lines, "line {} of {}", line, lines);
            }
        }
    }

    #[test]
    fn odd_files_become_problems_not_panics() {
        let r = Record::read("docs/adr/003-x.md", b"# T\n\n\xff\xfe", &Vocabulary::default());
        assert_eq!(r.problems[0].rule, Rule::Encoding);
        assert_eq!(r.problems[0].line, 3);
        let r = read("  \n\n");
        assert_eq!((r.problems[0].rule, r.readable), (Rule::Empty, false));
        let r = read("---\nstatus: [unclosed\n---\n# T\n");
        assert_eq!(r.problems[0].rule, Rule::FrontMatter);
    }
}

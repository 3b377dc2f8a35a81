//! The indexes: files of the ADR folder that list ADRs (a README table, a `000-index.md`
//! grouped under status headings) must list every ADR, each with its current status, and link
//! only to files that exist.
//!
//! An entry is read the way a person reads it: in a table, the key column (the first, or the
//! one headed `ADR`, `#`, `N°`) says which ADR the row is about, and a link in another cell is a
//! relation (`Superseded by [ADR-014](...)`); in a list, the first ADR of the item is the entry
//! and what follows `→` names its successor; in a paragraph, every ADR linked is listed. An
//! entry's status is its own word, else the status its section heading names (`## Actives`,
//! `## Historical / Superseded`).
//!
//! Findings are grouped by cause: one per index for the ADRs it misses, one per ADR listed
//! with the wrong status (naming every index that does), one per dead link. A file that lists
//! no ADR at all (a README that only explains the process) is not an index and is left alone.

use std::collections::BTreeMap;

use super::catalog::{Catalog, Resolved};
use super::diagnostic::{Findings, Location, Rule};
use super::markdown::{BlockKind, Link, Markdown, TextLine};
use super::record::{ADR_MENTION, file_number, is_relative};
use super::references::{Repo, Target};
use super::rules::spelled;
use super::vocabulary::{Status, Vocabulary, fold};

/// Table headers that name the key column.
const KEY_HEADERS: &[&str] = &["adr", "#", "n°", "no", "nr", "num", "numero", "number", "id", "ref"];

/// One index file, read.
#[derive(Debug, Clone)]
pub(crate) struct IndexFile {
    /// Repository-relative path.
    pub(crate) path: String,
    /// Its entries, in file order.
    pub(crate) entries: Vec<Entry>,
    /// Relative links to files that do not exist.
    dead: Vec<DeadLink>,
    /// Entries that name an ADR number no file has: (line, number).
    unknown: Vec<(usize, u32)>,
    /// Written in French (for the section names it suggests).
    french: bool,
    /// The entries are table rows.
    table: bool,
}

/// One entry: an ADR listed on one line.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) line: usize,
    /// The ADR listed (a dead link to a file of the same number counts as listing it).
    pub(crate) adr: Option<usize>,
    /// The number the entry writes (`014`, `ADR-014`).
    pub(crate) label: Option<u32>,
    /// Listed by a link to its file.
    pub(crate) linked: bool,
    kind: BlockKind,
    /// The status the entry writes itself, and its words as written.
    own: Option<(Status, String)>,
    /// The status heading it is under.
    section: Option<StatusHeading>,
    /// The list, table or paragraph it is part of.
    block: usize,
}

/// A heading that gives the status of the entries under it.
#[derive(Debug, Clone)]
struct StatusHeading {
    text: String,
    level: u8,
    statuses: Vec<Status>,
}

impl StatusHeading {
    fn shown(&self) -> String {
        format!("`{} {}`", "#".repeat(self.level.into()), self.text)
    }
}

#[derive(Debug, Clone)]
struct DeadLink {
    line: usize,
    written: String,
    /// The number the missing file's name starts with, when it is in the ADR folder.
    number: Option<u32>,
    /// The ADRs whose number the missing file has.
    same_number: Vec<usize>,
    /// The ADR the line lists and how to call the line, when the dead link is not its entry
    /// (a successor in a status cell).
    row_of: Option<(usize, &'static str)>,
}

/// Reads the index file at `path` (repository-relative). `None` when it lists no ADR.
pub(crate) fn read(path: &str, text: &str, catalog: &Catalog, repo: &Repo, words: &Vocabulary) -> Option<IndexFile> {
    let markdown = Markdown::parse(text);
    let mut reader =
        Reader { path, catalog, repo, words, file: IndexFile::new(path), section: None, block: 0, previous: None, columns: (0, false, None) };
    reader.file.french = is_french(&markdown);
    for line in &markdown.lines {
        reader.line(line, &markdown);
    }
    let file = reader.file;
    let lists_adrs = !file.entries.is_empty() || file.dead.iter().any(|d| !d.same_number.is_empty()) || !file.unknown.is_empty();
    lists_adrs.then_some(file)
}

impl IndexFile {
    fn new(path: &str) -> Self {
        Self { path: path.to_owned(), entries: Vec::new(), dead: Vec::new(), unknown: Vec::new(), french: false, table: false }
    }
}

struct Reader<'a> {
    path: &'a str,
    catalog: &'a Catalog,
    repo: &'a Repo,
    words: &'a Vocabulary,
    file: IndexFile,
    section: Option<StatusHeading>,
    block: usize,
    previous: Option<BlockKind>,
    /// The key column (named by the header or not) and the status column of the current table.
    columns: (usize, bool, Option<usize>),
}

/// What a link in an index points at.
enum Pointed {
    Adr(usize),
    /// A missing file of the ADR folder, named like an ADR.
    DeadAdr(Vec<usize>),
    Other,
}

impl Reader<'_> {
    fn line(&mut self, line: &TextLine, markdown: &Markdown) {
        if line.kind == BlockKind::Heading {
            if let Some(h) = markdown.headings.iter().find(|h| h.line == line.line) {
                // A status heading holds until a heading of its level or above; a category
                // under it (`### Réseau` under `## Actives`) keeps its status.
                let statuses = self.words.section_statuses(&h.text);
                let under_current = self.section.as_ref().is_some_and(|s| h.level > s.level);
                match statuses {
                    Some(statuses) => self.section = Some(StatusHeading { text: h.text.clone(), level: h.level, statuses }),
                    None if under_current => {}
                    None => self.section = None,
                }
            }
            self.block += 1;
            self.previous = None;
            return;
        }
        if self.previous != Some(line.kind) || (line.kind == BlockKind::TableRow && line.header) {
            self.block += 1;
        }
        self.previous = Some(line.kind);
        let entry_links = match line.kind {
            BlockKind::TableRow if line.header => {
                self.columns = columns(line);
                Vec::new()
            }
            BlockKind::TableRow => self.row(line),
            BlockKind::Item => self.item(line),
            BlockKind::Paragraph => self.paragraph(line),
            BlockKind::Heading => Vec::new(),
        };
        self.dead_links(line, &entry_links);
    }

    /// Where a link of this file points.
    fn pointed(&self, dest: &str) -> Pointed {
        if !is_relative(dest) {
            return Pointed::Other;
        }
        let Target::Path { path, exists } = self.repo.link(dest, self.path) else { return Pointed::Other };
        if let Some(i) = self.catalog.by_path(&path) {
            return Pointed::Adr(i);
        }
        let name = path.rsplit('/').next().unwrap_or_default();
        match file_number(name) {
            Some(n) if !exists && self.repo.in_adr_dir(&path) && name.ends_with(".md") => Pointed::DeadAdr(self.catalog.all_with_number(n).collect()),
            _ => Pointed::Other,
        }
    }

    /// A table row: the key cell says which ADR it is (its link, else its number). In a table
    /// whose key column is not named (`| Date | Decision | Status |`), the row is about the
    /// first ADR it links outside a relation.
    fn row(&mut self, line: &TextLine) -> Vec<usize> {
        self.file.table = true;
        let (key, named, status_column) = self.columns;
        let key_text = line.cells.get(key).map_or("", String::as_str);
        let own = match status_column {
            Some(c) => line.cells.get(c).and_then(|cell| self.words.status(cell).map(|s| (s, cell.trim().to_owned()))),
            None => line
                .cells
                .iter()
                .enumerate()
                .filter(|(c, _)| *c != key)
                .find_map(|(_, cell)| self.words.status(cell).map(|s| (s, cell.trim().to_owned()))),
        };
        let in_key =
            |l: &Link| line.cell_spans.get(key).is_some_and(|span| span.start <= l.text.start && l.text.start < span.end.max(span.start + 1));
        let adr_link = |l: &Link| !matches!(self.pointed(&l.dest), Pointed::Other);
        let chosen = line.links.iter().enumerate().find(|(_, l)| in_key(l) && adr_link(l));
        if let Some((at, l)) = chosen {
            let label = number_in(&line.text[l.text.clone()]).or_else(|| number_in(key_text));
            self.entry_by_link(line, self.pointed(&l.dest), label, own);
            return vec![at];
        }
        if let Some(n) = strict_number(key_text) {
            self.entry_by_number(line, Some(n), own);
            return Vec::new();
        }
        if named {
            return Vec::new();
        }
        let chosen = line.links.iter().enumerate().find(|(_, l)| adr_link(l) && !relation_before(line, l));
        if let Some((at, l)) = chosen {
            self.entry_by_link(line, self.pointed(&l.dest), number_in(&line.text[l.text.clone()]), own);
            return vec![at];
        }
        Vec::new()
    }

    /// A list item: its first ADR (a link, else `ADR-N`, else a leading number).
    fn item(&mut self, line: &TextLine) -> Vec<usize> {
        let first_link = line.links.iter().enumerate().find(|(_, l)| !matches!(self.pointed(&l.dest), Pointed::Other));
        match first_link {
            Some((at, l)) => {
                let own = own_status(&without_links(line, at), self.words);
                let label = number_in(&line.text[l.text.clone()]);
                let pointed = self.pointed(&l.dest);
                self.entry_by_link(line, pointed, label, own);
                vec![at]
            }
            None => {
                let number = leading_mention(&line.text).or_else(|| leading_number(&line.text));
                if number.is_some() {
                    let own = own_status(&line.text, self.words);
                    self.entry_by_number(line, number, own);
                }
                Vec::new()
            }
        }
    }

    /// A paragraph line: every ADR it links, except as a relation ("superseded by [ADR-5]").
    fn paragraph(&mut self, line: &TextLine) -> Vec<usize> {
        let mut entries = Vec::new();
        for (at, l) in line.links.iter().enumerate() {
            if relation_before(line, l) {
                continue;
            }
            let pointed = self.pointed(&l.dest);
            if matches!(pointed, Pointed::Other) {
                continue;
            }
            let next = line.links.get(at + 1).map_or(line.text.len(), |n| n.text.start);
            let own = own_status(&line.text[l.text.end.min(next)..next], self.words);
            self.entry_by_link(line, pointed, number_in(&line.text[l.text.clone()]), own);
            entries.push(at);
        }
        entries
    }

    fn entry_by_link(&mut self, line: &TextLine, pointed: Pointed, label: Option<u32>, own: Option<(Status, String)>) {
        let adr = match pointed {
            Pointed::Adr(i) => Some(i),
            Pointed::DeadAdr(same) => same.first().copied(),
            Pointed::Other => return,
        };
        self.push(line, adr, label, true, own);
    }

    fn entry_by_number(&mut self, line: &TextLine, number: Option<u32>, own: Option<(Status, String)>) {
        let Some(n) = number else { return };
        match self.catalog.by_number(n) {
            Some(i) => self.push(line, Some(i), Some(n), false, own),
            None => self.file.unknown.push((line.line, n)),
        }
    }

    fn push(&mut self, line: &TextLine, adr: Option<usize>, label: Option<u32>, linked: bool, own: Option<(Status, String)>) {
        let entry = Entry { line: line.line, adr, label, linked, kind: line.kind, own, section: self.section.clone(), block: self.block };
        self.file.entries.push(entry);
    }

    /// Every relative link of the line to a file that does not exist.
    fn dead_links(&mut self, line: &TextLine, entry_links: &[usize]) {
        let row_of = self.file.entries.last().filter(|e| e.line == line.line).and_then(|e| e.adr.map(|i| (i, part(e))));
        for (at, link) in line.links.iter().enumerate() {
            if !is_relative(&link.dest) {
                continue;
            }
            let Target::Path { path, exists: false } = self.repo.link(&link.dest, self.path) else { continue };
            if self.catalog.by_path(&path).is_some() {
                // An ADR file that cannot be read (a dangling symlink) is reported as such.
                continue;
            }
            let same_number = match self.pointed(&link.dest) {
                Pointed::DeadAdr(same) => same,
                _ => Vec::new(),
            };
            let row_of = if entry_links.contains(&at) { None } else { row_of };
            let written = if link.dest.starts_with('/') { format!("/{path}") } else { link.dest.clone() };
            let number = Some(&path).filter(|p| self.repo.in_adr_dir(p)).and_then(|p| file_number(p.rsplit('/').next().unwrap_or_default()));
            self.file.dead.push(DeadLink { line: line.line, written, number, same_number, row_of });
        }
    }
}

/// The key column (and whether the header names it) and the status column of a table.
fn columns(header: &TextLine) -> (usize, bool, Option<usize>) {
    let named = header.cells.iter().position(|c| KEY_HEADERS.contains(&fold(c.trim()).as_str()));
    let status = header.cells.iter().position(|c| matches!(fold(c.trim()).as_str(), "status" | "statut" | "etat" | "state"));
    (named.unwrap_or(0), named.is_some(), status)
}

/// True when the link follows `by`, `par` or an arrow: it names a successor, not an entry.
fn relation_before(line: &TextLine, link: &Link) -> bool {
    let before = fold(&line.text[..link.text.start]);
    let last_word = before.split_whitespace().next_back().unwrap_or_default();
    ["by", "par", "→", "->"].contains(&last_word)
}

/// A key cell that is only a number: `006`, `#6`, `ADR-006` (a date is not one).
fn strict_number(cell: &str) -> Option<u32> {
    let text = cell.trim().trim_matches(['[', ']', '*']).trim_start_matches('#');
    let folded = fold(text);
    let digits = folded.strip_prefix("adr").map_or(folded.as_str(), |rest| rest.trim_start_matches(['-', '_', ' ']));
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// The number a key cell or link text writes: `014`, `ADR-014`, `[ADR 14]`.
fn number_in(text: &str) -> Option<u32> {
    ADR_MENTION.captures(text).and_then(|c| c[1].parse().ok()).or_else(|| {
        let digits: String = text.trim().trim_start_matches(|c: char| !c.is_ascii_digit()).chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// `ADR-003: Cache` → 3: an `ADR-N` that opens the item (one further in, as in "supersedes
/// ADR-3", is a relation or prose, not the entry).
fn leading_mention(text: &str) -> Option<u32> {
    let captures = ADR_MENTION.captures(text)?;
    let at = captures.get(0)?.start();
    text[..at].chars().all(|c| !c.is_alphanumeric()).then(|| captures[1].parse().ok()).flatten()
}

/// `003 - Cache` → 3.
fn leading_number(text: &str) -> Option<u32> {
    let digits: String = text.trim_start().chars().take_while(char::is_ascii_digit).collect();
    let rest = text.trim_start()[digits.len()..].trim_start();
    let separated = rest.starts_with(['-', '–', '—', ':', '.', '|']);
    let joined = rest.chars().nth(1).is_some_and(|c| c.is_ascii_digit());
    (!digits.is_empty() && separated && !joined).then(|| digits.parse().ok()).flatten()
}

/// The item's text without its entry link and without what follows `→` (the successor).
fn without_links(line: &TextLine, entry: usize) -> String {
    let mut text = line.text.clone();
    if let Some(link) = line.links.get(entry) {
        text.replace_range(link.text.clone(), " ");
    }
    text.split(['→']).next().unwrap_or_default().to_owned()
}

/// The status an entry's own text gives: a part of it (between dashes, parentheses, colons)
/// that is a status alone, a status with its successor or its date (`superseded by ADR-9`,
/// `Accepted 2024-01-02`), never a title that starts with a status word ("Active Directory").
fn own_status(text: &str, words: &Vocabulary) -> Option<(Status, String)> {
    let parts = text.split(['—', '–', '|', '(', ')', ':', ',', ';', '[', ']']).flat_map(|p| p.split(" - "));
    parts.map(str::trim).filter(|p| !p.is_empty()).find_map(|part| {
        let status = words.status(part)?;
        let tokens: Vec<&str> = part.split_whitespace().collect();
        let qualified = tokens.len() <= 2
            || tokens.get(1).is_some_and(|w| {
                ["by", "par", "since", "depuis", "le", "on", "in", "en", "as", "de", "du"].contains(&fold(w).as_str())
                    || w.starts_with(|c: char| c.is_ascii_digit())
            });
        qualified.then(|| (status, part.trim_end_matches('.').to_owned()))
    })
}

/// True for a French status word (`Accepté`, `Remplacé par ...`, `En cours`).
fn is_french_status(words: &str) -> bool {
    const FRENCH: &[&str] =
        &["accepte", "acceptee", "remplace", "remplacee", "rejete", "rejetee", "propose", "proposee", "deprecie", "depreciee", "actif", "en"];
    fold(words).split_whitespace().next().is_some_and(|w| FRENCH.contains(&w))
}

fn is_french(markdown: &Markdown) -> bool {
    const FRENCH: &[&str] =
        &["actives", "remplacees", "rejetees", "proposees", "obsoletes", "depreciees", "acceptees", "statut", "titre", "decisions d'architecture"];
    let headings = markdown.headings.iter().map(|h| fold(&h.text));
    let header_cells = markdown.lines.iter().filter(|l| l.header).flat_map(|l| l.cells.iter().map(|c| fold(c)));
    headings.chain(header_cells).any(|t| FRENCH.iter().any(|w| t.split(['/', ' ']).any(|p| p == *w) || t.contains(w)))
}

/// Checks every index against the catalog.
pub(crate) fn check(indexes: &[IndexFile], catalog: &Catalog, repo: &Repo, out: &mut Findings) {
    for index in indexes {
        dead_links(index, catalog, out);
        unstated(index, catalog, out);
        missing(index, catalog, repo, out);
    }
    wrong_statuses(indexes, catalog, repo, out);
}

/// The ADR that ADR `i` names first as its successor.
fn successor_of(catalog: &Catalog, repo: &Repo, i: usize) -> Option<usize> {
    let record = &catalog.records[i];
    record.successors.iter().find_map(|s| match catalog.resolve(repo, &record.path, &s.target) {
        Resolved::Adr(j) => Some(j),
        Resolved::Missing(_) | Resolved::NotAnAdr(_) => None,
    })
}

fn dead_links(index: &IndexFile, catalog: &Catalog, out: &mut Findings) {
    for dead in &index.dead {
        let row = dead.row_of.map_or_else(String::new, |(i, part)| format!("{part} of {} ", catalog.label(i)));
        let what = match dead.same_number.as_slice() {
            [] => match dead.number {
                Some(n) => format!(" and no ADR has number {n}: fix or remove the link"),
                None => " and no ADR of the folder has that name: fix or remove the link".to_owned(),
            },
            [one] => format!("; {} is {}: fix the link", catalog.label(*one), catalog.name(*one)),
            several => {
                let names: Vec<&str> = several.iter().map(|&i| catalog.name(i)).collect();
                format!("; {} is one of {}: fix the link", catalog.label(several[0]), names.join(", "))
            }
        };
        out.push(&index.path, dead.line, Rule::IndexEntry, format!("{row}links to {}, which does not exist{what}", dead.written));
    }
    // Entries for ADRs not written yet (a "Coming soon" list) are one cause.
    let mut numbers: Vec<u32> = index.unknown.iter().map(|&(_, n)| n).collect();
    numbers.dedup();
    if let Some(&(line, _)) = index.unknown.first() {
        let names: Vec<String> = numbers.iter().map(|n| format!("ADR {n}")).collect();
        let message = match names.as_slice() {
            [one] => format!("lists {one}, which does not exist: write it, fix the number, or remove the entry"),
            _ => format!("lists {}, which do not exist: write them, fix the numbers, or remove the entries", join(&names)),
        };
        let also = index.unknown[1..].iter().map(|&(l, _)| Location::at(&index.path, l)).collect();
        out.push_also(&index.path, line, Rule::IndexEntry, message, also);
    }
}

/// Where an entry's status comes from, for messages.
enum Said {
    /// Its own words (`the row`, `Accepted`).
    Own(&'static str, String),
    /// The heading it is listed under.
    Under(String),
}

/// The status an entry gives, and how to say where it is written.
fn given_status(entry: &Entry) -> Option<(Vec<Status>, Said)> {
    match (&entry.own, &entry.section) {
        (Some((status, words)), _) => Some((vec![*status], Said::Own(part(entry), words.clone()))),
        (None, Some(heading)) => Some((heading.statuses.clone(), Said::Under(heading.shown()))),
        (None, None) => None,
    }
}

/// `the row`, `the entry`, `the line`.
fn part(entry: &Entry) -> &'static str {
    match entry.kind {
        BlockKind::TableRow => "the row",
        BlockKind::Item => "the entry",
        BlockKind::Paragraph | BlockKind::Heading => "the line",
    }
}

/// Entries that give no status: one finding for the index when none does, else one for the
/// entries that do not.
fn unstated(index: &IndexFile, catalog: &Catalog, out: &mut Findings) {
    // A paragraph that links an ADR in passing lists it, but owes no status.
    let judged: Vec<&Entry> = first_entries(index)
        .into_iter()
        .filter(|e| e.kind != BlockKind::Paragraph && e.adr.and_then(|i| catalog.records[i].status()).is_some())
        .collect();
    let silent: Vec<&Entry> = judged.iter().copied().filter(|e| given_status(e).is_none()).collect();
    let Some(first) = silent.first() else { return };
    if silent.len() == judged.len() {
        let headings = if index.french { "`## Acceptées`, `## Remplacées`" } else { "`## Accepted`, `## Superseded`" };
        out.push(
            &index.path,
            first.line,
            Rule::IndexStatus,
            format!("gives no status for its entries: add a Status column, or group the entries under status headings ({headings}, ...)"),
        );
        return;
    }
    let names: Vec<String> = silent
        .iter()
        .filter_map(|e| e.adr)
        .map(|i| format!("{} ({})", catalog.name(i), catalog.records[i].status().map_or(String::new(), |s| s.to_string())))
        .collect();
    let also = silent.iter().skip(1).map(|e| Location::at(&index.path, e.line)).collect();
    out.push_also(
        &index.path,
        first.line,
        Rule::IndexStatus,
        format!("lists {} without a status: write each one's status in its entry", join(&names)),
        also,
    );
}

/// The first entry of each ADR (an ADR listed twice is judged once), a table row or a list item
/// before a mention in a paragraph.
fn first_entries(index: &IndexFile) -> Vec<&Entry> {
    let mut seen = std::collections::BTreeSet::new();
    let mut ordered: Vec<&Entry> = index.entries.iter().collect();
    ordered.sort_by_key(|e| (e.kind == BlockKind::Paragraph, e.line));
    let mut first: Vec<&Entry> = ordered.into_iter().filter(|e| e.adr.is_some_and(|i| seen.insert(i))).collect();
    first.sort_by_key(|e| e.line);
    first
}

/// An ADR listed with a status other than its own: one finding, naming every index that does.
fn wrong_statuses(indexes: &[IndexFile], catalog: &Catalog, repo: &Repo, out: &mut Findings) {
    let mut wrong: BTreeMap<usize, Vec<(&IndexFile, &Entry, Said)>> = BTreeMap::new();
    for index in indexes {
        for entry in first_entries(index) {
            let Some(i) = entry.adr else { continue };
            let (Some(actual), Some((given, said))) = (catalog.records[i].status(), given_status(entry)) else { continue };
            if !given.contains(&actual) {
                wrong.entry(i).or_default().push((index, entry, said));
            }
        }
    }
    for (i, places) in wrong {
        let record = &catalog.records[i];
        let Some(decl) = record.status_decl() else { continue };
        let successor = successor_of(catalog, repo, i);
        let mut said = Vec::new();
        let mut fixes = Vec::new();
        for (n, (index, entry, words)) in places.iter().enumerate() {
            let name = index.path.rsplit('/').next().unwrap_or(&index.path);
            let place = if n == 0 { String::new() } else { format!(" in {name}") };
            said.push(match words {
                Said::Own(part, words) => format!("{part}{place} says `{words}`"),
                Said::Under(heading) if n == 0 => format!("it is listed under {heading} here"),
                Said::Under(heading) => format!("{name} lists it under {heading}"),
            });
            fixes.push(fix(index, entry, catalog, i, successor, place));
        }
        let (index, entry, _) = &places[0];
        let also = places[1..].iter().map(|(x, e, _)| Location::at(&x.path, e.line)).collect();
        out.push_also(
            &index.path,
            entry.line,
            Rule::IndexStatus,
            format!("{} is `{}` (its line {}) but {}: {}", catalog.name(i), decl.raw, decl.line, said.join(", and "), fixes.join(", and ")),
            also,
        );
    }
}

/// What to change in one index so that it gives ADR `i` its status.
fn fix(index: &IndexFile, entry: &Entry, catalog: &Catalog, i: usize, successor: Option<usize>, place: String) -> String {
    let actual = catalog.records[i].status().unwrap_or(Status::Accepted);
    let arrow = successor.map_or_else(String::new, |s| format!(" with `→ [{}]({})`", catalog.label(s), catalog.name(s)));
    if entry.own.is_none()
        && let Some(heading) = &entry.section
    {
        let target = index.entries.iter().filter_map(|e| e.section.as_ref()).find(|h| h.statuses.contains(&actual));
        return match target {
            Some(h) => format!("move the entry to {}{arrow}{place}", h.shown()),
            None => {
                format!("move the entry to a new `{} {}` section{arrow}{place}", "#".repeat(heading.level.into()), section_name(actual, index.french))
            }
        };
    }
    // Answer in the language of the words replaced.
    let french = entry.own.as_ref().map_or(index.french, |(_, words)| is_french_status(words));
    let value = match successor {
        Some(s) if french => format!("Remplacé par [{}]({})", catalog.label(s), catalog.name(s)),
        Some(s) => format!("Superseded by [{}]({})", catalog.label(s), catalog.name(s)),
        None => spelled(actual, french).to_owned(),
    };
    format!("write `{value}` in {}{place}", part(entry))
}

/// The ADRs an index does not list: one finding, at the last entry of the list or table that
/// should hold the first of them.
fn missing(index: &IndexFile, catalog: &Catalog, repo: &Repo, out: &mut Findings) {
    let listed: std::collections::BTreeSet<usize> =
        index.entries.iter().filter_map(|e| e.adr).chain(index.dead.iter().flat_map(|d| d.same_number.iter().copied())).collect();
    let missing: Vec<usize> = (0..catalog.records.len()).filter(|i| !listed.contains(i)).collect();
    let Some(&first) = missing.first() else { return };
    let sectioned = index.entries.iter().any(|e| e.section.is_some());
    let line = place_of(index, catalog, first, sectioned);
    let names: Vec<String> = missing
        .iter()
        .map(|&i| match catalog.records[i].status() {
            Some(status) => format!("{} ({status})", catalog.name(i)),
            None => catalog.name(i).to_owned(),
        })
        .collect();
    let how = if sectioned {
        let mut under: Vec<(String, Vec<String>)> = Vec::new();
        for &i in &missing {
            let record = &catalog.records[i];
            let status = record.status().unwrap_or(Status::Proposed);
            let heading = index.entries.iter().filter_map(|e| e.section.as_ref()).find(|h| h.statuses.contains(&status));
            let place = heading
                .map_or_else(|| format!("under a new `## {}` section", section_name(status, index.french)), |h| format!("under {}", h.shown()));
            let successor = successor_of(catalog, repo, i);
            let label = format!("{}{}", short_label(catalog, i), successor.map_or_else(String::new, |s| format!(" (→ {})", catalog.label(s))));
            match under.iter_mut().find(|(p, _)| *p == place) {
                Some((_, labels)) => labels.push(label),
                None => under.push((place, vec![label])),
            }
        }
        let parts: Vec<String> = under.into_iter().map(|(place, labels)| format!("{} {place}", join(&labels))).collect();
        format!("add {}", join(&parts))
    } else if index.table {
        if missing.len() == 1 { "add a row for it".to_owned() } else { "add a row for each".to_owned() }
    } else if missing.len() == 1 {
        "add an entry for it".to_owned()
    } else {
        "add an entry for each".to_owned()
    };
    out.push(&index.path, line, Rule::IndexEntry, format!("does not list {}: {how}", join(&names)));
}

/// The line after which ADR `i` belongs: the last entry of its status section, else of the
/// block that lists the ADR numbered just below it, else the last entry.
fn place_of(index: &IndexFile, catalog: &Catalog, i: usize, sectioned: bool) -> usize {
    let last_line = index.entries.last().map_or(1, |e| e.line);
    if sectioned && let Some(status) = catalog.records[i].status() {
        let in_section = index.entries.iter().rfind(|e| e.section.as_ref().is_some_and(|h| h.statuses.contains(&status)));
        if let Some(entry) = in_section {
            return entry.line;
        }
    }
    let number = catalog.records[i].file_number.unwrap_or(0);
    let below = index
        .entries
        .iter()
        .filter(|e| e.adr.and_then(|a| catalog.records[a].file_number).is_some_and(|n| n < number))
        .max_by_key(|e| e.adr.and_then(|a| catalog.records[a].file_number));
    below.and_then(|b| index.entries.iter().rfind(|e| e.block == b.block)).map_or(last_line, |e| e.line)
}

/// `024` for `024-x.md`: how an index's text calls it.
fn short_label(catalog: &Catalog, i: usize) -> String {
    let name = catalog.name(i);
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() { name.to_owned() } else { digits }
}

/// The heading of a section for a status, in the index's language.
fn section_name(status: Status, french: bool) -> &'static str {
    match (status, french) {
        (Status::Proposed, false) => "Proposed",
        (Status::Accepted, false) => "Accepted",
        (Status::Deprecated, false) => "Deprecated",
        (Status::Superseded, false) => "Superseded",
        (Status::Rejected, false) => "Rejected",
        (Status::Proposed, true) => "Proposées",
        (Status::Accepted, true) => "Acceptées",
        (Status::Deprecated, true) => "Dépréciées",
        (Status::Superseded, true) => "Remplacées",
        (Status::Rejected, true) => "Rejetées",
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!("{} and {}", init.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "), last.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_gives_its_status_but_a_title_starting_with_a_status_word_does_not() {
        let words = Vocabulary::default();
        let own = |t: &str| own_status(t, &words);
        assert_eq!(own(" — Cache layout — superseded by ADR-9"), Some((Status::Superseded, "superseded by ADR-9".into())));
        assert_eq!(own(" (Deprecated)."), Some((Status::Deprecated, "Deprecated".into())));
        assert_eq!(own(" — Active Directory for the household"), None);
        assert_eq!(own(" — Talos Linux on every node"), None);
    }

    #[test]
    fn numbers_in_key_cells_and_items() {
        assert_eq!(number_in("015"), Some(15));
        assert_eq!(number_in("ADR-0032"), Some(32));
        assert_eq!(number_in("—"), None);
        assert_eq!(leading_number("003 - Cache"), Some(3));
        assert_eq!(leading_number("3-2-1 backups"), None);
        assert_eq!(leading_mention("**ADR-012**: Renovate — Accepted"), Some(12));
        assert_eq!(leading_mention("`title-number`: the title says ADR-012"), None);
        assert_eq!(strict_number(" 006 "), Some(6));
        assert_eq!(strict_number("ADR-0032"), Some(32));
        assert_eq!(strict_number("2024-01-01"), None);
    }
}

#[cfg(test)]
mod layouts {
    use std::path::Path;

    use super::*;
    use crate::adr::config::Config;
    use crate::adr::diagnostic::Findings;

    /// The findings of an index `text` over three ADRs: 001 Accepted, 002 Superseded by 003,
    /// 003 Accepted.
    fn check_index(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let adrs = dir.path().join("docs/adr");
        std::fs::create_dir_all(&adrs).unwrap();
        let adr = |n: u32, status: &str| format!("# ADR-{n:03}: X\n\n**Status:** {status}\n");
        std::fs::write(adrs.join("001-a.md"), adr(1, "Accepted")).unwrap();
        std::fs::write(adrs.join("002-b.md"), adr(2, "Superseded by [ADR-003](003-c.md)")).unwrap();
        std::fs::write(adrs.join("003-c.md"), adr(3, "Accepted")).unwrap();
        let repo = Repo::new(dir.path(), Path::new("docs/adr"));
        let config = Config::default();
        let catalog = Catalog::load(&repo, &config).unwrap();
        let mut out = Findings::default();
        if let Some(index) = read("docs/adr/README.md", text, &catalog, &repo, &config.vocabulary) {
            check(&[index], &catalog, &repo, &mut out);
        }
        out.found.iter().map(|f| format!("{}: {}: {}", f.line.unwrap_or(0), f.rule, f.message)).collect()
    }

    #[test]
    fn a_table_keyed_by_date_lists_the_adr_it_links() {
        let text = "| Date | Decision | Status |\n|---|---|---|\n| 2024-01-01 | [Cache](001-a.md) | Accepted |\n\
                    | 2024-02-01 | [Queue](002-b.md) | Superseded by [ADR-003](003-c.md) |\n| 2024-03-01 | [Queue v2](003-c.md) | Accepted |\n";
        assert_eq!(check_index(text), Vec::<String>::new());
    }

    #[test]
    fn a_category_under_a_status_heading_keeps_its_status() {
        let text = "# ADRs\n\n## Accepted\n\n### Storage\n\n- [ADR-001](001-a.md) Cache\n\n### Network\n\n- [ADR-003](003-c.md) Queue\n\n\
                    ## Superseded\n\n- [ADR-002](002-b.md) Queue → [ADR-003](003-c.md)\n";
        assert_eq!(check_index(text), Vec::<String>::new());
        let text = text.replace("## Superseded", "## Other");
        assert_eq!(check_index(&text), ["15: index-status: lists 002-b.md (Superseded) without a status: write each one's status in its entry"]);
    }

    #[test]
    fn the_homelabs_own_index_layout_gives_statuses_by_emoji_headings_and_status_columns() {
        // As the real homelab writes it: emoji headings naming the status, a table without a
        // Status column under Active, tables with one under the others.
        let text = "# Architecture Decision Records - Index\n\n**Last Updated:** 2026-09-19\n\n---\n\n\
                    ## \u{1F3C6} Active Decisions (Accepted)\n\nCes documents représentent l'état actuel.\n\n\
                    | ADR | Title | Date | Tags |\n|-----|-------|------|------|\n| [001](001-a.md) | A | 2025-11-15 | infra, talos |\n\
                    | [003](003-c.md) | **C** | 2025-11-15 | gitops |\n\n---\n\n## \u{1F4DC} Historical / Superseded Decisions\n\n\
                    | ADR | Title | Status | Superseded by |\n|-----|-------|--------|---------------|\n\
                    | [002](002-b.md) | B | Superseded | [ADR-003](003-c.md) |\n";
        assert_eq!(check_index(text), Vec::<String>::new());
    }

    #[test]
    fn a_paragraph_that_links_an_adr_in_passing_owes_no_status() {
        let text = "Start with [ADR-001](001-a.md), which explains the process.\n\n| ADR | Status |\n|---|---|\n\
                    | [001](001-a.md) | Accepted |\n| [002](002-b.md) | Superseded |\n| [003](003-c.md) | Accepted |\n";
        assert_eq!(check_index(text), Vec::<String>::new());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_index_text_is_read_without_panicking(
            text in "(# |## |- |\\| |\\|---\\|\n|\\[ADR-00[1-4]\\]\\(00[1-4]-[a-c]\\.md\\)|\\[x\\]\\(gone/x\\.md\\)|→ |Accepted|Remplacé par |Historical / Superseded|Actives|ADR-[0-9]{1,3}|[0-9]{3}|🏆 |\\(|\\)|—|`|[a-zé :;.,\n]){0,200}"
        ) {
            let _ = check_index(&text);
        }
    }

    #[test]
    fn adrs_not_written_yet_are_one_finding() {
        let text = "| Number | Title | Status |\n|---|---|---|\n| 001 | A | Accepted |\n| 002 | B | Superseded |\n| 003 | C | Accepted |\n\
                    | 010 | Later | Proposed |\n| 011 | Later still | Proposed |\n";
        assert_eq!(
            check_index(text),
            ["6: index-entry: lists ADR 10 and ADR 11, which do not exist: write them, fix the numbers, or remove the entries"]
        );
    }

    #[test]
    fn an_index_without_statuses_is_one_finding() {
        let text = "- [ADR-001](001-a.md) Cache\n- [ADR-002](002-b.md) Queue\n- [ADR-003](003-c.md) Queue v2\n";
        assert_eq!(
            check_index(text),
            [
                "1: index-status: gives no status for its entries: add a Status column, or group the entries under status headings (`## Accepted`, `## Superseded`, ...)"
            ]
        );
    }
}

//! The index: a README or index file of the ADR folder that lists ADRs (as table rows or list
//! items) must list every one of them, each with its current status, and nothing else.
//!
//! A candidate file that lists no ADR at all (a README that only explains the process) is not
//! an index and is left alone.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::catalog::{Catalog, Resolved};
use super::diagnostic::{Findings, Rule};
use super::markdown::{BlockKind, Markdown, TextLine};
use super::record::{RefTarget, file_number, is_relative};
use super::references::{Repo, Target};
use super::vocabulary::Vocabulary;

static ADR_MENTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\badr[\s_-]?0*(\d{1,9})\b").expect("valid regex"));

/// One entry of the index: the ADR it lists, where, and the status it gives.
struct Entry {
    line: usize,
    adr: Resolved,
    /// Table rows: the cells after the first; list items: the text without the ADR's link.
    status_texts: Vec<String>,
    in_table: bool,
}

/// Checks the index file at `path` (repository-relative) against the catalog. Returns false
/// when the file lists no ADR, so is not an index.
pub(crate) fn check(path: &str, text: &str, catalog: &Catalog, repo: &Repo, words: &Vocabulary, out: &mut Findings) -> bool {
    let markdown = Markdown::parse(text);
    let entries: Vec<Entry> = markdown.lines.iter().filter_map(|line| entry(line, path, catalog, repo)).collect();
    if entries.is_empty() {
        return false;
    }
    let mut listed: BTreeMap<usize, usize> = BTreeMap::new();
    for entry in &entries {
        match &entry.adr {
            Resolved::Adr(i) => {
                if listed.insert(*i, entry.line).is_some() {
                    continue;
                }
                status(path, entry, *i, catalog, words, out);
            }
            Resolved::Missing(what) => {
                out.push(path, entry.line, Rule::IndexEntry, format!("lists {what}, which does not exist"));
            }
            Resolved::NotAnAdr(_) => {}
        }
    }
    let last_line = entries.last().map_or(1, |e| e.line);
    for (i, record) in catalog.records.iter().enumerate() {
        if !listed.contains_key(&i) {
            let status = record.status().map_or_else(String::new, |s| format!(" ({s})"));
            out.push(path, last_line, Rule::IndexEntry, format!("does not list {}{status}", catalog.name(i)));
        }
    }
    true
}

fn status(path: &str, entry: &Entry, i: usize, catalog: &Catalog, words: &Vocabulary, out: &mut Findings) {
    let Some(actual) = catalog.records[i].status() else { return };
    let found = if entry.in_table {
        // A status has a cell of its own; a title cell such as "Rejected ideas" is not one.
        entry.status_texts.iter().find_map(|cell| words.status(cell))
    } else {
        entry.status_texts.iter().find_map(|text| words.find_status(text))
    };
    match found {
        None => out.push(path, entry.line, Rule::IndexStatus, format!("lists {} without its status ({actual})", catalog.name(i))),
        Some(listed) if listed != actual => {
            out.push(path, entry.line, Rule::IndexStatus, format!("lists {} as {listed}, but it is {actual}", catalog.name(i)))
        }
        Some(_) => {}
    }
}

/// The ADR a table row or list item lists: its first link to an ADR file, else its first
/// `ADR-N`, else (in a table) a first cell that is a number. The status is looked for in the
/// rest of the entry.
fn entry(line: &TextLine, path: &str, catalog: &Catalog, repo: &Repo) -> Option<Entry> {
    if !matches!(line.kind, BlockKind::Item | BlockKind::TableRow) {
        return None;
    }
    for link in &line.links {
        if !is_relative(&link.dest) {
            continue;
        }
        let Target::Path { path: target, .. } = repo.link(&link.dest, path) else { continue };
        let looks_like_adr = repo.in_adr_dir(&target) && file_number(target.rsplit('/').next().unwrap_or_default()).is_some();
        if catalog.by_path(&target).is_some() || looks_like_adr {
            let adr = catalog.resolve(repo, path, &RefTarget::Link(link.dest.clone()));
            let mut rest = line.text.clone();
            rest.replace_range(link.text.clone(), " ");
            return Some(Entry { line: line.line, adr, status_texts: status_texts(line, rest), in_table: line.kind == BlockKind::TableRow });
        }
    }
    let number = ADR_MENTION
        .captures(&line.text)
        .and_then(|c| c[1].parse::<u32>().ok())
        .or_else(|| line.cells.first().and_then(|c| c.trim().trim_start_matches('0').parse().ok()))?;
    let adr = catalog.by_number(number).map_or_else(|| Resolved::Missing(format!("ADR {number}")), Resolved::Adr);
    Some(Entry { line: line.line, adr, status_texts: status_texts(line, line.text.clone()), in_table: line.kind == BlockKind::TableRow })
}

fn status_texts(line: &TextLine, rest: String) -> Vec<String> {
    if line.kind == BlockKind::TableRow { line.cells.iter().skip(1).cloned().collect() } else { vec![rest] }
}

//! Supersession, checked both ways: a Superseded ADR names a successor that exists; the
//! successor says it supersedes the old one; an ADR that says it supersedes another finds that
//! one marked Superseded by it; no ADRs supersede each other in a loop; and every chain ends in
//! an Accepted ADR.
//!
//! Messages give the line to write, in the form the ADR already uses (a bold field, a French
//! `**Statut :**`, adr-tools' status section, MADR's front matter).

use std::collections::BTreeSet;

use super::catalog::{Catalog, Resolved};
use super::diagnostic::{Findings, Location, Rule};
use super::record::{AdrRef, DeclForm, Record};
use super::references::Repo;
use super::rules::spelled;
use super::vocabulary::{Status, fold};

/// One resolved successor edge: ADR `from` names ADR `to` on `line`.
struct Edge {
    from: usize,
    to: usize,
    line: usize,
}

/// Checks supersession across the catalog.
pub(crate) fn check(catalog: &Catalog, repo: &Repo, out: &mut Findings) {
    let edges = successors(catalog, repo, out);
    let in_cycle = cycles(catalog, &edges, out);
    for edge in &edges {
        if edge.from == edge.to || in_cycle.contains(&edge.from) {
            continue;
        }
        chain_end(catalog, edge, out);
        backlink(catalog, repo, edge, out);
    }
    predecessors(catalog, repo, &edges, out);
}

/// Resolves every Superseded ADR's successors, reporting those that name none or a missing one.
fn successors(catalog: &Catalog, repo: &Repo, out: &mut Findings) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (i, record) in catalog.records.iter().enumerate() {
        let superseded = record.status() == Some(Status::Superseded);
        if !superseded {
            if let (Some(status), Some(first)) = (record.status(), record.successors.first()) {
                out.push(
                    &record.path,
                    first.line,
                    Rule::Successor,
                    format!("names a successor but its status is {status}: mark it Superseded, or remove the successor"),
                );
            }
            continue;
        }
        if record.successors.is_empty() {
            out.push(&record.path, record.status_line(), Rule::Successor, no_successor(catalog, repo, i));
            continue;
        }
        for AdrRef { line, target } in &record.successors {
            match catalog.resolve(repo, &record.path, target) {
                Resolved::Adr(to) => {
                    if !edges.iter().any(|e: &Edge| e.from == i && e.to == to) {
                        edges.push(Edge { from: i, to, line: *line });
                    }
                }
                Resolved::Missing(what) => out.push(
                    &record.path,
                    *line,
                    Rule::Successor,
                    format!("names {what} as its successor, which does not exist: fix the reference, or write the successor ADR"),
                ),
                Resolved::NotAnAdr(what) => out.push(
                    &record.path,
                    *line,
                    Rule::Successor,
                    format!("names {what} as its successor, which is not an ADR of {}: name the ADR that replaces this one", repo.adr_dir()),
                ),
            }
        }
    }
    edges
}

/// Reports each loop once, on its first ADR, and returns every ADR on a loop.
fn cycles(catalog: &Catalog, edges: &[Edge], out: &mut Findings) -> BTreeSet<usize> {
    let mut on_cycle = BTreeSet::new();
    let mut seen_cycles: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..catalog.records.len() {
        // Follow the first successor from `start`; supersession chains rarely branch, and a
        // loop through a branch is found from the branch's own start.
        let mut path = vec![start];
        let mut current = start;
        while let Some(edge) = edges.iter().find(|e| e.from == current) {
            if let Some(pos) = path.iter().position(|&p| p == edge.to) {
                let cycle: Vec<usize> = path[pos..].to_vec();
                let mut key = cycle.clone();
                key.sort_unstable();
                if seen_cycles.insert(key) {
                    report_cycle(catalog, edges, &cycle, out);
                }
                on_cycle.extend(cycle);
                break;
            }
            path.push(edge.to);
            current = edge.to;
        }
    }
    on_cycle
}

fn report_cycle(catalog: &Catalog, edges: &[Edge], cycle: &[usize], out: &mut Findings) {
    let first = *cycle.iter().min().unwrap_or(&cycle[0]);
    let pos = cycle.iter().position(|&c| c == first).unwrap_or(0);
    let mut names: Vec<&str> = cycle[pos..].iter().chain(&cycle[..pos]).map(|&i| catalog.name(i)).collect();
    names.push(catalog.name(first));
    let record = &catalog.records[first];
    let line = edges.iter().find(|e| e.from == first).map_or(record.status_line(), |e| e.line);
    let message = if cycle.len() == 1 {
        "names itself as its successor: name the ADR that replaces it".to_owned()
    } else {
        format!("supersession loop: {}: no ADR of the loop is in force; mark the one in force Accepted", names.join(" → "))
    };
    out.push(&record.path, line, Rule::SupersessionCycle, message);
}

/// The successor must be Accepted, or Superseded in turn (its own edge is checked then).
fn chain_end(catalog: &Catalog, edge: &Edge, out: &mut Findings) {
    let successor = &catalog.records[edge.to];
    match successor.status() {
        Some(Status::Superseded) | None => {}
        Some(status) if status.is_live() => {}
        Some(status) => out.push(
            &catalog.records[edge.from].path,
            edge.line,
            Rule::SupersessionChain,
            format!(
                "is superseded by {}, which is {status}: a supersession chain must end in an Accepted ADR; name the ADR in force instead",
                catalog.name(edge.to)
            ),
        ),
    }
}

/// The successor must mention the old ADR: a `Supersedes:` field, a sentence, or a link in its
/// References all tell the reader where the decision came from.
fn backlink(catalog: &Catalog, repo: &Repo, edge: &Edge, out: &mut Findings) {
    let successor = &catalog.records[edge.to];
    let resolves_to_old = |p: &AdrRef| catalog.resolve(repo, &successor.path, &p.target) == Resolved::Adr(edge.from);
    if successor.predecessors.iter().chain(&successor.mentions).any(resolves_to_old) {
        return;
    }
    let old = &catalog.records[edge.from];
    out.push(
        &successor.path,
        successor.status_line(),
        Rule::SupersedesBacklink,
        format!(
            "{} says it is superseded by this ADR (its line {}) but this ADR never mentions {}: add {}",
            catalog.name(edge.from),
            edge.line,
            catalog.label(edge.from),
            supersedes_line(successor, old, catalog.name(edge.from), &catalog.label(edge.from))
        ),
    );
}

/// A Superseded ADR that names no successor: the ADR that says it replaces it, if any, is the
/// successor to write.
fn no_successor(catalog: &Catalog, repo: &Repo, i: usize) -> String {
    let record = &catalog.records[i];
    let raw = record.status_decl().map_or("Superseded", |d| d.raw.as_str());
    let status = if fold(raw).starts_with("superseded") { "Superseded".to_owned() } else { format!("{raw} (Superseded)") };
    let claimer = catalog.records.iter().enumerate().find_map(|(j, other)| {
        let claim = other.predecessors.iter().find(|p| j != i && catalog.resolve(repo, &other.path, &p.target) == Resolved::Adr(i))?;
        Some((j, claim.line))
    });
    match claimer {
        Some((j, line)) => format!(
            "is {status} but names no successor; {} says it replaces {} (line {line}): write {}",
            catalog.name(j),
            catalog.label(i),
            status_line(record, Status::Superseded, Some((&catalog.label(j), catalog.name(j))))
        ),
        None => {
            let deprecated = if record.is_french() { "`Obsolète` or `Déprécié`" } else { "`Deprecated`" };
            format!(
                "is {status} but names no successor, and no ADR says it replaces {}: write {} with the ADR that replaced it, or {deprecated} if none did",
                catalog.label(i),
                status_line(record, Status::Superseded, Some(("ADR-NNN", "NNN-title.md")))
            )
        }
    }
}

/// The status line to write in `record`, in the form it already uses: `**Status:** Superseded
/// by [ADR-024](024-x.md)`, `**Statut :** Remplacé par [...]`, adr-tools' `Superseded by [...]`
/// under `## Status`, or MADR's `status: superseded by ADR-024`.
pub(crate) fn status_line(record: &Record, status: Status, successor: Option<(&str, &str)>) -> String {
    let french = record.is_french();
    let value = match (status, successor) {
        (Status::Superseded, Some((label, file))) if french => format!("Remplacé par [{label}]({file})"),
        (Status::Superseded, Some((label, file))) => format!("Superseded by [{label}]({file})"),
        (status, _) => spelled(status, french).to_owned(),
    };
    match record.status_decl().or_else(|| record.statuses.first()).map(|d| (d.form, d.key.as_str())) {
        Some((DeclForm::FrontMatter, _)) => format!("`status: {}` in the front matter", value.to_lowercase()),
        Some((DeclForm::Section, _)) => format!("`{value}` under the status section's heading"),
        Some((DeclForm::Field, key)) if !key.is_empty() => {
            let colon = if french { " :" } else { ":" };
            format!("`**{key}{colon}** {value}`")
        }
        _ if french => format!("`**Statut :** {value}`"),
        _ => format!("`**Status:** {value}`"),
    }
}

/// The line that says `successor` supersedes `old`, in the successor's form.
fn supersedes_line(successor: &Record, old: &Record, old_name: &str, old_label: &str) -> String {
    let form = successor.status_decl().or_else(|| successor.statuses.first()).map(|d| d.form);
    match form {
        Some(DeclForm::Section) => {
            let title = old.title.as_ref().map_or(old_label, |(t, _)| t.as_str());
            format!("`Supercedes [{title}]({old_name})` under the status")
        }
        Some(DeclForm::FrontMatter) => format!("`supersedes: {old_label}` to the front matter"),
        _ if successor.is_french() => format!("`**Remplace :** [{old_label}]({old_name})`"),
        _ => format!("`**Supersedes:** [{old_label}]({old_name})`"),
    }
}

/// An ADR that says it supersedes another must find it Superseded, by it.
fn predecessors(catalog: &Catalog, repo: &Repo, edges: &[Edge], out: &mut Findings) {
    for (j, record) in catalog.records.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for AdrRef { line, target } in &record.predecessors {
            let resolved = catalog.resolve(repo, &record.path, target);
            if !seen.insert(format!("{resolved:?}")) {
                continue;
            }
            let (message, also) = match resolved {
                Resolved::Adr(i) if i == j => (Some("says it supersedes itself: name the ADR it replaces".to_owned()), Vec::new()),
                Resolved::Adr(i) => {
                    let old = &catalog.records[i];
                    (superseded_by(catalog, edges, i, j), vec![Location::at(&old.path, old.status_line())])
                }
                Resolved::Missing(what) => (Some(format!("says it supersedes {what}, which does not exist: fix the number or the link")), Vec::new()),
                Resolved::NotAnAdr(what) => {
                    (Some(format!("says it supersedes {what}, which is not an ADR of {}: name the ADR it replaces", repo.adr_dir())), Vec::new())
                }
            };
            if let Some(message) = message {
                out.push_also(&record.path, *line, Rule::SupersedesTarget, message, also);
            }
        }
    }
}

fn superseded_by(catalog: &Catalog, edges: &[Edge], old: usize, new: usize) -> Option<String> {
    let old_record = &catalog.records[old];
    let new_record = &catalog.records[new];
    match old_record.status() {
        None => None,
        Some(Status::Superseded) => {
            let named: Vec<&str> = edges.iter().filter(|e| e.from == old).map(|e| catalog.name(e.to)).collect();
            if named.is_empty() || named.contains(&catalog.name(new)) {
                None
            } else {
                Some(format!(
                    "says it supersedes {}, but that ADR names {} as its successor: fix the claim here, or the successor there",
                    catalog.name(old),
                    named.join(", ")
                ))
            }
        }
        Some(_) => {
            let raw = old_record.status_decl().map_or_else(String::new, |d| d.raw.clone());
            let mark = status_line(old_record, Status::Superseded, Some((&catalog.label(new), catalog.name(new))));
            let field = if new_record.supersedes_field {
                String::new()
            } else {
                format!(" and add {} here", supersedes_line(new_record, old_record, catalog.name(old), &catalog.label(old)))
            };
            Some(format!(
                "says {} is superseded by this ADR, but {} still says {raw} (its line {}): mark it {mark}{field}, or reword the claim",
                catalog.label(old),
                catalog.name(old),
                old_record.status_line()
            ))
        }
    }
}

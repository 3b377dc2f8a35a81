//! Supersession, checked both ways: a Superseded ADR names a successor that exists; the
//! successor says it supersedes the old one; an ADR that says it supersedes another finds that
//! one marked Superseded by it; no ADRs supersede each other in a loop; and every chain ends in
//! an Accepted ADR.

use std::collections::BTreeSet;

use super::catalog::{Catalog, Resolved};
use super::diagnostic::{Findings, Rule};
use super::record::AdrRef;
use super::references::Repo;
use super::vocabulary::Status;

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
            out.push(
                &record.path,
                record.status_line(),
                Rule::Successor,
                "is Superseded but names no successor: write `Superseded by [ADR-NNN](NNN-title.md)`",
            );
            continue;
        }
        for AdrRef { line, target } in &record.successors {
            match catalog.resolve(repo, &record.path, target) {
                Resolved::Adr(to) => {
                    if !edges.iter().any(|e: &Edge| e.from == i && e.to == to) {
                        edges.push(Edge { from: i, to, line: *line });
                    }
                }
                Resolved::Missing(what) => {
                    out.push(&record.path, *line, Rule::Successor, format!("names {what} as its successor, which does not exist"))
                }
                Resolved::NotAnAdr(what) => out.push(
                    &record.path,
                    *line,
                    Rule::Successor,
                    format!("names {what} as its successor, which is not an ADR of {}", repo.adr_dir()),
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
        "names itself as its successor".to_owned()
    } else {
        format!("supersession loop: {}: no ADR of the loop is in force", names.join(" → "))
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
            format!("is superseded by {}, which is {status}: a supersession chain must end in an Accepted ADR", catalog.name(edge.to)),
        ),
    }
}

/// The successor must say it supersedes the old ADR.
fn backlink(catalog: &Catalog, repo: &Repo, edge: &Edge, out: &mut Findings) {
    let successor = &catalog.records[edge.to];
    let says_so = successor.predecessors.iter().any(|p| catalog.resolve(repo, &successor.path, &p.target) == Resolved::Adr(edge.from));
    if !says_so {
        let old = &catalog.records[edge.from];
        let number = old.file_number.map_or_else(|| old.stem.clone(), |n| format!("ADR-{n:03}"));
        out.push(
            &successor.path,
            successor.title_line(),
            Rule::SupersedesBacklink,
            format!(
                "does not say it supersedes {}, which names it as its successor: add `**Supersedes:** [{number}]({})`",
                catalog.name(edge.from),
                catalog.name(edge.from)
            ),
        );
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
            let message = match resolved {
                Resolved::Adr(i) if i == j => Some("says it supersedes itself".to_owned()),
                Resolved::Adr(i) => superseded_by(catalog, edges, i, j),
                Resolved::Missing(what) => Some(format!("says it supersedes {what}, which does not exist")),
                Resolved::NotAnAdr(what) => Some(format!("says it supersedes {what}, which is not an ADR of {}", repo.adr_dir())),
            };
            if let Some(message) = message {
                out.push(&record.path, *line, Rule::SupersedesTarget, message);
            }
        }
    }
}

fn superseded_by(catalog: &Catalog, edges: &[Edge], old: usize, new: usize) -> Option<String> {
    let old_record = &catalog.records[old];
    let number = |i: usize| catalog.records[i].file_number.map_or_else(|| catalog.records[i].stem.clone(), |n| format!("ADR-{n:03}"));
    match old_record.status() {
        None => None,
        Some(Status::Superseded) => {
            let named: Vec<&str> = edges.iter().filter(|e| e.from == old).map(|e| catalog.name(e.to)).collect();
            if named.is_empty() || named.contains(&catalog.name(new)) {
                None
            } else {
                Some(format!("says it supersedes {}, but that ADR names {} as its successor", catalog.name(old), named.join(", ")))
            }
        }
        Some(status) => Some(format!(
            "says it supersedes {}, which is {status}: mark it `Superseded by [{}]({})`",
            catalog.name(old),
            number(new),
            catalog.name(new)
        )),
    }
}

//! Numbers: every ADR file name starts with its number, no two ADRs share one, and the number
//! in a title is the file's. A message says which side to change, from the evidence the folder
//! gives: what the indexes call the file, which numbers are taken, which is the newer file.

use std::collections::BTreeMap;

use super::catalog::Catalog;
use super::diagnostic::{Findings, Location, Rule};
use super::index::IndexFile;
use super::record::{RefTarget, file_number};

/// Checks the numbering across the catalog; `indexes` tell what each ADR is listed as.
pub(crate) fn check(catalog: &Catalog, indexes: &[IndexFile], out: &mut Findings) {
    let next_free = catalog.highest_number().map_or(1, |n| n + 1);
    let mut by_number: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, record) in catalog.records.iter().enumerate() {
        match record.file_number {
            Some(number) => by_number.entry(number).or_default().push(i),
            None => out.push(
                &record.path,
                1,
                Rule::FileName,
                format!(
                    "the file name does not start with the ADR number: rename it `{next_free:0width$}-{}.md` (the next free number) and update the links to it",
                    record.stem,
                    width = 3
                ),
            ),
        }
    }
    let mut free = next_free;
    for files in by_number.values().filter(|files| files.len() > 1) {
        duplicate(catalog, indexes, files, &mut free, out);
    }
    for (i, record) in catalog.records.iter().enumerate() {
        if let (Some(number), Some(title)) = (record.file_number, record.title_number)
            && title != number
        {
            out.push(&record.path, record.title_line(), Rule::TitleNumber, title_number(catalog, indexes, i, number, title, &by_number));
        }
    }
}

/// Two files with one number: the newer one (by its date, else its name) is renumbered.
fn duplicate(catalog: &Catalog, indexes: &[IndexFile], files: &[usize], free: &mut u32, out: &mut Findings) {
    let mut files = files.to_vec();
    files.sort_by(|&a, &b| {
        let (ra, rb) = (&catalog.records[a], &catalog.records[b]);
        ra.date.as_deref().unwrap_or("~").cmp(rb.date.as_deref().unwrap_or("~")).then_with(|| ra.path.cmp(&rb.path))
    });
    let number = catalog.records[files[0]].file_number.unwrap_or_default();
    let names: Vec<&str> = files.iter().map(|&i| catalog.name(i)).collect();
    let newer = &files[1..];
    let mut renumbering = Vec::new();
    for &i in newer {
        let record = &catalog.records[i];
        let date = record.date.as_deref().map_or_else(String::new, |d| format!(" ({d})"));
        let linked = linked_from(catalog, indexes, i);
        let links = if linked.is_empty() { String::new() } else { format!(" and the links to it in {}", linked.join(" and ")) };
        renumbering.push(format!(
            "{}{date}, to {:0width$}, the next free number, and update its title{links}",
            catalog.name(i),
            *free,
            width = width(catalog, i)
        ));
        *free += 1;
    }
    let both = if names.len() == 2 { "both" } else { "all" };
    let newer_one = if newer.len() == 1 { "the newer one" } else { "the newer ones" };
    let message = format!("{} {both} use number {number}: renumber {newer_one}, {}", join(&names), renumbering.join("; "));
    let first = &catalog.records[newer[0]];
    let also: Vec<Location> =
        files.iter().filter(|&&i| i != newer[0]).map(|&i| Location::at(&catalog.records[i].path, catalog.records[i].title_line())).collect();
    out.push_also(&first.path, first.title_line(), Rule::DuplicateNumber, message, also);
}

/// The title's number differs from the file's: change the title, or rename the file, as the
/// evidence says.
fn title_number(catalog: &Catalog, indexes: &[IndexFile], i: usize, file: u32, title: u32, by_number: &BTreeMap<u32, Vec<usize>>) -> String {
    let record = &catalog.records[i];
    let w = width(catalog, i);
    let name = catalog.name(i);
    let highest = catalog.highest_number().unwrap_or(file);
    let listed_as: Vec<u32> = indexes.iter().flat_map(|x| &x.entries).filter(|e| e.adr == Some(i)).filter_map(|e| e.label).collect();
    let indexes_say = |n: u32| !listed_as.is_empty() && listed_as.iter().all(|&l| l == n);
    let index_count = |n: u32| indexes.iter().filter(|x| x.entries.iter().any(|e| e.adr == Some(i) && e.label == Some(n))).count();
    let listed = |n: u32| match index_count(n) {
        1 => format!("the index lists this file as {n:0w$}"),
        2 => format!("both indexes list this file as {n:0w$}"),
        k => format!("the {k} indexes list this file as {n:0w$}"),
    };
    let taken = by_number.get(&title).and_then(|files| files.iter().find(|&&j| j != i)).map(|&j| catalog.name(j));
    let mut for_file = Vec::new();
    if title > highest + 1 {
        for_file.push(format!("there is no ADR-{title:0w$} (the highest number is {highest})"));
    }
    if let Some(other) = taken {
        for_file.push(format!("{title:0w$} is taken by {other}"));
    }
    if indexes_say(file) {
        for_file.push(listed(file));
    }
    let file_shared = by_number.get(&file).is_some_and(|files| files.len() > 1);
    let mut for_title = Vec::new();
    if file_shared && taken.is_none() {
        for_title.push(format!("{file:0w$} is also the number of another file"));
    }
    if indexes_say(title) {
        for_title.push(listed(title));
    }
    let slug = record.stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['-', '_']);
    let says = format!("the title says ADR-{title:0w$} but the file is {name}");
    match (for_file.is_empty(), for_title.is_empty()) {
        (false, true) => {
            let clash = taken.map_or_else(String::new, |_| format!(" (renaming the file to {title:0w$}-… would clash)"));
            format!("{says}; {}: change the title to `ADR-{file:0w$}`{clash}", join(&for_file))
        }
        (true, false) => format!("{says}; {}: rename the file to `{title:0w$}-{slug}.md` and update the links to it", join(&for_title)),
        _ => format!("{says}: change the title to `ADR-{file:0w$}`, or rename the file to `{title:0w$}-{slug}.md` if {title:0w$} is its number"),
    }
}

/// The files that link to ADR `i`: the indexes listing it and the ADRs linking its file.
fn linked_from(catalog: &Catalog, indexes: &[IndexFile], i: usize) -> Vec<String> {
    let name = catalog.name(i);
    let mut out: Vec<String> = indexes
        .iter()
        .filter(|x| x.entries.iter().any(|e| e.adr == Some(i) && e.linked))
        .map(|x| x.path.rsplit('/').next().unwrap_or(&x.path).to_owned())
        .collect();
    for (j, record) in catalog.records.iter().enumerate() {
        let links_it = record.mentions.iter().any(|m| matches!(&m.target, RefTarget::Link(dest) if dest.rsplit('/').next() == Some(name)));
        if j != i && links_it {
            out.push(catalog.name(j).to_owned());
        }
    }
    out
}

/// How many digits the file's number is written with (`014-x.md`: 3).
fn width(catalog: &Catalog, i: usize) -> usize {
    let name = catalog.name(i);
    let rest = name.trim_start_matches(|c: char| !c.is_ascii_digit());
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if file_number(name).is_some() && digits > 0 { digits } else { 3 }
}

/// `a`, `a and b`, `a, b and c`.
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => format!("{} and {}", init.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "), last.as_ref()),
    }
}

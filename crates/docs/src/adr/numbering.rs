//! Numbers: every ADR file name starts with its number, no two ADRs share one, and the number
//! in a title is the file's.

use std::collections::BTreeMap;

use super::catalog::Catalog;
use super::diagnostic::{Findings, Rule};

/// Checks the numbering across the catalog.
pub(crate) fn check(catalog: &Catalog, out: &mut Findings) {
    let mut first_with: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, record) in catalog.records.iter().enumerate() {
        let Some(number) = record.file_number else {
            out.push(
                &record.path,
                1,
                Rule::FileName,
                format!("the file name does not start with the ADR number: rename it `NNN-{}.md`", record.stem),
            );
            continue;
        };
        match first_with.get(&number) {
            Some(&first) => {
                out.push(&record.path, record.title_line(), Rule::DuplicateNumber, format!("number {number} is also used by {}", catalog.name(first)))
            }
            None => {
                first_with.insert(number, i);
            }
        }
        if let Some(title_number) = record.title_number.filter(|t| *t != number) {
            out.push(
                &record.path,
                record.title_line(),
                Rule::TitleNumber,
                format!("the title says ADR {title_number} but the file name says {number}"),
            );
        }
    }
}

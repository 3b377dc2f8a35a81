//! The ADR folder as a whole: which files are ADRs, read once, and how a reference written in
//! one of them (a link or an ADR number) resolves to another.
//!
//! An index is never an ADR: a file is an index when the configuration names it, when its name
//! says so (`000-index.md`, `adr-index.md`, `README.md`, `sommaire.md`), or when it reads like
//! one (no status, no Context/Decision/Consequences, and links to at least three numbered files
//! of the folder).

use std::collections::{BTreeMap, HashMap};

use super::config::Config;
use super::record::{Record, RefTarget, file_number, is_relative};
use super::references::{Repo, Target};
use super::vocabulary::SectionKind;

/// File names (without their number and extension) that name an index.
const INDEX_NAMES: &[&str] =
    &["index", "readme", "toc", "sommaire", "liste", "table-des-matieres", "adr-index", "adr-log", "log", "decisions", "decision-log"];

/// The largest ADR (or index) read: a regular file of at most 4 MiB, far more than any record.
/// A larger file, a FIFO or a device is reported as unreadable, never read without end.
pub const MAX_RECORD_BYTES: u64 = 4 * vixens_diagnostic::input::MIB;

/// Every ADR of the folder, in file-name order.
#[derive(Debug, Default)]
pub struct Catalog {
    /// The ADRs.
    pub records: Vec<Record>,
    /// Index candidates present in the folder (repository-relative paths).
    pub index_files: Vec<String>,
    by_path: HashMap<String, usize>,
    by_number: BTreeMap<u32, usize>,
}

/// What a reference to an ADR resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// An ADR of the catalog.
    Adr(usize),
    /// Nothing: the description says what was looked for (`ADR 17`, `docs/adr/017-x.md`).
    Missing(String),
    /// Something that is not an ADR of the folder.
    NotAnAdr(String),
}

/// Why the folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The configured ADR folder does not exist.
    #[error("no ADR folder at {0} (set `directory:` in .config/adr.yaml if the ADRs live elsewhere)")]
    NoDirectory(String),
    /// Listing the folder failed.
    #[error("cannot list {path}")]
    Unlistable {
        /// The folder.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Catalog {
    /// Reads every ADR of `repo`'s ADR folder. A file that cannot be read becomes a record with
    /// an `unreadable` problem, so one bad file never hides the others.
    ///
    /// # Errors
    /// [`CatalogError`] when the folder is missing or cannot be listed.
    pub fn load(repo: &Repo, config: &Config) -> Result<Self, CatalogError> {
        let dir = repo.root().join(repo.adr_dir());
        if !dir.is_dir() {
            return Err(CatalogError::NoDirectory(repo.adr_dir().to_owned()));
        }
        let unlistable = |source| CatalogError::Unlistable { path: repo.adr_dir().to_owned(), source };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(unlistable)?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut catalog = Self::default();
        for name in names {
            let path = format!("{}/{name}", repo.adr_dir());
            if config.index.iter().any(|i| i.eq_ignore_ascii_case(&name)) || (is_markdown(&name) && is_index_name(&name)) {
                catalog.index_files.push(path);
            } else if is_markdown(&name) && !config.ignore.is_match(&name) {
                let record = match vixens_diagnostic::input::read(&dir.join(&name), MAX_RECORD_BYTES).map_err(|e| e.into_io()) {
                    Ok(bytes) => Record::read(&path, &bytes, &config.vocabulary),
                    Err(e) => Record::unreadable(&path, &e),
                };
                if reads_like_an_index(&record, repo) {
                    catalog.index_files.push(path);
                } else {
                    catalog.push(record);
                }
            }
        }
        Ok(catalog)
    }

    /// A catalog of records already read (tests, check-change).
    #[must_use]
    pub fn from_records(records: Vec<Record>) -> Self {
        let mut catalog = Self::default();
        for record in records {
            catalog.push(record);
        }
        catalog
    }

    fn push(&mut self, record: Record) {
        let i = self.records.len();
        self.by_path.insert(record.path.clone(), i);
        if let Some(n) = record.file_number {
            self.by_number.entry(n).or_insert(i);
        }
        self.records.push(record);
    }

    /// The ADR at a repository-relative path.
    #[must_use]
    pub fn by_path(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// The first ADR with number `n`.
    #[must_use]
    pub fn by_number(&self, n: u32) -> Option<usize> {
        self.by_number.get(&n).copied()
    }

    /// Every ADR with number `n` (two files may share one).
    pub fn all_with_number(&self, n: u32) -> impl Iterator<Item = usize> + '_ {
        self.records.iter().enumerate().filter(move |(_, r)| r.file_number == Some(n)).map(|(i, _)| i)
    }

    /// The highest number of the folder.
    #[must_use]
    pub fn highest_number(&self) -> Option<u32> {
        self.by_number.keys().next_back().copied()
    }

    /// `ADR-017`, or the file stem for an ADR without a number, for messages.
    #[must_use]
    pub fn label(&self, i: usize) -> String {
        let record = &self.records[i];
        record.file_number.map_or_else(|| record.stem.clone(), |n| format!("ADR-{n:03}"))
    }

    /// The file name of ADR `i`, for messages.
    #[must_use]
    pub fn name(&self, i: usize) -> &str {
        let path = &self.records[i].path;
        path.rsplit('/').next().unwrap_or(path)
    }

    /// Resolves a reference written in the file at `from`.
    #[must_use]
    pub fn resolve(&self, repo: &Repo, from: &str, target: &RefTarget) -> Resolved {
        match target {
            RefTarget::Number(n) => self.by_number(*n).map_or_else(|| Resolved::Missing(format!("ADR {n}")), Resolved::Adr),
            RefTarget::Link(dest) => match repo.link(dest, from) {
                Target::Path { path, exists } => match self.by_path(&path) {
                    Some(i) => Resolved::Adr(i),
                    None if exists => Resolved::NotAnAdr(path),
                    None => Resolved::Missing(path),
                },
                Target::Url(url) => Resolved::NotAnAdr(url),
                Target::Outside | Target::Ignored => Resolved::NotAnAdr(dest.clone()),
            },
        }
    }
}

/// True when the file name says it is an index: `000-index.md`, `INDEX.md`, `adr-index.md`.
fn is_index_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let stem = lower.rsplit_once('.').map_or(lower.as_str(), |(stem, _)| stem);
    let unnumbered = stem.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start_matches(['-', '_', '.', ' ']);
    INDEX_NAMES.contains(&unnumbered)
}

/// True for a file that declares no status and no section of an ADR, and links to at least
/// three numbered files of the ADR folder.
fn reads_like_an_index(record: &Record, repo: &Repo) -> bool {
    if !record.readable || !record.statuses.is_empty() || record.sections.iter().any(|s| s.kind != SectionKind::Status) {
        return false;
    }
    let mut linked: Vec<String> = record
        .markdown
        .lines
        .iter()
        .flat_map(|l| &l.links)
        .filter(|l| is_relative(&l.dest))
        .filter_map(|l| match repo.link(&l.dest, &record.path) {
            Target::Path { path, .. } if repo.in_adr_dir(&path) && file_number(path.rsplit('/').next().unwrap_or_default()).is_some() => Some(path),
            _ => None,
        })
        .collect();
    linked.sort();
    linked.dedup();
    linked.len() >= 3
}

fn is_markdown(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_known_by_its_name() {
        for name in ["000-index.md", "0000-index.md", "INDEX.md", "adr-index.md", "README.md", "sommaire.md"] {
            assert!(is_index_name(name), "{name}");
        }
        for name in ["001-indexing-strategy.md", "012-log-shipping.md", "readme-first.md"] {
            assert!(!is_index_name(name), "{name}");
        }
    }

    #[test]
    fn an_index_is_known_by_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let adrs = dir.path().join("docs/adr");
        std::fs::create_dir_all(&adrs).unwrap();
        let adr = "# ADR-001: A\n\n**Status:** Accepted\n\n## Context\n\nSee [2](002-b.md), [3](003-c.md), [4](004-d.md).\n";
        for name in ["001-a.md", "002-b.md", "003-c.md", "004-d.md"] {
            std::fs::write(adrs.join(name), adr).unwrap();
        }
        std::fs::write(adrs.join("099-overview.md"), "# Overview\n\n- [ADR-1](001-a.md)\n- [ADR-2](002-b.md)\n- [ADR-3](003-c.md)\n").unwrap();
        let repo = Repo::new(dir.path(), std::path::Path::new("docs/adr"));
        let catalog = Catalog::load(&repo, &Config::default()).unwrap();
        assert_eq!(catalog.index_files, ["docs/adr/099-overview.md"]);
        assert_eq!(catalog.records.len(), 4);
    }
}

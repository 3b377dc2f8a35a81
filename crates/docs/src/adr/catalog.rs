//! The ADR folder as a whole: which files are ADRs, read once, and how a reference written in
//! one of them (a link or an ADR number) resolves to another.

use std::collections::{BTreeMap, HashMap};

use super::config::Config;
use super::record::{Record, RefTarget};
use super::references::{Repo, Target};

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
            if config.index.iter().any(|i| i.eq_ignore_ascii_case(&name)) {
                catalog.index_files.push(path);
            } else if is_markdown(&name) && !config.ignore.is_match(&name) {
                let record = match vixens_diagnostic::input::read(&dir.join(&name), MAX_RECORD_BYTES).map_err(|e| e.into_io()) {
                    Ok(bytes) => Record::read(&path, &bytes, &config.vocabulary),
                    Err(e) => Record::unreadable(&path, &e),
                };
                catalog.push(record);
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

fn is_markdown(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

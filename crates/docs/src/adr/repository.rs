//! The whole lint of one repository: every ADR on its own, then numbering, supersession and
//! the index across them, with each rule's severity from the configuration.

use std::path::Path;

use serde::Serialize;

use super::catalog::{Catalog, CatalogError};
use super::config::Config;
use super::diagnostic::{Diagnostic, Findings, Scope, Severity};
use super::references::Repo;
use super::vocabulary::Status;
use super::{index, numbering, rules, secrets, supersession};

/// One ADR, as the lint saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdrSummary {
    /// Repository-relative path.
    pub path: String,
    /// File name without extension (the trial is `adr::<stem>`).
    pub stem: String,
    /// The number its file name starts with.
    pub number: Option<u32>,
    /// Its normalised status.
    pub status: Option<Status>,
}

/// What the lint found.
#[derive(Debug, Clone, Serialize)]
pub struct Lint {
    /// The ADR folder, repository-relative.
    pub directory: String,
    /// Every ADR, in file-name order.
    pub adrs: Vec<AdrSummary>,
    /// The index files checked (candidates that list ADRs).
    pub indexes: Vec<String>,
    /// Every problem, sorted by file and line; rules turned off are left out.
    pub diagnostics: Vec<Diagnostic>,
}

impl Lint {
    /// How many errors.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// How many warnings.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count()
    }
}

/// Lints the ADRs of the repository at `root`.
///
/// # Errors
/// [`CatalogError`] when the ADR folder is missing or cannot be listed; every problem inside
/// it is a diagnostic instead.
pub fn lint(root: &Path, config: &Config) -> Result<Lint, CatalogError> {
    let repo = Repo::new(root, &config.directory);
    let catalog = Catalog::load(&repo, config)?;
    let index_files: Vec<index::IndexFile> = catalog
        .index_files
        .iter()
        .filter_map(|path| {
            let bytes = vixens_diagnostic::input::read(&root.join(path), crate::adr::catalog::MAX_RECORD_BYTES).ok()?;
            index::read(path, &String::from_utf8_lossy(&bytes), &catalog, &repo, &config.vocabulary)
        })
        .collect();
    let mut findings = Findings::default();
    for record in &catalog.records {
        rules::check(record, &repo, config, &mut findings);
    }
    secrets::check(root, catalog.records.iter().map(|r| &r.path).chain(&catalog.index_files), &mut findings);
    numbering::check(&catalog, &index_files, &mut findings);
    supersession::check(&catalog, &repo, &mut findings);
    index::check(&index_files, &catalog, &repo, &mut findings);
    let indexes = index_files.iter().map(|x| x.path.clone()).collect();
    let adrs = catalog
        .records
        .iter()
        .map(|r| AdrSummary { path: r.path.clone(), stem: r.stem.clone(), number: r.file_number, status: r.status() })
        .collect();
    Ok(Lint { directory: repo.adr_dir().to_owned(), adrs, indexes, diagnostics: finish(findings, config) })
}

/// Applies severities, drops rules turned off, and sorts by file then line (a stable sort
/// keeps the rules' order on one line).
pub(crate) fn finish(findings: Findings, config: &Config) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = findings
        .found
        .into_iter()
        .map(|f| Diagnostic { severity: config.severity(f.rule), file: f.file, line: f.line, rule: f.rule, message: f.message, also: f.also })
        .filter(|d| d.severity != Severity::Off)
        .collect();
    diagnostics.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    diagnostics.dedup();
    diagnostics
}

/// The diagnostics one trial reports: a file's own, or a repository-wide scope's.
pub(crate) fn in_scope<'a>(lint: &'a Lint, scope: Scope, file: Option<&'a str>) -> impl Iterator<Item = &'a Diagnostic> {
    lint.diagnostics.iter().filter(move |d| d.rule.scope() == scope && file.is_none_or(|f| d.file == f))
}

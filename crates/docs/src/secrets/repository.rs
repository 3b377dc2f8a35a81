//! `docs/**` of a repository: every Markdown, YAML and shell file, scanned and judged against
//! `.config/secrets.yaml`.
//!
//! Links are never followed: a link loop (`docs/x -> .`) would never end, and a link out of
//! `docs/` would scan what is not the documentation. A file the scan cannot read is named, never
//! skipped in silence.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Finding;
use super::allow::{Allow, AllowError, Allowed, Entry};
use super::scan::{Kind, scan};

/// The folder scanned, relative to the repository root.
pub const DOCS_DIR: &str = "docs";

/// The largest file read: far beyond any document; past it the file is named, not read.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What a repository scan found.
#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    /// The folder scanned, repository-relative.
    pub directory: String,
    /// How many files were scanned.
    pub files: usize,
    /// The findings the allow file does not accept, by file then line.
    pub findings: Vec<Finding>,
    /// The findings it accepts, with their reasons.
    pub allowed: Vec<Allowed>,
    /// Allow entries that accept nothing any more.
    pub unused: Vec<Entry>,
    /// Files that could not be scanned, each as `file: why`.
    pub unreadable: Vec<String>,
}

/// Why a repository cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The repository has no `docs/` folder.
    #[error("no {DOCS_DIR}/ folder in {}: nothing to scan (run it at the repository root, or pass --repo DIR)", .0.display())]
    NoDocs(PathBuf),
    /// `.config/secrets.yaml` is not valid.
    #[error(transparent)]
    Allow(#[from] AllowError),
}

/// Scans `repo`'s `docs/**`.
///
/// # Errors
/// [`ScanError`] when there is no `docs/` folder or the allow file is not valid; a file that
/// cannot be read is listed in [`Scan::unreadable`] instead.
pub fn scan_repository(repo: &Path) -> Result<Scan, ScanError> {
    let docs = repo.join(DOCS_DIR);
    if !docs.is_dir() {
        return Err(ScanError::NoDocs(repo.to_owned()));
    }
    let allow = Allow::for_repo(repo)?;
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    walk(repo, Path::new(DOCS_DIR), &mut files, &mut unreadable);
    let mut findings = Vec::new();
    for rel in &files {
        match scan_file(repo, rel) {
            Ok(found) => findings.extend(found),
            Err(why) => unreadable.push(format!("{rel}: {why}")),
        }
    }
    let (findings, allowed) = allow.split(findings);
    let unused = allow.unused(&allowed);
    Ok(Scan { directory: DOCS_DIR.to_owned(), files: files.len(), findings, allowed, unused, unreadable })
}

/// The findings of one file, `rel` being repository-relative with `/` separators (as it is
/// named in the findings). Bytes that are not UTF-8 are read as replacement characters:
/// credentials are ASCII.
///
/// # Errors
/// Why the file cannot be read, or that it is larger than [`MAX_FILE_BYTES`].
pub fn scan_file(repo: &Path, rel: &str) -> Result<Vec<Finding>, String> {
    let path = repo.join(rel);
    let size = std::fs::metadata(&path).map_err(|e| format!("cannot read it: {e}"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("{size} bytes is more than the {MAX_FILE_BYTES} a document may have; it was not scanned"));
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read it: {e}"))?;
    let kind = Kind::of(Path::new(rel)).unwrap_or(Kind::Text);
    Ok(scan(rel, &String::from_utf8_lossy(&bytes), kind))
}

/// The scanned files under `rel` (repository-relative), in name order.
fn walk(repo: &Path, rel: &Path, files: &mut Vec<String>, unreadable: &mut Vec<String>) {
    let entries = match std::fs::read_dir(repo.join(rel)) {
        Ok(entries) => entries,
        Err(e) => return unreadable.push(format!("{}: cannot list it: {e}", slashed(rel))),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = rel.join(entry.file_name());
        // DirEntry::file_type does not follow links.
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(repo, &path, files, unreadable),
            Ok(t) if t.is_file() && Kind::of(&path).is_some() => files.push(slashed(&path)),
            Ok(_) => {}
            Err(e) => unreadable.push(format!("{}: {e}", slashed(&path))),
        }
    }
}

fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn markdown_yaml_and_shell_under_docs_are_scanned_and_nothing_else() {
        let secret = "password: gs8w85Tiij3Mp3KM\n";
        let dir = repo(&[
            ("docs/a.md", secret),
            ("docs/deep/b.yaml", secret),
            ("docs/c.sh", secret),
            ("docs/d.txt", secret),
            ("README.md", secret),
            ("docs/clean.md", "nothing\n"),
        ]);
        let scan = scan_repository(dir.path()).unwrap();
        let files: Vec<&str> = scan.findings.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(files, ["docs/a.md", "docs/c.sh", "docs/deep/b.yaml"]);
        assert_eq!(scan.files, 4);
    }

    #[test]
    fn links_are_not_followed() {
        let dir = repo(&[("docs/a.md", "clean\n"), ("outside/secret.md", "password: gs8w85Tiij3Mp3KM\n")]);
        std::os::unix::fs::symlink(dir.path().join("outside"), dir.path().join("docs/linked")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("docs"), dir.path().join("docs/loop")).unwrap();
        let scan = scan_repository(dir.path()).unwrap();
        assert_eq!((scan.files, scan.findings.len()), (1, 0));
    }

    #[test]
    fn no_docs_folder_or_a_bad_allow_file_cannot_be_scanned() {
        let dir = repo(&[("README.md", "x\n")]);
        assert!(matches!(scan_repository(dir.path()), Err(ScanError::NoDocs(_))));
        let dir = repo(&[("docs/a.md", "x\n"), (".config/secrets.yaml", "version: 1\nallow: [{file: a}]\n")]);
        let error = scan_repository(dir.path()).unwrap_err();
        assert!(error.to_string().starts_with(&format!("{}:2: missing field", dir.path().join(".config/secrets.yaml").display())), "{error}");
    }

    #[test]
    fn an_allowed_finding_is_listed_with_its_reason_and_a_stale_entry_as_unused() {
        let dir = repo(&[("docs/a.md", "password: gs8w85Tiij3Mp3KM\n")]);
        let fingerprint = scan_repository(dir.path()).unwrap().findings[0].fingerprint.clone();
        let allow = format!(
            "version: 1\nallow:\n  - file: docs/a.md\n    fingerprint: \"{fingerprint}\"\n    reason: the lab's throwaway password\n  - file: docs/gone.md\n    fingerprint: \"0123456789abcdef\"\n    reason: removed since\n"
        );
        std::fs::create_dir(dir.path().join(".config")).unwrap();
        std::fs::write(dir.path().join(".config/secrets.yaml"), allow).unwrap();
        let scan = scan_repository(dir.path()).unwrap();
        assert_eq!(scan.findings, []);
        assert_eq!(scan.allowed[0].reason, "the lab's throwaway password");
        assert_eq!(scan.unused.iter().map(|e| e.file.as_str()).collect::<Vec<_>>(), ["docs/gone.md"]);
    }
}

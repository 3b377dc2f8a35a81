//! Links and path mentions: where they point, whether that exists, and whether they count as a
//! reference to a specification or to the implementation.
//!
//! A link is checked whenever it is relative (GitHub's reading: relative to the file, or to the
//! repository root when it starts with `/`). A path mention in prose is checked only when it
//! looks like a path and names something under a top-level entry of the repository, so that
//! `and/or`, `TCP/IP` or `lab/homelab` are never taken for files, while `harness/src/destory.rs`
//! is caught.

use std::path::{Path, PathBuf};

use super::config::Config;
use super::markdown::TextLine;
use super::record::{has_scheme, is_relative};

/// The repository the ADRs live in.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
    adr_dir: String,
}

/// Where a link or mention points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A web address (never fetched).
    Url(String),
    /// A repository path (`/`-separated, relative to the root) and whether it exists.
    Path {
        /// The path.
        path: String,
        /// Whether it exists.
        exists: bool,
    },
    /// A relative path that climbs out of the repository.
    Outside,
    /// Nothing to check (an anchor, `mailto:`).
    Ignored,
}

/// A link or mention found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Its line.
    pub line: usize,
    /// As written.
    pub written: String,
    /// True for a link, false for a path mention.
    pub is_link: bool,
    /// Where it points.
    pub target: Target,
}

impl Repo {
    /// A repository at `root` whose ADRs are in `adr_dir` (relative to it).
    #[must_use]
    pub fn new(root: &Path, adr_dir: &Path) -> Self {
        Self { root: root.to_owned(), adr_dir: slash(adr_dir) }
    }

    /// The repository root.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The ADR folder, relative to the root, `/`-separated.
    #[must_use]
    pub fn adr_dir(&self) -> &str {
        &self.adr_dir
    }

    /// True when `path` (repository-relative) is in the ADR folder.
    #[must_use]
    pub fn in_adr_dir(&self, path: &str) -> bool {
        path.strip_prefix(self.adr_dir.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    fn exists(&self, path: &str) -> bool {
        self.root.join(path).exists()
    }

    /// Where a link destination written in the file at `from` (repository-relative) points.
    #[must_use]
    pub fn link(&self, dest: &str, from: &str) -> Target {
        let dest = dest.trim().trim_start_matches('<').trim_end_matches('>');
        if dest.starts_with("http://") || dest.starts_with("https://") {
            return Target::Url(dest.to_owned());
        }
        if !is_relative(dest) {
            return Target::Ignored;
        }
        let path = dest.split(['#', '?']).next().unwrap_or_default();
        if path.is_empty() {
            return Target::Ignored;
        }
        let path = percent_decode(path);
        let joined = match path.strip_prefix('/') {
            Some(rooted) => rooted.to_owned(),
            None => format!("{}/{}", parent(from), path),
        };
        self.resolved(&joined)
    }

    /// Where a path mention written in the file at `from` points, or `None` when it is not a
    /// checkable repository path.
    #[must_use]
    pub fn mention(&self, token: &str, from: &str, in_code: bool) -> Option<Target> {
        let token = path_like(token, in_code)?;
        if token.starts_with("./") || token.starts_with("../") {
            return Some(self.resolved(&format!("{}/{}", parent(from), token)));
        }
        let first = token.split('/').next().unwrap_or_default();
        let beside = format!("{}/{}", parent(from), token);
        if self.exists(first) {
            let at_root = self.resolved(token);
            if matches!(at_root, Target::Path { exists: false, .. }) && self.exists(&beside) {
                return Some(self.resolved(&beside));
            }
            Some(at_root)
        } else if self.exists(&format!("{}/{}", parent(from), first)) {
            Some(self.resolved(&beside))
        } else {
            None
        }
    }

    fn resolved(&self, joined: &str) -> Target {
        match normalise(joined) {
            Some(path) => {
                let exists = path.is_empty() || self.exists(&path);
                Target::Path { path, exists }
            }
            None => Target::Outside,
        }
    }

    /// Every link and path mention on `line` of the file at `from`.
    #[must_use]
    pub fn references(&self, line: &TextLine, from: &str) -> Vec<Reference> {
        let mut out: Vec<Reference> = line
            .links
            .iter()
            .map(|l| Reference { line: line.line, written: l.dest.clone(), is_link: true, target: self.link(&l.dest, from) })
            .collect();
        let code = line.code.iter().map(|c| (c.as_str(), true));
        let prose = line.prose.iter().flat_map(|p| p.split_whitespace()).map(|w| (w, false));
        for (token, in_code) in code.chain(prose) {
            let Some(token) = path_like(token, in_code) else { continue };
            if let Some(target) = self.mention(token, from, in_code) {
                out.push(Reference { line: line.line, written: token.to_owned(), is_link: false, target });
            }
        }
        out
    }
}

/// What kind of reference a target is, by the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    /// It counts as a reference to a specification.
    pub spec: bool,
    /// It counts as a reference to the implementation.
    pub implementation: bool,
}

/// Classifies an existing target. Without configured patterns, a spec is a document under
/// `docs/` or a Markdown file outside the ADR folder, or a web address; the implementation is
/// anything else in the repository outside the ADR folder.
#[must_use]
pub fn kinds(target: &Target, repo: &Repo, config: &Config) -> Kinds {
    let none = Kinds { spec: false, implementation: false };
    let (text, is_url) = match target {
        Target::Url(url) => (url.as_str(), true),
        Target::Path { path, exists: true } if !path.is_empty() && !repo.in_adr_dir(path) => (path.as_str(), false),
        Target::Path { .. } | Target::Outside | Target::Ignored => return none,
    };
    let default_spec = is_url || text.starts_with("docs/") || text.ends_with(".md");
    let spec = config.spec.as_ref().map_or(default_spec, |p| p.is_match(text));
    let implementation = match &config.implementation {
        Some(p) => p.is_match(text),
        None => !is_url && !spec,
    };
    Kinds { spec, implementation }
}

/// The token as a path, when it looks like one: path characters only, a `/` inside (or, in
/// code, a file extension), no glob or placeholder characters, not a URL. Trailing punctuation
/// and `:line` suffixes are dropped.
fn path_like(token: &str, in_code: bool) -> Option<&str> {
    let token = token.trim().trim_start_matches(['(', '[', '"', '\'', '«']);
    let token = token.trim_end_matches([')', ']', ',', ';', '"', '\'', '»', '!', '?', '.', ':']);
    let token = strip_line_suffix(token);
    if token.is_empty() || has_scheme(token) || token.starts_with('/') || token.starts_with('-') || token.starts_with('~') {
        return None;
    }
    if !token.chars().all(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '_' | '-' | '+' | '@')) {
        return None;
    }
    let has_slash = token.trim_end_matches('/').contains('/') || token.ends_with('/');
    if !has_slash {
        return None;
    }
    // In prose a path must look like one: a file extension or a trailing slash.
    let last = token.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let has_extension = last
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()));
    (in_code || has_extension || token.ends_with('/')).then_some(token)
}

/// `lab/src/store.rs:42:7` → `lab/src/store.rs`.
fn strip_line_suffix(token: &str) -> &str {
    let mut token = token;
    while let Some((head, tail)) = token.rsplit_once(':') {
        if tail.is_empty() || !tail.chars().all(|c| c.is_ascii_digit()) {
            break;
        }
        token = head;
    }
    token
}

/// The folder of a repository-relative file.
fn parent(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Resolves `.` and `..` lexically; `None` when the path leaves the repository.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn slash(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    normalise(&text).unwrap_or(text)
}

/// `%20` → space; invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().unwrap();
        for file in ["docs/adr/001-a.md", "docs/spec.md", "src/cache.rs", "README.md"] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let repo = Repo::new(dir.path(), Path::new("docs/adr"));
        (dir, repo)
    }

    const FROM: &str = "docs/adr/002-b.md";

    #[test]
    fn links_resolve_against_the_file_or_the_root() {
        let (_dir, repo) = repo();
        assert_eq!(repo.link("../../src/cache.rs#L3", FROM), Target::Path { path: "src/cache.rs".into(), exists: true });
        assert_eq!(repo.link("/src/cache.rs", FROM), Target::Path { path: "src/cache.rs".into(), exists: true });
        assert_eq!(repo.link("001-a.md", FROM), Target::Path { path: "docs/adr/001-a.md".into(), exists: true });
        assert_eq!(repo.link("003-gone.md", FROM), Target::Path { path: "docs/adr/003-gone.md".into(), exists: false });
        assert_eq!(repo.link("../../../../etc/passwd", FROM), Target::Outside);
        assert_eq!(repo.link("#context", FROM), Target::Ignored);
        assert_eq!(repo.link("mailto:a@b.c", FROM), Target::Ignored);
        assert_eq!(repo.link("https://example.org/x", FROM), Target::Url("https://example.org/x".into()));
        assert_eq!(repo.link("../my%20spec.md", FROM), Target::Path { path: "docs/my spec.md".into(), exists: false });
    }

    #[test]
    fn path_mentions_are_checked_only_under_top_level_entries() {
        let (_dir, repo) = repo();
        let m = |t: &str, code: bool| repo.mention(t, FROM, code);
        assert_eq!(m("src/cache.rs", false), Some(Target::Path { path: "src/cache.rs".into(), exists: true }));
        assert_eq!(m("src/cahce.rs:42", true), Some(Target::Path { path: "src/cahce.rs".into(), exists: false }));
        assert_eq!(m("(src/cache.rs).", false), Some(Target::Path { path: "src/cache.rs".into(), exists: true }));
        assert_eq!(m("src/cache", true), Some(Target::Path { path: "src/cache".into(), exists: false }));
        // Prose that only looks like a path when it has an extension or a trailing slash.
        assert_eq!(m("src/cache", false), None);
        for prose in ["and/or", "TCP/IP", "lab/homelab", "apps/00-infra/", "https://x.org/a.md", "src/**/*.rs", "<dir>/x.rs"] {
            assert_eq!(m(prose, false), None, "{prose}");
        }
        assert_eq!(m("./001-a.md", false), Some(Target::Path { path: "docs/adr/001-a.md".into(), exists: true }));
    }

    #[test]
    fn spec_and_implementation_by_default_and_by_configuration() {
        let (_dir, repo) = repo();
        let path = |p: &str| Target::Path { path: p.into(), exists: true };
        let config = Config::default();
        assert_eq!(kinds(&path("docs/spec.md"), &repo, &config), Kinds { spec: true, implementation: false });
        assert_eq!(kinds(&path("src/cache.rs"), &repo, &config), Kinds { spec: false, implementation: true });
        assert_eq!(kinds(&path("docs/adr/001-a.md"), &repo, &config), Kinds { spec: false, implementation: false });
        assert!(kinds(&Target::Url("https://x.org".into()), &repo, &config).spec);
        let config = Config::parse(Path::new("c"), "references:\n  spec: [docs/spec.md]\n  implementation: [\"src/**\"]\n").unwrap();
        assert_eq!(kinds(&path("README.md"), &repo, &config), Kinds { spec: false, implementation: false });
        assert!(!kinds(&Target::Url("https://x.org".into()), &repo, &config).spec);
    }
}

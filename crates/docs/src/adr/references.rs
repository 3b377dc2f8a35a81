//! Links and path mentions: where they point, whether that exists, and whether they count as a
//! reference to a specification or to the implementation.
//!
//! A link is checked whenever it is relative (GitHub's reading: relative to the file, or to the
//! repository root when it starts with `/`). A path mention in prose is checked only when it
//! looks like a path and names something under a top-level entry of the repository, so that
//! `and/or`, `TCP/IP` or `lab/homelab` are never taken for files, while `harness/src/destory.rs`
//! is caught. A bare address in prose (`https://...`) is a web reference, and a bare file name
//! (`` `renovate.json` ``) is a reference when it names a file of the repository; neither is
//! ever reported missing.
//!
//! When something is missing, [`Repo::same_name`] looks for where it went: a file of the same
//! name elsewhere, the folder it most likely moved to first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::config::Config;
use super::markdown::TextLine;
use super::record::{has_scheme, is_relative};

/// The repository the ADRs live in.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
    adr_dir: String,
    /// Every file and folder of the repository by name, read the first time a name is looked
    /// up (most ADR folders never need it).
    names: OnceLock<HashMap<String, Vec<String>>>,
}

/// Folders never listed: version control, build output and dependencies are not where an ADR's
/// file went.
const UNLISTED: &[&str] = &[".git", "target", "node_modules", ".terraform", ".venv", "vendor"];
/// A repository larger than this is listed no further: the names found so far still help.
const MAX_LISTED: usize = 200_000;

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
        Self { root: root.to_owned(), adr_dir: slash(adr_dir), names: OnceLock::new() }
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

    /// True when `path` (repository-relative) exists.
    #[must_use]
    pub fn exists(&self, path: &str) -> bool {
        self.root.join(path).exists()
    }

    /// The repository paths of every file or folder named `name`.
    #[must_use]
    pub fn named(&self, name: &str) -> &[String] {
        self.names.get_or_init(|| list_names(&self.root)).get(name).map_or(&[], Vec::as_slice)
    }

    /// Where a missing path most likely went: the existing files (or folders) of the same name,
    /// best first. The best share the most trailing components with it
    /// (`apps/monitoring/prometheus/values.yaml` → `apps/02-monitoring/prometheus/values.yaml`,
    /// not `apps/02-monitoring/grafana/values.yaml`); with several equally good, none is
    /// returned when only the name is shared.
    #[must_use]
    pub fn same_name(&self, missing: &str) -> Vec<String> {
        let missing = missing.trim_end_matches('/');
        let Some(name) = missing.rsplit('/').next().filter(|n| !n.is_empty()) else { return Vec::new() };
        let shared = |candidate: &str| missing.rsplit('/').zip(candidate.rsplit('/')).take_while(|(a, b)| a == b).count();
        let mut ranked: Vec<(usize, &String)> = self.named(name).iter().map(|c| (shared(c), c)).collect();
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let best = ranked.first().map_or(0, |r| r.0);
        let tied = ranked.iter().filter(|r| r.0 == best).count();
        if tied > 1 && best < 2 {
            return Vec::new();
        }
        ranked.into_iter().filter(|r| r.0 == best).map(|(_, c)| c.clone()).collect()
    }

    /// The one entry of the missing path's folder whose name is a typo away from it
    /// (`terraform/modules/talos/mian.tf` → `terraform/modules/talos/main.tf`).
    #[must_use]
    pub fn close_name(&self, missing: &str) -> Option<String> {
        let missing = missing.trim_end_matches('/');
        let (folder, name) = missing.rsplit_once('/').unwrap_or(("", missing));
        let entries = std::fs::read_dir(self.root.join(folder)).ok()?;
        let close: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|entry| entry != name && strsim::levenshtein(entry, name) <= 2 && name.len() > 3)
            .collect();
        match close.as_slice() {
            [one] if folder.is_empty() => Some(one.clone()),
            [one] => Some(format!("{folder}/{one}")),
            _ => None,
        }
    }

    /// A bare file name (`renovate.json`, no `/`) as the repository file it names: at the root,
    /// beside the ADR, or the only file of that name.
    #[must_use]
    pub fn bare_name(&self, name: &str, from: &str) -> Option<String> {
        if name.is_empty() || name.contains('/') || name.chars().all(|c| c == '.') {
            return None;
        }
        let is_file = |path: &str| self.root.join(path).is_file();
        let beside = format!("{}/{name}", parent(from));
        [name.to_owned(), beside].into_iter().find(|p| is_file(p)).or_else(|| {
            let files: Vec<&String> = self.named(name).iter().filter(|p| is_file(p)).collect();
            match files.as_slice() {
                [only] => Some((*only).clone()),
                _ => None,
            }
        })
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

    /// Every link, path mention, bare address and bare file name on `line` of the file at
    /// `from`.
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
            if let Some(url) = bare_url(token).filter(|_| !in_code) {
                out.push(Reference { line: line.line, written: url.to_owned(), is_link: false, target: Target::Url(url.to_owned()) });
            } else if let Some(token) = path_like(token, in_code) {
                if let Some(target) = self.mention(token, from, in_code) {
                    out.push(Reference { line: line.line, written: token.to_owned(), is_link: false, target });
                }
            } else if let Some(name) = file_name_like(token, in_code)
                && let Some(path) = self.bare_name(name, from)
            {
                out.push(Reference { line: line.line, written: name.to_owned(), is_link: false, target: Target::Path { path, exists: true } });
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

/// A web address written as plain text, without the punctuation around it.
fn bare_url(token: &str) -> Option<&str> {
    let token = token.trim_start_matches(['(', '[', '<', '"', '\'', '«']);
    let token = token.trim_end_matches(['.', ',', ';', ':', ')', ']', '>', '"', '\'', '»', '!', '?']);
    (token.starts_with("https://") || token.starts_with("http://")).then_some(token).filter(|t| t.len() > "https://".len())
}

/// A file name without a folder: any code span without spaces, or a prose word with a file
/// extension (`renovate.json`). It counts only when the repository has it.
fn file_name_like(token: &str, in_code: bool) -> Option<&str> {
    let token = token.trim().trim_start_matches(['(', '[', '"', '\'', '«']);
    let token = token.trim_end_matches([')', ']', ',', ';', '"', '\'', '»', '!', '?', '.', ':']);
    if token.is_empty() || token.contains('/') || !token.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@')) {
        return None;
    }
    let has_extension = token
        .rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()));
    (in_code || has_extension).then_some(token)
}

/// Every file and folder under `root` by name, skipping [`UNLISTED`] folders.
fn list_names(root: &Path) -> HashMap<String, Vec<String>> {
    let mut names: HashMap<String, Vec<String>> = HashMap::new();
    let mut pending = vec![(root.to_owned(), String::new())];
    let mut listed = 0;
    while let Some((dir, prefix)) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if UNLISTED.contains(&name.as_str()) || listed >= MAX_LISTED {
                continue;
            }
            listed += 1;
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push((entry.path(), path.clone()));
            }
            names.entry(name).or_default().push(path);
        }
    }
    names
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
#[must_use]
pub fn parent(file: &str) -> &str {
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
        for file in [
            "docs/adr/001-a.md",
            "docs/spec.md",
            "src/cache.rs",
            "README.md",
            "renovate.json",
            "deploy/02-mon/prom/values.yaml",
            "deploy/02-mon/graf/values.yaml",
            "target/debug/values.yaml",
        ] {
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
    fn bare_addresses_and_file_names_are_references() {
        let (_dir, repo) = repo();
        let md = super::super::markdown::Markdown::parse(
            "See https://developer.hashicorp.com/terraform/s3, and `renovate.json`, `talosctl`, values.yaml, nothing.md.\n",
        );
        let refs = repo.references(&md.lines[0], FROM);
        let targets: Vec<&Target> = refs.iter().map(|r| &r.target).collect();
        assert_eq!(
            targets,
            [&Target::Path { path: "renovate.json".into(), exists: true }, &Target::Url("https://developer.hashicorp.com/terraform/s3".into())]
        );
    }

    #[test]
    fn a_missing_path_finds_the_file_of_the_same_name_that_shares_the_most() {
        let (_dir, repo) = repo();
        assert_eq!(repo.same_name("deploy/monitoring/prom/values.yaml"), ["deploy/02-mon/prom/values.yaml"]);
        // Two files share only the name: no guess. Build output is never a candidate.
        assert_eq!(repo.same_name("deploy/values.yaml"), Vec::<String>::new());
        assert_eq!(repo.same_name("docs/runbooks/upgrade.md"), Vec::<String>::new());
        assert_eq!(repo.same_name("lib/cache.rs"), ["src/cache.rs"]);
        assert_eq!(repo.close_name("src/cahce.rs").as_deref(), Some("src/cache.rs"));
        assert_eq!(repo.close_name("src/store.rs"), None);
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

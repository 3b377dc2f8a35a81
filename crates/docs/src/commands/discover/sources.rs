//! Where a repository's operations are written: shell scripts, Justfile, Makefile and Taskfile
//! recipes, GitHub workflow `run:` steps, and the shell blocks of its runbooks and README.
//!
//! Each source yields [`Snippet`]s: shell text and the line of the file its first line is on,
//! with line breaks kept so that every command found in it keeps its own line. The files are
//! those git knows (tracked, or untracked and not ignored), or, outside a git repository, every
//! file but build output and dependencies.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use vixens_drivers::process::Command;

use super::config::Config;
use crate::commands::DOC_PATH;

mod markdown;
mod recipes;
mod yaml;

/// Shell text found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The file, relative to the repository, `/`-separated.
    pub file: String,
    /// The line of the file the text's first line is on.
    pub line: usize,
    /// The text, as a shell reads it (recipe prefixes and template variables resolved where known).
    pub text: String,
}

/// Everything read from a repository.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The shell text found, file by file.
    pub snippets: Vec<Snippet>,
    /// Each file read, with its text (to show the line a command is on).
    pub files: BTreeMap<String, String>,
    /// Files that could not be read, each `file:line:column: why`.
    pub problems: Vec<String>,
}

impl Sources {
    /// The text of `file`'s line `line`, trimmed, for messages.
    #[must_use]
    pub fn line_text(&self, file: &str, line: usize) -> String {
        self.files.get(file).and_then(|text| text.lines().nth(line.saturating_sub(1))).unwrap_or_default().trim().to_owned()
    }
}

/// Shell scripts, wherever they are.
const SCRIPTS: &[&str] = &["scripts/**", "**/*.sh", "**/*.bash"];
/// Recipe files.
const JUSTFILES: &[&str] = &["**/justfile", "**/Justfile", "**/.justfile", "**/*.just"];
const MAKEFILES: &[&str] = &["**/Makefile", "**/makefile", "**/GNUmakefile", "**/*.mk"];
const TASKFILES: &[&str] = &["**/Taskfile.yml", "**/Taskfile.yaml", "**/taskfile.yml", "**/taskfile.yaml", "**/Taskfile.dist.yml"];
/// GitHub workflows and composite actions.
const WORKFLOWS: &[&str] = &[".github/workflows/*.yml", ".github/workflows/*.yaml", "**/action.yml", "**/action.yaml"];
/// Runbooks, procedures and the README.
const MARKDOWN: &[&str] = &["README.md", "docs/**/*.md", "docs/**/*.markdown"];
/// Folders never read outside git: build output and dependencies.
const UNLISTED: &[&str] = &[".git", "target", "node_modules", ".terraform", "vendor", ".venv"];

/// Files larger than this are no script: they are skipped.
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// What kind of source a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Script,
    Justfile,
    Makefile,
    Taskfile,
    Workflow,
    Markdown,
}

fn globs(patterns: &[&str]) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(glob(pattern).expect("built-in globs are valid"));
    }
    builder.build().expect("built-in globs are valid")
}

/// A glob as the configuration writes them: `*` stays within a folder.
pub(super) fn glob(text: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text).literal_separator(true).build()
}

/// Reads every source of `repo`.
#[must_use]
pub fn read(repo: &Path, config: &Config) -> Sources {
    let kinds = [
        (Kind::Justfile, globs(JUSTFILES)),
        (Kind::Makefile, globs(MAKEFILES)),
        (Kind::Taskfile, globs(TASKFILES)),
        (Kind::Workflow, globs(WORKFLOWS)),
        (Kind::Markdown, globs(MARKDOWN)),
        (Kind::Script, globs(SCRIPTS)),
    ];
    let mut sources = Sources::default();
    for file in list_files(repo) {
        if file == DOC_PATH || config.exclude.is_match(&file) {
            continue;
        }
        let kind =
            if config.scripts.is_match(&file) { Some(Kind::Script) } else { kinds.iter().find(|(_, set)| set.is_match(&file)).map(|(k, _)| *k) };
        let Some(kind) = kind else { continue };
        let path = repo.join(&file);
        if std::fs::metadata(&path).map_or(true, |m| !m.is_file() || m.len() > MAX_BYTES) {
            continue;
        }
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            // A binary file matched by a glob (`scripts/tool`) is no script.
            Ok(Err(_)) => continue,
            Err(e) => {
                sources.problems.push(format!("{file}: cannot read: {e}"));
                continue;
            }
        };
        match kind {
            Kind::Script if is_shell_script(&file, &text) => sources.snippets.push(Snippet { file: file.clone(), line: 1, text: text.clone() }),
            Kind::Script => continue,
            Kind::Justfile => sources.snippets.extend(recipes::justfile(&file, &text)),
            Kind::Makefile => sources.snippets.extend(recipes::makefile(&file, &text)),
            Kind::Taskfile => match yaml::taskfile(&file, &text) {
                Ok(snippets) => sources.snippets.extend(snippets),
                Err(problem) => sources.problems.push(problem),
            },
            Kind::Workflow => match yaml::workflow(&file, &text) {
                Ok(snippets) => sources.snippets.extend(snippets),
                Err(problem) => sources.problems.push(problem),
            },
            Kind::Markdown => sources.snippets.extend(markdown::blocks(&file, &text)),
        }
        sources.files.insert(file, text);
    }
    sources
}

/// The shell blocks of a Markdown file (for tests of what a runbook yields).
#[cfg(test)]
pub(crate) fn markdown_blocks(file: &str, text: &str) -> Vec<Snippet> {
    markdown::blocks(file, text)
}

/// A script is shell when its name says so or its `#!` line names a shell.
fn is_shell_script(file: &str, text: &str) -> bool {
    if [".sh", ".bash", ".zsh", ".ksh"].iter().any(|ext| file.ends_with(ext)) {
        return true;
    }
    let Some(shebang) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else { return false };
    let mut words = shebang.split_whitespace();
    let program = words.next().unwrap_or_default();
    let program = if program.ends_with("/env") { words.find(|w| !w.starts_with('-')).unwrap_or_default() } else { program };
    matches!(program.rsplit('/').next(), Some("sh" | "bash" | "zsh" | "dash" | "ksh"))
}

/// The repository's files, `/`-separated and relative: git's list (tracked, and untracked but
/// not ignored), or a walk outside git.
fn list_files(repo: &Path) -> Vec<String> {
    let listed = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotePath=false", "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .env("GIT_OPTIONAL_LOCKS", "0")
        .timeout(Duration::from_secs(60))
        .run();
    match listed {
        Ok(done) if done.success() => {
            let mut files: Vec<String> = done.stdout.split('\0').filter(|f| !f.is_empty()).map(str::to_owned).collect();
            files.sort();
            files.dedup();
            files
        }
        _ => {
            let mut files = Vec::new();
            walk(repo, "", &mut files);
            files.sort();
            files
        }
    }
}

fn walk(root: &Path, prefix: &str, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(prefix)) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        match entry.file_type() {
            Ok(t) if t.is_dir() && !UNLISTED.contains(&name.as_str()) => walk(root, &relative, files),
            Ok(t) if t.is_file() => files.push(relative),
            _ => {}
        }
    }
}

/// The 1-based line, at or after `from`, holding `needle` (trimmed); `from` when none does. YAML
/// strips a block's indentation and a plain scalar may share its key's line: the text, not the
/// parser's position, says where a command is.
pub(super) fn locate(text: &str, from: usize, needle: &str) -> usize {
    let needle = needle.trim();
    if needle.is_empty() {
        return from;
    }
    text.lines().enumerate().skip(from.saturating_sub(1)).find(|(_, line)| line.contains(needle)).map_or(from, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_scripts_are_known_by_name_or_shebang() {
        assert!(is_shell_script("scripts/a.sh", "kubectl get pods"));
        assert!(is_shell_script("scripts/up", "#!/usr/bin/env bash\nset -e\n"));
        assert!(is_shell_script(".ci/run", "#!/bin/sh\n"));
        assert!(!is_shell_script("scripts/gen", "#!/usr/bin/env python3\n"));
        assert!(!is_shell_script("scripts/README", "Scripts.\n"));
    }

    #[test]
    fn a_line_is_located_by_its_text_from_a_starting_line() {
        let text = "run: |\n  echo a\n  cargo test\nrun: cargo test\n";
        assert_eq!(locate(text, 1, "cargo test"), 3);
        assert_eq!(locate(text, 4, "cargo test"), 4);
        assert_eq!(locate(text, 2, "absent"), 2);
    }
}

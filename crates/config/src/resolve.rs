//! From what a user types (`vixens doctor lab`) to an env.yaml: a name is looked up as
//! `environments/<name>/env.yaml` in the workspace that holds the current folder; a path to an
//! env.yaml (or to its folder) is taken as it is.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why an environment could not be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A name that no `environments/<name>/env.yaml` matches.
    #[error("no environment named `{name}` in {}", .environments.display())]
    UnknownName {
        /// What was asked for.
        name: String,
        /// The `environments/` folder searched.
        environments: PathBuf,
        /// The environments that exist there (folders holding an env.yaml), sorted.
        known: Vec<String>,
    },
    /// A name given outside any workspace with an `environments/` folder.
    #[error("no `environments/` folder in {} or above it, so `{name}` cannot be looked up", .start.display())]
    NoWorkspace {
        /// What was asked for.
        name: String,
        /// Where the search started.
        start: PathBuf,
    },
    /// A path that does not lead to an env.yaml.
    #[error("{} does not exist", .path.display())]
    NoSuchFile {
        /// The path given.
        path: PathBuf,
    },
}

impl miette::Diagnostic for ResolveError {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = match self {
            Self::UnknownName { known, .. } if known.is_empty() => "no environment is defined there yet".to_owned(),
            Self::UnknownName { known, .. } => format!("known environments: {}", known.join(", ")),
            Self::NoWorkspace { .. } => "run it inside the harness's workspace, or pass the path of an env.yaml".to_owned(),
            Self::NoSuchFile { .. } => "pass an environment's name (lab, dev, prod) or the path of its env.yaml".to_owned(),
        };
        Some(Box::new(help))
    }
}

/// The env.yaml meant by `name_or_path`, searched from the current folder.
///
/// # Errors
/// See [`resolve_from`].
pub fn resolve(name_or_path: &str) -> Result<PathBuf, ResolveError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    resolve_from(&cwd, name_or_path)
}

/// The env.yaml meant by `name_or_path`, searched from `start`.
///
/// A value that contains a `/`, ends in `.yaml`/`.yml`, or names an existing file or a folder
/// holding an `env.yaml` is a path (a folder means its `env.yaml`). Anything else is a name, looked up as
/// `environments/<name>/env.yaml` in the nearest folder at or above `start` that has an
/// `environments/` folder.
///
/// # Errors
/// [`ResolveError::NoSuchFile`] for a path that leads nowhere, [`ResolveError::UnknownName`]
/// (listing the known environments) for an unknown name, [`ResolveError::NoWorkspace`] when no
/// `environments/` folder is found.
pub fn resolve_from(start: &Path, name_or_path: &str) -> Result<PathBuf, ResolveError> {
    let given = start.join(name_or_path);
    let looks_like_path = name_or_path.contains('/')
        || name_or_path.ends_with(".yaml")
        || name_or_path.ends_with(".yml")
        || name_or_path == "."
        || name_or_path == "..";
    // A bare name that happens to be a folder here (the `lab` crate next to `environments/`) is
    // still a name, unless that folder holds an env.yaml.
    let is_env_here = given.is_file() || given.join("env.yaml").is_file();
    if looks_like_path || is_env_here {
        let file = if given.is_dir() { given.join("env.yaml") } else { given };
        // Something that exists but is no regular file (a FIFO) is the loader's to refuse,
        // naming what it is: "does not exist" would send a person looking in the wrong place.
        return if file.exists() && !file.is_dir() { Ok(file) } else { Err(ResolveError::NoSuchFile { path: file }) };
    }
    let Some(environments) = start.ancestors().map(|dir| dir.join("environments")).find(|dir| dir.is_dir()) else {
        return Err(ResolveError::NoWorkspace { name: name_or_path.to_owned(), start: start.to_owned() });
    };
    let file = environments.join(name_or_path).join("env.yaml");
    if file.is_file() {
        return Ok(file);
    }
    Err(ResolveError::UnknownName { name: name_or_path.to_owned(), known: known(&environments), environments })
}

/// The environments defined in `environments`: its folders that hold an env.yaml.
fn known(environments: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(environments)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.path().join("env.yaml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for env in ["lab", "dev", "prod"] {
            std::fs::create_dir_all(dir.path().join("environments").join(env)).unwrap();
            std::fs::write(dir.path().join("environments").join(env).join("env.yaml"), "name: x\n").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("environments/half-made")).unwrap();
        std::fs::create_dir_all(dir.path().join("crates/")).unwrap();
        std::fs::create_dir_all(dir.path().join("lab/src")).unwrap();
        dir
    }

    #[test]
    fn a_name_is_found_by_walking_up_to_the_workspace() {
        let ws = workspace();
        let found = resolve_from(&ws.path().join("crates/"), "lab").unwrap();
        assert_eq!(found, ws.path().join("environments/lab/env.yaml"));
        // At the workspace root, `lab` is also the simulator's crate folder: still the environment.
        assert_eq!(resolve_from(ws.path(), "lab").unwrap(), ws.path().join("environments/lab/env.yaml"));
    }

    #[test]
    fn a_path_to_an_env_yaml_or_its_folder_is_taken_as_it_is() {
        let ws = workspace();
        assert_eq!(resolve_from(ws.path(), "environments/dev/env.yaml").unwrap(), ws.path().join("environments/dev/env.yaml"));
        assert_eq!(resolve_from(ws.path(), "environments/dev").unwrap(), ws.path().join("environments/dev/env.yaml"));
        let elsewhere = tempfile::tempdir().unwrap();
        let abs = ws.path().join("environments/prod/env.yaml");
        assert_eq!(resolve_from(elsewhere.path(), abs.to_str().unwrap()).unwrap(), abs);
    }

    #[test]
    fn an_unknown_name_lists_the_known_environments() {
        let ws = workspace();
        let err = resolve_from(ws.path(), "staging").unwrap_err();
        assert_eq!(err.to_string(), format!("no environment named `staging` in {}", ws.path().join("environments").display()));
        let help = miette::Diagnostic::help(&err).unwrap().to_string();
        assert_eq!(help, "known environments: dev, lab, prod");
    }

    #[test]
    fn a_missing_path_is_named() {
        let ws = workspace();
        let err = resolve_from(ws.path(), "environments/staging/env.yaml").unwrap_err();
        assert_eq!(err, ResolveError::NoSuchFile { path: ws.path().join("environments/staging/env.yaml") });
    }

    #[test]
    fn a_name_outside_any_workspace_says_so() {
        let nowhere = tempfile::tempdir().unwrap();
        let err = resolve_from(nowhere.path(), "lab").unwrap_err();
        assert!(matches!(err, ResolveError::NoWorkspace { .. }), "{err:?}");
    }
}

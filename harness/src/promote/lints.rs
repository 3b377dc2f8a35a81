//! The repository lints the gate requires, run on the infrastructure repository and turned into
//! [`LintOutcome`]s: the ADRs (`harness::adr`), and the documented commands.

use std::path::Path;

use super::LintOutcome;
use crate::adr;

/// The gate's name for the ADR check.
pub const ADRS: &str = "ADRs";

/// Lints the ADRs of `repo` as `vixens adr lint --repo REPO` does. Errors refuse promotion;
/// warnings are counted in the summary. An unusable configuration or a missing ADR folder is a
/// problem too: a lint that could not run never passes.
#[must_use]
pub fn adrs(repo: &Path) -> LintOutcome {
    let outcome = |summary: String, problems: Vec<String>| LintOutcome { name: ADRS.to_owned(), summary, problems };
    let config = match adr::Config::for_repo(repo) {
        Ok(config) => config,
        Err(error) => return outcome(String::new(), error.lines()),
    };
    match adr::lint(repo, &config) {
        Ok(lint) => {
            let problems = lint.diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
            let warnings = match lint.warnings() {
                0 => String::new(),
                1 => ", 1 warning".to_owned(),
                n => format!(", {n} warnings"),
            };
            let summary = format!("{} ADRs in {} clean{warnings}", lint.adrs.len(), repo.join(&lint.directory).display());
            outcome(summary, problems)
        }
        Err(error) => outcome(String::new(), vec![format!("{}: {error}", repo.display())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_adr(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/adr")).unwrap();
        std::fs::write(dir.path().join("docs/adr/001-use-talos.md"), text).unwrap();
        dir
    }

    #[test]
    fn this_repository_s_own_adrs_pass() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let outcome = adrs(repo);
        assert_eq!(outcome.problems, Vec::<String>::new());
        assert!(outcome.summary.ends_with("docs/adr clean") || outcome.summary.contains("docs/adr clean,"), "{}", outcome.summary);
    }

    #[test]
    fn an_adr_without_its_sections_refuses_promotion_naming_file_and_line() {
        let repo = repo_with_adr("# ADR-001: Use Talos\n\n**Status:** Accepted\n\nWe use Talos.\n");
        let outcome = adrs(repo.path());
        assert!(!outcome.problems.is_empty());
        assert!(outcome.problems.iter().all(|p| p.starts_with("docs/adr/001-use-talos.md")), "{:?}", outcome.problems);
        assert!(outcome.problems.iter().any(|p| p.contains("Context")), "{:?}", outcome.problems);
    }

    #[test]
    fn a_repository_without_adrs_refuses_promotion() {
        let repo = tempfile::tempdir().unwrap();
        let outcome = adrs(repo.path());
        assert_eq!(outcome.problems.len(), 1);
        assert!(outcome.problems[0].contains("no ADR folder at docs/adr"), "{:?}", outcome.problems);
    }
}

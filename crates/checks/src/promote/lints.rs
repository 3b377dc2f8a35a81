//! The repository lints the gate requires, run on the infrastructure repository and turned into
//! [`LintOutcome`]s: the ADRs (`vixens_docs::adr`), the documented commands, the operations the
//! repository runs that no entry documents, and no secret committed in `docs/`
//! (`vixens_docs::secrets`).

use std::path::Path;

use super::LintOutcome;
use vixens_docs::secrets::{self, output};
use vixens_docs::{adr, commands};

/// The gate's name for the ADR check.
pub const ADRS: &str = "ADRs";

/// The gate's name for the documented-commands check.
pub const DOCUMENTED_COMMANDS: &str = "documented commands";

/// The gate's name for the command discovery check.
pub const COMMAND_DISCOVERY: &str = "command discovery";

/// Discovers the operations `repo` runs that its `docs/commands.md` does not document, as
/// `vixens commands discover --repo REPO` does: a pattern undocumented for longer than the grace
/// period (24 h) refuses promotion, naming where it is used and the commit that brought it; a
/// younger one is counted in the summary.
#[must_use]
pub fn command_discovery(repo: &Path) -> LintOutcome {
    let discovery = commands::discovery_repository(repo, &commands::discover::Options::default());
    LintOutcome { name: COMMAND_DISCOVERY.to_owned(), summary: discovery.summary, problems: discovery.problems }
}

/// The gate's name for the secrets check.
pub const SECRETS: &str = "secrets in docs";

/// Scans `repo`'s `docs/**` as `vixens docs secrets --repo REPO` does. A secret refuses
/// promotion (the ADR and commands lints report those in their own files too: this line covers
/// runbooks and examples as well), and so does a scan that cannot run or a file it cannot read.
#[must_use]
pub fn secrets_in_docs(repo: &Path) -> LintOutcome {
    let outcome = |summary: String, problems: Vec<String>| LintOutcome { name: SECRETS.to_owned(), summary, problems };
    match secrets::scan_repository(repo) {
        Ok(scan) => outcome(output::summary(&scan), output::problems(&scan)),
        Err(error) => outcome(String::new(), vec![error.to_string()]),
    }
}

/// Lints `repo`'s `docs/commands.md` as `vixens commands lint --repo REPO` does: every entry
/// complete, and validated on at least two environments with its current content. Any problem
/// refuses promotion, and so does a document that cannot be read.
#[must_use]
pub fn documented_commands(repo: &Path) -> LintOutcome {
    let lint = commands::lint_repository(repo);
    LintOutcome { name: DOCUMENTED_COMMANDS.to_owned(), summary: lint.summary, problems: lint.problems }
}

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

    #[test]
    fn this_repository_s_docs_hold_no_secret() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
        let outcome = secrets_in_docs(repo);
        assert_eq!(outcome.problems, Vec::<String>::new());
        assert!(outcome.summary.starts_with("0 secrets in "), "{}", outcome.summary);
    }

    #[test]
    fn a_secret_in_a_runbook_refuses_promotion_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/runbooks")).unwrap();
        std::fs::write(
            dir.path().join("docs/runbooks/minio.md"),
            "```sh\nmc alias set nas http://nas.lan:9000 admin jPJlFKBl26r8GfuQ3AxK1aELWXbdhVcYwoB1v56R\n```\n",
        )
        .unwrap();
        let outcome = secrets_in_docs(dir.path());
        assert_eq!(outcome.name, SECRETS);
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert!(
            outcome.problems[0].starts_with("docs/runbooks/minio.md:2: secrets: minio-mc-alias (jPJl… 40 chars, fingerprint "),
            "{:?}",
            outcome.problems
        );
        assert!(!outcome.problems[0].contains("jPJlFKBl26r8"));
        std::fs::remove_dir_all(dir.path().join("docs")).unwrap();
        assert!(secrets_in_docs(dir.path()).problems[0].starts_with("no docs/ folder in "));
    }

    #[test]
    fn this_repositorys_documented_commands_pass_the_gate() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
        let outcome = documented_commands(repo);
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert!(outcome.summary.contains("entries"), "{}", outcome.summary);
    }

    #[test]
    fn a_missing_commands_document_refuses_promotion() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = documented_commands(dir.path());
        assert_eq!(outcome.name, DOCUMENTED_COMMANDS);
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert!(outcome.problems[0].contains("commands.md"), "{:?}", outcome.problems);
    }

    #[test]
    fn this_repositorys_operations_are_all_documented_or_ignored() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
        let outcome = command_discovery(repo);
        assert_eq!(outcome.problems, Vec::<String>::new());
        assert!(outcome.summary.contains("(0 past the 24h grace)"), "{}", outcome.summary);
    }

    #[test]
    fn an_operation_undocumented_for_two_days_refuses_promotion_naming_its_line_and_commit() {
        let repo = tempfile::tempdir().unwrap();
        let git = |args: &[&str], date: Option<&str>| {
            let mut git = std::process::Command::new("git");
            git.arg("-C").arg(repo.path()).args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"]).args(args);
            if let Some(date) = date {
                git.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
            }
            assert!(git.output().unwrap().status.success(), "git {args:?}");
        };
        std::fs::create_dir_all(repo.path().join("docs")).unwrap();
        std::fs::write(repo.path().join("docs/commands.md"), "# Operations\n").unwrap();
        std::fs::write(repo.path().join("upgrade.sh"), "talosctl -n \"$NODE\" upgrade\n").unwrap();
        git(&["init", "-q"], None);
        git(&["add", "-A"], None);
        let two_days_ago = format!("@{} +0000", jiff::Timestamp::now().as_second() - 2 * 86_400);
        git(&["commit", "-q", "-m", "upgrade"], Some(&two_days_ago));
        let outcome = command_discovery(repo.path());
        assert_eq!(outcome.name, COMMAND_DISCOVERY);
        assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
        assert!(
            outcome.problems[0]
                .starts_with("upgrade.sh:1: undocumented-command: `talosctl upgrade --nodes` is in no entry of docs/commands.md, since commit "),
            "{}",
            outcome.problems[0]
        );
    }

    fn repo_with_adr(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/adr")).unwrap();
        std::fs::write(dir.path().join("docs/adr/001-use-talos.md"), text).unwrap();
        dir
    }

    #[test]
    fn this_repository_s_own_adrs_pass() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
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

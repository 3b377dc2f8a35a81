//! The `secrets` rule on the ADR folder: the scan `vixens docs secrets` runs on `docs/**`
//! ([`crate::secrets`]), on every ADR and index file, minus what `.config/secrets.yaml` accepts.

use std::path::Path;

use super::diagnostic::{Findings, Rule};
use crate::secrets::allow::{ALLOW_PATH, Allow};
use crate::secrets::repository::scan_file;

/// Adds a `secrets` finding for each credential in `files` (repository-relative). A broken
/// allow file is reported at its own lines, and then accepts nothing: a finding is never
/// hidden by a file that cannot be read.
pub(crate) fn check<'a>(root: &Path, files: impl Iterator<Item = &'a String>, out: &mut Findings) {
    let allow = Allow::for_repo(root).unwrap_or_else(|error| {
        for (line, message) in &error.problems {
            out.push(ALLOW_PATH, (*line).max(1), Rule::Secrets, format!("{message} (no finding is accepted until it is fixed)"));
        }
        Allow::default()
    });
    for file in files {
        // A file that cannot be read is the `unreadable` rule's.
        let Ok(found) = scan_file(root, file) else { continue };
        for finding in allow.split(found).0 {
            out.push(
                file,
                finding.line,
                Rule::Secrets,
                format!(
                    "{}: a credential in the ADR; replace it with a placeholder and rotate it, or accept it in {ALLOW_PATH} with a reason",
                    finding.describe()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adr::{Config, lint};

    const ADR: &str = "# ADR-001: Cache\n\n**Status:** Accepted\n\n## Context\n\nThe admin password is gs8w85Tiij3Mp3KM.\n";

    fn secrets_of(repo: &Path) -> Vec<String> {
        let lint = lint(repo, &Config::default()).unwrap();
        lint.diagnostics.iter().filter(|d| d.rule == Rule::Secrets).map(ToString::to_string).collect()
    }

    #[test]
    fn a_secret_in_an_adr_is_reported_unless_the_allow_file_accepts_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs/adr")).unwrap();
        std::fs::write(dir.path().join("docs/adr/001-cache.md"), ADR).unwrap();
        let found = secrets_of(dir.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("docs/adr/001-cache.md:7: secrets: secret-assignment (gs8w… 16 chars, fingerprint "), "{found:?}");
        assert!(!found[0].contains("gs8w85Tiij3Mp3KM"));
        let fingerprint = found[0].split("fingerprint ").nth(1).unwrap().split(')').next().unwrap().to_owned();

        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        let allow = format!(
            "version: 1\nallow:\n  - file: docs/adr/001-cache.md\n    fingerprint: \"{fingerprint}\"\n    reason: the lab's throwaway password\n"
        );
        std::fs::write(dir.path().join(ALLOW_PATH), allow).unwrap();
        assert_eq!(secrets_of(dir.path()), Vec::<String>::new());

        // A broken allow file is named at its line, and accepts nothing until it is fixed.
        std::fs::write(dir.path().join(ALLOW_PATH), "version: 1\nallow:\n  - file: docs/adr/001-cache.md\n    fingerprint: nope\n    reason: x\n")
            .unwrap();
        let found = secrets_of(dir.path());
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with(".config/secrets.yaml:4: secrets: fingerprint `nope` is not 16 lower-case hex digits"), "{found:?}");
        assert!(found[1].starts_with("docs/adr/001-cache.md:7: secrets: secret-assignment"), "{found:?}");
    }
}

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

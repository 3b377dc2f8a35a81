//! Pure version bumps: a change that only moves an image tag or digest, a chart or module
//! version, an Argo CD `targetRevision` or a kustomize `?ref=` needs no ADR. Renovate opens
//! dozens of these a week; an architecture gate that asks an ADR for each is switched off.
//!
//! Read from `git diff -U0` of one file: every hunk must pair its removed and added lines one
//! to one, each pair equal once version-like tokens are blanked, on a line whose key is a
//! version key. A mutable word (`latest`, `main`, `HEAD`) is not a version: `tag: latest` to
//! `tag: 1.2.3` is a real change. In `.terraform.lock.hcl`, a change is a bump when no
//! provider block is added or removed.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

/// Version-like tokens: a digest, a git SHA, a dotted version with its pre-release, a date tag.
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"sha256:[0-9a-f]{64}|\b[0-9a-f]{40}\b|\bv?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.-]+)?\b|\b\d{8}\b").expect("valid regex")
});

/// Keys whose value is a version (folded to lower case, without `_` and `-`).
const VERSION_KEYS: &[&str] = &["image", "tag", "newtag", "digest", "newdigest", "version", "targetrevision", "chartversion", "appversion"];

/// One version that moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bump {
    /// The key (`tag`, `version`, `image`).
    pub key: String,
    /// The version before.
    pub from: String,
    /// The version after.
    pub to: String,
}

impl Bump {
    /// True when the first number of the version changed (`1.9.3` → `2.0.0`).
    #[must_use]
    pub fn is_major(&self) -> bool {
        let major = |v: &str| v.trim_start_matches('v').split('.').next().and_then(|m| m.parse::<u64>().ok());
        match (major(&self.from), major(&self.to)) {
            (Some(a), Some(b)) => a != b && self.from.contains('.'),
            _ => false,
        }
    }
}

/// The bumps of one file's `git diff -U0`, when every change in it is a version bump; `None`
/// when any line changes something else (or the diff is empty, binary, or adds or deletes the
/// file).
#[must_use]
pub fn bumps(path: &str, diff: &str) -> Option<Vec<Bump>> {
    let hunks = hunks(diff)?;
    if hunks.is_empty() {
        return None;
    }
    let lock_file = path.rsplit('/').next() == Some(".terraform.lock.hcl");
    let mut out = Vec::new();
    for (removed, added) in &hunks {
        if lock_file {
            if providers(removed) != providers(added) {
                return None;
            }
            out.extend(removed.iter().zip(added).filter_map(|(r, a)| changed_version(r, a)).map(|(from, to)| Bump {
                key: "provider".into(),
                from,
                to,
            }));
            continue;
        }
        if removed.len() != added.len() {
            return None;
        }
        for (r, a) in removed.iter().zip(added) {
            out.push(bump(r, a)?);
        }
    }
    Some(out)
}

/// The removed and added lines of each hunk; `None` for a binary diff or a file added or deleted.
fn hunks(diff: &str) -> Option<Vec<(Vec<&str>, Vec<&str>)>> {
    let mut hunks: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
    for line in diff.lines() {
        if hunks.is_empty() && !line.starts_with("@@") {
            let whole_file = line.starts_with("new file mode") || line.starts_with("deleted file mode") || line.starts_with("Binary files");
            if whole_file {
                return None;
            }
            continue;
        }
        if line.starts_with("@@") {
            hunks.push((Vec::new(), Vec::new()));
        } else if let (Some(hunk), Some(removed)) = (hunks.last_mut(), line.strip_prefix('-')) {
            hunk.0.push(removed);
        } else if let (Some(hunk), Some(added)) = (hunks.last_mut(), line.strip_prefix('+')) {
            hunk.1.push(added);
        }
    }
    Some(hunks)
}

/// One changed line as a bump: the same line with another version, under a version key (or in
/// a kustomize `?ref=`).
fn bump(removed: &str, added: &str) -> Option<Bump> {
    if blanked(removed) != blanked(added) {
        return None;
    }
    let (from, to) = changed_version(removed, added)?;
    let key = key_of(added)?;
    let folded: String = key.to_lowercase().chars().filter(|c| !matches!(c, '_' | '-')).collect();
    (VERSION_KEYS.contains(&folded.as_str()) || added.contains("?ref=")).then_some(Bump { key, from, to })
}

/// The line with every version-like token blanked.
fn blanked(line: &str) -> String {
    VERSION.replace_all(line.trim(), "\u{0}").into_owned()
}

/// The first version-like token that differs between the two lines.
fn changed_version(removed: &str, added: &str) -> Option<(String, String)> {
    let before = VERSION.find_iter(removed).map(|m| m.as_str());
    let after = VERSION.find_iter(added).map(|m| m.as_str());
    before.zip(after).find(|(a, b)| a != b).map(|(a, b)| (a.to_owned(), b.to_owned()))
}

/// The key a line sets: YAML `key: value` (also in a list item), HCL `key = value`, JSON
/// `"key": value`.
fn key_of(line: &str) -> Option<String> {
    let line = line.trim().trim_start_matches("- ").trim();
    let end = line.find([':', '=']).filter(|&i| i > 0)?;
    let key = line[..end].trim().trim_matches('"').trim_matches('\'');
    (!key.is_empty() && !key.contains(char::is_whitespace)).then(|| key.to_owned())
}

/// The `provider "..."` lines of a lock file hunk.
fn providers<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<&str> = lines.iter().map(|l| l.trim()).filter(|l| l.starts_with("provider ")).collect();
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn diff(removed: &[&str], added: &[&str]) -> String {
        let mut text = String::from("diff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -3 +3 @@\n");
        for line in removed {
            text.push_str(&format!("-{line}\n"));
        }
        for line in added {
            text.push_str(&format!("+{line}\n"));
        }
        text
    }

    #[rstest]
    #[case::image_tag("    image: ghcr.io/home-assistant/home-assistant:2024.11.3", "    image: ghcr.io/home-assistant/home-assistant:2024.12.1")]
    #[case::kustomize_new_tag("    newTag: v1.16.3", "    newTag: v1.17.0")]
    #[case::digest(
        "  digest: sha256:0000000000000000000000000000000000000000000000000000000000000000",
        "  digest: sha256:1111111111111111111111111111111111111111111111111111111111111111"
    )]
    #[case::chart_version("    version: 4.11.2", "    version: 4.12.0")]
    #[case::argocd_target_revision("    targetRevision: 1.16.3", "    targetRevision: 1.17.0")]
    #[case::terraform_module("  version = \"~> 0.7.1\"", "  version = \"~> 0.8.0\"")]
    #[case::kustomize_remote_ref("  - github.com/x/y//deploy?ref=v0.9.0", "  - github.com/x/y//deploy?ref=v0.10.0")]
    fn a_version_that_moves_is_a_bump(#[case] before: &str, #[case] after: &str) {
        let found = bumps("apps/00-infra/x/values.yaml", &diff(&[before], &[after])).unwrap();
        assert_eq!(found.len(), 1);
    }

    #[rstest]
    #[case::mutable_tag("    tag: latest", "    tag: 1.2.3")]
    #[case::other_image("    image: nginx:1.25", "    image: caddy:1.25")]
    #[case::api_version("apiVersion: v1.2", "apiVersion: v1.3")]
    #[case::replicas("  replicas: 1", "  replicas: 3")]
    #[case::version_and_more("    version: 4.11.2 # pinned", "    version: 4.12.0 # unpinned")]
    fn anything_else_is_a_change(#[case] before: &str, #[case] after: &str) {
        assert_eq!(bumps("apps/00-infra/x/values.yaml", &diff(&[before], &[after])), None);
    }

    #[test]
    fn an_added_line_or_a_new_file_is_a_change() {
        assert_eq!(bumps("x.yaml", &diff(&[], &["  tag: 1.2.3"])), None);
        assert_eq!(bumps("x.yaml", "diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1 @@\n+tag: 1.2.3\n"), None);
        assert_eq!(bumps("x.yaml", ""), None);
    }

    #[test]
    fn a_lock_file_bumps_when_no_provider_comes_or_goes() {
        let bumped = diff(&["  version     = \"0.7.1\"", "    \"h1:aaa=\","], &["  version     = \"0.8.0\"", "    \"h1:bbb=\",", "    \"zh:ccc\","]);
        assert!(bumps("terraform/environments/dev/.terraform.lock.hcl", &bumped).is_some());
        let added = diff(&[], &["provider \"registry.terraform.io/hashicorp/helm\" {", "  version = \"2.0.0\""]);
        assert_eq!(bumps("terraform/environments/dev/.terraform.lock.hcl", &added), None);
    }

    #[test]
    fn a_major_bump_is_told_apart() {
        let bump = |from: &str, to: &str| Bump { key: "version".into(), from: from.into(), to: to.into() };
        assert!(bump("1.9.3", "2.0.0").is_major());
        assert!(bump("v1.16.3", "v2.0.0").is_major());
        assert!(!bump("1.9.3", "1.10.0").is_major());
    }
}

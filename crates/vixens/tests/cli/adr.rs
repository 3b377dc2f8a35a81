//! `vixens adr lint` and `vixens adr check-change`, as the specification's ADR scenarios: the
//! English and French corpora break every rule once, a real-world style folder reports each
//! problem once with its line, and this repository's own ADRs pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use vixens_docs::adr::{Rule, Scope};
use vixens_testkit::vixens;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("tests/fixtures/adr")
        .join(name)
}

/// Runs `vixens adr lint --repo DIR` and returns (exit code, stdout, stderr).
fn lint(repo: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = vixens().args(["adr", "lint", "--repo"]).arg(repo).args(extra).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// The rule ids in `file:line: rule: message` lines.
fn rules_in(stdout: &str) -> BTreeSet<String> {
    stdout.lines().filter_map(|l| l.split(": ").nth(1)).map(str::to_owned).collect()
}

/// The rules these corpora break. Not `secrets`: its corpus is `tests/fixtures/secrets/corpus`,
/// whose planted credentials the ADR lint reports in `vixens-docs`'s `secrets_corpus` tests;
/// every other fixture stays free of anything shaped like a secret.
fn lint_rules() -> BTreeSet<String> {
    Rule::ALL.iter().filter(|r| r.scope() != Scope::Change && **r != Rule::Secrets).map(|r| r.id().to_owned()).collect()
}

#[test]
fn adr_creation_this_repositorys_own_adrs_pass() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    let (code, stdout, stderr) = lint(repo, &[]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(stderr.starts_with("0 errors, 0 warnings in "), "{stderr}");
}

#[test]
fn adr_creation_the_english_corpus_breaks_every_rule_once() {
    let (code, stdout, stderr) = lint(&fixture("en"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(rules_in(&stdout), lint_rules());
    assert_eq!(stderr, "22 errors, 1 warning in 27 ADRs (docs/adr, index docs/adr/README.md)\n");
    insta::assert_snapshot!("adr_lint_english_corpus", stdout);
}

#[test]
fn adr_creation_the_french_corpus_breaks_every_rule_once() {
    let (code, stdout, stderr) = lint(&fixture("fr"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(rules_in(&stdout), lint_rules());
    insta::assert_snapshot!("adr_lint_french_corpus", stdout);
}

#[test]
fn adr_review_a_real_world_folder_reports_every_problem_once_with_its_line() {
    let (code, stdout, stderr) = lint(&fixture("messy"), &[]);
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let unique: BTreeSet<&str> = lines.iter().copied().collect();
    assert_eq!(unique.len(), lines.len(), "a problem reported twice:\n{stdout}");
    for line in &lines {
        let location = line.split(": ").next().unwrap();
        assert!(location.rsplit_once(':').is_some_and(|(_, n)| n.parse::<usize>().is_ok()), "no line number: {line}");
    }
    insta::assert_snapshot!("adr_lint_real_world_folder", stdout);
}

#[test]
fn adr_review_a_year_of_homelab_adrs_reports_each_cause_once_saying_what_to_do() {
    let (code, stdout, stderr) = lint(&fixture("homelab"), &[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr, "17 errors, 1 warning in 27 ADRs (docs/adr, index docs/adr/000-index.md, docs/adr/README.md)\n");
    insta::assert_snapshot!("adr_lint_homelab_corpus", stdout);
}

#[test]
fn adr_creation_trade_offs_and_madr_good_bad_are_consequences_by_default() {
    let (_, stdout, _) = lint(&fixture("messy"), &[]);
    assert!(!stdout.contains("003-synology-csi.md:1: section"), "{stdout}");
    assert!(!stdout.contains("006-backups.md"), "{stdout}");
    // Trade-offs count as the Consequences, and they still need both halves.
    assert!(stdout.contains("003-synology-csi.md:14: consequences: the Trade-offs have neither"), "{stdout}");
}

#[test]
fn adr_creation_configured_aliases_add_to_the_built_in_words() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("messy"), dir.path());
    let adr = dir.path().join("docs/adr/003-synology-csi.md");
    let text = std::fs::read_to_string(&adr).unwrap().replace("## Trade-offs", "## Bilan").replace("- LUNs outlive", "- Plus: LUNs outlive");
    std::fs::write(&adr, format!("{text}- Minus: LUNs pile up.\n")).unwrap();
    let (_, stdout, _) = lint(dir.path(), &[]);
    assert!(stdout.contains("003-synology-csi.md:1: section: no Consequences section"), "{stdout}");
    std::fs::create_dir_all(dir.path().join(".config")).unwrap();
    std::fs::write(
        dir.path().join(".config/adr.yaml"),
        "sections:\n  consequences: [Bilan]\nconsequences:\n  positive: [Plus]\n  negative: [Minus]\n",
    )
    .unwrap();
    let (_, stdout, _) = lint(dir.path(), &[]);
    assert!(!stdout.contains("003-synology-csi.md"), "{stdout}");
}

#[test]
fn adr_review_json_output_lists_every_diagnostic() {
    let (code, stdout, _) = lint(&fixture("en"), &["--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["version"], 2);
    assert_eq!((doc["errors"].as_u64(), doc["warnings"].as_u64(), doc["adrs"].as_u64()), (Some(22), Some(1), Some(27)));
    let first = &doc["diagnostics"][0];
    assert_eq!(first["file"], "docs/adr/004-no-title.md");
    assert_eq!(first["line"], 1);
    assert_eq!(first["rule"], "title");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["also"], serde_json::json!([]));
    // One finding per cause, its other places listed.
    let (_, stdout, _) = lint(&fixture("homelab"), &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let roots = doc["diagnostics"].as_array().unwrap().iter().find(|d| d["file"] == "docs/adr/026-kyverno.md").unwrap();
    assert_eq!((roots["line"].as_u64(), roots["rule"].as_str()), (Some(11), Some("broken-link")));
    let also: Vec<u64> = roots["also"].as_array().unwrap().iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(also, [15, 17, 18, 29]);
}

#[test]
fn a_warning_alone_does_not_fail_the_lint() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("en"), dir.path());
    let docs = dir.path().join("docs/adr");
    for entry in std::fs::read_dir(&docs).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !["001-use-a-cache.md", "022-silent-old.md", "023-silent-new.md"].contains(&name.as_str()) {
            std::fs::remove_file(docs.join(name)).unwrap();
        }
    }
    let (code, stdout, _) = lint(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("023-silent-new.md:4: supersedes-backlink: warning: 022-silent-old.md says it is superseded by this ADR"), "{stdout}");
    std::fs::create_dir_all(dir.path().join(".config")).unwrap();
    std::fs::write(dir.path().join(".config/adr.yaml"), "severity:\n  supersedes-backlink: error\n").unwrap();
    let (code, _, _) = lint(dir.path(), &[]);
    assert_eq!(code, 1);
}

#[test]
fn a_bad_configuration_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs/adr")).unwrap();
    std::fs::create_dir_all(dir.path().join(".config")).unwrap();
    std::fs::write(dir.path().join(".config/adr.yaml"), "severity:\n  broken-links: warning\n").unwrap();
    let (code, stdout, stderr) = lint(dir.path(), &[]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert!(stderr.contains("adr.yaml:2:"), "{stderr}");
    assert!(stderr.contains("unknown rule `broken-links`"), "{stderr}");
}

#[test]
fn a_missing_adr_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = lint(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(stderr, "vixens adr: no ADR folder at docs/adr (set `directory:` in .config/adr.yaml if the ADRs live elsewhere)\n");
}

// ---- check-change, on real git repositories ----

fn git(repo: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write(repo: &Path, path: &str, text: &str) {
    let path = repo.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const ADR_1: &str = "# ADR-001: Talos\n\n**Status:** Accepted\n\n## Context\n\nSee [spec](../spec.md).\n\n\
    ## Decision\n\nIn terraform/modules/talos/main.tf.\n\n## Consequences\n\n### Positive\n\nA.\n\n### Negative\n\nB.\n";

/// A repository with one ADR and a Terraform module, committed on `main`.
fn infra_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    write(repo, ".config/adr.yaml", "architecture:\n  - \"terraform/modules/**\"\n  - \"argocd/**\"\n");
    write(repo, "docs/spec.md", "# Spec\n");
    write(repo, "docs/adr/001-talos.md", ADR_1);
    write(repo, "terraform/modules/talos/main.tf", "# talos\n");
    write(repo, "terraform/environments/dev/main.tf", "# dev\n");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "initial"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);
    dir
}

fn check_change(repo: &Path) -> (i32, String, String) {
    let out = vixens().args(["adr", "check-change", "--base", "main", "--repo"]).arg(repo).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn adr_review_an_architecture_change_without_an_adr_fails_listing_the_paths() {
    let dir = infra_repo();
    let repo = dir.path();
    write(repo, "terraform/modules/talos/main.tf", "# talos, changed\n");
    git(repo, &["commit", "-qam", "change talos"]);
    write(repo, "argocd/apps/cilium.yaml", "kind: Application\n");
    write(repo, "terraform/environments/dev/main.tf", "# dev, changed\n");
    let (code, stdout, stderr) = check_change(repo);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stdout,
        "argocd/apps/cilium.yaml: adr-required: changed since main (with 1 other architecture path: `argocd/**`, `terraform/modules/**`), \
         but no ADR in docs/adr/ was added or changed: add an ADR for the decision, or update the ADR this change follows \
         (also terraform/modules/talos/main.tf)\n"
    );
    assert!(stderr.starts_with("1 error in 3 changed paths since main (merge base "), "{stderr}");
    assert!(stderr.ends_with("; architecture paths: `architecture:` in .config/adr.yaml\n"), "{stderr}");
}

/// A repository in the common GitOps layout, with no ADR configuration.
fn gitops_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    write(repo, "docs/spec.md", "# Spec\n");
    write(repo, "docs/adr/001-talos.md", ADR_1);
    write(repo, "terraform/modules/talos/main.tf", "# talos\n");
    write(repo, "apps/00-infra/traefik/values.yaml", "image:\n  repository: traefik\n  tag: v3.1.2\nreplicas: 1\n");
    write(repo, "apps/00-infra/traefik/Chart.yaml", "dependencies:\n  - name: traefik\n    version: 32.1.0\n");
    write(repo, "apps/20-media/jellyfin/deployment.yaml", "image: jellyfin/jellyfin:10.9.0\n");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "initial"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);
    dir
}

#[test]
fn adr_review_without_configuration_the_gitops_layout_is_guarded() {
    let dir = gitops_repo();
    let repo = dir.path();
    write(repo, "apps/00-infra/traefik/values.yaml", "image:\n  repository: traefik\n  tag: v3.1.2\nreplicas: 3\n");
    write(repo, "apps/20-media/jellyfin/deployment.yaml", "image: jellyfin/jellyfin:10.9.0\nreplicas: 2\n");
    write(repo, "apps/00-infra/traefik/README.md", "# notes\n");
    let (code, stdout, stderr) = check_change(repo);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.starts_with("apps/00-infra/traefik/values.yaml: adr-required: changed since main (architecture path `apps/00-infra/**`)"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1, "a user app and a README are not architecture: {stdout}");
    assert!(stderr.contains("architecture paths: built-in GitOps defaults"), "{stderr}");
}

#[test]
fn adr_review_a_pure_version_bump_needs_no_adr_unless_configured() {
    let dir = gitops_repo();
    let repo = dir.path();
    write(repo, "apps/00-infra/traefik/values.yaml", "image:\n  repository: traefik\n  tag: v3.2.0\nreplicas: 1\n");
    write(repo, "apps/00-infra/traefik/Chart.yaml", "dependencies:\n  - name: traefik\n    version: 33.0.0\n");
    git(repo, &["commit", "-qam", "bump traefik"]);
    let (code, stdout, stderr) = check_change(repo);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(
        stderr.contains(
            "version bumps only, no ADR needed: apps/00-infra/traefik/Chart.yaml (version 32.1.0 → 33.0.0); apps/00-infra/traefik/values.yaml (tag v3.1.2 → v3.2.0)"
        ),
        "{stderr}"
    );
    // A major bump needs an ADR when the configuration says so; any bump, with adr-required.
    write(repo, ".config/adr.yaml", "architecture: [\"apps/00-infra/**\"]\nversion-bumps: major-adr-required\n");
    let (code, stdout, _) = check_change(repo);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("apps/00-infra/traefik/Chart.yaml: adr-required:"), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    write(repo, ".config/adr.yaml", "architecture: [\"apps/00-infra/**\"]\nversion-bumps: adr-required\n");
    let (code, stdout, _) = check_change(repo);
    assert_eq!(code, 1);
    assert!(stdout.contains("(also apps/00-infra/traefik/values.yaml)"), "{stdout}");
    // A bump together with another change is a change.
    std::fs::remove_file(repo.join(".config/adr.yaml")).unwrap();
    write(repo, "apps/00-infra/traefik/values.yaml", "image:\n  repository: traefik\n  tag: v3.2.0\nreplicas: 2\n");
    let (code, stdout, _) = check_change(repo);
    assert_eq!(code, 1);
    assert!(stdout.starts_with("apps/00-infra/traefik/values.yaml: adr-required:"), "{stdout}");
}

#[test]
fn adr_review_an_architecture_change_with_an_adr_passes() {
    let dir = infra_repo();
    let repo = dir.path();
    write(repo, "terraform/modules/talos/main.tf", "# talos, changed\n");
    write(repo, "docs/adr/002-cilium.md", &ADR_1.replace("ADR-001: Talos", "ADR-002: Cilium"));
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "talos with its ADR"]);
    let (code, stdout, stderr) = check_change(repo);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    // A change that touches no architecture path needs no ADR either.
    let dir = infra_repo();
    write(dir.path(), "terraform/environments/dev/main.tf", "# dev, changed\n");
    assert_eq!(check_change(dir.path()).0, 0);
}

#[test]
fn adr_review_an_adr_turned_superseded_needs_its_successor() {
    let dir = infra_repo();
    let repo = dir.path();
    let superseded = ADR_1.replace("**Status:** Accepted", "**Status:** Superseded by [ADR-002](002-talos-v2.md)");
    write(repo, "docs/adr/001-talos.md", &superseded);
    let (code, stdout, _) = check_change(repo);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "docs/adr/001-talos.md:3: change-successor: turned Superseded in this change, but its successor docs/adr/002-talos-v2.md is not in docs/adr/: add it to this change\n"
    );
    write(repo, "docs/adr/002-talos-v2.md", &ADR_1.replace("ADR-001: Talos", "ADR-002: Talos v2"));
    let (code, stdout, stderr) = check_change(repo);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
}

#[test]
fn check_change_refuses_an_unknown_base_and_an_empty_architecture() {
    let dir = infra_repo();
    let out = vixens().args(["adr", "check-change", "--base", "no-such-branch", "--repo"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "vixens adr: `no-such-branch` is not a revision of this repository\n");
    write(dir.path(), ".config/adr.yaml", "architecture: []\n");
    let (code, _, stderr) = check_change(dir.path());
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "vixens adr: `architecture: []` in .config/adr.yaml guards nothing: list the paths whose change needs an ADR, or remove the key for the GitOps defaults\n"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

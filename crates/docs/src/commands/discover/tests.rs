//! Discovery on a repository built at test time, whose commits are dated: one pattern brought two
//! days ago and undocumented, one brought two hours ago, one documented, one ignored.

use std::path::Path;
use std::process::Command;

use super::*;

const DOC: &str =
    "# Operations\n\n### List the nodes\n\nContext: after a recreate.\n\n```console\n$ kubectl get nodes --no-headers\nnode-1 Ready\n```\n";
const CONFIG: &str = "ignore:\n  - pattern: cargo build\n    reason: building is development, not operating the homelab\n";
const UPGRADE: &str =
    "#!/usr/bin/env bash\nset -euo pipefail\nfor node in \"$@\"; do\n  talosctl -n \"$node\" upgrade --image \"$IMAGE\"\n  kubectl get nodes\ndone\n";
const JUSTFILE: &str = "# Recipes.\nplan:\n    cargo build\n    terraform plan -target=module.talos\n";

fn git(repo: &Path, args: &[&str], seconds_ago: Option<i64>) {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(repo)
        .args(["-c", "user.name=Ops", "-c", "user.email=ops@example.org", "-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    if let Some(ago) = seconds_ago {
        let date = format!("@{} +0000", Timestamp::now().as_second() - ago);
        command.env("GIT_AUTHOR_DATE", &date).env("GIT_COMMITTER_DATE", &date);
    }
    let out = command.output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write(repo: &Path, file: &str, text: &str) {
    let path = repo.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The fixture: the upgrade script two days old, the Justfile two hours old.
pub(crate) fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"], None);
    write(repo, DOC_PATH, DOC);
    write(repo, CONFIG_PATH, CONFIG);
    write(repo, "scripts/upgrade.sh", UPGRADE);
    git(repo, &["add", "-A"], None);
    git(repo, &["commit", "-q", "-m", "Upgrade script"], Some(2 * 86_400));
    write(repo, "Justfile", JUSTFILE);
    git(repo, &["add", "-A"], None);
    git(repo, &["commit", "-q", "-m", "Plan recipe"], Some(2 * 3600));
    dir
}

fn head_commits(repo: &Path) -> Vec<String> {
    let out = Command::new("git").arg("-C").arg(repo).args(["log", "--format=%H"]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn finding<'a>(discovery: &'a Discovery, pattern: &str) -> &'a Finding {
    discovery.findings.iter().find(|f| f.pattern.to_string() == pattern).unwrap_or_else(|| panic!("no `{pattern}` in {:#?}", discovery.findings))
}

#[test]
fn a_pattern_undocumented_past_the_grace_period_fails_naming_it_its_line_and_commit() {
    let repo = repository();
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    assert!(!discovery.passed());
    let commits = head_commits(repo.path());
    let upgrade = finding(&discovery, "talosctl upgrade --nodes");
    assert!(matches!(upgrade.status, Status::Undocumented { severity: Severity::Error, age } if age >= Duration::from_secs(2 * 86_400 - 60)));
    let lines = output::lines(&discovery);
    let line = lines.iter().find(|l| l.contains("talosctl upgrade --nodes")).expect("the undocumented pattern is reported");
    assert!(
        line.starts_with("scripts/upgrade.sh:4: undocumented-command: `talosctl upgrade --nodes` is in no entry of docs/commands.md, since commit "),
        "{line}"
    );
    assert!(line.contains(&commits[1][..12]), "the commit that brought it: {line}");
    assert!(
        line.contains("2d 0h ago: past the 24h grace; add an entry whose example runs it, or ignore it in .config/commands.yaml with a reason"),
        "{line}"
    );
    assert_eq!(output::summary(&discovery), "2 operation patterns undocumented (1 past the 24h grace), 1 documented, 1 ignored, in 2 files");
}

#[test]
fn a_pattern_undocumented_within_the_grace_period_is_a_warning() {
    let repo = repository();
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    let plan = finding(&discovery, "terraform plan -target");
    assert_eq!(plan.severity(), Some(Severity::Warning));
    let lines = output::lines(&discovery);
    let line = lines.iter().find(|l| l.contains("terraform plan -target")).unwrap();
    assert!(
        line.starts_with("Justfile:4: undocumented-command: warning: `terraform plan -target` is in no entry of docs/commands.md yet, since commit "),
        "{line}"
    );
    assert!(line.contains("2h 0m ago") && line.ends_with("with a reason within 22h 0m"), "{line}");
    // Without the two-day-old pattern, the warning alone passes.
    std::fs::write(repo.path().join("scripts/upgrade.sh"), "kubectl get nodes\n").unwrap();
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    assert!(discovery.passed(), "{:#?}", output::lines(&discovery));
    assert_eq!(discovery.undocumented(Severity::Warning).count(), 1);
}

#[test]
fn documented_and_ignored_patterns_are_silent() {
    let repo = repository();
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    let nodes = finding(&discovery, "kubectl get node");
    assert_eq!(nodes.status, Status::Documented { entry: "list-the-nodes".into() });
    assert_eq!(nodes.uses.iter().map(|u| (u.file.as_str(), u.line)).collect::<Vec<_>>(), vec![("scripts/upgrade.sh", 5)]);
    let build = finding(&discovery, "cargo build");
    assert_eq!(build.status, Status::Ignored { reason: "building is development, not operating the homelab".into() });
    let lines = output::lines(&discovery);
    assert_eq!(lines.len(), 2, "only the undocumented patterns: {lines:#?}");
    assert!(lines.iter().all(|l| !l.contains("kubectl") && !l.contains("cargo")), "{lines:#?}");
}

#[test]
fn uncommitted_changes_count_as_now() {
    let repo = repository();
    std::fs::write(repo.path().join("scripts/upgrade.sh"), "#!/bin/sh\nhelm -n traefik upgrade --install traefik traefik/traefik\n").unwrap();
    write(repo.path(), "docs/runbooks/argocd.md", "# Argo CD\n\n```sh\nargocd app sync root --prune\n```\n");
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    for (pattern, file, line) in
        [("helm -n traefik upgrade --install", "scripts/upgrade.sh", 2), ("argocd app sync --prune", "docs/runbooks/argocd.md", 4)]
    {
        let found = finding(&discovery, pattern);
        assert_eq!(found.severity(), Some(Severity::Warning), "{pattern}");
        assert_eq!((found.uses[0].file.as_str(), found.uses[0].line), (file, line));
        assert_eq!(found.uses[0].dated.as_ref().unwrap().commit, None);
    }
    let lines = output::lines(&discovery);
    assert!(lines.iter().any(|l| l.starts_with("scripts/upgrade.sh:2: undocumented-command: warning: `helm -n traefik upgrade --install` is in no entry of docs/commands.md yet, not committed yet")), "{lines:#?}");
}

#[test]
fn the_grace_period_decides_between_warning_and_error() {
    let repo = repository();
    let options = Options { grace: Duration::from_secs(3600), ..Options::default() };
    let discovery = discover(repo.path(), &options).unwrap();
    assert_eq!(finding(&discovery, "terraform plan -target").severity(), Some(Severity::Error));
    let options = Options { grace: Duration::from_secs(3 * 86_400), ..Options::default() };
    let discovery = discover(repo.path(), &options).unwrap();
    assert!(discovery.passed());
    assert_eq!(discovery.undocumented(Severity::Warning).count(), 2);
}

#[test]
fn an_ignore_that_matches_nothing_is_reported_as_stale() {
    let repo = repository();
    write(repo.path(), CONFIG_PATH, &format!("{CONFIG}  - pattern: flux reconcile kustomization\n    reason: gone since the move to Argo CD\n"));
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    assert_eq!(discovery.unused_ignores.len(), 1);
    assert!(output::lines(&discovery).contains(
        &".config/commands.yaml:4: unused-ignore: warning: `flux reconcile kustomization` matches no undocumented command: remove it".to_owned()
    ));
}

#[test]
fn the_json_document_is_versioned_and_lists_every_pattern() {
    let repo = repository();
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&output::json(&discovery)).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["passed"], false);
    assert_eq!(json["grace"], "24h");
    let patterns = json["patterns"].as_array().unwrap();
    let statuses: Vec<(&str, &str)> = patterns.iter().map(|p| (p["pattern"].as_str().unwrap(), p["status"].as_str().unwrap())).collect();
    assert_eq!(
        statuses,
        vec![
            ("talosctl upgrade --nodes", "undocumented"),
            ("terraform plan -target", "undocumented"),
            ("kubectl get node", "documented"),
            ("cargo build", "ignored")
        ]
    );
    assert_eq!(patterns[0]["severity"], "error");
    assert_eq!(patterns[0]["commit"], head_commits(repo.path())[1]);
    assert_eq!(patterns[0]["uses"][0]["command"], "talosctl -n \"$node\" upgrade --image \"$IMAGE\"");
}

#[test]
fn a_bad_configuration_or_a_missing_document_cannot_run() {
    let repo = repository();
    write(repo.path(), CONFIG_PATH, "ignore:\n  - pattern: cargo build\n");
    let err = discover(repo.path(), &Options::default()).unwrap_err();
    let DiscoverError::Config(config) = &err else { panic!("{err}") };
    assert!(
        config.lines()[0].ends_with(
            ".config/commands.yaml:2:14: `ignore`: `cargo build` has no reason: say why it needs no entry in docs/commands.md (`reason: …`)"
        ),
        "{:?}",
        config.lines()
    );
    std::fs::remove_file(repo.path().join(CONFIG_PATH)).unwrap();
    std::fs::remove_file(repo.path().join(DOC_PATH)).unwrap();
    let err = discover(repo.path(), &Options::default()).unwrap_err();
    assert!(err.to_string().contains("run `vixens commands init"), "{err}");
}

#[test]
fn an_unreadable_workflow_fails_discovery_naming_its_line() {
    let repo = repository();
    write(repo.path(), ".github/workflows/ci.yml", "jobs:\n  a:\n    steps: 3\n");
    let discovery = discover(repo.path(), &Options::default()).unwrap();
    assert!(!discovery.passed());
    assert!(discovery.problems[0].starts_with(".github/workflows/ci.yml:3:"), "{:?}", discovery.problems);
}

#[test]
fn a_runbook_written_the_homelabs_way_yields_its_operations() {
    // Numbered entries, a bash block per step, `# Résultat attendu` comments, a pipeline and the
    // destroy/recreate chain that the destroy-safety requirement exists for.
    let runbook = "### 3. Vérifier le cluster\n\nContexte : après un recreate.\n\n```bash\nexport KUBECONFIG=.secrets/dev/kubeconfig-dev\n\
                   kubectl get applications -n argocd\n# Résultat attendu : toutes Synced/Healthy\n\
                   talosctl -n 192.168.111.162 dmesg | grep -i iscsi\n\
                   terraform -chdir=terraform/environments/dev destroy -auto-approve && terraform -chdir=terraform/environments/dev apply -auto-approve\n```\n";
    let snippets = sources::markdown_blocks("docs/procedures/recreate.md", runbook);
    let found: Vec<(usize, String)> = snippets.iter().flat_map(|s| patterns(&s.text, s.line, 0)).map(|(l, p)| (l, p.to_string())).collect();
    assert_eq!(
        found,
        vec![
            (7, "kubectl -n argocd get application".to_owned()),
            (9, "talosctl dmesg --nodes".to_owned()),
            (10, "terraform destroy -auto-approve".to_owned()),
            (10, "terraform apply -auto-approve".to_owned()),
        ]
    );
}

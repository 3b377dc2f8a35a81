//! Stage two of loading an env.yaml (its values given their meaning) on any file: an
//! [`Environment`] or every problem at a line of the file, never a panic, and quickly. The
//! destroy guard's lenient read ([`Protection::load`]) holds to the same.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vixens_ops::env::{EnvConfigError, Environment, Protection};

/// A valid file, line by line: the generator keeps, drops, repeats and breaks its lines.
const LINES: &[&str] = &[
    "name: lab\n",
    "name: ../../x\n",
    "name: ''\n",
    "kind: disposable\n",
    "kind: protected\n",
    "kind: [a]\n",
    "infra-repo: ../..\n",
    "work-dir: ${VIXENS_WORK_DIR:-/tmp/w}/${ENV_NAME}\n",
    "work-dir: ${WORK_DIR}\n",
    "terraform:\n  root: terraform\n",
    "terraform:\n  root: ${UNSET}\n  data-dir: ${WORK_DIR}/tf\n  backend-config: {path: x}\n  env: {TF_VAR_token: secret-value}\n",
    "terraform: root\n",
    "kubeconfig: state/kubeconfig\n",
    "talosconfig: state/talosconfig\n",
    "tools-path: [\"${WORK_DIR}/bin\"]\n",
    "nodes:\n  - {name: cp1, address: 10.5.0.2, role: controlplane}\n",
    "nodes:\n  - {name: cp1, role: king}\n",
    "nodes: {}\n",
    "argocd:\n  system-apps:\n    max-sync-wave: 2\n",
    "argocd:\n  system-apps: {selector: 'a in (b'}\n",
    "budgets:\n  recreate: 1m\n  phases: {argocd: 2m, bogus: 1s}\n",
    "cycles-required: 0\n",
    "talos-logs:\n  allow:\n    - {pattern: '(', reason: x}\n",
    "protected:\n  addresses: ['[']\n  inventory:\n    - {kind: s3-bucket, name: b, endpoint: 'http://u:p@h', bucket: b, access-key: k}\n",
    "state-backup: {keep: -1}\n",
    "commands: {timeout: 0s, values: {A: 1}}\n",
    "provisioning: {}\n",
    "provisioning: {env: {SECRET: long-secret-value}}\n",
    "unknown: 1\n",
    "  misindented: 1\n",
    "- a\n",
    "&a\n",
    "\t\n",
];

/// Loads `text` as an env.yaml in a fresh folder; the problems of a file that does not load.
fn load(text: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.yaml");
    std::fs::write(&path, text).unwrap();
    let vars = BTreeMap::from([("VIXENS_WORK_DIR".to_owned(), dir.path().display().to_string())]);
    let lines = text.split('\n').count().max(1);
    let located = |e: &EnvConfigError| -> Result<(), TestCaseError> {
        for p in &e.problems {
            prop_assert!(p.line >= 1 && p.line <= lines, "{p:?} outside 1..={lines}");
        }
        Ok(())
    };
    if let Err(e) = Environment::load_with(&path, &vars) {
        prop_assert!(!e.problems.is_empty(), "an error with no problem");
        located(&e)?;
    }
    if let Err(e) = Protection::load(&path, &vars) {
        located(&e)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_arrangement_of_env_yaml_lines_loads_or_names_each_problem(picked in prop::collection::vec(0..LINES.len(), 0..40)) {
        let text: String = picked.iter().map(|&i| LINES[i]).collect();
        let started = Instant::now();
        load(&text)?;
        prop_assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[test]
    fn any_text_loads_or_names_each_problem(text in "\\PC{0,600}") {
        load(&text)?;
    }
}

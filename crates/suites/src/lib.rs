//! The nextest suites every environment package instantiates. Each environment's
//! `tests/suites.rs` is one line: `vixens_suites::main(env!("CARGO_MANIFEST_DIR"))`.
//!
//! Test names follow the specification so that JUnit reads like it:
//! `fresh_cluster_validation::*`, `destroy_safety::*`, `commands::<env>::<entry-id>`.
//! Each suite lives in its own module and only lists its trials; the checks themselves are in
//! the library modules named after their concern.

use std::path::Path;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

use vixens_ops::env::{EnvConfigError, Environment, ProcessVars, VarSource};

pub mod commands;
pub mod destroy_safety;
pub mod environment;
pub mod fresh_cluster_validation;

/// The trial that says whether the environment's env.yaml loads and what it names is usable
/// ([`environment::check`]). It is always there: when the file does not load, it is the run's
/// only trial and fails naming every problem.
pub const CONFIGURATION_TRIAL: &str = "environment::configuration_loads";

/// Runs the suites for the environment whose `env.yaml` sits in `package_dir`.
///
/// When the env.yaml cannot be loaded (a missing `VIXENS_*` variable on a machine that is not
/// set up for this environment), the run has exactly one test, and it fails within seconds
/// with every problem named: never a pass, never a silent skip.
#[must_use]
pub fn main(package_dir: &str) -> ExitCode {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials_for(Path::new(package_dir), &ProcessVars)).exit_code()
}

/// The trials for the environment whose `env.yaml` sits in `package_dir`, with `${VAR}`s
/// taken from `vars`.
#[must_use]
pub fn trials_for(package_dir: &Path, vars: &dyn VarSource) -> Vec<Trial> {
    match Environment::load_with(package_dir.join("env.yaml"), vars) {
        Ok(env) => {
            let checked = env.clone();
            let mut trials = vec![Trial::test(CONFIGURATION_TRIAL, move || environment::check(&checked).map_err(Failed::from))];
            trials.extend(fresh_cluster_validation::trials(&env));
            trials.extend(destroy_safety::trials(&env));
            trials.extend(commands::trials(&env));
            trials
        }
        Err(error) => {
            let message = failure_message(&error);
            vec![Trial::test(CONFIGURATION_TRIAL, move || Err(Failed::from(message)))]
        }
    }
}

/// Says on the test's output what an earlier run had left on the environment and the session
/// undid first: a reap is never silent.
pub fn report_reaped(session: &vixens_ops::session::Session) {
    if let Some(record) = session.reaped() {
        eprintln!("{}", reaped_message(&session.env().name, record));
    }
    // The janitor acts after the run: its output says where the janitor will say what it undid.
    if let Some(notice) = session.janitor_notice() {
        eprintln!("{notice}");
    }
}

/// `vixens: undid what an earlier run left on lab: ... (left by pid 42 for recreate_cycle, nextest run R, since T)`.
fn reaped_message(environment: &str, record: &vixens_ops::lease::Record) -> String {
    let run = record.run.as_ref().map(|r| format!(", nextest run {}", r.id)).unwrap_or_default();
    format!(
        "vixens: undid what an earlier run left on {environment}: {} (left by pid {} for {}{run}, since {})",
        vixens_ops::lease::describe(&record.started),
        record.holder.pid,
        record.holder.purpose,
        record.holder.since
    )
}

/// What the failing configuration trial says: every problem with its place, the variables to
/// export, and where to look next.
fn failure_message(error: &EnvConfigError) -> String {
    let env = error.path.parent().and_then(Path::file_name).map_or_else(|| "ENV".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut message = error.to_string();
    if !error.missing_variables().is_empty() {
        message
            .push_str("\nThis machine is not set up for this environment: export the variables above (README: \"Pointing it at a real homelab\").");
    }
    message.push_str(&format!("\nThen `vixens doctor {env}` checks the tools, files and APIs before any test runs."));
    message
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use vixens_ops::env::ProblemKind;

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("the crate sits in crates/ of the workspace").to_owned()
    }

    fn no_vars() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Loads an environment of this workspace, filling every variable the machine lacks with a
    /// placeholder: what is checked here is the file itself, not this machine's setup.
    fn load_with_placeholders(env: &str) -> Environment {
        let path = workspace().join("environments").join(env).join("env.yaml");
        let mut vars: BTreeMap<String, String> = std::env::vars().collect();
        if let Err(e) = Environment::load_with(&path, &vars) {
            for name in e.missing_variables() {
                vars.insert(name.to_owned(), format!("/placeholder/{name}"));
            }
        }
        Environment::load_with(&path, &vars).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn dev_without_its_variables_is_one_failing_trial_naming_every_missing_variable() {
        let dir = workspace().join("environments/dev");
        let trials = trials_for(&dir, &no_vars());
        assert_eq!(trials.iter().map(Trial::name).collect::<Vec<_>>(), [CONFIGURATION_TRIAL]);

        let error = Environment::load_with(dir.join("env.yaml"), &no_vars()).unwrap_err();
        assert!(error.problems.iter().all(|p| matches!(p.kind, ProblemKind::MissingVariable { .. })), "{error}");
        let message = failure_message(&error);
        let expected = "environment variables not set: VIXENS_DEV_CP1, VIXENS_DEV_CP2, VIXENS_DEV_CP3, VIXENS_DEV_VIP, \
                        VIXENS_MINIO_ACCESS_KEY, VIXENS_MINIO_ENDPOINT, VIXENS_MINIO_SECRET_KEY, VIXENS_NAS_ADDRESS, VIXENS_REPO, \
                        VIXENS_SECRETS, VIXENS_TERRAFORM_REPO";
        assert!(message.contains(expected), "{message}");
        assert!(
            message.contains(&format!("{}:23:13: `infra-repo`: environment variable VIXENS_REPO is not set", dir.join("env.yaml").display())),
            "{message}"
        );
        assert!(message.ends_with("Then `vixens doctor dev` checks the tools, files and APIs before any test runs."), "{message}");
    }

    #[test]
    fn the_labs_configuration_trial_checks_the_loaded_environment() {
        for env in ["lab", "lab-ha"] {
            let trials = trials_for(&workspace().join("environments").join(env), &ProcessVars);
            let configuration = trials.into_iter().find(|t| t.name() == CONFIGURATION_TRIAL).unwrap();
            assert!(!configuration.has_ignored_flag());
        }
        let lab = Environment::load_with(workspace().join("environments/lab/env.yaml"), &ProcessVars).unwrap();
        assert_eq!(environment::check(&lab), Ok(()));
        let mut broken = lab.clone();
        broken.terraform.root = workspace().join("environments/lab/no-such-root");
        assert!(environment::check(&broken).unwrap_err().contains("`terraform.root`: "), "the trial can fail");
    }

    #[test]
    fn a_reap_is_said_in_the_tests_output() {
        let record = vixens_ops::lease::Record {
            holder: vixens_ops::lease::Holder {
                pid: 4242,
                since: "2026-11-26T10:00:00Z".into(),
                purpose: "fresh_cluster_validation::recreate_cycle".into(),
            },
            run: None,
            janitor: None,
            started: vec![vixens_ops::lease::Started::Lab { bin: "/t/vixens-lab".into(), state_dir: "/w/lab/state".into() }],
        };
        assert_eq!(
            reaped_message("lab", &record),
            "vixens: undid what an earlier run left on lab: the lab in /w/lab/state (left by pid 4242 for fresh_cluster_validation::recreate_cycle, since 2026-11-26T10:00:00Z)"
        );
    }

    #[test]
    fn prod_without_its_variables_names_its_workers_too() {
        let error = Environment::load_with(workspace().join("environments/prod/env.yaml"), &no_vars()).unwrap_err();
        let missing = error.missing_variables();
        for name in ["VIXENS_PROD_CP1", "VIXENS_PROD_CP3", "VIXENS_PROD_W1", "VIXENS_PROD_W2", "VIXENS_PROD_VIP", "VIXENS_SECRETS"] {
            assert!(missing.contains(&name), "{name} missing from {missing:?}");
        }
    }

    #[test]
    fn dev_is_disposable_with_three_control_planes() {
        let dev = load_with_placeholders("dev");
        assert!(!dev.is_protected());
        assert_eq!(dev.nodes.len(), 3);
        assert!(dev.nodes.iter().all(|n| n.role == vixens_ops::env::NodeRole::Controlplane));
        assert_eq!(dev.argocd.root_app, "vixens-app-of-apps");
        let rules = dev.argocd.system_apps.to_string();
        assert_eq!(rules, "names [metrics-server] or folders [apps/00-infra/*, apps/01-storage/*, apps/_shared/*]");
        assert!(
            dev.protected
                .inventory
                .iter()
                .any(|i| matches!(i, vixens_ops::env::InventoryCheck::S3Bucket { bucket, .. } if bucket == "terraform-state-dev"))
        );
        assert!(dev.kubeconfig.ends_with("dev/kubeconfig-dev"));
        assert!(dev.talosconfig.ends_with("dev/talosconfig-dev"));
        assert!(dev.talos_logs.allow.iter().all(|rule| !rule.reason.is_empty()));
    }

    #[test]
    fn prod_is_protected_with_three_control_planes_and_two_workers() {
        let prod = load_with_placeholders("prod");
        assert!(prod.is_protected());
        let workers = prod.nodes.iter().filter(|n| n.role == vixens_ops::env::NodeRole::Worker).count();
        assert_eq!((prod.nodes.len() - workers, workers), (3, 2));
        assert!(
            prod.protected
                .inventory
                .iter()
                .any(|i| matches!(i, vixens_ops::env::InventoryCheck::S3Bucket { bucket, .. } if bucket == "terraform-state-prod"))
        );
    }

    /// `period * terminate-after` of the override that puts `package` in its group.
    fn nextest_limit(config: &toml_edit::DocumentMut, package: &str) -> Option<(String, Duration)> {
        let overrides = config["profile"]["default"]["overrides"].as_array_of_tables()?;
        let filter = format!("package(={package})");
        let entry = overrides.iter().find(|o| o.get("filter").and_then(|f| f.as_str()) == Some(filter.as_str()))?;
        let group = entry.get("test-group")?.as_str()?.to_owned();
        let slow = entry.get("slow-timeout")?.as_inline_table()?;
        let period = humantime::parse_duration(slow.get("period")?.as_str()?).ok()?;
        let terminate_after = u32::try_from(slow.get("terminate-after")?.as_integer()?).ok()?;
        Some((group, period * terminate_after))
    }

    #[test]
    fn timeouts_nest_from_nextest_down_to_each_phase() {
        let text = std::fs::read_to_string(workspace().join(".config/nextest.toml")).unwrap();
        let config: toml_edit::DocumentMut = text.parse().unwrap();
        let packages: Vec<String> =
            std::fs::read_dir(workspace().join("environments")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(packages.len() >= 4, "{packages:?}");
        for package in &packages {
            let (group, limit) = nextest_limit(&config, package)
                .unwrap_or_else(|| panic!("no nextest override puts package {package} in a test group with a slow-timeout"));
            assert_eq!(&group, package);
            let max_threads = config["test-groups"][package.as_str()]["max-threads"].as_integer();
            assert_eq!(max_threads, Some(1), "test group {package}: two tests must never touch one environment at once");
            if !workspace().join("environments").join(package).join("env.yaml").exists() {
                continue; // not written yet (lab-sim writes the lab files); its group is checked above
            }
            let env = load_with_placeholders(package);
            let budgets = &env.budgets;
            assert!(limit > budgets.recreate, "{package}: nextest ends a test after {limit:?}, before its recreate budget {:?}", budgets.recreate);
            let p = &budgets.phases;
            for (phase, budget) in [
                ("destroy", p.destroy),
                ("apply", p.apply),
                ("kubernetes-api", p.kubernetes_api),
                ("talos-health", p.talos_health),
                ("argocd", p.argocd),
                ("logs", p.logs),
            ] {
                assert!(
                    budgets.recreate > budget,
                    "{package}: phase {phase} ({budget:?}) does not fit in the recreate budget ({:?})",
                    budgets.recreate
                );
            }
        }
    }

    #[test]
    fn no_profile_filters_tests_out_by_default() {
        let text = std::fs::read_to_string(workspace().join(".config/nextest.toml")).unwrap();
        assert!(!text.lines().any(|l| l.trim_start().starts_with("default-filter")), "a default-filter can make `-p dev` run zero tests");
        let config: toml_edit::DocumentMut = text.parse().unwrap();
        assert_eq!(config["profile"]["ci"]["junit"]["path"].as_str(), Some("junit.xml"));
        assert_eq!(config["store"]["dir"].as_str(), Some("target/nextest"));
        assert_eq!(config["profile"]["promotion"]["retries"].as_integer(), Some(0));
        assert_eq!(config["profile"]["promotion"]["fail-fast"].as_bool(), Some(true));
    }
}

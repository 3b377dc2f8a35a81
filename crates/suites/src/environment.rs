//! The `environment::configuration_loads` trial: the env.yaml loads (or the run has this one
//! failing trial, naming every problem), and what it names is usable before any other trial
//! touches the environment:
//!
//! - the env.yaml's `name` is its package's (`environments/<name>/`): `vixens destroy <name>`
//!   finds the file by the folder and confirms with the name, which must be one word;
//! - `terraform.root` is a root module (a folder holding `.tf` files);
//! - `infra-repo` is a folder, and `commands.doc` a file in it or elsewhere;
//! - a disposable environment is not a protected one under another name (same terraform root,
//!   state or cluster), which the safe destroy would refuse halfway through the suites.

use std::path::Path;

use vixens_ops::destroy::{Verdict, guard};
use vixens_ops::env::{Environment, Identity, ProcessVars, protected_environments};

/// Every problem of `env`'s configuration, one per line; `Ok` when there is none.
///
/// # Errors
/// The problems, each naming its env.yaml key and what was found.
pub fn check(env: &Environment) -> Result<(), String> {
    let mut problems: Vec<String> = Vec::new();
    let package = env.file.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if package != env.name {
        problems.push(format!(
            "`name: {}` is not the name of its package ({}): `vixens destroy {package}` would have to be confirmed as `{}`",
            env.name,
            env.file.display(),
            env.name
        ));
    }
    if !is_root_module(&env.terraform.root) {
        problems.push(format!("`terraform.root`: {} is not a terraform root module (a folder holding .tf files)", env.terraform.root.display()));
    }
    if !env.infra_repo.is_dir() {
        problems.push(format!("`infra-repo`: {} is not a folder", env.infra_repo.display()));
    }
    if !env.commands.doc.is_file() {
        problems.push(format!("`commands.doc`: {} does not exist", env.commands.doc.display()));
    }
    if !env.is_protected()
        && let Verdict::Refused(refusal) = guard::check_identity(&env.name, &Identity::of(env), &protected_environments(&env.file, &ProcessVars))
    {
        problems.push(refusal.to_string());
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!("{} is not usable as it is:\n  - {}", env.file.display(), problems.join("\n  - ")))
}

/// A folder holding at least one `.tf` or `.tf.json` file.
fn is_root_module(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().flatten().any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.ends_with(".tf") || name.ends_with(".tf.json")
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// `environments/<folder>/env.yaml` in a fresh workspace, with a root module and a commands
    /// document unless `broken` says otherwise.
    fn environment(folder: &str, name: &str, broken: &[&str]) -> (tempfile::TempDir, Environment) {
        let dir = tempfile::tempdir().unwrap();
        let env_dir = dir.path().join("environments").join(folder);
        std::fs::create_dir_all(env_dir.join("terraform")).unwrap();
        if !broken.contains(&"root") {
            std::fs::write(env_dir.join("terraform/main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
        }
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        if !broken.contains(&"doc") {
            std::fs::write(dir.path().join("docs/commands.md"), "# Commands\n").unwrap();
        }
        let yaml = format!(
            "name: {name}\nkind: disposable\ninfra-repo: ../..\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
             nodes: []\nargocd:\n  system-apps: {{max-sync-wave: 2}}\n"
        );
        std::fs::write(env_dir.join("env.yaml"), yaml).unwrap();
        let env = Environment::load_with(env_dir.join("env.yaml"), &BTreeMap::<String, String>::new()).unwrap();
        (dir, env)
    }

    #[test]
    fn a_usable_configuration_passes() {
        let (_dir, env) = environment("staging", "staging", &[]);
        assert_eq!(check(&env), Ok(()));
    }

    #[test]
    fn each_unusable_part_is_named() {
        let (_dir, env) = environment("staging", "stagging", &["root", "doc"]);
        let message = check(&env).unwrap_err();
        let file = env.file.display().to_string();
        assert_eq!(
            message,
            format!(
                "{file} is not usable as it is:\n  \
                 - `name: stagging` is not the name of its package ({file}): `vixens destroy staging` would have to be confirmed as `stagging`\n  \
                 - `terraform.root`: {} is not a terraform root module (a folder holding .tf files)\n  \
                 - `commands.doc`: {} does not exist",
                env.terraform.root.display(),
                env.commands.doc.display()
            )
        );
    }

    #[test]
    fn a_disposable_copy_of_a_protected_environment_is_named() {
        let (dir, env) = environment("staging", "staging", &[]);
        let prod = dir.path().join("environments/prod");
        std::fs::create_dir_all(&prod).unwrap();
        let root = env.terraform.root.display();
        std::fs::write(
            prod.join("env.yaml"),
            format!("name: prod\nkind: protected\ninfra-repo: ../..\nterraform:\n  root: {root}\nkubeconfig: k\ntalosconfig: t\nnodes: []\nargocd: {{system-apps: {{max-sync-wave: 2}}}}\n"),
        )
        .unwrap();
        let message = check(&env).unwrap_err();
        assert!(message.contains("`staging` is the protected environment `prod` under another name: its terraform root "), "{message}");
    }
}

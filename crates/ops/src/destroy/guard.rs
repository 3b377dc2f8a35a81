//! The guard: judges whether an environment may be destroyed at all, and whether a destroy plan
//! touches protected resources. Pure functions over typed input; the only output is a [`Verdict`].
//!
//! An environment is protected when its env.yaml says `kind: protected`, and also when it *is* a
//! protected environment under another name ([`check_identity`]): its terraform root, its
//! terraform state (`terraform.backend-config` bucket and key, or local path) or its cluster (its
//! kubeconfig, or the API server that kubeconfig reaches) is a protected environment's of the
//! workspace. Protection never hangs on one editable word: a copy of prod's env.yaml saying
//! `kind: disposable` is refused before any terraform call, naming what it shares with prod.
//!
//! A plan is refused when any change that destroys an object (a delete, or a replace in either
//! order) concerns a protected resource:
//! - its **type** matches one of `protected.resource-types` (globs; the defaults in
//!   [`crate::env`] cover Synology/iSCSI LUNs, MinIO/S3 buckets and persistent volumes are always
//!   included);
//! - or one of `protected.addresses` (globs) matches its **instance address**
//!   (`module.storage.synology_lun.data["a"]`), its **resource address** without the instance key
//!   (`module.storage.synology_lun.data`), its **module** (`module.storage`), or the address it
//!   had before a `moved` block renamed it.
//!
//! Globs are matched whole and case-sensitively; `*` matches any characters, dots and brackets
//! included (`module.storage.*` protects everything in that module), `?` one character, and
//! `{a,b}` either. In address globs `[` and `]` are literal, since in an address they surround an
//! instance key: `synology_lun.data["a"]` protects that one instance. A plan that stopped on an
//! error is refused too: it may not list every change.

use std::fmt;

use globset::{Glob, GlobMatcher};

use std::path::PathBuf;

use crate::env::{EnvKind, Identity, ProtectedConfig, ProtectedEnvironment};
use vixens_drivers::terraform::{Plan, ResourceChange};

/// What the guard (or the confirmation) decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The destroy may go on.
    Allowed,
    /// The destroy must not happen.
    Refused(Refusal),
}

/// Why a destroy is refused, and which resources are to blame (none for a refusal that concerns
/// the whole environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The rule that refused.
    pub reason: Reason,
    /// Every offending resource change, in plan order.
    pub addresses: Vec<Offender>,
}

/// The rule behind a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The environment is `kind: protected`: it is never destroyed, whatever the flags.
    ProtectedEnvironment {
        /// Its name.
        environment: String,
    },
    /// The environment is a protected one under another name: it shares its terraform root,
    /// state or cluster with it.
    SameAsProtected {
        /// Its name.
        environment: String,
        /// The protected environment.
        protected: String,
        /// The protected environment's env.yaml.
        file: PathBuf,
        /// What they share, in words (`its terraform root /tf/environments/prod`).
        shared: String,
    },
    /// No confirmation was given.
    NotConfirmed {
        /// The name that must be given.
        environment: String,
    },
    /// The confirmation does not name the environment.
    WrongConfirmation {
        /// The name that must be given.
        environment: String,
        /// What was given.
        given: String,
        /// Where it came from (`--confirm`, `VIXENS_CONFIRM_DESTROY`, the prompt).
        source: String,
    },
    /// The plan deletes or replaces protected resources (listed in [`Refusal::addresses`]).
    ProtectedResources,
    /// Terraform stopped planning on an error: the plan may not list every change.
    PlanErrored,
}

/// One change of a plan that the guard refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offender {
    /// The instance address (`module.m.synology_lun.data["a"]`).
    pub address: String,
    /// The action, as terraform names it (`delete`, `delete, then create`).
    pub action: String,
    /// The protection that matched.
    pub rule: Rule,
}

/// A protection from env.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A `protected.resource-types` glob (or a built-in default) matched the resource type.
    ResourceType(String),
    /// A `protected.addresses` glob matched the address.
    Address(String),
}

impl Verdict {
    /// True for [`Verdict::Allowed`].
    #[must_use]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }

    /// Turns a refusal into an `Err`, for `?` in a sequence of checks.
    ///
    /// # Errors
    /// The [`Refusal`] of a refused verdict.
    pub fn into_result(self) -> Result<(), Refusal> {
        match self {
            Self::Allowed => Ok(()),
            Self::Refused(refusal) => Err(refusal),
        }
    }

    fn refused(reason: Reason) -> Self {
        Self::Refused(Refusal { reason, addresses: Vec::new() })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Reason::ProtectedEnvironment { environment } => {
                write!(f, "`{environment}` is a protected environment (kind: protected in its env.yaml): it is never destroyed, whatever the flags")
            }
            Reason::SameAsProtected { environment, protected, file, shared } => write!(
                f,
                "`{environment}` is the protected environment `{protected}` under another name: {shared} is `{protected}`'s \
                 ({}, kind: protected): it is never destroyed, whatever its own env.yaml says",
                file.display()
            ),
            Reason::NotConfirmed { environment } => write!(
                f,
                "no confirmation: type the environment's name at the prompt on a terminal, or pass `--confirm {environment}` \
                 (or set VIXENS_CONFIRM_DESTROY={environment} where there is no terminal)"
            ),
            Reason::WrongConfirmation { environment, given, source } => {
                write!(f, "{source} says {given:?}, which is not the environment's name `{environment}`")
            }
            Reason::ProtectedResources => {
                let n = self.addresses.len();
                write!(f, "the plan would destroy {n} protected resource{}:", if n == 1 { "" } else { "s" })?;
                for offender in &self.addresses {
                    write!(f, "\n  - {offender}")?;
                }
                Ok(())
            }
            Reason::PlanErrored => f.write_str("terraform stopped planning on an error: the plan may not list every change"),
        }
    }
}

impl std::error::Error for Refusal {}

impl fmt::Display for Offender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}; {})", self.address, self.action, self.rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ResourceType(glob) => write!(f, "protected resource type `{glob}`"),
            Self::Address(glob) => write!(f, "protected address `{glob}`"),
        }
    }
}

/// Refuses a protected environment, before anything else is looked at. `name` and `kind` come
/// from its env.yaml ([`Protection::load`](crate::env::Protection::load) reads them on a machine
/// where the rest of the file's variables are not set).
#[must_use]
pub fn check_environment(name: &str, kind: EnvKind) -> Verdict {
    if kind == EnvKind::Protected {
        return Verdict::refused(Reason::ProtectedEnvironment { environment: name.to_owned() });
    }
    Verdict::Allowed
}

/// Refuses an environment that is one of the `protected` environments of its workspace under
/// another name (see the [module docs](self)), naming the first one found and what they share.
#[must_use]
pub fn check_identity(name: &str, identity: &Identity, protected: &[ProtectedEnvironment]) -> Verdict {
    match protected_like(identity, protected) {
        Some((env, shared)) => Verdict::refused(Reason::SameAsProtected {
            environment: name.to_owned(),
            protected: env.name.clone(),
            file: env.file.clone(),
            shared: shared.to_string(),
        }),
        None => Verdict::Allowed,
    }
}

/// The first of `protected` that `identity` shares something with, and what.
#[must_use]
pub fn protected_like<'p>(identity: &Identity, protected: &'p [ProtectedEnvironment]) -> Option<(&'p ProtectedEnvironment, crate::env::Shared)> {
    protected.iter().find_map(|env| identity.shared_with(&env.identity).map(|shared| (env, shared)))
}

/// Judges a destroy plan (or any plan, for pull-request checks): refused when a delete or a
/// replace touches a protected resource, listing every one, or when the plan errored.
#[must_use]
pub fn check_plan(plan: &Plan, protected: &ProtectedConfig) -> Verdict {
    if plan.errored == Some(true) {
        return Verdict::refused(Reason::PlanErrored);
    }
    let rules = Rules::new(protected);
    let addresses: Vec<Offender> = plan
        .destructive_changes()
        .filter_map(|change| {
            let rule = rules.protecting(change)?;
            Some(Offender { address: change.address.clone(), action: change.change.actions.to_string(), rule })
        })
        .collect();
    if addresses.is_empty() { Verdict::Allowed } else { Verdict::Refused(Refusal { reason: Reason::ProtectedResources, addresses }) }
}

/// The compiled protections of one environment.
struct Rules {
    types: Vec<(String, GlobMatcher)>,
    addresses: Vec<(String, GlobMatcher)>,
}

impl Rules {
    fn new(protected: &ProtectedConfig) -> Self {
        Self {
            types: protected.resource_types.iter().map(|g| (g.clone(), compile(g))).collect(),
            addresses: protected.addresses.iter().map(|g| (g.clone(), compile_address(g))).collect(),
        }
    }

    /// The first rule protecting this change's resource, if any.
    fn protecting(&self, change: &ResourceChange) -> Option<Rule> {
        if let Some((glob, _)) = self.types.iter().find(|(_, m)| m.is_match(&change.resource_type)) {
            return Some(Rule::ResourceType(glob.clone()));
        }
        let names = names_of(change);
        self.addresses.iter().find(|(_, m)| names.iter().any(|n| m.is_match(n))).map(|(glob, _)| Rule::Address(glob.clone()))
    }
}

/// A glob from env.yaml. The loader has already refused invalid ones; should one slip through,
/// it matches everything, so that the guard errs on the side of refusing.
fn compile(glob: &str) -> GlobMatcher {
    Glob::new(glob).unwrap_or_else(|_| Glob::new("*").expect("`*` is a glob")).compile_matcher()
}

/// An address glob, with `[` and `]` taken literally: in an address they surround an instance
/// key (`lun[0]`, `lun["a"]`), never a character class.
fn compile_address(glob: &str) -> GlobMatcher {
    let literal_brackets: String = glob
        .chars()
        .map(|c| match c {
            '[' => "[[]".to_owned(),
            ']' => "[]]".to_owned(),
            c => c.to_string(),
        })
        .collect();
    compile(&literal_brackets)
}

/// Every name an address glob may match for this change: instance address, resource address,
/// module address, and the address before a `moved` block.
fn names_of(change: &ResourceChange) -> Vec<String> {
    let mut names = vec![change.address.clone()];
    let resource = match &change.index {
        Some(_) => change.address.rfind('[').map_or_else(|| change.address.clone(), |i| change.address[..i].to_owned()),
        None => change.address.clone(),
    };
    names.push(resource);
    names.extend(change.module_address.iter().cloned());
    names.extend(change.previous_address.iter().cloned());
    names
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::env::{Environment, Protection};

    fn protected(types: &[&str], addresses: &[&str]) -> ProtectedConfig {
        ProtectedConfig {
            resource_types: types.iter().map(|s| (*s).to_owned()).collect(),
            addresses: addresses.iter().map(|s| (*s).to_owned()).collect(),
            inventory: Vec::new(),
        }
    }

    fn plan(changes: &str) -> Plan {
        Plan::parse(&format!(r#"{{"format_version":"1.2","planned_values":{{}},"resource_changes":[{changes}]}}"#)).unwrap()
    }

    fn change(address: &str, kind: &str, module: Option<&str>, index: Option<&str>, actions: &str) -> String {
        let name = address.rsplit('.').next().unwrap().split('[').next().unwrap();
        let module = module.map(|m| format!(r#""module_address":"{m}","#)).unwrap_or_default();
        let index = index.map(|i| format!(r#""index":{i},"#)).unwrap_or_default();
        format!(
            r#"{{"address":{address:?},{module}{index}"mode":"managed","type":"{kind}","name":"{name}","provider_name":"p","change":{{"actions":{actions}}}}}"#
        )
    }

    fn offenders(verdict: &Verdict) -> Vec<String> {
        match verdict {
            Verdict::Allowed => Vec::new(),
            Verdict::Refused(r) => r.addresses.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_protected_type_deleted_is_refused_naming_the_type_rule() {
        let p = plan(&change("synology_iscsi_lun.data", "synology_iscsi_lun", None, None, r#"["delete"]"#));
        let verdict = check_plan(&p, &protected(&["synology_*"], &[]));
        assert_eq!(offenders(&verdict), ["synology_iscsi_lun.data (delete; protected resource type `synology_*`)"]);
    }

    #[test]
    fn a_replace_is_refused_in_both_orders() {
        for (actions, text) in [(r#"["delete","create"]"#, "delete, then create"), (r#"["create","delete"]"#, "create, then delete")] {
            let p = plan(&change("minio_s3_bucket.state", "minio_s3_bucket", None, None, actions));
            let verdict = check_plan(&p, &protected(&["minio_s3_bucket"], &[]));
            assert_eq!(offenders(&verdict), [format!("minio_s3_bucket.state ({text}; protected resource type `minio_s3_bucket`)")]);
        }
    }

    #[test]
    fn an_untouched_or_updated_protected_resource_is_allowed() {
        let changes = [
            change("synology_iscsi_lun.a", "synology_iscsi_lun", None, None, r#"["no-op"]"#),
            change("synology_iscsi_lun.b", "synology_iscsi_lun", None, None, r#"["update"]"#),
            change("synology_iscsi_lun.c", "synology_iscsi_lun", None, None, r#"["forget"]"#),
            change("talos_machine.cp", "talos_machine", None, None, r#"["delete"]"#),
        ];
        assert_eq!(check_plan(&plan(&changes.join(",")), &protected(&["synology_*"], &[])), Verdict::Allowed);
    }

    #[test]
    fn address_globs_match_instances_in_modules_with_count_and_for_each() {
        let changes = [
            change("module.storage.terraform_data.lun[0]", "terraform_data", Some("module.storage"), Some("0"), r#"["delete"]"#),
            change(r#"module.storage.terraform_data.lun["b"]"#, "terraform_data", Some("module.storage"), Some(r#""b""#), r#"["delete"]"#),
            change("module.talos.terraform_data.node[0]", "terraform_data", Some("module.talos"), Some("0"), r#"["delete"]"#),
        ];
        let p = plan(&changes.join(","));
        let verdict = check_plan(&p, &protected(&[], &["module.storage.*"]));
        assert_eq!(
            offenders(&verdict),
            [
                "module.storage.terraform_data.lun[0] (delete; protected address `module.storage.*`)",
                r#"module.storage.terraform_data.lun["b"] (delete; protected address `module.storage.*`)"#
            ]
        );
        // The resource address without its key, and the module itself, match too.
        for glob in ["module.storage.terraform_data.lun", "module.storage"] {
            assert_eq!(offenders(&check_plan(&p, &protected(&[], &[glob]))).len(), 2, "{glob}");
        }
        // A glob for one key protects that instance only.
        let one = check_plan(&p, &protected(&[], &[r#"module.storage.terraform_data.lun["b"]"#]));
        assert_eq!(offenders(&one).len(), 1);
    }

    #[test]
    fn every_offender_is_listed_in_plan_order() {
        let changes = [
            change("synology_iscsi_lun.a", "synology_iscsi_lun", None, None, r#"["delete"]"#),
            change("talos_machine.cp", "talos_machine", None, None, r#"["delete"]"#),
            change("terraform_data.nas_iscsi_lun[0]", "terraform_data", None, Some("0"), r#"["delete"]"#),
        ];
        let Verdict::Refused(refusal) = check_plan(&plan(&changes.join(",")), &protected(&["synology_*"], &["terraform_data.nas_iscsi_lun*"])) else {
            panic!("refused")
        };
        assert_eq!(
            refusal.to_string(),
            "the plan would destroy 2 protected resources:\n  \
             - synology_iscsi_lun.a (delete; protected resource type `synology_*`)\n  \
             - terraform_data.nas_iscsi_lun[0] (delete; protected address `terraform_data.nas_iscsi_lun*`)"
        );
    }

    #[test]
    fn a_resource_moved_out_of_a_protected_address_is_still_protected() {
        let json = r#"{"address":"terraform_data.x","previous_address":"module.storage.terraform_data.x","mode":"managed","type":"terraform_data","name":"x","provider_name":"p","change":{"actions":["delete"]}}"#;
        assert!(!check_plan(&plan(json), &protected(&[], &["module.storage.*"])).is_allowed());
    }

    fn env_yaml(dir: &std::path::Path, kind: &str, addresses: &str) -> std::path::PathBuf {
        std::fs::create_dir_all(dir.join("terraform")).unwrap();
        let yaml = format!(
            "name: prod\nkind: {kind}\ninfra-repo: ${{NOT_SET_REPO}}\nterraform:\n  root: terraform\nkubeconfig: ${{NOT_SET_SECRETS}}/kubeconfig\n\
             talosconfig: talosconfig\nnodes: []\nargocd:\n  system-apps: {{ max-sync-wave: 2 }}\nprotected:\n  addresses: [{addresses}]\n"
        );
        std::fs::write(dir.join("env.yaml"), yaml).unwrap();
        dir.join("env.yaml")
    }

    #[test]
    fn a_protected_environment_is_refused_on_a_machine_not_set_up_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = env_yaml(dir.path(), "protected", "'module.storage.*'");
        let full = Environment::load_with(&path, &BTreeMap::<String, String>::new()).unwrap_err();
        assert_eq!(full.missing_variables(), ["NOT_SET_REPO", "NOT_SET_SECRETS"]);
        let protection = Protection::load(&path, &BTreeMap::<String, String>::new()).unwrap();
        let Verdict::Refused(refusal) = check_environment(&protection.name, protection.kind) else { panic!("refused") };
        assert_eq!(
            refusal.to_string(),
            "`prod` is a protected environment (kind: protected in its env.yaml): it is never destroyed, whatever the flags"
        );
        assert_eq!(protection.protected.addresses, ["module.storage.*"]);
    }

    #[test]
    fn an_unset_variable_in_a_protection_is_not_papered_over() {
        let dir = tempfile::tempdir().unwrap();
        let err = Protection::load(&env_yaml(dir.path(), "disposable", "'${NOT_SET_PATTERN}'"), &BTreeMap::<String, String>::new()).unwrap_err();
        assert_eq!(err.missing_variables(), ["NOT_SET_PATTERN"], "{err}");
        let protection = Protection::load(&env_yaml(dir.path(), "disposable", ""), &BTreeMap::<String, String>::new()).unwrap();
        assert!(check_environment(&protection.name, protection.kind).is_allowed());
    }

    #[test]
    fn a_copy_of_a_protected_environment_saying_disposable_is_refused_naming_what_it_shares() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path().join("terraform/environments/prod");
        std::fs::create_dir_all(&root).unwrap();
        let yaml = |kind: &str| {
            format!(
                "name: NAME\nkind: {kind}\ninfra-repo: ${{NOT_SET_REPO}}\nterraform:\n  root: ${{TF_REPO}}/terraform/environments/prod\n\
                 kubeconfig: ${{NOT_SET_SECRETS}}/kubeconfig\ntalosconfig: talosconfig\nnodes: []\nargocd:\n  system-apps: {{ max-sync-wave: 2 }}\n"
            )
        };
        for (name, kind) in [("prod", "protected"), ("prod-copy", "disposable"), ("dev", "disposable")] {
            let dir = workspace.path().join("environments").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let text = yaml(kind).replace("NAME", name);
            let text = if name == "dev" { text.replace("environments/prod", "environments/dev") } else { text };
            std::fs::write(dir.join("env.yaml"), text).unwrap();
        }
        let vars = BTreeMap::from([("TF_REPO".to_owned(), workspace.path().display().to_string())]);
        let copy = workspace.path().join("environments/prod-copy/env.yaml");
        let protection = Protection::load(&copy, &vars).unwrap();
        assert!(check_environment(&protection.name, protection.kind).is_allowed(), "its own env.yaml says disposable");
        let protected = crate::env::protected_environments(&copy, &vars);
        // The workspace of the copy first; then the one of the current folder (this repository's
        // prod, whose variables are not set here).
        let ours = std::fs::canonicalize(workspace.path()).unwrap();
        assert_eq!(protected.iter().filter(|p| p.file.starts_with(&ours)).map(|p| p.name.as_str()).collect::<Vec<_>>(), ["prod"]);
        assert!(protected[0].file.starts_with(&ours));
        let Verdict::Refused(refusal) = check_identity(&protection.name, &protection.identity, &protected) else { panic!("refused") };
        let root = std::fs::canonicalize(&root).unwrap();
        let prod_file = std::fs::canonicalize(workspace.path().join("environments/prod/env.yaml")).unwrap();
        assert_eq!(
            refusal.to_string(),
            format!(
                "`prod-copy` is the protected environment `prod` under another name: its terraform root {} is `prod`'s ({}, kind: protected): \
                 it is never destroyed, whatever its own env.yaml says",
                root.display(),
                prod_file.display()
            )
        );
        let dev = workspace.path().join("environments/dev/env.yaml");
        let dev_protection = Protection::load(&dev, &vars).unwrap();
        assert!(check_identity("dev", &dev_protection.identity, &crate::env::protected_environments(&dev, &vars)).is_allowed());
        // Without the variable, prod's root cannot be known here: nothing is compared.
        let unset = BTreeMap::<String, String>::new();
        assert!(crate::env::protected_environments(&copy, &unset)[0].identity.terraform_root.is_none());
    }

    #[test]
    fn a_protection_with_a_name_that_is_not_a_name_does_not_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = env_yaml(dir.path(), "disposable", "");
        let text = std::fs::read_to_string(&path).unwrap().replace("name: prod", "name: ../../tmp/x");
        std::fs::write(&path, text).unwrap();
        let err = Protection::load(&path, &BTreeMap::<String, String>::new()).unwrap_err();
        assert!(err.to_string().contains("`name`: \"../../tmp/x\" is not a name: '.' is not allowed"), "{err}");
    }

    #[test]
    fn an_errored_plan_is_refused() {
        let p = Plan::parse(r#"{"format_version":"1.2","planned_values":{},"resource_changes":[],"errored":true}"#).unwrap();
        let Verdict::Refused(refusal) = check_plan(&p, &protected(&[], &[])) else { panic!("refused") };
        assert_eq!(refusal.reason, Reason::PlanErrored);
    }
}

//! What an environment *is*, whatever its env.yaml calls it: the terraform root it applies, the
//! state it keeps, the cluster its kubeconfig reaches. Two env.yaml files that share any of these
//! describe one environment, so the protection of the one is the other's too: a copy of prod's
//! env.yaml saying `kind: disposable` is still prod ([`crate::destroy::guard::check_identity`]).
//!
//! The protected environments of a workspace ([`protected_environments`]) are read with the
//! leniency of [`super::Protection::load`]: on a machine where their variables are not set, what
//! depends on an unset variable is simply not known, and not compared.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{EnvKind, Environment, VarSource};

/// The identity of an environment: each part `None` when it cannot be known here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The terraform root module (resolved through symbolic links when it exists).
    pub terraform_root: Option<PathBuf>,
    /// Where the terraform state is kept, from `terraform.backend-config`.
    pub state: Option<StateLocation>,
    /// The kubeconfig (resolved through symbolic links when it exists).
    pub kubeconfig: Option<PathBuf>,
    /// The Kubernetes API server its kubeconfig's current context names, when it can be read.
    pub server: Option<String>,
}

/// Where a terraform state lives, as `terraform.backend-config` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// A bucket backend (s3, gcs): the bucket, and the object key (or prefix) in it.
    Bucket {
        /// `bucket`.
        bucket: String,
        /// `key` (s3) or `prefix` (gcs), if set.
        key: Option<String>,
    },
    /// The local backend's `path`, resolved against the root module.
    Path(PathBuf),
}

/// What two identities share, the first found in this order: root, state, cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// The same terraform root module.
    TerraformRoot(PathBuf),
    /// The same terraform state.
    State(StateLocation),
    /// The same kubeconfig file.
    Kubeconfig(PathBuf),
    /// Kubeconfigs reaching the same API server.
    Server(String),
}

/// A protected environment of the workspace, as far as its env.yaml can be read here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedEnvironment {
    /// Its name.
    pub name: String,
    /// Its env.yaml.
    pub file: PathBuf,
    /// What can be known of it on this machine.
    pub identity: Identity,
}

impl Identity {
    /// The identity of a terraform root, its backend configuration and a kubeconfig.
    #[must_use]
    pub fn new(terraform_root: Option<&Path>, backend_config: Option<&BTreeMap<String, String>>, kubeconfig: Option<&Path>) -> Self {
        let state = backend_config.and_then(|config| StateLocation::of(config, terraform_root));
        Self { terraform_root: terraform_root.map(resolved), state, kubeconfig: kubeconfig.map(resolved), server: kubeconfig.and_then(server_of) }
    }

    /// The identity of a loaded environment.
    #[must_use]
    pub fn of(env: &Environment) -> Self {
        Self::new(Some(&env.terraform.root), Some(&env.terraform.backend_config), Some(&env.kubeconfig))
    }

    /// What `self` shares with `other`, if anything. Parts unknown on either side are not
    /// compared.
    #[must_use]
    pub fn shared_with(&self, other: &Self) -> Option<Shared> {
        fn same<T: PartialEq + Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
            a.as_ref().zip(b.as_ref()).filter(|(a, b)| a == b).map(|(a, _)| a.clone())
        }
        same(&self.terraform_root, &other.terraform_root)
            .map(Shared::TerraformRoot)
            .or_else(|| same(&self.state, &other.state).map(Shared::State))
            .or_else(|| same(&self.kubeconfig, &other.kubeconfig).map(Shared::Kubeconfig))
            .or_else(|| same(&self.server, &other.server).map(Shared::Server))
    }
}

impl StateLocation {
    fn of(config: &BTreeMap<String, String>, root: Option<&Path>) -> Option<Self> {
        let non_empty = |key: &str| config.get(key).filter(|v| !v.is_empty()).cloned();
        if let Some(bucket) = non_empty("bucket") {
            return Some(Self::Bucket { bucket, key: non_empty("key").or_else(|| non_empty("prefix")) });
        }
        let path = PathBuf::from(non_empty("path")?);
        // terraform resolves a relative path against the folder it runs in: the root module.
        let path = if path.is_absolute() { path } else { root?.join(path) };
        Some(Self::Path(resolved(&path)))
    }
}

impl fmt::Display for StateLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bucket { bucket, key: Some(key) } => write!(f, "bucket `{bucket}`, key `{key}`"),
            Self::Bucket { bucket, key: None } => write!(f, "bucket `{bucket}`"),
            Self::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

impl fmt::Display for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TerraformRoot(root) => write!(f, "its terraform root {}", root.display()),
            Self::State(state) => write!(f, "its terraform state ({state})"),
            Self::Kubeconfig(path) => write!(f, "its kubeconfig {}", path.display()),
            Self::Server(url) => write!(f, "its cluster endpoint {url}"),
        }
    }
}

/// The protected environments of the workspaces `file` is in: the `environments/*/env.yaml` of
/// the workspace holding `file`, and of the one holding the current folder (a copy of an
/// env.yaml may sit anywhere), `file` itself left out. A file that cannot be read, or whose
/// `kind` is not `protected`, is left out too.
#[must_use]
pub fn protected_environments(file: &Path, vars: &dyn VarSource) -> Vec<ProtectedEnvironment> {
    let this = resolved(file);
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut folders: Vec<PathBuf> = [this.as_path(), cwd.as_path()].iter().filter_map(|start| environments_folder(start)).collect();
    folders.dedup();
    let mut found: Vec<ProtectedEnvironment> = Vec::new();
    for folder in folders {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder).into_iter().flatten().flatten().map(|e| e.path().join("env.yaml")).collect();
        files.sort();
        for candidate in files.into_iter().filter(|f| f.is_file()).map(|f| resolved(&f)) {
            if candidate == this || found.iter().any(|p| p.file == candidate) {
                continue;
            }
            if let Some((name, EnvKind::Protected, identity)) = super::load::load_identity(&candidate, vars) {
                found.push(ProtectedEnvironment { name, file: candidate, identity });
            }
        }
    }
    found
}

/// The nearest `environments/` folder at or above `start`.
fn environments_folder(start: &Path) -> Option<PathBuf> {
    start.ancestors().map(|dir| dir.join("environments")).find(|dir| dir.is_dir())
}

/// `path` through its symbolic links when it exists, else as it is (already cleaned by the
/// loader).
fn resolved(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// The server URL of the kubeconfig's current context, without a trailing `/`.
fn server_of(kubeconfig: &Path) -> Option<String> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig).ok()?;
    let context_name = config.current_context.as_deref()?;
    let context = config.contexts.iter().find(|c| c.name == context_name)?.context.as_ref()?;
    let cluster = config.clusters.iter().find(|c| c.name == context.cluster)?.cluster.as_ref()?;
    cluster.server.as_deref().map(|s| s.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(root: Option<&str>, backend: &[(&str, &str)]) -> Identity {
        let backend: BTreeMap<String, String> = backend.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Identity::new(root.map(Path::new), Some(&backend), None)
    }

    #[test]
    fn a_shared_root_state_or_cluster_is_named_and_unknown_parts_are_not_compared() {
        let prod = identity(Some("/tf/environments/prod"), &[("bucket", "terraform-state-prod"), ("key", "prod.tfstate")]);
        assert_eq!(
            identity(Some("/tf/environments/prod"), &[]).shared_with(&prod),
            Some(Shared::TerraformRoot(PathBuf::from("/tf/environments/prod")))
        );
        let same_state = identity(Some("/elsewhere"), &[("bucket", "terraform-state-prod"), ("key", "prod.tfstate")]);
        assert_eq!(
            same_state.shared_with(&prod).map(|s| s.to_string()).as_deref(),
            Some("its terraform state (bucket `terraform-state-prod`, key `prod.tfstate`)")
        );
        let other_key = identity(Some("/elsewhere"), &[("bucket", "terraform-state-prod"), ("key", "dev.tfstate")]);
        assert_eq!(other_key.shared_with(&prod), None);
        let unknown = Identity::default();
        assert_eq!(unknown.shared_with(&prod), None, "nothing known, nothing shared");
    }

    #[test]
    fn a_relative_local_state_path_is_the_root_modules() {
        let a = identity(Some("/tf/lab"), &[("path", "state/terraform.tfstate")]);
        assert_eq!(a.state, Some(StateLocation::Path(PathBuf::from("/tf/lab/state/terraform.tfstate"))));
    }

    #[test]
    fn kubeconfigs_reaching_one_server_share_the_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, server: &str| {
            let path = dir.path().join(name);
            std::fs::write(
                &path,
                format!(
                    "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: {server}\n\
                     contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user: {{}}\n"
                ),
            )
            .unwrap();
            path
        };
        let prod = Identity::new(None, None, Some(&write("prod", "https://192.168.111.190:6443/")));
        let copy = Identity::new(None, None, Some(&write("copy", "https://192.168.111.190:6443")));
        assert_eq!(copy.shared_with(&prod), Some(Shared::Server("https://192.168.111.190:6443".into())));
        let dev = Identity::new(None, None, Some(&write("dev", "https://192.168.111.160:6443")));
        assert_eq!(dev.shared_with(&prod), None);
    }
}

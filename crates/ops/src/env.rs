//! The environment registry: `environments/<env>/env.yaml`, loaded and validated before anything
//! touches a cluster.
//!
//! Loading happens in two stages: the YAML is parsed into a tree whose every key and value knows
//! its line, column and bytes (`yaml` submodule); then the schema is read from that tree into an
//! [`Environment`] (`file` submodule) while **every** problem is collected: unknown keys at any
//! depth, wrong types, missing keys, bad durations, unset variables, bad globs and regexes. A file
//! with problems gives one [`EnvConfigError`] holding them all, each a miette diagnostic with the
//! env.yaml as its source and a labelled span. Loading never contacts a host.
//!
//! [`resolve`] turns what a user types (`lab`, or a path) into the env.yaml to load.
//!
//! # Values
//! - Keys are kebab-case. Durations are humantime (`30m`, `90s`, `1h 30m`).
//! - `name` is a DNS label: lowercase letters, digits and `-` (not first or last), at most 63
//!   characters. It becomes a folder, a bucket suffix and a confirmation to type.
//! - Secrets: the values of `terraform.env` and `provisioning.env` (environment variables, where
//!   credentials go) are redacted from every output; `terraform.vars` values are shown (they are
//!   on terraform's command line anyway). Credentials written in a URL are always redacted.
//! - Relative paths resolve against the env.yaml's folder.
//! - `${VAR}` expands from the process environment; `${VAR:-default}` gives a default when `VAR`
//!   is unset or empty; `$$` is a literal `$`. A variable that is unset and has no default is a
//!   problem naming it and the key that uses it.
//!
//! # Built-in variables
//! Expanded before the process environment (they win over an exported variable of the same name),
//! so that paths need not repeat `${VIXENS_WORK_DIR:-...}` everywhere:
//! - `${ENV_DIR}`: the folder of the env.yaml, everywhere.
//! - `${ENV_NAME}`: the value of `name`, everywhere after `name`.
//! - `${WORK_DIR}`: the resolved `work-dir` (after its own expansion), in every key but `work-dir`.
//!
//! ```yaml
//! name: lab
//! work-dir: ${VIXENS_WORK_DIR:-../../target/vixens/lab}
//! kubeconfig: ${WORK_DIR}/state/kubeconfig
//! terraform:
//!   root: terraform
//!   data-dir: ${WORK_DIR}/tf-data      # TF_DATA_DIR: several instances share one root module
//! ```

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod drivers;
mod gitops;
mod identity;
mod load;

pub use gitops::GitopsTree;
pub use identity::{Identity, ProtectedEnvironment, Shared, StateLocation, protected_environments};

pub use vixens_config::error::{ConfigDiagnostic, EnvConfigError, Problem, ProblemKind};
pub use vixens_config::resolve::{ResolveError, resolve, resolve_from};
pub use vixens_config::vars::{ProcessVars, VarSource};
pub use vixens_kube::argocd::SystemApps;
pub use vixens_logscan::{AllowRule, Origin, RuleWindow};

/// A validated environment: everything the harness needs to check one environment.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The environment's name (`lab`, `dev`, `prod`, ...). Used in confirmations and evidence.
    pub name: String,
    /// Disposable environments may be destroyed; protected ones never are, whatever the flags.
    pub kind: EnvKind,
    /// One line saying what this environment is.
    pub description: String,
    /// The env.yaml this was loaded from.
    pub file: PathBuf,
    /// The infrastructure repository: where `docs/adr/` and `docs/commands.md` live, and whose git
    /// revision is recorded as evidence.
    pub infra_repo: PathBuf,
    /// Where the harness keeps this environment's runtime data (terraform data dir, plans,
    /// artifacts) unless told otherwise.
    pub work_dir: PathBuf,
    /// How to drive terraform (or OpenTofu).
    pub terraform: vixens_drivers::terraform::Config,
    /// The Terraform repository (`terraform.repo`), whose git revision is recorded as evidence
    /// beside the infrastructure (GitOps) repository's. Unset, it is `infra-repo` when the root
    /// module lies inside it, else the root module's folder (git finds the repository holding it).
    pub terraform_repo: PathBuf,
    /// The kubeconfig with the identity used by the destructive suites.
    pub kubeconfig: PathBuf,
    /// A kubeconfig whose identity may only get/list/watch; read-only suites use it when set.
    pub kubeconfig_readonly: Option<PathBuf>,
    /// The talosconfig for `talosctl`.
    pub talosconfig: PathBuf,
    /// Where fresh credentials come from after an apply, and the read-only identity the harness
    /// mints; `None`: the files at `kubeconfig`/`talosconfig` are kept up to date by hand.
    pub credentials: Option<CredentialsConfig>,
    /// Folders put first on PATH for every tool the harness runs (the lab's talosctl stand-in).
    pub tools_path: Vec<PathBuf>,
    /// The cluster's nodes, as `talosctl -n` addresses them.
    pub nodes: Vec<Node>,
    /// Argo CD: where it runs and which Applications are the system apps.
    pub argocd: ArgoCdConfig,
    /// Time budgets for a recreate cycle and each of its phases.
    pub budgets: Budgets,
    /// Consecutive successful cycles required before promotion (the specification says 5).
    pub cycles_required: NonZeroU32,
    /// Which Talos logs are scanned, and the reviewed allow-list of benign lines.
    pub talos_logs: TalosLogsConfig,
    /// What destroy must never touch.
    pub protected: ProtectedConfig,
    /// Where state backups go and how many are kept.
    pub state_backup: StateBackupConfig,
    /// Where cycle evidence and failure artifacts go.
    pub evidence: EvidenceConfig,
    /// Documented commands: the document and this environment's placeholder values.
    pub commands: CommandsConfig,
    /// Set when the harness itself brings the environment up before the suites and tears it
    /// down after them (the lab); unset for a real cluster, which is expected to be running.
    pub provisioning: Option<Provisioning>,
    /// The variables its env.yaml was expanded with, as they were set (`VIXENS_WORK_DIR`, ...):
    /// a child process given them loads this same environment, as a documented command calling
    /// `vixens doctor ENV` on a private lab must.
    pub vars: BTreeMap<String, String>,
}

/// Whether an environment may be destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvKind {
    /// Destroy/recreate is routine (dev, the lab).
    Disposable,
    /// Never destroyed; read-only suites only (prod).
    Protected,
}

/// One cluster node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The node's hostname.
    pub name: String,
    /// The address `talosctl -n` uses (an IP on the management VLAN).
    pub address: String,
    /// Control plane or worker.
    pub role: NodeRole,
}

/// A node's role in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    /// Runs etcd and the Kubernetes control plane.
    Controlplane,
    /// Runs workloads only.
    Worker,
}

/// Where Argo CD runs and what counts as a system app.
#[derive(Debug, Clone)]
pub struct ArgoCdConfig {
    /// The namespace holding the Application objects (`argocd`).
    pub namespace: String,
    /// The root app-of-apps (`vixens-app-of-apps`). Its own health is never taken as evidence.
    pub root_app: String,
    /// Which child Applications are system apps.
    pub system_apps: vixens_kube::argocd::SystemAppRules,
    /// How long an app may stay Degraded before the wait fails fast.
    pub degraded_grace: Duration,
    /// How far back "no manual intervention" looks on a protected environment (never recreated):
    /// `argocd.intervention-lookback`. A disposable one looks back to its last recreate.
    pub intervention_lookback: Option<Duration>,
    /// The app tree as the GitOps repository declares it (`argocd.gitops`), read at load.
    pub gitops: Option<GitopsTree>,
}

/// Time budgets. Each phase budget must fit inside the recreate budget (checked at load time, so
/// an inner limit never outlives its outer one).
#[derive(Debug, Clone)]
pub struct Budgets {
    /// A whole recreate cycle (the specification says under 30 minutes).
    pub recreate: Duration,
    /// Each phase of the cycle.
    pub phases: PhaseBudgets,
    /// The hard ceiling of a destroy (`budgets.destroy-ceiling`, at least `phases.destroy`;
    /// default four times it). Over its budget, the apply of a checked destroy plan runs to its
    /// end, since a half-applied destroy leaves a half-destroyed environment; only this ceiling
    /// stops it.
    pub destroy_ceiling: Duration,
}

/// The budget of each phase of a recreate cycle.
#[derive(Debug, Clone)]
pub struct PhaseBudgets {
    /// Safe destroy: backup, plan, guard, destroy.
    pub destroy: Duration,
    /// `terraform apply`.
    pub apply: Duration,
    /// Kubernetes API reachable after apply.
    pub kubernetes_api: Duration,
    /// `talosctl health`.
    pub talos_health: Duration,
    /// Every system app converged.
    pub argocd: Duration,
    /// Talos logs fetched and scanned.
    pub logs: Duration,
}

/// Which Talos logs are scanned and which lines are known to be benign.
#[derive(Debug, Clone)]
pub struct TalosLogsConfig {
    /// Services whose logs are read (`talosctl logs <service>`), besides dmesg.
    pub services: Vec<String>,
    /// The environment's own reviewed patterns of benign lines, each with its reason, applied
    /// after the shared allow-list built into the scanner.
    pub allow: Vec<AllowRule>,
    /// How many times a retried failure (a crash loop's restarts, an image pull) may repeat per
    /// node inside the bootstrap window before it is an error (`talos-logs.bootstrap-retries`,
    /// 3 by default).
    pub bootstrap_retries: u64,
}

/// What destroy must never touch, and how to prove it afterwards.
#[derive(Debug, Clone)]
pub struct ProtectedConfig {
    /// Resource type globs (`synology_*`, `minio_s3_bucket`); defaults are always included.
    pub resource_types: Vec<String>,
    /// Resource address globs (`module.storage.*`).
    pub addresses: Vec<String>,
    /// Checks run before and after destroy; anything present before and missing after fails.
    pub inventory: Vec<InventoryCheck>,
}

/// One protected-inventory check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryCheck {
    /// The bucket answers at its S3 endpoint.
    S3Bucket {
        /// A name for messages.
        name: String,
        /// The S3 endpoint URL (MinIO on the NAS).
        endpoint: String,
        /// The bucket.
        bucket: String,
        /// Read-only credentials to sign the request with: MinIO answers an anonymous one 403
        /// whether or not the bucket exists.
        credentials: Option<S3Credentials>,
    },
    /// A command whose output lists items, one per line (iSCSI LUNs).
    Command {
        /// A name for messages.
        name: String,
        /// Run through `bash -c`.
        run: String,
    },
}

/// S3 credentials (`access-key`, `secret-key`, `region` of an `s3-bucket` check).
#[derive(Clone, PartialEq, Eq)]
pub struct S3Credentials {
    /// The access key id.
    pub access_key: String,
    /// The secret key: never printed, not even by `Debug`.
    pub secret_key: String,
    /// The signing region (`us-east-1` unless set; MinIO's default).
    pub region: String,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"[redacted]")
            .field("region", &self.region)
            .finish()
    }
}

/// env.yaml `credentials`: a recreated cluster has new secrets (CA, admin, Talos), which its
/// apply writes to files named by terraform outputs; the harness installs them at `kubeconfig`
/// and `talosconfig`, and mints the read-only identity of `kubeconfig-readonly`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialsConfig {
    /// The root output holding the path of the admin kubeconfig the apply wrote.
    pub kubeconfig_output: Option<String>,
    /// The root output holding the path of the talosconfig the apply wrote.
    pub talosconfig_output: Option<String>,
    /// The read-only identity to mint, when `kubeconfig-readonly` should be written by the harness.
    pub readonly: Option<ReadOnlyIdentityConfig>,
}

/// env.yaml `credentials.readonly`: a ServiceAccount bound to a get/list/watch ClusterRole, and
/// how long each of its tokens lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnlyIdentityConfig {
    /// The ServiceAccount's namespace (default `kube-system`, present in every cluster).
    pub namespace: String,
    /// The ServiceAccount's name, also the ClusterRole's and the binding's (default `vixens-readonly`).
    pub service_account: String,
    /// The `expirationSeconds` asked of the TokenRequest API (default 1h; the API's minimum is 10m).
    pub token_ttl: Duration,
}

/// Where state backups go.
#[derive(Debug, Clone)]
pub struct StateBackupConfig {
    /// Backups are written to `<dir>/<env>/<UTC time>-serial<N>.tfstate`.
    pub dir: PathBuf,
    /// How many backups to keep.
    pub keep: NonZeroUsize,
}

/// Where evidence goes.
#[derive(Debug, Clone)]
pub struct EvidenceConfig {
    /// The ledger: one JSON line per cycle.
    pub ledger: PathBuf,
    /// Per-cycle failure artifacts are written under this folder.
    pub artifacts: PathBuf,
}

/// Documented commands for this environment.
#[derive(Debug, Clone)]
pub struct CommandsConfig {
    /// The commands document (`<infra repo>/docs/commands.md` by default).
    pub doc: PathBuf,
    /// Values of the document's placeholders in this environment (`NODE` → `10.5.0.2`).
    pub values: BTreeMap<String, String>,
    /// Per-command timeout.
    pub timeout: Duration,
}

/// How the harness brings an on-demand environment up and down around the suites.
#[derive(Debug, Clone)]
pub struct Provisioning {
    /// Environment variables given to every terraform run of the environment. Like
    /// `terraform.env`, they are secrets: redacted from every output, transcripts included.
    /// Values that are not secrets go in `terraform.vars` (the lab's faults do).
    pub env: BTreeMap<String, String>,
}

/// Why `env`'s read-only checks cannot run: a protected environment is only ever read, and only
/// with an identity that cannot write, so it must name one (`kubeconfig-readonly`). `None` when
/// they can.
#[must_use]
pub fn missing_read_only_identity(env: &Environment) -> Option<String> {
    (env.is_protected() && env.kubeconfig_readonly.is_none()).then(|| {
        format!(
            "`{}` is protected and its env.yaml ({}) sets no `kubeconfig-readonly`: its checks run only with a read-only identity, a kubeconfig allowed only get, list and watch",
            env.name,
            env.file.display()
        )
    })
}

/// What the destroy guard needs of an environment: its name, its kind and its protected
/// patterns, read from its env.yaml with only the variables those use, and what can be known
/// of its [`Identity`] with the variables that are set. A protected environment is refused, and
/// a plan checked, on a machine where the rest of the file's variables are not set (a
/// pull-request check, a typo'd `vixens destroy prod`).
#[derive(Debug, Clone)]
pub struct Protection {
    /// The environment's name.
    pub name: String,
    /// Disposable or protected.
    pub kind: EnvKind,
    /// Its env.yaml, absolute.
    pub file: PathBuf,
    /// Its protected resource types and addresses (`inventory` is empty: it needs the cluster).
    pub protected: ProtectedConfig,
    /// Its terraform root, state and cluster, as far as they can be known here.
    pub identity: Identity,
}

impl Protection {
    /// Reads what the guard needs of the env.yaml at `path`, expanding `${VAR}` from `vars`.
    ///
    /// # Errors
    /// Every problem of the file's structure (unknown keys, wrong shapes, not YAML), and every
    /// problem of the name, the kind and the protected patterns (an unset variable they use, a
    /// bad glob); problems elsewhere in the file are not looked for.
    pub fn load(path: &Path, vars: &dyn VarSource) -> Result<Self, EnvConfigError> {
        load::load_protection(path, vars)
    }

    /// True when the environment may never be destroyed.
    #[must_use]
    pub fn is_protected(&self) -> bool {
        self.kind == EnvKind::Protected
    }
}

impl Environment {
    /// True when the environment is simulated: one the harness brings up itself (`provisioning`
    /// in env.yaml), which is the embedded lab; a real cluster is expected to be running. The
    /// records of its documented commands say `(simulated)`.
    #[must_use]
    pub fn is_simulated(&self) -> bool {
        self.provisioning.is_some()
    }

    /// Loads and validates `path`, expanding `${VAR}` from the process environment.
    ///
    /// # Errors
    /// Every problem in the file at once (unknown keys, wrong types, bad durations, missing
    /// variables), each with its file, line and column.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, EnvConfigError> {
        Self::load_with(path, &ProcessVars)
    }

    /// Like [`Environment::load`], with variables from `vars` instead of the process environment.
    ///
    /// # Errors
    /// See [`Environment::load`].
    pub fn load_with(path: impl AsRef<Path>, vars: &dyn VarSource) -> Result<Self, EnvConfigError> {
        let recording = vixens_config::vars::Recording::new(vars);
        let mut env = load::load(path.as_ref(), &recording)?;
        env.vars = recording.into_seen();
        Ok(env)
    }

    /// True when the environment may never be destroyed.
    #[must_use]
    pub fn is_protected(&self) -> bool {
        self.kind == EnvKind::Protected
    }
}

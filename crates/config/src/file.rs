//! Stage one of loading: the env.yaml file model, read offline. Every key the file may hold is
//! a field here, and nowhere else: serde derives the reading, and the key lists of "unknown key"
//! messages come from these structs. Values stay as written, each with its place ([`Node`]), so
//! that stage two (resolving variables, paths, durations and patterns) can point at them; enough
//! is known here, without expanding anything, for the destroy guard to judge an environment
//! on a machine where its variables are not set.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("env.yaml");
//! std::fs::write(&path, "name: prod\nkind: protected\nnodez: []\n").unwrap();
//! let read = vixens_config::file::EnvFile::read(&path);
//! assert!(read.file.kind.is_some());
//! assert_eq!(read.problems.found().len(), 1, "the unknown key `nodez`");
//! ```

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use crate::de::{self, List, ListItem, Located, Section};
use crate::error::{ProblemKind, Problems};
use crate::yaml::{self, At, Node, Value};

/// env.yaml, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "each field is the env.yaml key of the same name, documented in the resolved Environment")]
pub struct EnvFile {
    pub name: Option<Node>,
    pub kind: Option<Node>,
    pub description: Option<Node>,
    pub infra_repo: Option<Node>,
    pub work_dir: Option<Node>,
    pub terraform: Option<Section<TerraformFile>>,
    pub kubeconfig: Option<Node>,
    pub kubeconfig_readonly: Option<Node>,
    pub talosconfig: Option<Node>,
    pub credentials: Option<Section<CredentialsFile>>,
    pub tools_path: Option<Node>,
    pub nodes: Option<List<NodeFile>>,
    pub argocd: Option<Section<ArgoCdFile>>,
    pub budgets: Option<Section<BudgetsFile>>,
    pub cycles_required: Option<Node>,
    pub talos_logs: Option<Section<TalosLogsFile>>,
    pub protected: Option<Section<ProtectedFile>>,
    pub state_backup: Option<Section<StateBackupFile>>,
    pub evidence: Option<Section<EvidenceFile>>,
    pub commands: Option<Section<CommandsFile>>,
    pub provisioning: Option<Section<ProvisioningFile>>,
}

/// `terraform:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct TerraformFile {
    pub binary: Option<Node>,
    pub root: Option<Node>,
    pub repo: Option<Node>,
    pub data_dir: Option<Node>,
    pub vars: Option<Node>,
    pub backend_config: Option<Node>,
    pub env: Option<Node>,
}

/// `credentials:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct CredentialsFile {
    pub from_terraform_outputs: Option<Section<TerraformOutputsFile>>,
    pub readonly: Option<Section<ReadOnlyIdentityFile>>,
}

/// `credentials.from-terraform-outputs:`: the name of the root output holding each file's path.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct TerraformOutputsFile {
    pub kubeconfig: Option<Node>,
    pub talosconfig: Option<Node>,
}

/// `credentials.readonly:`: the read-only identity the harness mints.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct ReadOnlyIdentityFile {
    pub namespace: Option<Node>,
    pub service_account: Option<Node>,
    pub token_ttl: Option<Node>,
}

/// One entry of `nodes:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct NodeFile {
    pub name: Option<Node>,
    pub address: Option<Node>,
    pub role: Option<Node>,
}

impl ListItem for NodeFile {
    const MARKER: &'static str = concat!("$vixens::List:", "a list of nodes");
}

/// `argocd:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct ArgoCdFile {
    pub namespace: Option<Node>,
    pub root_app: Option<Node>,
    pub system_apps: Option<Section<SystemAppsFile>>,
    pub degraded_grace: Option<Node>,
    pub intervention_lookback: Option<Node>,
    pub gitops: Option<Section<GitopsFile>>,
}

/// `argocd.gitops:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct GitopsFile {
    pub repo: Option<Node>,
    pub overlay: Option<Node>,
}

/// `argocd.system-apps:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct SystemAppsFile {
    pub names: Option<Node>,
    pub selector: Option<Node>,
    pub folders: Option<Node>,
    pub max_sync_wave: Option<Node>,
    pub missing_wave: Option<Node>,
}

/// `budgets:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct BudgetsFile {
    pub recreate: Option<Node>,
    pub phases: Option<Section<PhasesFile>>,
    pub destroy_ceiling: Option<Node>,
}

/// `budgets.phases:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct PhasesFile {
    pub destroy: Option<Node>,
    pub apply: Option<Node>,
    pub kubernetes_api: Option<Node>,
    pub talos_health: Option<Node>,
    pub argocd: Option<Node>,
    pub logs: Option<Node>,
}

/// `talos-logs:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct TalosLogsFile {
    pub services: Option<Node>,
    pub allow: Option<List<AllowFile>>,
    pub bootstrap_retries: Option<Node>,
}

/// One rule of `talos-logs.allow:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct AllowFile {
    pub pattern: Option<Node>,
    pub reason: Option<Node>,
    pub window: Option<Node>,
}

impl ListItem for AllowFile {
    const MARKER: &'static str = concat!("$vixens::List:", "a list of rules (pattern, reason)");
}

/// `protected:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct ProtectedFile {
    pub resource_types: Option<Node>,
    pub addresses: Option<Node>,
    pub inventory: Option<List<InventoryFile>>,
}

/// One check of `protected.inventory:`: its keys depend on its `kind`, so it is read in two
/// steps (the kind, then the shape of that kind).
#[derive(Debug)]
pub enum InventoryFile {
    /// `kind: s3-bucket`.
    S3Bucket(Box<Located<S3BucketFile>>),
    /// `kind: command`.
    Command(Located<CommandFile>),
    /// No `kind`, or one that is neither: stage two says which. Without a kind, the entry's keys
    /// were judged against an `s3-bucket` check's.
    Unknown {
        /// Where the entry is written.
        at: At,
        /// Its `kind`, as written.
        kind: Option<Node>,
        /// False when the entry is not even a mapping (already reported).
        is_mapping: bool,
    },
}

impl ListItem for InventoryFile {
    const MARKER: &'static str = concat!("$vixens::List:", "a list of checks (kind s3-bucket or command)");
}

/// An `s3-bucket` inventory check.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct S3BucketFile {
    pub kind: Option<Node>,
    pub name: Option<Node>,
    pub endpoint: Option<Node>,
    pub bucket: Option<Node>,
    pub access_key: Option<Node>,
    pub secret_key: Option<Node>,
    pub region: Option<Node>,
}

/// A `command` inventory check.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct CommandFile {
    pub kind: Option<Node>,
    pub name: Option<Node>,
    pub run: Option<Node>,
}

/// `state-backup:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct StateBackupFile {
    pub dir: Option<Node>,
    pub keep: Option<Node>,
}

/// `evidence:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct EvidenceFile {
    pub ledger: Option<Node>,
    pub artifacts: Option<Node>,
}

/// `commands:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct CommandsFile {
    pub doc: Option<Node>,
    pub values: Option<Node>,
    pub timeout: Option<Node>,
}

/// `provisioning:`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs, reason = "env.yaml keys")]
pub struct ProvisioningFile {
    pub env: Option<Node>,
}

/// The largest env.yaml read: a real one is a few kilobytes. A larger file (or a FIFO, a device)
/// is one problem, never a hang or a read without end.
pub const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// The file model and every structural problem of the file, tied to the file.
#[derive(Debug)]
pub struct Read {
    /// What could be read (all `None` where the file is not YAML).
    pub file: EnvFile,
    /// Where the top-level mapping is written, for problems about a missing key.
    pub at: At,
    /// False when the file is not a mapping (already reported): missing keys are then not
    /// reported on top of that.
    pub is_mapping: bool,
    /// Unknown keys, sections that are not mappings, lists that are not sequences, syntax.
    pub problems: Problems,
}

impl EnvFile {
    /// Reads the env.yaml at `path` (a regular file of at most [`MAX_ENV_FILE_BYTES`]). Never
    /// fails: an unreadable file, YAML syntax errors and every structural problem are in
    /// [`Read::problems`].
    #[must_use]
    pub fn read(path: &Path) -> Read {
        let text: Arc<str> = match vixens_diagnostic::input::read_to_string(path, MAX_ENV_FILE_BYTES) {
            Ok(text) => text.into(),
            Err(e) => {
                let why = match &e {
                    vixens_diagnostic::input::InputError::Io { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                let mut problems = Problems::new(path, Arc::from(""));
                problems.report(At { line: 1, column: 1, offset: 0, len: 0 }, ProblemKind::Unreadable(why));
                return Read { file: Self::default(), at: At { line: 1, column: 1, offset: 0, len: 0 }, is_mapping: false, problems };
            }
        };
        Self::parse(path, text)
    }

    /// Reads `text` as the env.yaml at `path` (which is only named, never opened).
    #[must_use]
    pub fn parse(path: &Path, text: Arc<str>) -> Read {
        let mut problems = Problems::new(path, text.clone());
        let root = match yaml::parse(&text) {
            Ok(root) => root,
            Err(e) => {
                problems.report(e.at, ProblemKind::Syntax(e.message));
                return Read { file: Self::default(), at: e.at, is_mapping: false, problems };
            }
        };
        let mut found = Vec::new();
        let file = match de::read::<Section<EnvFile>>(&root, "", &mut found) {
            Section::Mapping(file) => Some(file.value),
            Section::NotAMapping => None,
        };
        let is_mapping = file.is_some();
        let mut file = file.unwrap_or_default();
        file.read_inventory(&root, &mut found);
        for (at, kind) in found {
            problems.report(at, kind);
        }
        Read { file, at: root.at, is_mapping, problems }
    }

    /// `protected.inventory`: each entry read as the shape its `kind` names.
    fn read_inventory(&mut self, root: &Node, found: &mut Vec<de::Found>) {
        let Some(Section::Mapping(protected)) = &mut self.protected else { return };
        let Some(List::Items(checks)) = &mut protected.value.inventory else { return };
        let entries = entry(root, "protected").and_then(|p| entry(p, "inventory"));
        let Some(Node { value: Value::Seq(nodes), .. }) = entries else { return };
        for ((i, node), check) in nodes.iter().enumerate().zip(checks.value.iter_mut().map(|c| &mut c.value)) {
            let path = format!("protected.inventory[{i}]");
            let kind = entry(node, "kind");
            *check = match kind.map(|k| &k.value) {
                Some(Value::Str(kind)) if kind == "command" => InventoryFile::Command(de::read(node, &path, found)),
                Some(Value::Str(kind)) if kind == "s3-bucket" => InventoryFile::S3Bucket(Box::new(de::read(node, &path, found))),
                // A kind that is neither: stage two names it, and the keys are not judged.
                Some(_) => InventoryFile::Unknown { at: node.at, kind: kind.cloned(), is_mapping: true },
                // No kind: the keys are judged against an s3-bucket check's.
                None => {
                    let _: S3BucketFile = de::read(node, &path, found);
                    InventoryFile::Unknown { at: node.at, kind: None, is_mapping: matches!(node.value, Value::Map(_)) }
                }
            };
        }
    }
}

impl<'de> Deserialize<'de> for InventoryFile {
    /// Only a placeholder: [`EnvFile::read`] reads each entry again once its kind is known.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let node = Node::deserialize(deserializer)?;
        Ok(Self::Unknown { at: node.at, kind: None, is_mapping: false })
    }
}

/// The value of `key` in the mapping `node`.
fn entry<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

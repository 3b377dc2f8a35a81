//! Stage two of loading: the [`EnvFile`] model of stage one given its meaning. Variables are
//! expanded, paths resolved against the env.yaml's folder, durations, numbers and choices read,
//! budgets checked against each other, and the allow-list patterns, protected globs and the
//! system-app selector compiled here, once, so that nothing downstream parses them again.
//! Every problem is collected, each at its place: an [`Environment`] is returned only when the
//! file has none, stage one's included.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use vixens_config::de::{List, Section};
use vixens_config::error::{EnvConfigError, ProblemKind, Problems};
use vixens_config::file::{
    AllowFile, ArgoCdFile, BudgetsFile, CommandsFile, CredentialsFile, EnvFile, EvidenceFile, InventoryFile, NodeFile, ProtectedFile, Read,
    ReadOnlyIdentityFile, StateBackupFile, TalosLogsFile, TerraformFile, TerraformOutputsFile,
};
use vixens_config::vars::{ExpandError, Scope, VarSource, expand};
use vixens_config::yaml::{At, Node, Value};
use vixens_kube::argocd::{MissingWave, SystemAppRules, SystemApps};

use super::identity::Identity;
use super::{
    AllowRule, ArgoCdConfig, Budgets, CommandsConfig, CredentialsConfig, EnvKind, Environment, EvidenceConfig, GitopsTree, InventoryCheck,
    Node as ClusterNode, NodeRole, Origin, PhaseBudgets, ProtectedConfig, Protection, Provisioning, ReadOnlyIdentityConfig, RuleWindow,
    S3Credentials, StateBackupConfig, TalosLogsConfig,
};

/// Resource types that hold data which must outlive any cluster: always protected.
pub(crate) const DEFAULT_PROTECTED_TYPES: &[&str] = &[
    "synology_*",
    "*iscsi*",
    "minio_s3_bucket",
    "minio_bucket*",
    "aws_s3_bucket",
    "kubernetes_persistent_volume",
    "kubernetes_persistent_volume_v1",
];

/// The Talos services scanned by default besides dmesg.
const DEFAULT_LOG_SERVICES: &[&str] = &["machined", "apid", "etcd", "kubelet", "containerd"];

const A_STRING: &str = "a string";
const A_PATH: &str = "a path (absolute, or relative to the env.yaml's folder)";
const A_DURATION: &str = "a duration such as 30m, 90s or 1h 30m";
const A_NAME: &str = "the environment's name (lab, dev, prod)";

/// The shortest token the TokenRequest API issues (`may not specify a duration less than 10 minutes`).
const MIN_TOKEN_TTL: Duration = Duration::from_secs(600);

/// The longest environment name: a DNS label's, since the name becomes a cluster name, a folder
/// and a bucket suffix (`terraform-state-<name>`).
const MAX_NAME_LEN: usize = 63;

/// A destroy's hard ceiling, unless env.yaml sets `budgets.destroy-ceiling`: this many times its
/// budget (`budgets.phases.destroy`).
const DESTROY_CEILING_FACTOR: u32 = 4;

/// What the destroy guard reads of an env.yaml, and nothing more: see [`Protection`].
pub(super) fn load_protection(path: &Path, vars: &dyn VarSource) -> Result<Protection, EnvConfigError> {
    let read = EnvFile::read(path);
    let mut r = Reader::new(read.problems.clone(), vars);
    let top = Parent { path: "", at: read.at, valid: read.is_mapping };
    let name = r.required(top, "name", read.file.name.as_ref(), A_NAME).and_then(|n| r.env_name(n));
    let kind = r.kind(top, &read.file);
    let empty = ProtectedFile::default();
    let (p, _) = section(top, "protected", &read.file.protected, &empty);
    let (resource_types, addresses) = r.protected_patterns(p);
    let identity = name.as_deref().map(|name| r.quiet_identity(&read.file, name)).unwrap_or_default();
    match (name, kind, resource_types, addresses) {
        (Some(name), Some(kind), Some(resource_types), Some(addresses)) if r.problems.is_empty() => Ok(Protection {
            name,
            kind,
            file: clean(&std::path::absolute(path).unwrap_or_else(|_| path.to_owned())),
            protected: ProtectedConfig { resource_types, addresses, inventory: Vec::new() },
            identity,
        }),
        _ => Err(r.problems.into_error()),
    }
}

/// The name, kind and [`Identity`] of the env.yaml at `path`, or `None` when it has no usable
/// name or kind. Nothing else is judged and nothing is reported: this reads the *other*
/// environments of a workspace, whose variables need not be set here.
pub(super) fn load_identity(path: &Path, vars: &dyn VarSource) -> Option<(String, EnvKind, Identity)> {
    let read = EnvFile::read(path);
    if !read.is_mapping {
        return None;
    }
    let mut r = Reader::new(read.problems.clone(), vars);
    let name = read.file.name.as_ref().and_then(|n| r.quiet_string(n))?;
    let kind = match read.file.kind.as_ref().and_then(|n| r.quiet_string(n)).as_deref() {
        Some("protected") => EnvKind::Protected,
        Some("disposable") => EnvKind::Disposable,
        _ => return None,
    };
    let identity = r.quiet_identity(&read.file, &name);
    Some((name, kind, identity))
}

pub(super) fn load(path: &Path, vars: &dyn VarSource) -> Result<Environment, EnvConfigError> {
    let read = EnvFile::read(path);
    let mut r = Reader::new(read.problems.clone(), vars);
    let env = if read.is_mapping { r.environment(&read) } else { None };
    match env {
        Some(env) if r.problems.is_empty() => Ok(env),
        _ => Err(r.problems.into_error()),
    }
}

/// Reads the model and collects problems.
struct Reader<'a> {
    dir: PathBuf,
    scope: Scope<'a>,
    problems: Problems,
}

/// Where a mapping of the file is written, and whether it was one: missing keys of a section
/// that is not a mapping are not reported on top of that.
#[derive(Clone, Copy)]
struct Parent<'p> {
    path: &'p str,
    at: At,
    valid: bool,
}

impl Parent<'_> {
    fn key(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }
}

/// A section's model: its fields (all absent when the section is), and where it is.
fn section<'f, T: Default>(parent: Parent<'_>, path: &'f str, section: &'f Option<Section<T>>, empty: &'f T) -> (&'f T, Parent<'f>) {
    match section {
        Some(Section::Mapping(located)) => (&located.value, Parent { path, at: located.at, valid: true }),
        Some(Section::NotAMapping) => (empty, Parent { path, at: parent.at, valid: false }),
        None => (empty, Parent { path, at: parent.at, valid: true }),
    }
}

impl<'a> Reader<'a> {
    fn new(problems: Problems, vars: &'a dyn VarSource) -> Self {
        let dir = clean(problems.path().parent().unwrap_or(Path::new(".")));
        let mut builtins = BTreeMap::new();
        builtins.insert("ENV_DIR", dir.display().to_string());
        Self { dir, scope: Scope { builtins, vars }, problems }
    }

    fn report(&mut self, at: At, kind: ProblemKind) {
        self.problems.report(at, kind);
    }

    /// `value`, or a missing-key problem at `parent` when it is absent.
    fn required<'n>(&mut self, parent: Parent<'_>, key: &str, value: Option<&'n Node>, expected: &'static str) -> Option<&'n Node> {
        if value.is_none() && parent.valid {
            self.report(parent.at, ProblemKind::MissingKey { key: parent.key(key), expected });
        }
        value
    }

    fn wrong_type(&mut self, key: &str, node: &Node, expected: &str) {
        self.report(node.at, ProblemKind::WrongType { key: key.to_owned(), expected: expected.to_owned(), found: node.value.kind() });
    }

    fn bad_value(&mut self, key: &str, at: At, message: String) {
        self.report(at, ProblemKind::BadValue { key: key.to_owned(), message });
    }

    /// The text of a scalar, before expansion. Numbers and booleans keep their spelling in the
    /// file (`1.10` stays `1.10`).
    fn scalar(&mut self, key: &str, node: &Node, expected: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool | Value::Int(_) | Value::Float => Some(self.problems.text()[node.at.offset..node.at.offset + node.at.len].to_owned()),
            _ => {
                self.wrong_type(key, node, expected);
                None
            }
        }
    }

    fn string(&mut self, key: &str, node: &Node) -> Option<String> {
        let raw = self.scalar(key, node, A_STRING)?;
        self.expand(key, node, &raw)
    }

    fn expand(&mut self, key: &str, node: &Node, raw: &str) -> Option<String> {
        match expand(raw, &self.scope) {
            Ok(s) => Some(s),
            Err(errors) => {
                for e in errors {
                    match e {
                        ExpandError::Missing { name, .. } => {
                            let at = self.reference_at(node, &name);
                            self.report(at, ProblemKind::MissingVariable { name, key: key.to_owned() });
                        }
                        ExpandError::Malformed { .. } => self.bad_value(
                            key,
                            node.at,
                            format!("malformed variable reference in {raw:?}; expected ${{NAME}} or ${{NAME:-default}} (write $$ for a literal $)"),
                        ),
                    }
                }
                None
            }
        }
    }

    /// The place of `${name}` inside a scalar, so that the label points at the variable itself.
    fn reference_at(&self, node: &Node, name: &str) -> At {
        let text = &self.problems.text()[node.at.offset..node.at.offset + node.at.len];
        let needle = format!("${{{name}");
        match text.find(&needle) {
            Some(i) => {
                let len = text[i..].find('}').map_or(needle.len(), |e| e + 1);
                node.at.within(text, i, len)
            }
            None => node.at,
        }
    }

    /// `name`: a DNS label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters). The name
    /// becomes a folder under the work dir, a state bucket's suffix and a confirmation to type:
    /// `../../tmp/x`, an empty name or a newline would escape the one or make the other
    /// impossible to type.
    fn env_name(&mut self, node: &Node) -> Option<String> {
        let name = self.string("name", node)?;
        self.valid_name(node, name)
    }

    fn valid_name(&mut self, node: &Node, name: String) -> Option<String> {
        let why = if name.is_empty() {
            Some("it is empty".to_owned())
        } else if name.len() > MAX_NAME_LEN {
            Some(format!("it has {} characters", name.len()))
        } else if let Some(c) = name.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
            Some(format!("{c:?} is not allowed"))
        } else if name.starts_with('-') || name.ends_with('-') {
            Some("it starts or ends with `-`".to_owned())
        } else {
            None
        };
        let Some(why) = why else { return Some(name) };
        self.bad_value(
            "name",
            node.at,
            format!("{name:?} is not a name: {why}; expected lowercase letters, digits and `-` (not first or last), at most {MAX_NAME_LEN} characters, such as dev or lab-ha"),
        );
        None
    }

    /// A scalar, expanded, or `None` when it is not a scalar or uses a variable not set here;
    /// nothing is reported.
    fn quiet_string(&self, node: &Node) -> Option<String> {
        let raw = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Bool | Value::Int(_) | Value::Float => self.problems.text()[node.at.offset..node.at.offset + node.at.len].to_owned(),
            _ => return None,
        };
        expand(&raw, &self.scope).ok()
    }

    /// [`Reader::quiet_string`] as a path resolved against the env.yaml's folder.
    fn quiet_path(&self, node: &Node) -> Option<PathBuf> {
        self.quiet_string(node).filter(|s| !s.is_empty()).map(|s| clean(&self.dir.join(s)))
    }

    /// What can be known here of the terraform root, state and kubeconfig of `file`, without
    /// reporting anything: see [`Identity`].
    fn quiet_identity(&mut self, file: &EnvFile, name: &str) -> Identity {
        self.scope.builtins.insert("ENV_NAME", name.to_owned());
        let infra_repo = file.infra_repo.as_ref().and_then(|n| self.quiet_path(n));
        let work_dir = match &file.work_dir {
            Some(node) => self.quiet_path(node),
            None => infra_repo.map(|repo| repo.join("target/vixens").join(name)),
        };
        if let Some(work_dir) = work_dir {
            self.scope.builtins.insert("WORK_DIR", work_dir.display().to_string());
        }
        let terraform = match &file.terraform {
            Some(Section::Mapping(t)) => Some(&t.value),
            _ => None,
        };
        let root = terraform.and_then(|t| t.root.as_ref()).and_then(|n| self.quiet_path(n));
        let backend_config: Option<BTreeMap<String, String>> = terraform.and_then(|t| t.backend_config.as_ref()).and_then(|n| match &n.value {
            Value::Map(entries) => Some(entries.iter().filter_map(|(k, v)| Some((k.name.clone(), self.quiet_string(v)?))).collect()),
            _ => None,
        });
        let kubeconfig = file.kubeconfig.as_ref().and_then(|n| self.quiet_path(n));
        Identity::new(root.as_deref(), backend_config.as_ref(), kubeconfig.as_deref())
    }

    fn path(&mut self, key: &str, node: &Node) -> Option<PathBuf> {
        let raw = self.scalar(key, node, A_PATH)?;
        let s = self.expand(key, node, &raw)?;
        if s.is_empty() {
            self.bad_value(key, node.at, "empty path; expected a path".into());
            return None;
        }
        Some(clean(&self.dir.join(s)))
    }

    fn duration(&mut self, key: &str, node: &Node) -> Option<Duration> {
        let raw = self.scalar(key, node, A_DURATION)?;
        let s = self.expand(key, node, &raw)?;
        match humantime::parse_duration(&s) {
            Ok(d) if d.is_zero() => {
                self.bad_value(key, node.at, "a duration of zero makes every run fail; expected more than 0s".into());
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.bad_value(key, node.at, format!("{s:?} is not a duration ({e}); expected for example 30m, 90s or 1h 30m"));
                None
            }
        }
    }

    fn integer<T: TryFrom<i128>>(&mut self, key: &str, node: &Node, expected: &str) -> Option<T> {
        match &node.value {
            Value::Int(i) => T::try_from(*i).ok().or_else(|| {
                self.bad_value(key, node.at, format!("{i} is out of range; expected {expected}"));
                None
            }),
            _ => {
                self.wrong_type(key, node, expected);
                None
            }
        }
    }

    /// A sequence, each item read by `item` with its indexed key (`nodes[1]`).
    fn list<T>(&mut self, key: &str, node: &Node, expected: &str, mut item: impl FnMut(&mut Self, &str, &Node) -> Option<T>) -> Option<Vec<T>> {
        match &node.value {
            Value::Seq(items) => {
                let read: Vec<Option<T>> = items.iter().enumerate().map(|(i, n)| item(self, &format!("{key}[{i}]"), n)).collect();
                read.into_iter().collect()
            }
            _ => {
                self.wrong_type(key, node, expected);
                None
            }
        }
    }

    fn strings(&mut self, key: &str, node: &Node) -> Option<Vec<String>> {
        self.list(key, node, "a list of strings", |r, k, n| r.string(k, n))
    }

    /// A mapping of free-form names to strings (terraform vars, extra environment variables).
    fn string_map(&mut self, key: &str, node: &Node) -> Option<BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(key, node, "a mapping of names to strings");
            return None;
        };
        let read: Vec<Option<(String, String)>> =
            entries.iter().map(|(k, v)| self.string(&format!("{key}.{}", k.name), v).map(|v| (k.name.clone(), v))).collect();
        read.into_iter().collect()
    }

    fn choice<T: Copy>(&mut self, key: &str, node: &Node, choices: &[(&str, T)]) -> Option<T> {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let expected = format!("one of {}", names.join(", "));
        let s = self.scalar(key, node, &expected)?;
        let found = choices.iter().find(|(n, _)| *n == s).map(|(_, v)| *v);
        if found.is_none() {
            self.bad_value(key, node.at, format!("{s:?} is not allowed; expected {expected}"));
        }
        found
    }

    fn environment(&mut self, read: &Read) -> Option<Environment> {
        let file = &read.file;
        let top = Parent { path: "", at: read.at, valid: true };
        let name_node = self.required(top, "name", file.name.as_ref(), A_NAME);
        let raw_name = name_node.and_then(|n| self.string("name", n));
        if let Some(name) = &raw_name {
            // Even an invalid name expands: its one problem is reported, not every use of it.
            self.scope.builtins.insert("ENV_NAME", name.clone());
        }
        let name = name_node.zip(raw_name).and_then(|(n, name)| self.valid_name(n, name));
        let kind = self.kind(top, file);
        let infra_repo = self.required(top, "infra-repo", file.infra_repo.as_ref(), A_PATH).and_then(|n| self.path("infra-repo", n));
        let work_dir = match &file.work_dir {
            Some(node) if self.scalar("work-dir", node, A_PATH).is_some_and(|s| s.contains("${WORK_DIR")) => {
                self.bad_value("work-dir", node.at, "${WORK_DIR} is work-dir itself; expected a path built from other variables".into());
                None
            }
            Some(node) => self.path("work-dir", node),
            None => Some(infra_repo.clone().unwrap_or_default().join("target/vixens").join(name.as_deref().unwrap_or("env"))),
        };
        let work_dir = work_dir.unwrap_or_default();
        self.scope.builtins.insert("WORK_DIR", work_dir.display().to_string());
        let infra_repo = infra_repo.unwrap_or_default();
        let name = name.unwrap_or_default();

        let description = file.description.as_ref().and_then(|n| self.string("description", n)).unwrap_or_default();
        let terraform = self.terraform(top, &file.terraform);
        let terraform_repo = self.terraform_repo(&file.terraform, terraform.as_ref(), &infra_repo);
        let kubeconfig = self.required(top, "kubeconfig", file.kubeconfig.as_ref(), A_PATH).and_then(|n| self.path("kubeconfig", n));
        let kubeconfig_readonly = file.kubeconfig_readonly.as_ref().and_then(|n| self.path("kubeconfig-readonly", n));
        let talosconfig = self.required(top, "talosconfig", file.talosconfig.as_ref(), A_PATH).and_then(|n| self.path("talosconfig", n));
        let credentials = self.credentials(top, &file.credentials, file.kubeconfig_readonly.is_some());
        let tools_path =
            file.tools_path.as_ref().and_then(|n| self.list("tools-path", n, "a list of folders", |r, k, n| r.path(k, n))).unwrap_or_default();
        let nodes = self.nodes(top, &file.nodes);
        let argocd = self.argocd(top, &file.argocd);
        let budgets = self.budgets(top, &file.budgets);
        let cycles_required = file.cycles_required.as_ref().map_or(NonZeroU32::new(5), |n| {
            self.integer::<u32>("cycles-required", n, "a whole number of cycles").and_then(|c| {
                let c = NonZeroU32::new(c);
                if c.is_none() {
                    self.bad_value("cycles-required", n.at, "0 cycles proves nothing; expected at least 1".into());
                }
                c
            })
        });
        let talos_logs = self.talos_logs(top, &file.talos_logs);
        let protected = self.protected(top, &file.protected);
        let state_backup = self.state_backup(top, &file.state_backup, &work_dir);
        let evidence = self.evidence(top, &file.evidence, &work_dir, &name);
        let commands = self.commands(top, &file.commands, &infra_repo);
        let provisioning = match &file.provisioning {
            Some(Section::Mapping(p)) => {
                Some(Provisioning { env: p.value.env.as_ref().and_then(|n| self.string_map("provisioning.env", n)).unwrap_or_default() })
            }
            Some(Section::NotAMapping) => Some(Provisioning { env: BTreeMap::new() }),
            None => None,
        };

        Some(Environment {
            name,
            kind: kind?,
            description,
            file: clean(&std::path::absolute(self.problems.path()).unwrap_or_else(|_| self.problems.path().to_owned())),
            infra_repo,
            work_dir,
            terraform: terraform?,
            terraform_repo: terraform_repo?,
            kubeconfig: kubeconfig?,
            kubeconfig_readonly,
            talosconfig: talosconfig?,
            credentials: credentials?,
            tools_path,
            nodes: nodes?,
            argocd: argocd?,
            budgets: budgets?,
            cycles_required: cycles_required?,
            talos_logs: talos_logs?,
            protected: protected?,
            state_backup: state_backup?,
            evidence: evidence?,
            commands: commands?,
            provisioning,
            vars: BTreeMap::new(),
        })
    }

    /// `kind`: disposable or protected.
    fn kind(&mut self, top: Parent<'_>, file: &EnvFile) -> Option<EnvKind> {
        self.required(top, "kind", file.kind.as_ref(), "disposable or protected")
            .and_then(|n| self.choice("kind", n, &[("disposable", EnvKind::Disposable), ("protected", EnvKind::Protected)]))
    }

    fn terraform(&mut self, top: Parent<'_>, section_file: &Option<Section<TerraformFile>>) -> Option<vixens_drivers::terraform::Config> {
        if section_file.is_none() {
            self.required(top, "terraform", None, "the terraform root module and binary");
            return None;
        }
        let empty = TerraformFile::default();
        let (t, at) = section(top, "terraform", section_file, &empty);
        if !at.valid {
            return None;
        }
        let binary = t.binary.as_ref().map_or(Some("terraform".to_owned()), |n| self.string("terraform.binary", n));
        let root =
            self.required(at, "root", t.root.as_ref(), "the root module folder (terraform -chdir)").and_then(|n| self.path("terraform.root", n));
        let data_dir = optional(t.data_dir.as_ref().map(|n| self.path("terraform.data-dir", n)));
        let vars = t.vars.as_ref().map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.vars", n));
        let backend_config = t.backend_config.as_ref().map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.backend-config", n));
        let env = t.env.as_ref().map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.env", n));
        Some(vixens_drivers::terraform::Config {
            binary: binary?,
            root: root?,
            data_dir: data_dir?,
            vars: vars?,
            backend_config: backend_config?,
            env: env?,
        })
    }

    /// `terraform.repo`, else the infrastructure repository when the root module lies in it (one
    /// repository holds both), else the root module's folder: git finds the repository it is in.
    fn terraform_repo(
        &mut self,
        section_file: &Option<Section<TerraformFile>>,
        terraform: Option<&vixens_drivers::terraform::Config>,
        infra_repo: &Path,
    ) -> Option<PathBuf> {
        let written = match section_file {
            Some(Section::Mapping(t)) => t.value.repo.as_ref(),
            _ => None,
        };
        match (written, terraform) {
            (Some(node), _) => self.path("terraform.repo", node),
            (None, Some(t)) if t.root.starts_with(infra_repo) => Some(infra_repo.to_owned()),
            (None, Some(t)) => Some(t.root.clone()),
            (None, None) => None,
        }
    }

    fn nodes(&mut self, top: Parent<'_>, list: &Option<List<NodeFile>>) -> Option<Vec<ClusterNode>> {
        let items = match list {
            None => {
                self.required(top, "nodes", None, "the cluster's nodes (name, address, role)");
                return None;
            }
            Some(List::NotAList) => return None,
            Some(List::Items(items)) => items,
        };
        let read: Vec<Option<ClusterNode>> =
            items.value.iter().enumerate().map(|(i, node)| self.node(&format!("nodes[{i}]"), node.at, &node.value)).collect();
        read.into_iter().collect()
    }

    fn node(&mut self, path: &str, at: At, node: &NodeFile) -> Option<ClusterNode> {
        let at = Parent { path, at, valid: true };
        let name = self.required(at, "name", node.name.as_ref(), "the node's hostname").and_then(|n| self.string(&at.key("name"), n));
        let address =
            self.required(at, "address", node.address.as_ref(), "the address talosctl -n uses").and_then(|n| self.string(&at.key("address"), n));
        let role = self
            .required(at, "role", node.role.as_ref(), "controlplane or worker")
            .and_then(|n| self.choice(&at.key("role"), n, &[("controlplane", NodeRole::Controlplane), ("worker", NodeRole::Worker)]));
        Some(ClusterNode { name: name?, address: address?, role: role? })
    }

    fn argocd(&mut self, top: Parent<'_>, section_file: &Option<Section<ArgoCdFile>>) -> Option<ArgoCdConfig> {
        if section_file.is_none() {
            self.required(top, "argocd", None, "where Argo CD runs and which apps are system apps");
            return None;
        }
        let empty = ArgoCdFile::default();
        let (a, at) = section(top, "argocd", section_file, &empty);
        if !at.valid {
            return None;
        }
        let namespace = a.namespace.as_ref().map_or(Some("argocd".into()), |n| self.string("argocd.namespace", n));
        let root_app = a.root_app.as_ref().map_or(Some("vixens-app-of-apps".into()), |n| self.string("argocd.root-app", n));
        // Argo CD's own retry backs off 5 s doubling up to 3 min: a Degraded app that stays so
        // for longer than one full backoff is not coming back by itself.
        let degraded_grace = a.degraded_grace.as_ref().map_or(Some(Duration::from_secs(180)), |n| self.duration("argocd.degraded-grace", n));
        let intervention_lookback = optional(a.intervention_lookback.as_ref().map(|n| self.duration("argocd.intervention-lookback", n)));
        let gitops = optional(a.gitops.as_ref().map(|_| self.gitops(at, a)));
        let system_apps = self.system_apps(at, a, root_app.as_deref().unwrap_or_default());
        if let (Some(rules), Some(Some(tree))) = (&system_apps, &gitops) {
            self.names_exist(a, rules, tree);
        }
        Some(ArgoCdConfig {
            namespace: namespace?,
            root_app: root_app?,
            system_apps: system_apps?,
            degraded_grace: degraded_grace?,
            intervention_lookback: intervention_lookback?,
            gitops: gitops?,
        })
    }

    /// `argocd.gitops`: the overlay's Applications, read now.
    fn gitops(&mut self, argocd: Parent<'_>, a: &ArgoCdFile) -> Option<GitopsTree> {
        let empty = Default::default();
        let (g, at) = section(argocd, "argocd.gitops", &a.gitops, &empty);
        if !at.valid {
            return None;
        }
        let repo = self.required(at, "repo", g.repo.as_ref(), "the GitOps repository's folder").and_then(|n| self.path("argocd.gitops.repo", n));
        let overlay =
            self.required(at, "overlay", g.overlay.as_ref(), "the overlay of argocd/overlays/").and_then(|n| self.string("argocd.gitops.overlay", n));
        match GitopsTree::read(&repo?, &overlay?) {
            Ok(tree) => Some(tree),
            Err(message) => {
                self.bad_value("argocd.gitops", at.at, message);
                None
            }
        }
    }

    /// Every name of `argocd.system-apps.names` is an Application of the GitOps tree; an unknown
    /// one is reported at its line with the closest names that exist.
    fn names_exist(&mut self, a: &ArgoCdFile, rules: &SystemAppRules, tree: &GitopsTree) {
        let Some(Section::Mapping(system_apps)) = &a.system_apps else { return };
        let Some(Node { value: Value::Seq(items), at: list_at }) = &system_apps.value.names else { return };
        let overlay = GitopsTree::overlay_dir(&tree.repo, &tree.overlay);
        for unknown in rules.unknown_names(tree.names()) {
            let at = items.iter().find(|n| matches!(&n.value, Value::Str(s) if *s == unknown.name)).map_or(*list_at, |n| n.at);
            let closest =
                if unknown.closest.is_empty() { " (no similar name)".to_owned() } else { format!("; closest: {}", unknown.closest.join(", ")) };
            self.bad_value("argocd.system-apps.names", at, format!("no Application `{}` in {}{closest}", unknown.name, overlay.display()));
        }
    }

    /// `argocd.system-apps`, compiled into the rules the Argo CD phase applies.
    fn system_apps(&mut self, argocd: Parent<'_>, a: &ArgoCdFile, root_app: &str) -> Option<SystemAppRules> {
        const PATH: &str = "argocd.system-apps";
        let section_file = &a.system_apps;
        if section_file.is_none() {
            self.required(argocd, "system-apps", None, "names, selector and/or max-sync-wave");
            return None;
        }
        let empty = Default::default();
        let (s, at) = section(argocd, PATH, section_file, &empty);
        if !at.valid {
            return None;
        }
        let names = s.names.as_ref().map_or(Some(Vec::new()), |n| self.strings("argocd.system-apps.names", n));
        let selector = optional(s.selector.as_ref().map(|n| self.selector("argocd.system-apps.selector", n)));
        let folders = s.folders.as_ref().map_or(Some(Vec::new()), |n| self.strings("argocd.system-apps.folders", n));
        let max_sync_wave =
            optional(s.max_sync_wave.as_ref().map(|n| self.integer::<i32>("argocd.system-apps.max-sync-wave", n, "a sync wave (an integer)")));
        let missing_wave = s.missing_wave.as_ref().map_or(Some(MissingWave::Exclude), |n| self.missing_wave(n));
        let apps = SystemApps { names: names?, selector: selector?, folders: folders?, max_sync_wave: max_sync_wave?, missing_wave: missing_wave? };
        if apps.names.is_empty() && apps.selector.is_none() && apps.folders.is_empty() && apps.max_sync_wave.is_none() {
            self.bad_value(PATH, at.at, "defines no system app; expected names, selector, folders or max-sync-wave".into());
            return None;
        }
        // The selector was parsed above with the same parser: compiling cannot fail.
        SystemAppRules::new(root_app, &apps).ok()
    }

    /// `argocd.system-apps.missing-wave`: `exclude`, or the wave (an integer) an app without the
    /// annotation counts as.
    fn missing_wave(&mut self, node: &Node) -> Option<MissingWave> {
        const KEY: &str = "argocd.system-apps.missing-wave";
        match &node.value {
            Value::Int(_) => self.integer::<i32>(KEY, node, "a sync wave (an integer) or exclude").map(MissingWave::Wave),
            Value::Str(s) if s == "exclude" => Some(MissingWave::Exclude),
            _ => {
                self.wrong_type(KEY, node, "a sync wave (an integer) or exclude");
                None
            }
        }
    }

    /// A label selector in kubectl's syntax: `key=value`, `key!=value`, `key`, `!key`,
    /// `key in (a,b)`, `key notin (a,b)`, joined by commas.
    fn selector(&mut self, key: &str, node: &Node) -> Option<String> {
        let s = self.string(key, node)?;
        match vixens_kube::argocd::parse_selector(&s) {
            Ok(_) => Some(s),
            Err(_) => {
                self.bad_value(key, node.at, format!("{s:?} is not a label selector; expected for example tier=system or app in (a,b)"));
                None
            }
        }
    }

    fn budgets(&mut self, top: Parent<'_>, section_file: &Option<Section<BudgetsFile>>) -> Option<Budgets> {
        let empty = BudgetsFile::default();
        let (b, at) = section(top, "budgets", section_file, &empty);
        let recreate = b.recreate.as_ref().map_or(Some(Duration::from_secs(30 * 60)), |n| self.duration("budgets.recreate", n));
        let empty_phases = Default::default();
        let (p, _) = section(at, "budgets.phases", &b.phases, &empty_phases);
        let limit = recreate.unwrap_or(Duration::MAX);
        let phase = |r: &mut Self, name: &str, node: &Option<Node>, default: Duration| match node {
            Some(n) => {
                let key = format!("budgets.phases.{name}");
                let d = r.duration(&key, n)?;
                if d > limit {
                    let (d, limit) = (humantime::format_duration(d), humantime::format_duration(limit));
                    r.bad_value(&key, n.at, format!("{d} does not fit in budgets.recreate ({limit}); expected at most that"));
                    return None;
                }
                Some(d)
            }
            None => Some(default.min(limit)),
        };
        let destroy = phase(self, "destroy", &p.destroy, Duration::from_secs(10 * 60));
        let apply = phase(self, "apply", &p.apply, Duration::from_secs(15 * 60));
        let kubernetes_api = phase(self, "kubernetes-api", &p.kubernetes_api, Duration::from_secs(5 * 60));
        // talosctl health's own --wait-timeout default.
        let talos_health = phase(self, "talos-health", &p.talos_health, Duration::from_secs(20 * 60));
        let argocd = phase(self, "argocd", &p.argocd, Duration::from_secs(20 * 60));
        let logs = phase(self, "logs", &p.logs, Duration::from_secs(2 * 60));
        let destroy_ceiling = self.destroy_ceiling(b.destroy_ceiling.as_ref(), destroy);
        let phases = PhaseBudgets {
            destroy: destroy?,
            apply: apply?,
            kubernetes_api: kubernetes_api?,
            talos_health: talos_health?,
            argocd: argocd?,
            logs: logs?,
        };
        Some(Budgets { recreate: recreate?, phases, destroy_ceiling: destroy_ceiling? })
    }

    /// `budgets.destroy-ceiling`: at least the destroy budget, which the apply may overrun up to
    /// it; default [`DESTROY_CEILING_FACTOR`] times that budget. It may exceed the recreate
    /// budget: a cycle whose destroy overran fails anyway, with its environment whole.
    fn destroy_ceiling(&mut self, node: Option<&Node>, destroy: Option<Duration>) -> Option<Duration> {
        let Some(node) = node else { return Some(destroy.unwrap_or_default().saturating_mul(DESTROY_CEILING_FACTOR)) };
        let ceiling = self.duration("budgets.destroy-ceiling", node)?;
        if let Some(budget) = destroy.filter(|budget| ceiling < *budget) {
            let (ceiling, budget) = (humantime::format_duration(ceiling), humantime::format_duration(budget));
            self.bad_value(
                "budgets.destroy-ceiling",
                node.at,
                format!("{ceiling} is under budgets.phases.destroy ({budget}); expected at least that: the ceiling is where a destroy is stopped mid-apply"),
            );
            return None;
        }
        Some(ceiling)
    }

    fn talos_logs(&mut self, top: Parent<'_>, section_file: &Option<Section<TalosLogsFile>>) -> Option<TalosLogsConfig> {
        let empty = TalosLogsFile::default();
        let (t, _) = section(top, "talos-logs", section_file, &empty);
        let services = match &t.services {
            Some(n) => self.strings("talos-logs.services", n),
            None => Some(DEFAULT_LOG_SERVICES.iter().map(|s| (*s).to_owned()).collect()),
        };
        let allow = match &t.allow {
            Some(List::Items(items)) => {
                let read: Vec<Option<AllowRule>> = items
                    .value
                    .iter()
                    .enumerate()
                    .map(|(i, rule)| self.allow_rule(&format!("talos-logs.allow[{i}]"), rule.at, &rule.value))
                    .collect();
                read.into_iter().collect()
            }
            Some(List::NotAList) => None,
            None => Some(Vec::new()),
        };
        let bootstrap_retries = t.bootstrap_retries.as_ref().map_or(Some(3), |n| {
            self.integer::<u64>("talos-logs.bootstrap-retries", n, "how many times a retried failure may repeat inside the bootstrap window")
        });
        Some(TalosLogsConfig { services: services?, allow: allow?, bootstrap_retries: bootstrap_retries? })
    }

    fn allow_rule(&mut self, path: &str, at: At, rule: &AllowFile) -> Option<AllowRule> {
        let at = Parent { path, at, valid: true };
        let pattern = self.required(at, "pattern", rule.pattern.as_ref(), "a regular expression").and_then(|p| {
            let s = self.string(&at.key("pattern"), p)?;
            match regex::Regex::new(&s) {
                Ok(_) => Some((s, p.at.line)),
                Err(e) => {
                    self.bad_value(&at.key("pattern"), p.at, format!("not a regular expression: {}", last_line(&e.to_string())));
                    None
                }
            }
        });
        let reason = self
            .required(at, "reason", rule.reason.as_ref(), "why these lines are benign (reviewed)")
            .and_then(|n| self.string(&at.key("reason"), n));
        let window = rule.window.as_ref().map_or(Some(RuleWindow::Always), |n| {
            self.choice(&at.key("window"), n, &[("always", RuleWindow::Always), ("bootstrap", RuleWindow::Bootstrap)])
        });
        let (pattern, line) = pattern?;
        Some(AllowRule { pattern, reason: reason?, origin: Origin::File { file: self.problems.path().to_owned(), line }, window: window? })
    }

    fn protected(&mut self, top: Parent<'_>, section_file: &Option<Section<ProtectedFile>>) -> Option<ProtectedConfig> {
        let empty = ProtectedFile::default();
        let (p, _) = section(top, "protected", section_file, &empty);
        let (resource_types, addresses) = self.protected_patterns(p);
        let inventory = match &p.inventory {
            Some(List::Items(items)) => {
                let read: Vec<Option<InventoryCheck>> =
                    items.value.iter().enumerate().map(|(i, check)| self.inventory(&format!("protected.inventory[{i}]"), &check.value)).collect();
                read.into_iter().collect()
            }
            Some(List::NotAList) => None,
            None => Some(Vec::new()),
        };
        Some(ProtectedConfig { resource_types: resource_types?, addresses: addresses?, inventory: inventory? })
    }

    /// `protected.resource-types` (after the built-in defaults) and `protected.addresses`: what
    /// the destroy guard reads, and all it reads besides the name and kind.
    fn protected_patterns(&mut self, p: &ProtectedFile) -> (Option<Vec<String>>, Option<Vec<String>>) {
        let mut resource_types: Vec<String> = DEFAULT_PROTECTED_TYPES.iter().map(|s| (*s).to_owned()).collect();
        let extra = p
            .resource_types
            .as_ref()
            .map_or(Some(Vec::new()), |n| self.list("protected.resource-types", n, "a list of globs", |r, k, n| r.glob(k, n)));
        let addresses =
            p.addresses.as_ref().map_or(Some(Vec::new()), |n| self.list("protected.addresses", n, "a list of globs", |r, k, n| r.glob(k, n)));
        let resource_types = extra.map(|extra| {
            resource_types.extend(extra);
            resource_types
        });
        (resource_types, addresses)
    }

    fn inventory(&mut self, path: &str, check: &InventoryFile) -> Option<InventoryCheck> {
        match check {
            InventoryFile::S3Bucket(s3) => {
                let at = Parent { path, at: s3.at, valid: true };
                let s3 = &s3.value;
                self.choice(&at.key("kind"), s3.kind.as_ref()?, &[("s3-bucket", ())])?;
                let name = self.required(at, "name", s3.name.as_ref(), "a name for messages").and_then(|n| self.string(&at.key("name"), n));
                let endpoint =
                    self.required(at, "endpoint", s3.endpoint.as_ref(), "the S3 endpoint URL").and_then(|n| self.string(&at.key("endpoint"), n));
                let bucket = self.required(at, "bucket", s3.bucket.as_ref(), "the bucket's name").and_then(|n| self.string(&at.key("bucket"), n));
                let credentials = self.s3_credentials(at, s3);
                Some(InventoryCheck::S3Bucket { name: name?, endpoint: endpoint?, bucket: bucket?, credentials })
            }
            InventoryFile::Command(command) => {
                let at = Parent { path, at: command.at, valid: true };
                let c = &command.value;
                let name = self.required(at, "name", c.name.as_ref(), "a name for messages").and_then(|n| self.string(&at.key("name"), n));
                let run =
                    self.required(at, "run", c.run.as_ref(), "a bash command listing one item per line").and_then(|n| self.string(&at.key("run"), n));
                Some(InventoryCheck::Command { name: name?, run: run? })
            }
            InventoryFile::Unknown { at, kind: Some(kind), .. } => {
                let _ = at;
                self.choice(&format!("{path}.kind"), kind, &[("s3-bucket", ()), ("command", ())]);
                None
            }
            InventoryFile::Unknown { at, kind: None, is_mapping } => {
                self.required(Parent { path, at: *at, valid: *is_mapping }, "kind", None, "s3-bucket or command");
                None
            }
        }
    }

    /// `access-key` and `secret-key` (both or neither) and `region` of an `s3-bucket` check.
    fn s3_credentials(&mut self, at: Parent<'_>, s3: &vixens_config::file::S3BucketFile) -> Option<S3Credentials> {
        let access_key = s3.access_key.as_ref().and_then(|n| self.string(&at.key("access-key"), n));
        let secret_key = s3.secret_key.as_ref().and_then(|n| self.string(&at.key("secret-key"), n));
        let region = s3.region.as_ref().map_or(Some("us-east-1".to_owned()), |n| self.string(&at.key("region"), n))?;
        match (access_key, secret_key) {
            (Some(access_key), Some(secret_key)) => Some(S3Credentials { access_key, secret_key, region }),
            (None, None) => None,
            _ => {
                self.bad_value(at.path, at.at, "access-key and secret-key go together; expected both or neither".into());
                None
            }
        }
    }

    fn glob(&mut self, key: &str, node: &Node) -> Option<String> {
        let s = self.string(key, node)?;
        match globset::Glob::new(&s) {
            Ok(_) => Some(s),
            Err(e) => {
                self.bad_value(key, node.at, format!("not a glob: {}", e.kind()));
                None
            }
        }
    }

    fn state_backup(&mut self, top: Parent<'_>, section_file: &Option<Section<StateBackupFile>>, work_dir: &Path) -> Option<StateBackupConfig> {
        let empty = StateBackupFile::default();
        let (s, _) = section(top, "state-backup", section_file, &empty);
        let dir = s.dir.as_ref().map_or(Some(work_dir.join("state-backups")), |n| self.path("state-backup.dir", n));
        let keep = s.keep.as_ref().map_or(NonZeroUsize::new(10), |n| {
            let keep = self.integer::<usize>("state-backup.keep", n, "a number of backups").map(NonZeroUsize::new)?;
            if keep.is_none() {
                self.bad_value("state-backup.keep", n.at, "keeping 0 backups loses the state; expected at least 1".into());
            }
            keep
        });
        Some(StateBackupConfig { dir: dir?, keep: keep? })
    }

    fn evidence(&mut self, top: Parent<'_>, section_file: &Option<Section<EvidenceFile>>, work_dir: &Path, name: &str) -> Option<EvidenceConfig> {
        let empty = EvidenceFile::default();
        let (e, _) = section(top, "evidence", section_file, &empty);
        let ledger = e.ledger.as_ref().map_or(Some(work_dir.join(format!("evidence/{name}.jsonl"))), |n| self.path("evidence.ledger", n));
        let artifacts = e.artifacts.as_ref().map_or(Some(work_dir.join("artifacts")), |n| self.path("evidence.artifacts", n));
        Some(EvidenceConfig { ledger: ledger?, artifacts: artifacts? })
    }

    /// `credentials`: which terraform outputs name the fresh files, and the read-only identity,
    /// which needs `kubeconfig-readonly` to write to.
    fn credentials(
        &mut self,
        top: Parent<'_>,
        section_file: &Option<Section<CredentialsFile>>,
        has_readonly_path: bool,
    ) -> Option<Option<CredentialsConfig>> {
        if section_file.is_none() {
            return Some(None);
        }
        let empty = CredentialsFile::default();
        let (c, parent) = section(top, "credentials", section_file, &empty);
        let empty_outputs = TerraformOutputsFile::default();
        let (outputs, outputs_at) = section(parent, "credentials.from-terraform-outputs", &c.from_terraform_outputs, &empty_outputs);
        let kubeconfig_output = outputs.kubeconfig.as_ref().and_then(|n| self.output_name("credentials.from-terraform-outputs.kubeconfig", n));
        let talosconfig_output = outputs.talosconfig.as_ref().and_then(|n| self.output_name("credentials.from-terraform-outputs.talosconfig", n));
        if c.from_terraform_outputs.is_some() && outputs_at.valid && outputs.kubeconfig.is_none() && outputs.talosconfig.is_none() {
            self.bad_value(
                "credentials.from-terraform-outputs",
                outputs_at.at,
                "names no output; expected `kubeconfig:` and/or `talosconfig:` with the name of a root output holding that file's path".into(),
            );
        }
        let readonly = match &c.readonly {
            None => Some(None),
            Some(_) => {
                let empty_readonly = ReadOnlyIdentityFile::default();
                let (r, at) = section(parent, "credentials.readonly", &c.readonly, &empty_readonly);
                if !has_readonly_path && at.valid {
                    self.bad_value(
                        "credentials.readonly",
                        at.at,
                        "the read-only identity is written to `kubeconfig-readonly`, which this env.yaml does not set; add `kubeconfig-readonly: PATH`"
                            .into(),
                    );
                }
                self.readonly_identity(r).map(Some)
            }
        };
        let named = |node: &Option<Node>, name: Option<String>| if node.is_some() { name.map(Some) } else { Some(None) };
        Some(Some(CredentialsConfig {
            kubeconfig_output: named(&outputs.kubeconfig, kubeconfig_output)?,
            talosconfig_output: named(&outputs.talosconfig, talosconfig_output)?,
            readonly: readonly?,
        }))
    }

    /// A terraform output name: a letter or `_`, then letters, digits, `_` and `-`, as
    /// terraform's identifiers.
    fn output_name(&mut self, key: &str, node: &Node) -> Option<String> {
        let name = self.string(key, node)?;
        let mut chars = name.chars();
        let valid =
            chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            self.bad_value(key, node.at, format!("{name:?} is not a terraform output name; expected an identifier such as kubeconfig_path"));
            return None;
        }
        Some(name)
    }

    fn readonly_identity(&mut self, r: &ReadOnlyIdentityFile) -> Option<ReadOnlyIdentityConfig> {
        let namespace = r.namespace.as_ref().map_or(Some("kube-system".to_owned()), |n| self.dns_name("credentials.readonly.namespace", n));
        let service_account =
            r.service_account.as_ref().map_or(Some("vixens-readonly".to_owned()), |n| self.dns_name("credentials.readonly.service-account", n));
        let token_ttl = r.token_ttl.as_ref().map_or(Some(Duration::from_secs(3600)), |n| {
            let ttl = self.duration("credentials.readonly.token-ttl", n)?;
            if ttl < MIN_TOKEN_TTL {
                self.bad_value(
                    "credentials.readonly.token-ttl",
                    n.at,
                    format!("{} is shorter than the TokenRequest API allows; expected at least 10m", humantime::format_duration(ttl)),
                );
                return None;
            }
            Some(ttl)
        });
        Some(ReadOnlyIdentityConfig { namespace: namespace?, service_account: service_account?, token_ttl: token_ttl? })
    }

    /// A Kubernetes object name (a DNS label: what namespaces and ServiceAccounts accept).
    fn dns_name(&mut self, key: &str, node: &Node) -> Option<String> {
        let name = self.string(key, node)?;
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if !valid {
            self.bad_value(key, node.at, format!("{name:?} is not a Kubernetes name; expected lowercase letters, digits and `-`, at most 63"));
            return None;
        }
        Some(name)
    }

    fn commands(&mut self, top: Parent<'_>, section_file: &Option<Section<CommandsFile>>, infra_repo: &Path) -> Option<CommandsConfig> {
        let empty = CommandsFile::default();
        let (c, _) = section(top, "commands", section_file, &empty);
        let doc = c.doc.as_ref().map_or(Some(infra_repo.join("docs/commands.md")), |n| self.path("commands.doc", n));
        let values = c.values.as_ref().map_or(Some(BTreeMap::new()), |n| self.string_map("commands.values", n));
        let timeout = c.timeout.as_ref().map_or(Some(Duration::from_secs(60)), |n| self.duration("commands.timeout", n));
        Some(CommandsConfig { doc: doc?, values: values?, timeout: timeout? })
    }
}

/// `path` with `.` and `..` removed lexically, so that messages show
/// `/repo/target/vixens/lab`, not `/repo/environments/lab/../../target/vixens/lab`.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An optional value: absent is fine (`Some(None)`), a recorded problem is `None`.
fn optional<T>(read: Option<Option<T>>) -> Option<Option<T>> {
    read.map_or(Some(None), |value| value.map(Some))
}

fn last_line(message: &str) -> String {
    message.lines().last().unwrap_or(message).trim_start_matches("error: ").to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rstest::rstest;

    use super::*;

    const MINIMAL: &str = "\
name: lab
kind: disposable
infra-repo: ../..
terraform:
  root: terraform
kubeconfig: state/kubeconfig
talosconfig: state/talosconfig
nodes:
  - {name: cp1, address: 10.5.0.2, role: controlplane}
argocd:
  system-apps:
    max-sync-wave: 2
";

    /// Writes `yaml` as `<tmp>/environments/lab/env.yaml` and loads it with `vars` only.
    fn load_str(yaml: &str, vars: &[(&str, &str)]) -> (tempfile::TempDir, Result<Environment, EnvConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        let env_dir = dir.path().join("environments/lab");
        std::fs::create_dir_all(&env_dir).unwrap();
        std::fs::write(env_dir.join("env.yaml"), yaml).unwrap();
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let loaded = load(&env_dir.join("env.yaml"), &vars);
        (dir, loaded)
    }

    /// Each problem as `line:col: message`.
    fn problems(yaml: &str) -> Vec<String> {
        let (_dir, loaded) = load_str(yaml, &[]);
        let err = loaded.expect_err("the file should have problems");
        err.problems.iter().map(|p| format!("{}:{}: {p}", p.line, p.column)).collect()
    }

    #[test]
    fn a_minimal_file_loads_with_the_documented_defaults() {
        let (dir, loaded) = load_str(MINIMAL, &[]);
        let env = loaded.unwrap();
        let root = dir.path();
        assert_eq!(env.name, "lab");
        assert_eq!(env.kind, EnvKind::Disposable);
        assert_eq!(env.infra_repo, root);
        assert_eq!(env.terraform.binary, "terraform");
        assert_eq!(env.terraform.root, root.join("environments/lab/terraform"));
        assert_eq!(env.terraform.data_dir, None);
        assert_eq!(env.kubeconfig, root.join("environments/lab/state/kubeconfig"));
        assert_eq!(env.work_dir, root.join("target/vixens/lab"));
        assert_eq!(env.argocd.namespace, "argocd");
        assert_eq!(env.argocd.root_app, "vixens-app-of-apps");
        assert_eq!(env.argocd.system_apps.to_string(), "sync wave <= 2");
        assert_eq!(env.budgets.recreate, Duration::from_secs(1800));
        assert_eq!(env.cycles_required.get(), 5);
        assert_eq!(env.state_backup.dir, root.join("target/vixens/lab/state-backups"));
        assert_eq!(env.evidence.ledger, root.join("target/vixens/lab/evidence/lab.jsonl"));
        assert_eq!(env.commands.doc, root.join("docs/commands.md"));
        assert!(env.protected.resource_types.iter().any(|t| t == "synology_*"));
        assert!(env.provisioning.is_none());
    }

    #[test]
    fn system_apps_take_folders_and_a_missing_wave_and_the_lookback_is_read() {
        let yaml = MINIMAL.replace(
            "    max-sync-wave: 2\n",
            "    max-sync-wave: 2\n    missing-wave: 0\n    folders: [apps/00-infra/*]\n  intervention-lookback: 7d\n",
        );
        let env = load_str(&yaml, &[]).1.unwrap();
        assert_eq!(env.argocd.system_apps.to_string(), "folders [apps/00-infra/*] or sync wave <= 2 (no wave counted as 0)");
        assert_eq!(env.argocd.intervention_lookback, Some(Duration::from_secs(7 * 24 * 3600)));
        let excluded = load_str(&MINIMAL.replace("    max-sync-wave: 2\n", "    max-sync-wave: 2\n    missing-wave: exclude\n"), &[]).1.unwrap();
        assert_eq!(excluded.argocd.system_apps.to_string(), "sync wave <= 2");
        assert_eq!(
            problems(&MINIMAL.replace("    max-sync-wave: 2\n", "    max-sync-wave: 2\n    missing-wave: zero\n")),
            ["13:19: `argocd.system-apps.missing-wave`: expected a sync wave (an integer) or exclude, found a string"]
        );
    }

    #[test]
    fn system_app_names_are_checked_against_the_gitops_overlay_at_load_naming_the_closest() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gitops/vixens");
        let yaml = MINIMAL.replace(
            "argocd:\n  system-apps:\n    max-sync-wave: 2\n",
            &format!("argocd:\n  gitops: {{repo: {}, overlay: lab}}\n  system-apps:\n    names: [traefik, cert-manager-webhook]\n", repo.display()),
        );
        let found = problems(&yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("13:22: `argocd.system-apps.names`: no Application `cert-manager-webhook` in ")
                && found[0].ends_with("argocd/overlays/lab; closest: cert-manager-webhook-gandi, cert-manager"),
            "{found:?}"
        );
        let yaml = yaml.replace("cert-manager-webhook]", "cert-manager-webhook-gandi]");
        let env = load_str(&yaml, &[]).1.unwrap();
        assert_eq!(env.argocd.gitops.unwrap().apps.len(), 34);
    }

    #[test]
    fn talos_logs_extra_rules_carry_their_window_and_the_retry_tolerance_is_read() {
        let yaml = MINIMAL.to_owned()
            + "talos-logs:\n  bootstrap-retries: 5\n  allow:\n    - pattern: 'sdz'\n      reason: a scratch disk\n      window: bootstrap\n    - pattern: x\n      reason: y\n";
        let logs = load_str(&yaml, &[]).1.unwrap().talos_logs;
        assert_eq!(logs.bootstrap_retries, 5);
        assert_eq!(logs.allow.iter().map(|r| r.window).collect::<Vec<_>>(), [RuleWindow::Bootstrap, RuleWindow::Always]);
        assert_eq!(load_str(MINIMAL, &[]).1.unwrap().talos_logs.bootstrap_retries, 3, "the default");
    }

    #[test]
    fn built_in_variables_spare_repeating_the_work_dir() {
        let yaml = MINIMAL.replace("kubeconfig: state/kubeconfig", "kubeconfig: ${WORK_DIR}/state/kubeconfig")
            + "work-dir: ${VIXENS_WORK_DIR:-${ENV_DIR}/../../target/vixens/${ENV_NAME}}\n"
            + "state-backup:\n  dir: ${WORK_DIR}/backups\n";
        // `${VIXENS_WORK_DIR:-...}` with a nested reference is not supported: the default is literal
        // text. Show the intended spelling works with the variable set instead.
        let yaml =
            yaml.replace("${VIXENS_WORK_DIR:-${ENV_DIR}/../../target/vixens/${ENV_NAME}}", "${VIXENS_WORK_DIR:-../../target/vixens}/${ENV_NAME}");
        let (dir, loaded) = load_str(&yaml, &[("WORK_DIR", "/not/this/one")]);
        let env = loaded.unwrap();
        let work = dir.path().join("target/vixens/lab");
        assert_eq!(env.work_dir, work);
        assert_eq!(env.kubeconfig, work.join("state/kubeconfig"));
        assert_eq!(env.state_backup.dir, work.join("backups"));

        let (_dir, loaded) = load_str(&yaml, &[("VIXENS_WORK_DIR", "/srv/vixens")]);
        assert_eq!(loaded.unwrap().kubeconfig, Path::new("/srv/vixens/lab/state/kubeconfig"));
    }

    #[test]
    fn the_variables_a_file_was_expanded_with_are_kept_for_child_processes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("env.yaml");
        std::fs::write(&file, MINIMAL.to_owned() + "work-dir: ${VIXENS_WORK_DIR:-target}/${ENV_NAME}${UNSET:-}\n").unwrap();
        let vars: BTreeMap<String, String> =
            [("VIXENS_WORK_DIR", "/srv/vixens"), ("NOT_REFERENCED", "x")].iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let env = Environment::load_with(&file, &vars).unwrap();
        assert_eq!(env.vars, BTreeMap::from([("VIXENS_WORK_DIR".to_owned(), "/srv/vixens".to_owned())]));
    }

    #[rstest]
    #[case::a_root_inside_the_infra_repo_is_one_repository("  root: ../../infra/terraform\n", "infra")]
    #[case::a_root_elsewhere_is_in_its_own_repository("  root: ../../tf-repo/terraform/environments/lab\n", "tf-repo/terraform/environments/lab")]
    #[case::a_named_repository("  root: ../../tf-repo/terraform/environments/lab\n  repo: ../../tf-repo\n", "tf-repo")]
    fn the_terraform_repository_is_named_or_the_one_holding_the_root(#[case] terraform: &str, #[case] expected: &str) {
        let yaml = MINIMAL.replace("infra-repo: ../..\n", "infra-repo: ../../infra\n").replace("  root: terraform\n", terraform);
        let (dir, loaded) = load_str(&yaml, &[]);
        assert_eq!(loaded.unwrap().terraform_repo, dir.path().join(expected));
    }

    #[test]
    fn the_destroy_ceiling_defaults_to_four_destroy_budgets_and_is_never_under_one() {
        let with = |budgets: &str| MINIMAL.to_owned() + budgets;
        let (_dir, loaded) = load_str(&with("budgets:\n  phases: {destroy: 5m}\n"), &[]);
        assert_eq!(loaded.unwrap().budgets.destroy_ceiling, Duration::from_secs(20 * 60));
        let (_dir, loaded) = load_str(&with("budgets:\n  phases: {destroy: 5m}\n  destroy-ceiling: 5m\n"), &[]);
        assert_eq!(loaded.unwrap().budgets.destroy_ceiling, Duration::from_secs(5 * 60), "the budget itself is a ceiling");
        assert_eq!(
            problems(&with("budgets:\n  phases: {destroy: 5m}\n  destroy-ceiling: 4m\n")),
            [
                "15:20: `budgets.destroy-ceiling`: 4m is under budgets.phases.destroy (5m); expected at least that: the ceiling is where a destroy is stopped mid-apply"
            ]
        );
    }

    #[test]
    fn credentials_name_the_outputs_and_the_read_only_identity_with_defaults() {
        let yaml = MINIMAL.to_owned()
            + "kubeconfig-readonly: state/ro\ncredentials:\n  from-terraform-outputs: {kubeconfig: kubeconfig_path}\n  readonly: {namespace: vixens}\n";
        let (_dir, loaded) = load_str(&yaml, &[]);
        let credentials = loaded.unwrap().credentials.unwrap();
        assert_eq!(credentials.kubeconfig_output.as_deref(), Some("kubeconfig_path"));
        assert_eq!(credentials.talosconfig_output, None);
        let readonly = credentials.readonly.unwrap();
        assert_eq!((readonly.namespace.as_str(), readonly.service_account.as_str()), ("vixens", "vixens-readonly"));
        assert_eq!(readonly.token_ttl, Duration::from_secs(3600));
        let (_dir, without) = load_str(MINIMAL, &[]);
        assert_eq!(without.unwrap().credentials, None, "no section: the files are kept by hand");
    }

    #[test]
    fn terraform_data_dir_becomes_tf_data_dir() {
        let yaml = MINIMAL.replace("  root: terraform\n", "  root: terraform\n  data-dir: ${WORK_DIR}/tf\n  env:\n    TF_LOG: info\n");
        let (dir, loaded) = load_str(&yaml, &[]);
        let tf = loaded.unwrap().terraform;
        let data_dir = dir.path().join("target/vixens/lab/tf");
        assert_eq!(tf.data_dir.as_deref(), Some(data_dir.as_path()));
        let env = tf.process_env();
        assert_eq!(env.get("TF_DATA_DIR").map(String::as_str), data_dir.to_str());
        assert_eq!(env.get("TF_LOG").map(String::as_str), Some("info"));
    }

    #[rstest]
    #[case::unknown_top_level_key(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nkubconfig: y\n",
        &["7:1: unknown key `kubconfig`; expected one of: name, kind, description, infra-repo, work-dir, terraform, kubeconfig, kubeconfig-readonly, talosconfig, credentials, tools-path, nodes, argocd, budgets, cycles-required, talos-logs, protected, state-backup, evidence, commands, provisioning"]
    )]
    #[case::unknown_nested_key(
        "    max-sync-wave: 2\n",
        "    max-sync-wave: 2\n    label: system\n",
        &["13:5: unknown key `argocd.system-apps.label`; expected one of: names, selector, folders, max-sync-wave, missing-wave"]
    )]
    #[case::unknown_key_in_a_list_item(
        "role: controlplane}",
        "role: controlplane, ip: 1.2.3.4}",
        &["9:56: unknown key `nodes[0].ip`; expected one of: name, address, role"]
    )]
    #[case::wrong_type(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: [a, b]\n",
        &["6:13: `kubeconfig`: expected a path (absolute, or relative to the env.yaml's folder), found a sequence"]
    )]
    #[case::wrong_type_of_section(
        "terraform:\n  root: terraform\n",
        "terraform: terraform\n",
        &["4:12: `terraform`: expected a mapping, found a string"]
    )]
    #[case::missing_key(
        "  root: terraform\n",
        "  binary: tofu\n",
        &["5:3: missing key `terraform.root`: the root module folder (terraform -chdir)"]
    )]
    #[case::bad_enum(
        "kind: disposable\n",
        "kind: precious\n",
        &["2:7: `kind`: \"precious\" is not allowed; expected one of disposable, protected"]
    )]
    #[case::bad_duration(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nbudgets:\n  recreate: half an hour\n",
        &["8:13: `budgets.recreate`: \"half an hour\" is not a duration (expected number at 0); expected for example 30m, 90s or 1h 30m"]
    )]
    #[case::bad_terraform_output_name(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncredentials:\n  from-terraform-outputs:\n    kubeconfig: kubeconfig path\n",
        &["9:17: `credentials.from-terraform-outputs.kubeconfig`: \"kubeconfig path\" is not a terraform output name; expected an identifier such as kubeconfig_path"]
    )]
    #[case::terraform_outputs_naming_nothing(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncredentials:\n  from-terraform-outputs: {}\n",
        &["8:27: `credentials.from-terraform-outputs`: names no output; expected `kubeconfig:` and/or `talosconfig:` with the name of a root output holding that file's path"]
    )]
    #[case::unknown_credentials_key(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncredentials:\n  from-terraform-output:\n    kubeconfig: kubeconfig_path\n",
        &["8:3: unknown key `credentials.from-terraform-output`; expected one of: from-terraform-outputs, readonly"]
    )]
    #[case::read_only_identity_without_a_file_to_write(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncredentials:\n  readonly: {}\n",
        &["8:13: `credentials.readonly`: the read-only identity is written to `kubeconfig-readonly`, which this env.yaml does not set; add `kubeconfig-readonly: PATH`"]
    )]
    #[case::read_only_token_shorter_than_the_api_allows(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nkubeconfig-readonly: ro\ncredentials:\n  readonly:\n    token-ttl: 5m\n    service-account: Vixens_RO\n",
        &[
            "10:16: `credentials.readonly.token-ttl`: 5m is shorter than the TokenRequest API allows; expected at least 10m",
            "11:22: `credentials.readonly.service-account`: \"Vixens_RO\" is not a Kubernetes name; expected lowercase letters, digits and `-`, at most 63",
        ]
    )]
    #[case::zero_duration(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncommands:\n  timeout: 0s\n",
        &["8:12: `commands.timeout`: a duration of zero makes every run fail; expected more than 0s"]
    )]
    #[case::phase_longer_than_the_cycle(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nbudgets:\n  recreate: 10m\n  phases:\n    argocd: 20m\n",
        &["10:13: `budgets.phases.argocd`: 20m does not fit in budgets.recreate (10m); expected at most that"]
    )]
    #[case::unknown_phase(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nbudgets:\n  phases:\n    bootstrap: 5m\n",
        &["9:5: unknown key `budgets.phases.bootstrap`; expected one of: destroy, apply, kubernetes-api, talos-health, argocd, logs"]
    )]
    #[case::missing_variable(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: ${VIXENS_SECRETS}/dev/kubeconfig-dev\n",
        &["6:13: `kubeconfig`: environment variable VIXENS_SECRETS is not set"]
    )]
    #[case::malformed_variable(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: ${VIXENS_SECRETS/kubeconfig\n",
        &["6:13: `kubeconfig`: malformed variable reference in \"${VIXENS_SECRETS/kubeconfig\"; expected ${NAME} or ${NAME:-default} (write $$ for a literal $)"]
    )]
    #[case::work_dir_using_itself(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nwork-dir: ${WORK_DIR}/x\n",
        &["7:11: `work-dir`: ${WORK_DIR} is work-dir itself; expected a path built from other variables"]
    )]
    #[case::bad_regex(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ntalos-logs:\n  allow:\n    - pattern: 'iscsid ('\n      reason: noise\n",
        &["9:16: `talos-logs.allow[0].pattern`: not a regular expression: unclosed group"]
    )]
    #[case::allow_rule_without_reason(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ntalos-logs:\n  allow:\n    - pattern: iscsid\n",
        &["9:7: missing key `talos-logs.allow[0].reason`: why these lines are benign (reviewed)"]
    )]
    #[case::allow_rule_with_an_unknown_window(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ntalos-logs:\n  allow:\n    - pattern: iscsid\n      reason: noise\n      window: boot\n",
        &["11:15: `talos-logs.allow[0].window`: \"boot\" is not allowed; expected one of always, bootstrap"]
    )]
    #[case::negative_bootstrap_retries(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ntalos-logs:\n  bootstrap-retries: -1\n",
        &["8:22: `talos-logs.bootstrap-retries`: -1 is out of range; expected how many times a retried failure may repeat inside the bootstrap window"]
    )]
    #[case::bad_glob(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nprotected:\n  addresses: ['module.storage[']\n",
        &["8:15: `protected.addresses[0]`: not a glob: unclosed character class; missing ']'"]
    )]
    #[case::bad_inventory_kind(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nprotected:\n  inventory:\n    - {kind: nfs, name: x}\n",
        &["9:14: `protected.inventory[0].kind`: \"nfs\" is not allowed; expected one of s3-bucket, command"]
    )]
    #[case::s3_credentials_go_together(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nprotected:\n  inventory:\n    - {kind: s3-bucket, name: b, endpoint: http://nas:9000, bucket: b, access-key: k}\n",
        &["9:7: `protected.inventory[0]`: access-key and secret-key go together; expected both or neither"]
    )]
    #[case::inventory_keys_follow_its_kind(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nprotected:\n  inventory:\n    - {kind: command, name: luns, run: ls, bucket: b}\n",
        &["9:44: unknown key `protected.inventory[0].bucket`; expected one of: kind, name, run"]
    )]
    #[case::bad_selector(
        "    max-sync-wave: 2\n",
        "    selector: 'tier = = system'\n",
        &["12:15: `argocd.system-apps.selector`: \"tier = = system\" is not a label selector; expected for example tier=system or app in (a,b)"]
    )]
    #[case::no_system_app_rule(
        "    max-sync-wave: 2\n",
        "    names: []\n",
        &["12:5: `argocd.system-apps`: defines no system app; expected names, selector, folders or max-sync-wave"]
    )]
    #[case::zero_cycles(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\ncycles-required: 0\n",
        &["7:18: `cycles-required`: 0 cycles proves nothing; expected at least 1"]
    )]
    #[case::negative_backups(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: state/kubeconfig\nstate-backup: {keep: -1}\n",
        &["7:22: `state-backup.keep`: -1 is out of range; expected a number of backups"]
    )]
    #[case::name_climbing_out_of_the_work_dir(
        "name: lab\n",
        "name: ../../../tmp/x\n",
        &["1:7: `name`: \"../../../tmp/x\" is not a name: '.' is not allowed; expected lowercase letters, digits and `-` (not first or last), at most 63 characters, such as dev or lab-ha"]
    )]
    #[case::name_with_a_newline(
        "name: lab\n",
        "name: \"lab\\nprod\"\n",
        &["1:7: `name`: \"lab\\nprod\" is not a name: '\\n' is not allowed; expected lowercase letters, digits and `-` (not first or last), at most 63 characters, such as dev or lab-ha"]
    )]
    #[case::empty_name(
        "name: lab\n",
        "name: ''\n",
        &["1:7: `name`: \"\" is not a name: it is empty; expected lowercase letters, digits and `-` (not first or last), at most 63 characters, such as dev or lab-ha"]
    )]
    #[case::name_too_long(
        "name: lab\n",
        "name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        &["1:7: `name`: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not a name: it has 64 characters; expected lowercase letters, digits and `-` (not first or last), at most 63 characters, such as dev or lab-ha"]
    )]
    #[case::name_ending_with_a_dash(
        "name: lab\n",
        "name: lab-\n",
        &["1:7: `name`: \"lab-\" is not a name: it starts or ends with `-`; expected lowercase letters, digits and `-` (not first or last), at most 63 characters, such as dev or lab-ha"]
    )]
    #[case::not_yaml(
        "kubeconfig: state/kubeconfig\n",
        "kubeconfig: [state/kubeconfig\n",
        &["7:12: not valid YAML: illegal placement of ':' indicator"]
    )]
    fn each_problem_names_its_place_key_and_expectation(#[case] replace: &str, #[case] with: &str, #[case] expected: &[&str]) {
        assert!(MINIMAL.contains(replace), "the case must change the minimal file: {replace:?}");
        assert_eq!(problems(&MINIMAL.replacen(replace, with, 1)), expected);
    }

    #[test]
    fn every_problem_of_a_file_is_reported_at_once_in_file_order() {
        let yaml = "\
name: dev
kind: disposable
infra-repo: ${VIXENS_REPO}
colour: blue
terraform:
  root: ${VIXENS_TERRAFORM_REPO}/terraform/environments/dev
  binry: tofu
kubeconfig: ${VIXENS_SECRETS}/dev/kubeconfig-dev
talosconfig: ${VIXENS_SECRETS}/dev/talosconfig-dev
nodes: {name: cp1}
argocd:
  system-apps: {max-sync-wave: two}
budgets:
  recreate: 30 mins and change
";
        let found = problems(yaml);
        assert_eq!(
            found,
            [
                "3:13: `infra-repo`: environment variable VIXENS_REPO is not set",
                "4:1: unknown key `colour`; expected one of: name, kind, description, infra-repo, work-dir, terraform, kubeconfig, kubeconfig-readonly, talosconfig, credentials, tools-path, nodes, argocd, budgets, cycles-required, talos-logs, protected, state-backup, evidence, commands, provisioning",
                "6:9: `terraform.root`: environment variable VIXENS_TERRAFORM_REPO is not set",
                "7:3: unknown key `terraform.binry`; expected one of: binary, root, repo, data-dir, vars, backend-config, env",
                "8:13: `kubeconfig`: environment variable VIXENS_SECRETS is not set",
                "9:14: `talosconfig`: environment variable VIXENS_SECRETS is not set",
                "10:8: `nodes`: expected a list of nodes, found a mapping",
                "12:32: `argocd.system-apps.max-sync-wave`: expected a sync wave (an integer), found a string",
                "14:13: `budgets.recreate`: \"30 mins and change\" is not a duration (expected number at 8); expected for example 30m, 90s or 1h 30m",
            ]
        );
    }

    #[test]
    fn an_unknown_key_close_to_a_known_one_gets_a_suggestion() {
        let (_dir, loaded) = load_str(&MINIMAL.replace("  root: terraform\n", "  root: terraform\n  binry: tofu\n"), &[]);
        let err = loaded.unwrap_err();
        let help = miette::Diagnostic::help(&err.problems[0]).map(|h| h.to_string());
        assert_eq!(help.as_deref(), Some("did you mean `binary`?"));
    }

    #[test]
    fn the_error_lists_every_missing_variable_once() {
        let yaml = MINIMAL.replace("infra-repo: ../..", "infra-repo: ${VIXENS_REPO}")
            + "kubeconfig-readonly: ${VIXENS_SECRETS}/a\nevidence: {ledger: '${VIXENS_SECRETS}/b', artifacts: '${VIXENS_EVIDENCE}'}\n";
        let (_dir, loaded) = load_str(&yaml, &[]);
        let err = loaded.unwrap_err();
        assert_eq!(err.missing_variables(), ["VIXENS_EVIDENCE", "VIXENS_REPO", "VIXENS_SECRETS"]);
        let text = err.to_string();
        assert!(text.contains("4 problems\nenvironment variables not set: VIXENS_EVIDENCE, VIXENS_REPO, VIXENS_SECRETS\n"), "{text}");
    }

    #[test]
    fn an_unreadable_file_is_one_problem_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("env.yaml");
        let err = load(&path, &BTreeMap::<String, String>::new()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.to_string().starts_with(&format!("{} is not a usable environment: 1 problem", path.display())), "{err}");
        assert!(matches!(err.problems[0].kind, ProblemKind::Unreadable(_)));
    }

    #[test]
    fn paths_are_cleaned_of_dot_segments() {
        assert_eq!(clean(Path::new("/a/b/../../c/./d")), Path::new("/c/d"));
        assert_eq!(clean(Path::new("../x")), Path::new("../x"));
    }
}

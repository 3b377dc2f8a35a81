//! Stage one and two of loading: the serde shape of env.yaml, then its validation into an
//! [`Environment`].

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::error::{EnvConfigError, Problem, ProblemKind};
use super::vars::{ExpandError, VarSource, expand};
use super::{
    AllowRule, ArgoCdConfig, Budgets, CommandsConfig, EnvKind, Environment, EvidenceConfig,
    InventoryCheck, Node, NodeRole, Origin, PhaseBudgets, ProtectedConfig, Provisioning,
    StateBackupConfig, SystemApps, TalosLogsConfig, TerraformConfig,
};

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EnvFile {
    name: S,
    kind: Spanned<EnvKind>,
    #[serde(default)]
    description: Option<S>,
    infra_repo: S,
    #[serde(default)]
    work_dir: Option<S>,
    terraform: TerraformFile,
    kubeconfig: S,
    #[serde(default)]
    kubeconfig_readonly: Option<S>,
    talosconfig: S,
    #[serde(default)]
    tools_path: Vec<S>,
    nodes: Vec<NodeFile>,
    argocd: ArgoCdFile,
    #[serde(default)]
    budgets: Option<BudgetsFile>,
    #[serde(default)]
    cycles_required: Option<Spanned<u32>>,
    #[serde(default)]
    talos_logs: Option<TalosLogsFile>,
    #[serde(default)]
    protected: Option<ProtectedFile>,
    #[serde(default)]
    state_backup: Option<StateBackupFile>,
    #[serde(default)]
    evidence: Option<EvidenceFile>,
    #[serde(default)]
    commands: Option<CommandsFile>,
    #[serde(default)]
    provisioning: Option<ProvisioningFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TerraformFile {
    #[serde(default)]
    binary: Option<S>,
    root: S,
    #[serde(default)]
    vars: BTreeMap<String, S>,
    #[serde(default)]
    backend_config: BTreeMap<String, S>,
    #[serde(default)]
    env: BTreeMap<String, S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NodeFile {
    name: S,
    address: S,
    role: NodeRole,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ArgoCdFile {
    #[serde(default)]
    namespace: Option<S>,
    #[serde(default)]
    root_app: Option<S>,
    system_apps: SystemAppsFile,
    #[serde(default)]
    degraded_grace: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SystemAppsFile {
    #[serde(default)]
    names: Vec<S>,
    #[serde(default)]
    selector: Option<S>,
    #[serde(default)]
    max_sync_wave: Option<i32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct BudgetsFile {
    #[serde(default)]
    recreate: Option<S>,
    #[serde(default)]
    phases: BTreeMap<String, S>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct TalosLogsFile {
    #[serde(default)]
    services: Option<Vec<S>>,
    #[serde(default)]
    allow: Vec<AllowFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AllowFile {
    pattern: S,
    reason: S,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ProtectedFile {
    #[serde(default)]
    resource_types: Vec<S>,
    #[serde(default)]
    addresses: Vec<S>,
    #[serde(default)]
    inventory: Vec<InventoryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", tag = "kind")]
enum InventoryFile {
    S3Bucket { name: S, endpoint: S, bucket: S },
    Command { name: S, run: S },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct StateBackupFile {
    #[serde(default)]
    dir: Option<S>,
    #[serde(default)]
    keep: Option<Spanned<usize>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EvidenceFile {
    #[serde(default)]
    ledger: Option<S>,
    #[serde(default)]
    artifacts: Option<S>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CommandsFile {
    #[serde(default)]
    doc: Option<S>,
    #[serde(default)]
    values: BTreeMap<String, S>,
    #[serde(default)]
    timeout: Option<S>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ProvisioningFile {
    #[serde(default)]
    env: BTreeMap<String, S>,
}

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

pub(super) fn load(path: &Path, vars: &dyn VarSource) -> Result<Environment, EnvConfigError> {
    let fail = |problems| EnvConfigError { path: path.to_owned(), problems };
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(vec![Problem { line: 0, column: 0, kind: ProblemKind::Unreadable(e.to_string()) }])
    })?;
    let file: EnvFile = serde_saphyr::from_str(&text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
        fail(vec![Problem { line, column, kind: ProblemKind::Invalid(first_line(&e.to_string())) }])
    })?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
    let mut v = Validator { vars, dir, path: path.to_owned(), problems: Vec::new() };
    let env = v.environment(file);
    if v.problems.is_empty() {
        Ok(env)
    } else {
        v.problems.sort_by_key(|p| (p.line, p.column));
        Err(fail(v.problems))
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_owned()
}

/// Collects every problem while building the [`Environment`]; placeholders stand in for bad
/// values so that validation can go on and report the rest.
struct Validator<'a> {
    vars: &'a dyn VarSource,
    dir: PathBuf,
    path: PathBuf,
    problems: Vec<Problem>,
}

impl Validator<'_> {
    fn environment(&mut self, f: EnvFile) -> Environment {
        let name = self.string("name", &f.name);
        let infra_repo = self.path("infra-repo", &f.infra_repo);
        let work_dir = match &f.work_dir {
            Some(w) => self.path("work-dir", w),
            None => infra_repo.join("target/vixens").join(&name),
        };
        let budgets = self.budgets(f.budgets.unwrap_or_default());
        let protected = self.protected(f.protected.unwrap_or_default());
        let talos_logs = self.talos_logs(f.talos_logs.unwrap_or_default());
        let state_backup = self.state_backup(f.state_backup.unwrap_or_default(), &work_dir);
        let evidence = self.evidence(f.evidence.unwrap_or_default(), &work_dir, &name);
        let commands = self.commands(f.commands.unwrap_or_default(), &infra_repo);
        Environment {
            kind: f.kind.value,
            description: f.description.map(|d| self.string("description", &d)).unwrap_or_default(),
            file: self.path.clone(),
            terraform: self.terraform(f.terraform),
            kubeconfig: self.path("kubeconfig", &f.kubeconfig),
            kubeconfig_readonly: f.kubeconfig_readonly.map(|k| self.path("kubeconfig-readonly", &k)),
            talosconfig: self.path("talosconfig", &f.talosconfig),
            tools_path: f.tools_path.iter().map(|p| self.path("tools-path", p)).collect(),
            nodes: f.nodes.iter().map(|n| self.node(n)).collect(),
            argocd: self.argocd(f.argocd),
            cycles_required: self.cycles(f.cycles_required),
            provisioning: f.provisioning.map(|p| Provisioning { env: self.map("provisioning.env", &p.env) }),
            name,
            infra_repo,
            work_dir,
            budgets,
            talos_logs,
            protected,
            state_backup,
            evidence,
            commands,
        }
    }

    fn problem(&mut self, at: &S, kind: ProblemKind) {
        let loc = at.referenced;
        self.problems.push(Problem { line: loc.line() as usize, column: loc.column() as usize, kind });
    }

    fn string(&mut self, key: &str, value: &S) -> String {
        match expand(&value.value, self.vars) {
            Ok(s) => s,
            Err(errors) => {
                for e in errors {
                    let kind = match e {
                        ExpandError::Missing { name, .. } => ProblemKind::MissingVariable { name, key: key.into() },
                        ExpandError::Malformed { .. } => ProblemKind::BadValue {
                            key: key.into(),
                            message: format!("malformed variable reference in {:?}; write ${{NAME}} or ${{NAME:-default}}", value.value),
                        },
                    };
                    self.problem(value, kind);
                }
                String::new()
            }
        }
    }

    fn path(&mut self, key: &str, value: &S) -> PathBuf {
        let s = self.string(key, value);
        let p = PathBuf::from(s);
        if p.is_absolute() { p } else { self.dir.join(p) }
    }

    fn duration(&mut self, key: &str, value: &S) -> Duration {
        let s = self.string(key, value);
        match humantime::parse_duration(&s) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                self.problem(value, ProblemKind::BadValue { key: key.into(), message: "a budget of zero makes every run fail".into() });
                Duration::from_secs(1)
            }
            Err(e) => {
                self.problem(value, ProblemKind::BadValue { key: key.into(), message: format!("{s:?} is not a duration ({e}); write for example 30m, 90s or 1h 30m") });
                Duration::from_secs(1)
            }
        }
    }

    fn map(&mut self, key: &str, m: &BTreeMap<String, S>) -> BTreeMap<String, String> {
        m.iter().map(|(k, v)| (k.clone(), self.string(&format!("{key}.{k}"), v))).collect()
    }

    fn terraform(&mut self, t: TerraformFile) -> TerraformConfig {
        let binary = t.binary.map_or_else(|| "terraform".to_owned(), |b| self.string("terraform.binary", &b));
        TerraformConfig {
            binary,
            root: self.path("terraform.root", &t.root),
            vars: self.map("terraform.vars", &t.vars),
            backend_config: self.map("terraform.backend-config", &t.backend_config),
            env: self.map("terraform.env", &t.env),
        }
    }

    fn node(&mut self, n: &NodeFile) -> Node {
        Node { name: self.string("nodes.name", &n.name), address: self.string("nodes.address", &n.address), role: n.role }
    }

    fn argocd(&mut self, a: ArgoCdFile) -> ArgoCdConfig {
        ArgoCdConfig {
            namespace: a.namespace.map_or_else(|| "argocd".into(), |n| self.string("argocd.namespace", &n)),
            root_app: a.root_app.map_or_else(|| "vixens-app-of-apps".into(), |n| self.string("argocd.root-app", &n)),
            system_apps: SystemApps {
                names: a.system_apps.names.iter().map(|n| self.string("argocd.system-apps.names", n)).collect(),
                selector: a.system_apps.selector.map(|s| self.string("argocd.system-apps.selector", &s)),
                max_sync_wave: a.system_apps.max_sync_wave,
            },
            // Argo CD's own retry backs off 5 s doubling up to 3 min: a Degraded app that stays
            // so for longer than one full backoff is not coming back by itself.
            degraded_grace: a.degraded_grace.map_or(Duration::from_secs(180), |d| self.duration("argocd.degraded-grace", &d)),
        }
    }

    fn budgets(&mut self, b: BudgetsFile) -> Budgets {
        let recreate = b.recreate.as_ref().map_or(Duration::from_secs(30 * 60), |r| self.duration("budgets.recreate", r));
        let mut phase = |name: &str, default: Duration| match b.phases.get(name) {
            Some(v) => self.duration(&format!("budgets.phases.{name}"), v),
            None => default.min(recreate),
        };
        let phases = PhaseBudgets {
            destroy: phase("destroy", Duration::from_secs(10 * 60)),
            apply: phase("apply", Duration::from_secs(15 * 60)),
            kubernetes_api: phase("kubernetes-api", Duration::from_secs(5 * 60)),
            // talosctl health's own --wait-timeout default.
            talos_health: phase("talos-health", Duration::from_secs(20 * 60)),
            argocd: phase("argocd", Duration::from_secs(20 * 60)),
            logs: phase("logs", Duration::from_secs(2 * 60)),
        };
        for (key, value) in &b.phases {
            if !["destroy", "apply", "kubernetes-api", "talos-health", "argocd", "logs"].contains(&key.as_str()) {
                self.problem(value, ProblemKind::BadValue {
                    key: format!("budgets.phases.{key}"),
                    message: "unknown phase; expected one of destroy, apply, kubernetes-api, talos-health, argocd, logs".into(),
                });
            }
        }
        Budgets { recreate, phases }
    }

    fn cycles(&mut self, c: Option<Spanned<u32>>) -> NonZeroU32 {
        match c {
            None => NonZeroU32::new(5).expect("5 is not zero"),
            Some(c) => NonZeroU32::new(c.value).unwrap_or_else(|| {
                let loc = c.referenced;
                self.problems.push(Problem {
                    line: loc.line() as usize,
                    column: loc.column() as usize,
                    kind: ProblemKind::BadValue { key: "cycles-required".into(), message: "must be at least 1".into() },
                });
                NonZeroU32::MIN
            }),
        }
    }

    fn talos_logs(&mut self, t: TalosLogsFile) -> TalosLogsConfig {
        let services = match &t.services {
            Some(s) => s.iter().map(|s| self.string("talos-logs.services", s)).collect(),
            None => DEFAULT_LOG_SERVICES.iter().map(|s| (*s).to_owned()).collect(),
        };
        let allow = t
            .allow
            .iter()
            .map(|a| {
                let pattern = self.string("talos-logs.allow.pattern", &a.pattern);
                if let Err(e) = regex::Regex::new(&pattern) {
                    self.problem(&a.pattern, ProblemKind::BadValue { key: "talos-logs.allow.pattern".into(), message: format!("not a regular expression: {e}") });
                }
                AllowRule {
                    pattern,
                    reason: self.string("talos-logs.allow.reason", &a.reason),
                    origin: Origin { file: self.path.clone(), line: a.pattern.referenced.line() as usize },
                }
            })
            .collect();
        TalosLogsConfig { services, allow }
    }

    fn protected(&mut self, p: ProtectedFile) -> ProtectedConfig {
        let mut resource_types: Vec<String> = DEFAULT_PROTECTED_TYPES.iter().map(|s| (*s).to_owned()).collect();
        resource_types.extend(p.resource_types.iter().map(|t| self.glob("protected.resource-types", t)));
        let addresses = p.addresses.iter().map(|a| self.glob("protected.addresses", a)).collect();
        let inventory = p
            .inventory
            .iter()
            .map(|i| match i {
                InventoryFile::S3Bucket { name, endpoint, bucket } => InventoryCheck::S3Bucket {
                    name: self.string("protected.inventory.name", name),
                    endpoint: self.string("protected.inventory.endpoint", endpoint),
                    bucket: self.string("protected.inventory.bucket", bucket),
                },
                InventoryFile::Command { name, run } => InventoryCheck::Command {
                    name: self.string("protected.inventory.name", name),
                    run: self.string("protected.inventory.run", run),
                },
            })
            .collect();
        ProtectedConfig { resource_types, addresses, inventory }
    }

    fn glob(&mut self, key: &str, value: &S) -> String {
        let s = self.string(key, value);
        if let Err(e) = globset::Glob::new(&s) {
            self.problem(value, ProblemKind::BadValue { key: key.into(), message: format!("not a glob: {e}") });
        }
        s
    }

    fn state_backup(&mut self, s: StateBackupFile, work_dir: &Path) -> StateBackupConfig {
        let keep = match s.keep {
            None => NonZeroUsize::new(10).expect("10 is not zero"),
            Some(k) => NonZeroUsize::new(k.value).unwrap_or_else(|| {
                let loc = k.referenced;
                self.problems.push(Problem {
                    line: loc.line() as usize,
                    column: loc.column() as usize,
                    kind: ProblemKind::BadValue { key: "state-backup.keep".into(), message: "must keep at least 1 backup".into() },
                });
                NonZeroUsize::MIN
            }),
        };
        StateBackupConfig {
            dir: s.dir.map_or_else(|| work_dir.join("state-backups"), |d| self.path("state-backup.dir", &d)),
            keep,
        }
    }

    fn evidence(&mut self, e: EvidenceFile, work_dir: &Path, name: &str) -> EvidenceConfig {
        EvidenceConfig {
            ledger: e.ledger.map_or_else(|| work_dir.join(format!("evidence/{name}.jsonl")), |l| self.path("evidence.ledger", &l)),
            artifacts: e.artifacts.map_or_else(|| work_dir.join("artifacts"), |a| self.path("evidence.artifacts", &a)),
        }
    }

    fn commands(&mut self, c: CommandsFile, infra_repo: &Path) -> CommandsConfig {
        CommandsConfig {
            doc: c.doc.map_or_else(|| infra_repo.join("docs/commands.md"), |d| self.path("commands.doc", &d)),
            values: self.map("commands.values", &c.values),
            timeout: c.timeout.map_or(Duration::from_secs(60), |t| self.duration("commands.timeout", &t)),
        }
    }
}

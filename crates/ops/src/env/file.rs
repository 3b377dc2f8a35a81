//! Stage two of loading: the env.yaml schema, read from the [`yaml`](vixens_config::yaml) tree into an
//! [`Environment`] while every problem is collected (unknown keys at any depth, wrong types,
//! missing keys, bad durations, missing variables, bad globs and regexes).
//!
//! Each reader returns `Option`: `None` means "a problem was recorded here", and loading goes on
//! so that the rest of the file is judged too. An [`Environment`] is returned only when no
//! problem was recorded.

use std::collections::BTreeMap;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use miette::NamedSource;

use super::{
    AllowRule, ArgoCdConfig, Budgets, CommandsConfig, EnvKind, Environment, EvidenceConfig, InventoryCheck, Node as ClusterNode, NodeRole, Origin,
    PhaseBudgets, ProtectedConfig, Provisioning, RuleWindow, S3Credentials, StateBackupConfig, SystemApps, TalosLogsConfig,
};
use vixens_config::error::{EnvConfigError, Problem, ProblemKind};
use vixens_config::vars::{ExpandError, Scope, VarSource, expand};
use vixens_config::yaml::{self, At, Key, Node, Value};

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

const TOP: &[&str] = &[
    "name",
    "kind",
    "description",
    "infra-repo",
    "work-dir",
    "terraform",
    "kubeconfig",
    "kubeconfig-readonly",
    "talosconfig",
    "tools-path",
    "nodes",
    "argocd",
    "budgets",
    "cycles-required",
    "talos-logs",
    "protected",
    "state-backup",
    "evidence",
    "commands",
    "provisioning",
];
const TERRAFORM: &[&str] = &["binary", "root", "data-dir", "vars", "backend-config", "env"];
const NODE: &[&str] = &["name", "address", "role"];
const ARGOCD: &[&str] = &["namespace", "root-app", "system-apps", "degraded-grace"];
const SYSTEM_APPS: &[&str] = &["names", "selector", "max-sync-wave"];
const BUDGETS: &[&str] = &["recreate", "phases"];
const PHASES: &[&str] = &["destroy", "apply", "kubernetes-api", "talos-health", "argocd", "logs"];
const TALOS_LOGS: &[&str] = &["services", "allow", "bootstrap-retries"];
const ALLOW: &[&str] = &["pattern", "reason", "window"];
const PROTECTED: &[&str] = &["resource-types", "addresses", "inventory"];
const INVENTORY_S3: &[&str] = &["kind", "name", "endpoint", "bucket", "access-key", "secret-key", "region"];
const INVENTORY_COMMAND: &[&str] = &["kind", "name", "run"];
const STATE_BACKUP: &[&str] = &["dir", "keep"];
const EVIDENCE: &[&str] = &["ledger", "artifacts"];
const COMMANDS: &[&str] = &["doc", "values", "timeout"];
const PROVISIONING: &[&str] = &["env"];

const A_STRING: &str = "a string";
const A_PATH: &str = "a path (absolute, or relative to the env.yaml's folder)";
const A_DURATION: &str = "a duration such as 30m, 90s or 1h 30m";

pub(super) fn load(path: &Path, vars: &dyn VarSource) -> Result<Environment, EnvConfigError> {
    let text: Arc<str> = match std::fs::read_to_string(path) {
        Ok(text) => text.into(),
        Err(e) => {
            let mut r = Reader::new(path, Arc::from(""), vars);
            r.report(At { line: 1, column: 1, offset: 0, len: 0 }, ProblemKind::Unreadable(e.to_string()));
            return Err(r.into_error());
        }
    };
    let mut r = Reader::new(path, text.clone(), vars);
    let env = match yaml::parse(&text) {
        Ok(root) => r.environment(&root),
        Err(e) => {
            r.report(e.at, ProblemKind::Syntax(e.message));
            None
        }
    };
    match env {
        Some(env) if r.problems.is_empty() => Ok(env),
        _ => Err(r.into_error()),
    }
}

/// Reads the tree and collects problems.
struct Reader<'a> {
    path: PathBuf,
    dir: PathBuf,
    source: NamedSource<Arc<str>>,
    scope: Scope<'a>,
    problems: Vec<Problem>,
}

/// One mapping of the file, its unknown keys already reported.
struct Table<'n> {
    path: String,
    at: At,
    entries: Vec<(&'n Key, &'n Node)>,
    /// False when the node was not a mapping (already reported): missing keys are not reported
    /// on top of that.
    valid: bool,
}

impl<'n> Table<'n> {
    fn key(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The value of `key`; an explicit null counts as absent.
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| *v).filter(|v| !matches!(v.value, Value::Null))
    }

    fn required(&self, r: &mut Reader<'_>, key: &str, expected: &'static str) -> Option<&'n Node> {
        let value = self.get(key);
        if value.is_none() && self.valid {
            r.report(self.at, ProblemKind::MissingKey { key: self.key(key), expected });
        }
        value
    }
}

impl<'a> Reader<'a> {
    fn new(path: &Path, text: Arc<str>, vars: &'a dyn VarSource) -> Self {
        let dir = clean(path.parent().unwrap_or(Path::new(".")));
        let mut builtins = BTreeMap::new();
        builtins.insert("ENV_DIR", dir.display().to_string());
        Self {
            path: path.to_owned(),
            dir,
            source: NamedSource::new(path.display().to_string(), text),
            scope: Scope { builtins, vars },
            problems: Vec::new(),
        }
    }

    fn into_error(mut self) -> EnvConfigError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        EnvConfigError { path: self.path, problems: self.problems }
    }

    fn report(&mut self, at: At, kind: ProblemKind) {
        self.problems.push(Problem { line: at.line, column: at.column, span: (at.offset, at.len).into(), kind, source: self.source.clone() });
    }

    fn table<'n>(&mut self, path: &str, node: &'n Node, known: &'static [&'static str]) -> Table<'n> {
        let entries: Vec<(&Key, &Node)> = match &node.value {
            Value::Map(entries) => entries.iter().map(|(k, v)| (k, v)).collect(),
            Value::Null => Vec::new(),
            other => {
                self.report(node.at, ProblemKind::WrongType { key: display_key(path), expected: "a mapping".into(), found: other.kind() });
                return Table { path: path.to_owned(), at: node.at, entries: Vec::new(), valid: false };
            }
        };
        let table = Table { path: path.to_owned(), at: node.at, entries, valid: true };
        for (key, _) in &table.entries {
            if !known.contains(&key.name.as_str()) {
                let suggestion =
                    known.iter().copied().min_by_key(|k| strsim::levenshtein(k, &key.name)).filter(|k| strsim::levenshtein(k, &key.name) <= 2);
                self.report(key.at, ProblemKind::UnknownKey { key: table.key(&key.name), expected: known.to_vec(), suggestion });
            }
        }
        table
    }

    /// An optional section: its table, or an empty one.
    fn section<'n>(&mut self, parent: &Table<'n>, key: &str, known: &'static [&'static str]) -> Table<'n> {
        match parent.get(key) {
            Some(node) => self.table(&parent.key(key), node, known),
            None => Table { path: parent.key(key), at: parent.at, entries: Vec::new(), valid: true },
        }
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
            Value::Bool | Value::Int(_) | Value::Float => Some(self.source.inner()[node.at.offset..node.at.offset + node.at.len].to_owned()),
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
        let text = &self.source.inner()[node.at.offset..node.at.offset + node.at.len];
        let needle = format!("${{{name}");
        match text.find(&needle) {
            Some(i) => {
                let len = text[i..].find('}').map_or(needle.len(), |e| e + 1);
                node.at.within(text, i, len)
            }
            None => node.at,
        }
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

    fn environment(&mut self, root: &Node) -> Option<Environment> {
        let top = self.table("", root, TOP);
        if !top.valid {
            return None;
        }
        let name = top.required(self, "name", "the environment's name (lab, dev, prod)").and_then(|n| self.string("name", n));
        if let Some(name) = &name {
            self.scope.builtins.insert("ENV_NAME", name.clone());
        }
        let kind = top
            .required(self, "kind", "disposable or protected")
            .and_then(|n| self.choice("kind", n, &[("disposable", EnvKind::Disposable), ("protected", EnvKind::Protected)]));
        let infra_repo = top.required(self, "infra-repo", A_PATH).and_then(|n| self.path("infra-repo", n));
        let work_dir = match top.get("work-dir") {
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

        let description = top.get("description").and_then(|n| self.string("description", n)).unwrap_or_default();
        let terraform = top.required(self, "terraform", "the terraform root module and binary").and_then(|n| self.terraform(n));
        let kubeconfig = top.required(self, "kubeconfig", A_PATH).and_then(|n| self.path("kubeconfig", n));
        let kubeconfig_readonly = top.get("kubeconfig-readonly").and_then(|n| self.path("kubeconfig-readonly", n));
        let talosconfig = top.required(self, "talosconfig", A_PATH).and_then(|n| self.path("talosconfig", n));
        let tools_path =
            top.get("tools-path").and_then(|n| self.list("tools-path", n, "a list of folders", |r, k, n| r.path(k, n))).unwrap_or_default();
        let nodes = top.required(self, "nodes", "the cluster's nodes (name, address, role)").and_then(|n| self.nodes(n));
        let argocd = top.required(self, "argocd", "where Argo CD runs and which apps are system apps").and_then(|n| self.argocd(n));
        let budgets = self.budgets(&top);
        let cycles_required = top.get("cycles-required").map_or(NonZeroU32::new(5), |n| {
            self.integer::<u32>("cycles-required", n, "a whole number of cycles").and_then(|c| {
                let c = NonZeroU32::new(c);
                if c.is_none() {
                    self.bad_value("cycles-required", n.at, "0 cycles proves nothing; expected at least 1".into());
                }
                c
            })
        });
        let talos_logs = self.talos_logs(&top);
        let protected = self.protected(&top);
        let state_backup = self.state_backup(&top, &work_dir);
        let evidence = self.evidence(&top, &work_dir, &name);
        let commands = self.commands(&top, &infra_repo);
        let provisioning = top.get("provisioning").map(|n| {
            let t = self.table("provisioning", n, PROVISIONING);
            Provisioning { env: t.get("env").and_then(|n| self.string_map("provisioning.env", n)).unwrap_or_default() }
        });

        Some(Environment {
            name,
            kind: kind?,
            description,
            file: clean(&std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone())),
            infra_repo,
            work_dir,
            terraform: terraform?,
            kubeconfig: kubeconfig?,
            kubeconfig_readonly,
            talosconfig: talosconfig?,
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

    fn terraform(&mut self, node: &Node) -> Option<vixens_drivers::terraform::Config> {
        let t = self.table("terraform", node, TERRAFORM);
        let binary = t.get("binary").map_or(Some("terraform".to_owned()), |n| self.string("terraform.binary", n));
        let root = t.required(self, "root", "the root module folder (terraform -chdir)").and_then(|n| self.path("terraform.root", n));
        let data_dir = optional(t.get("data-dir").map(|n| self.path("terraform.data-dir", n)));
        let vars = t.get("vars").map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.vars", n));
        let backend_config = t.get("backend-config").map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.backend-config", n));
        let env = t.get("env").map_or(Some(BTreeMap::new()), |n| self.string_map("terraform.env", n));
        Some(vixens_drivers::terraform::Config {
            binary: binary?,
            root: root?,
            data_dir: data_dir?,
            vars: vars?,
            backend_config: backend_config?,
            env: env?,
        })
    }

    fn nodes(&mut self, node: &Node) -> Option<Vec<ClusterNode>> {
        self.list("nodes", node, "a list of nodes", |r, key, n| {
            let t = r.table(key, n, NODE);
            let name = t.required(r, "name", "the node's hostname").and_then(|n| r.string(&t.key("name"), n));
            let address = t.required(r, "address", "the address talosctl -n uses").and_then(|n| r.string(&t.key("address"), n));
            let role = t
                .required(r, "role", "controlplane or worker")
                .and_then(|n| r.choice(&t.key("role"), n, &[("controlplane", NodeRole::Controlplane), ("worker", NodeRole::Worker)]));
            Some(ClusterNode { name: name?, address: address?, role: role? })
        })
    }

    fn argocd(&mut self, node: &Node) -> Option<ArgoCdConfig> {
        let t = self.table("argocd", node, ARGOCD);
        let namespace = t.get("namespace").map_or(Some("argocd".into()), |n| self.string("argocd.namespace", n));
        let root_app = t.get("root-app").map_or(Some("vixens-app-of-apps".into()), |n| self.string("argocd.root-app", n));
        // Argo CD's own retry backs off 5 s doubling up to 3 min: a Degraded app that stays so
        // for longer than one full backoff is not coming back by itself.
        let degraded_grace = t.get("degraded-grace").map_or(Some(Duration::from_secs(180)), |n| self.duration("argocd.degraded-grace", n));
        let system_apps = t.required(self, "system-apps", "names, selector and/or max-sync-wave").and_then(|n| {
            let s = self.table("argocd.system-apps", n, SYSTEM_APPS);
            let names = s.get("names").map_or(Some(Vec::new()), |n| self.strings("argocd.system-apps.names", n));
            let selector = optional(s.get("selector").map(|n| self.selector("argocd.system-apps.selector", n)));
            let max_sync_wave =
                optional(s.get("max-sync-wave").map(|n| self.integer::<i32>("argocd.system-apps.max-sync-wave", n, "a sync wave (an integer)")));
            let apps = SystemApps { names: names?, selector: selector?, max_sync_wave: max_sync_wave? };
            if s.valid && apps.names.is_empty() && apps.selector.is_none() && apps.max_sync_wave.is_none() {
                self.bad_value("argocd.system-apps", n.at, "defines no system app; expected names, selector or max-sync-wave".into());
            }
            Some(apps)
        });
        Some(ArgoCdConfig { namespace: namespace?, root_app: root_app?, system_apps: system_apps?, degraded_grace: degraded_grace? })
    }

    /// A label selector in kubectl's syntax: `key=value`, `key!=value`, `key`, `!key`,
    /// `key in (a,b)`, `key notin (a,b)`, joined by commas.
    fn selector(&mut self, key: &str, node: &Node) -> Option<String> {
        let s = self.string(key, node)?;
        let name = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?";
        let requirement = format!(r"\s*(!?{name}|{name}\s*(=|==|!=)\s*({name})?|{name}\s+(in|notin)\s+\(\s*{name}?(\s*,\s*{name})*\s*\))\s*");
        let full = regex::Regex::new(&format!("^{requirement}(,{requirement})*$")).expect("the selector grammar is a valid regex");
        if full.is_match(&s) {
            Some(s)
        } else {
            self.bad_value(key, node.at, format!("{s:?} is not a label selector; expected for example tier=system or app in (a,b)"));
            None
        }
    }

    fn budgets(&mut self, top: &Table<'_>) -> Option<Budgets> {
        let b = self.section(top, "budgets", BUDGETS);
        let recreate = b.get("recreate").map_or(Some(Duration::from_secs(30 * 60)), |n| self.duration("budgets.recreate", n));
        let p = self.section(&b, "phases", PHASES);
        let limit = recreate.unwrap_or(Duration::MAX);
        let phase = |r: &mut Self, name: &str, default: Duration| match p.get(name) {
            Some(n) => {
                let key = p.key(name);
                let d = r.duration(&key, n)?;
                if d > limit {
                    r.bad_value(
                        &key,
                        n.at,
                        format!(
                            "{} does not fit in budgets.recreate ({}); expected at most that",
                            humantime::format_duration(d),
                            humantime::format_duration(limit)
                        ),
                    );
                    return None;
                }
                Some(d)
            }
            None => Some(default.min(limit)),
        };
        let destroy = phase(self, "destroy", Duration::from_secs(10 * 60));
        let apply = phase(self, "apply", Duration::from_secs(15 * 60));
        let kubernetes_api = phase(self, "kubernetes-api", Duration::from_secs(5 * 60));
        // talosctl health's own --wait-timeout default.
        let talos_health = phase(self, "talos-health", Duration::from_secs(20 * 60));
        let argocd = phase(self, "argocd", Duration::from_secs(20 * 60));
        let logs = phase(self, "logs", Duration::from_secs(2 * 60));
        let phases = PhaseBudgets {
            destroy: destroy?,
            apply: apply?,
            kubernetes_api: kubernetes_api?,
            talos_health: talos_health?,
            argocd: argocd?,
            logs: logs?,
        };
        Some(Budgets { recreate: recreate?, phases })
    }

    fn talos_logs(&mut self, top: &Table<'_>) -> Option<TalosLogsConfig> {
        let t = self.section(top, "talos-logs", TALOS_LOGS);
        let services = match t.get("services") {
            Some(n) => self.strings("talos-logs.services", n),
            None => Some(DEFAULT_LOG_SERVICES.iter().map(|s| (*s).to_owned()).collect()),
        };
        let allow = t.get("allow").map_or(Some(Vec::new()), |n| {
            self.list("talos-logs.allow", n, "a list of rules (pattern, reason)", |r, key, n| {
                let a = r.table(key, n, ALLOW);
                let pattern = a.required(r, "pattern", "a regular expression").and_then(|p| {
                    let s = r.string(&a.key("pattern"), p)?;
                    match regex::Regex::new(&s) {
                        Ok(_) => Some((s, p.at.line)),
                        Err(e) => {
                            r.bad_value(&a.key("pattern"), p.at, format!("not a regular expression: {}", last_line(&e.to_string())));
                            None
                        }
                    }
                });
                let reason = a.required(r, "reason", "why these lines are benign (reviewed)").and_then(|n| r.string(&a.key("reason"), n));
                let window = a.get("window").map_or(Some(RuleWindow::Always), |n| {
                    r.choice(&a.key("window"), n, &[("always", RuleWindow::Always), ("bootstrap", RuleWindow::Bootstrap)])
                });
                let (pattern, line) = pattern?;
                Some(AllowRule { pattern, reason: reason?, origin: Origin::File { file: r.path.clone(), line }, window: window? })
            })
        });
        let bootstrap_retries = t.get("bootstrap-retries").map_or(Some(3), |n| {
            self.integer::<u64>("talos-logs.bootstrap-retries", n, "how many times a retried failure may repeat inside the bootstrap window")
        });
        Some(TalosLogsConfig { services: services?, allow: allow?, bootstrap_retries: bootstrap_retries? })
    }

    fn protected(&mut self, top: &Table<'_>) -> Option<ProtectedConfig> {
        let p = self.section(top, "protected", PROTECTED);
        let mut resource_types: Vec<String> = DEFAULT_PROTECTED_TYPES.iter().map(|s| (*s).to_owned()).collect();
        let extra =
            p.get("resource-types").map_or(Some(Vec::new()), |n| self.list("protected.resource-types", n, "a list of globs", |r, k, n| r.glob(k, n)));
        let addresses =
            p.get("addresses").map_or(Some(Vec::new()), |n| self.list("protected.addresses", n, "a list of globs", |r, k, n| r.glob(k, n)));
        let inventory = p.get("inventory").map_or(Some(Vec::new()), |n| {
            self.list("protected.inventory", n, "a list of checks (kind s3-bucket or command)", |r, key, n| r.inventory(key, n))
        });
        resource_types.extend(extra?);
        Some(ProtectedConfig { resource_types, addresses: addresses?, inventory: inventory? })
    }

    fn inventory(&mut self, key: &str, node: &Node) -> Option<InventoryCheck> {
        #[derive(Clone, Copy)]
        enum Kind {
            S3,
            Command,
        }
        let kind = match &node.value {
            Value::Map(entries) => entries.iter().find(|(k, _)| k.name == "kind").map(|(_, v)| v),
            _ => None,
        };
        let Some(kind_node) = kind else {
            // Not a mapping, or no kind: judge it against the union of both shapes.
            let t = self.table(key, node, INVENTORY_S3);
            t.required(self, "kind", "s3-bucket or command");
            return None;
        };
        let kind = self.choice(&format!("{key}.kind"), kind_node, &[("s3-bucket", Kind::S3), ("command", Kind::Command)])?;
        match kind {
            Kind::S3 => {
                let t = self.table(key, node, INVENTORY_S3);
                let name = t.required(self, "name", "a name for messages").and_then(|n| self.string(&t.key("name"), n));
                let endpoint = t.required(self, "endpoint", "the S3 endpoint URL").and_then(|n| self.string(&t.key("endpoint"), n));
                let bucket = t.required(self, "bucket", "the bucket's name").and_then(|n| self.string(&t.key("bucket"), n));
                let credentials = self.s3_credentials(&t, node);
                Some(InventoryCheck::S3Bucket { name: name?, endpoint: endpoint?, bucket: bucket?, credentials })
            }
            Kind::Command => {
                let t = self.table(key, node, INVENTORY_COMMAND);
                let name = t.required(self, "name", "a name for messages").and_then(|n| self.string(&t.key("name"), n));
                let run = t.required(self, "run", "a bash command listing one item per line").and_then(|n| self.string(&t.key("run"), n));
                Some(InventoryCheck::Command { name: name?, run: run? })
            }
        }
    }

    /// `access-key` and `secret-key` (both or neither) and `region` of an `s3-bucket` check.
    fn s3_credentials(&mut self, t: &Table<'_>, node: &Node) -> Option<S3Credentials> {
        let access_key = t.get("access-key").and_then(|n| self.string(&t.key("access-key"), n));
        let secret_key = t.get("secret-key").and_then(|n| self.string(&t.key("secret-key"), n));
        let region = t.get("region").map_or(Some("us-east-1".to_owned()), |n| self.string(&t.key("region"), n))?;
        match (access_key, secret_key) {
            (Some(access_key), Some(secret_key)) => Some(S3Credentials { access_key, secret_key, region }),
            (None, None) => None,
            _ => {
                self.bad_value(&t.path, node.at, "access-key and secret-key go together; expected both or neither".into());
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

    fn state_backup(&mut self, top: &Table<'_>, work_dir: &Path) -> Option<StateBackupConfig> {
        let s = self.section(top, "state-backup", STATE_BACKUP);
        let dir = s.get("dir").map_or(Some(work_dir.join("state-backups")), |n| self.path("state-backup.dir", n));
        let keep = s.get("keep").map_or(NonZeroUsize::new(10), |n| {
            let keep = self.integer::<usize>("state-backup.keep", n, "a number of backups").map(NonZeroUsize::new)?;
            if keep.is_none() {
                self.bad_value("state-backup.keep", n.at, "keeping 0 backups loses the state; expected at least 1".into());
            }
            keep
        });
        Some(StateBackupConfig { dir: dir?, keep: keep? })
    }

    fn evidence(&mut self, top: &Table<'_>, work_dir: &Path, name: &str) -> Option<EvidenceConfig> {
        let e = self.section(top, "evidence", EVIDENCE);
        let ledger = e.get("ledger").map_or(Some(work_dir.join(format!("evidence/{name}.jsonl"))), |n| self.path("evidence.ledger", n));
        let artifacts = e.get("artifacts").map_or(Some(work_dir.join("artifacts")), |n| self.path("evidence.artifacts", n));
        Some(EvidenceConfig { ledger: ledger?, artifacts: artifacts? })
    }

    fn commands(&mut self, top: &Table<'_>, infra_repo: &Path) -> Option<CommandsConfig> {
        let c = self.section(top, "commands", COMMANDS);
        let doc = c.get("doc").map_or(Some(infra_repo.join("docs/commands.md")), |n| self.path("commands.doc", n));
        let values = c.get("values").map_or(Some(BTreeMap::new()), |n| self.string_map("commands.values", n));
        let timeout = c.get("timeout").map_or(Some(Duration::from_secs(60)), |n| self.duration("commands.timeout", n));
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

fn display_key(path: &str) -> String {
    if path.is_empty() { "(the file)".to_owned() } else { path.to_owned() }
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
        assert_eq!(env.argocd.system_apps.max_sync_wave, Some(2));
        assert_eq!(env.budgets.recreate, Duration::from_secs(1800));
        assert_eq!(env.cycles_required.get(), 5);
        assert_eq!(env.state_backup.dir, root.join("target/vixens/lab/state-backups"));
        assert_eq!(env.evidence.ledger, root.join("target/vixens/lab/evidence/lab.jsonl"));
        assert_eq!(env.commands.doc, root.join("docs/commands.md"));
        assert!(env.protected.resource_types.iter().any(|t| t == "synology_*"));
        assert!(env.provisioning.is_none());
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
        &["7:1: unknown key `kubconfig`; expected one of: name, kind, description, infra-repo, work-dir, terraform, kubeconfig, kubeconfig-readonly, talosconfig, tools-path, nodes, argocd, budgets, cycles-required, talos-logs, protected, state-backup, evidence, commands, provisioning"]
    )]
    #[case::unknown_nested_key(
        "    max-sync-wave: 2\n",
        "    max-sync-wave: 2\n    label: system\n",
        &["13:5: unknown key `argocd.system-apps.label`; expected one of: names, selector, max-sync-wave"]
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
        &["12:5: `argocd.system-apps`: defines no system app; expected names, selector or max-sync-wave"]
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
                "4:1: unknown key `colour`; expected one of: name, kind, description, infra-repo, work-dir, terraform, kubeconfig, kubeconfig-readonly, talosconfig, tools-path, nodes, argocd, budgets, cycles-required, talos-logs, protected, state-backup, evidence, commands, provisioning",
                "6:9: `terraform.root`: environment variable VIXENS_TERRAFORM_REPO is not set",
                "7:3: unknown key `terraform.binry`; expected one of: binary, root, data-dir, vars, backend-config, env",
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

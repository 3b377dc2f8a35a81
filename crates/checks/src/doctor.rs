//! The preflight behind `vixens doctor ENV`: before any suite touches an environment, check that
//! the tools are there (with their versions), that the configuration files can be read, and that
//! the Kubernetes and Talos APIs answer. Each failed check carries its remedy.
//!
//! Checks return a [`Report`]; they never print. Secrets read from the kubeconfig and the
//! talosconfig are registered with a [`Redactor`] before any detail is written, so that a token
//! never reaches the output.
//!
//! The last check resolves `argocd.system-apps` into the list of system apps, each with the rule
//! that selected it: from the GitOps repository's overlay (`argocd.gitops`) when env.yaml names
//! one, else from the cluster's Applications when its API answers.
//!
//! An environment the harness provisions itself (the lab, `provisioning` in env.yaml) has no
//! kubeconfig, talosconfig or talosctl stand-in until it is brought up: for it, their absence is
//! a warning, not a failure.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use vixens_drivers::process::Command;
use vixens_ops::env::Environment;

mod system_apps;

/// How long a tool's `version` may take.
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long an API may take to accept a connection or answer `GET /version`.
const API_TIMEOUT: Duration = Duration::from_secs(5);
/// The Talos API's port when an endpoint names none (apid listens on 50000).
const TALOS_API_PORT: u16 = 50000;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Present and working.
    Ok,
    /// Not there, but not needed yet (an environment the harness has not brought up).
    Warn,
    /// Required and missing or broken: the environment cannot be tested.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`terraform`, `kubeconfig`, `kubernetes-api`, ...).
    pub name: &'static str,
    /// The outcome.
    pub status: Status,
    /// What was found (a version, a path, an address); redacted.
    pub detail: String,
    /// What to do about a failure or warning.
    pub remedy: Option<String>,
}

/// Every check for one environment, in the order they ran.
#[derive(Debug, Clone)]
pub struct Report {
    /// The environment's name.
    pub env: String,
    /// Its env.yaml.
    pub file: PathBuf,
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when no required check failed.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.failures() == 0
    }

    /// How many checks failed.
    #[must_use]
    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|c| c.status == Status::Fail).count()
    }
}

/// Runs every check for `env`.
#[must_use]
pub fn run(env: &Environment) -> Report {
    let redactor = env.redactor();
    let doctor = Doctor { env, provisioned_by_harness: env.provisioning.is_some(), search_path: search_path(env) };
    let mut checks = vec![Check {
        name: "env.yaml",
        status: Status::Ok,
        detail: format!("{} loads: {} environment, {} node(s)", env.file.display(), kind_name(env), env.nodes.len()),
        remedy: None,
    }];
    checks.push(doctor.terraform());
    checks.push(doctor.talosctl());
    checks.push(doctor.kubectl());
    checks.push(doctor.terraform_root());
    checks.push(doctor.infra_repo());
    let kubeconfig = doctor.kubeconfig("kubeconfig", &env.kubeconfig);
    let kube_ok = kubeconfig.status == Status::Ok;
    checks.push(kubeconfig);
    if let Some(readonly) = &env.kubeconfig_readonly {
        let check = doctor.kubeconfig("kubeconfig-readonly", readonly);
        let usable = check.status == Status::Ok;
        checks.push(check);
        if usable && kube_ok {
            checks.push(read_only_freshness(env, readonly, jiff::Timestamp::now()));
        }
    } else if let Some(message) = vixens_ops::env::missing_read_only_identity(env) {
        let remedy =
            "set `kubeconfig-readonly` in env.yaml: a kubeconfig whose user may only get, list and watch (a ServiceAccount token, for instance)";
        checks.push(Check { name: "kubeconfig-readonly", status: Status::Fail, detail: message, remedy: Some(remedy.to_owned()) });
    }
    let (talosconfig, endpoints) = doctor.talosconfig();
    checks.push(talosconfig);
    checks.push(if kube_ok { doctor.kubernetes_api() } else { doctor.skipped("kubernetes-api", "no usable kubeconfig") });
    checks.push(match endpoints {
        Some(endpoints) => talos_api(&endpoints, &env.talosconfig),
        None => doctor.skipped("talos-api", "no usable talosconfig"),
    });
    let api_ok = checks.iter().any(|c| c.name == "kubernetes-api" && c.status == Status::Ok);
    checks.push(system_apps::check(env, api_ok));
    for check in &mut checks {
        check.detail = redactor.redact(&check.detail);
        check.remedy = check.remedy.as_deref().map(|r| redactor.redact(r));
    }
    Report { env: env.name.clone(), file: env.file.clone(), checks }
}

/// How long before its token expires a read-only kubeconfig is worth refreshing: a recreate
/// cycle's budget, so that none starts with a token that dies during it.
const READ_ONLY_EXPIRY_WARNING: Duration = Duration::from_secs(30 * 60);

/// Whether the read-only kubeconfig still works with this incarnation of the cluster: same
/// server and CA as the admin kubeconfig, and a token not expired or about to (its `exp`).
fn read_only_freshness(env: &Environment, readonly: &Path, now: jiff::Timestamp) -> Check {
    use vixens_kube::identity::{ClusterAccess, Freshness, inspect};
    const NAME: &str = "read-only-identity";
    let remedy = if env.credentials.as_ref().is_some_and(|c| c.readonly.is_some()) {
        format!("run `vixens credentials {}`: it mints a new token and rewrites {}", env.name, readonly.display())
    } else {
        format!("make a new token for it; or set `credentials.readonly` in env.yaml so that `vixens credentials {}` mints one", env.name)
    };
    let (readonly_access, admin) = match (ClusterAccess::read(readonly), ClusterAccess::read(&env.kubeconfig)) {
        (Ok(readonly), Ok(admin)) => (readonly, admin),
        (Err(e), _) | (_, Err(e)) => return Check { name: NAME, status: Status::Fail, detail: e.to_string(), remedy: Some(remedy) },
    };
    let (status, detail) = match inspect(&readonly_access, &admin, now, READ_ONLY_EXPIRY_WARNING) {
        Freshness::Fresh { expires: Some(expires) } => (Status::Ok, format!("matches the admin kubeconfig; its token is valid until {expires}")),
        Freshness::Fresh { expires: None } => (Status::Ok, "matches the admin kubeconfig; its token carries no expiry".to_owned()),
        Freshness::Expiring { expires } => (Status::Warn, format!("its token expires soon, at {expires}")),
        Freshness::Expired { expired } => (Status::Fail, format!("its token expired at {expired}: the API refuses it (401)")),
        Freshness::Stale { differs } => (Status::Fail, format!("stale: {differs}: it was made for an earlier cluster")),
    };
    let remedy = (status != Status::Ok).then_some(remedy);
    Check { name: NAME, status, detail, remedy }
}

fn kind_name(env: &Environment) -> &'static str {
    if env.is_protected() { "protected" } else { "disposable" }
}

/// The folders searched for tools: the environment's tools-path first, then `PATH`.
fn search_path(env: &Environment) -> Vec<PathBuf> {
    let mut dirs = env.tools_path.clone();
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    dirs
}

/// The executable `program` names: itself when it has a `/`, else the first match in `dirs`.
fn find_program(program: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if program.contains('/') {
        return is_executable(Path::new(program)).then(|| PathBuf::from(program));
    }
    dirs.iter().map(|d| d.join(program)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

struct Doctor<'a> {
    env: &'a Environment,
    provisioned_by_harness: bool,
    search_path: Vec<PathBuf>,
}

impl Doctor<'_> {
    /// A check whose subject does not exist yet: a warning for an environment the harness brings
    /// up itself, a failure otherwise.
    fn absent(&self, name: &'static str, detail: String, remedy: String) -> Check {
        if self.provisioned_by_harness {
            Check {
                name,
                status: Status::Warn,
                detail: format!("{detail} (not brought up yet)"),
                remedy: Some(format!("the suites bring {} up; or {remedy}", self.env.name)),
            }
        } else {
            Check { name, status: Status::Fail, detail, remedy: Some(remedy) }
        }
    }

    fn skipped(&self, name: &'static str, why: &str) -> Check {
        self.absent(name, format!("not checked: {why}"), "fix the check above first".to_owned())
    }

    /// Runs `program args` with the tools path first on PATH and terraform's environment.
    fn version(&self, path: &Path, args: &[&str], env: &BTreeMap<String, String>) -> Result<String, String> {
        let mut command = Command::new(path).args(args).timeout(TOOL_TIMEOUT).env("PATH", self.path_var());
        for (name, value) in env {
            command = command.env(name, value);
        }
        match command.run() {
            Ok(done) if done.success() => Ok(done.stdout),
            Ok(done) => Err(format!("`{} {}` exited {}: {}", path.display(), args.join(" "), done.code(), done.stderr_tail(3).trim())),
            Err(e) => Err(e.to_string()),
        }
    }

    fn path_var(&self) -> OsString {
        std::env::join_paths(&self.search_path).unwrap_or_default()
    }

    fn terraform(&self) -> Check {
        let binary = &self.env.terraform.binary;
        let Some(path) = find_program(binary, &self.search_path) else {
            return Check {
                name: "terraform",
                status: Status::Fail,
                detail: format!("`{binary}` not found in tools-path or PATH"),
                remedy: Some(format!("install {binary} (terraform >= 1.5, or OpenTofu with `terraform.binary: tofu` in env.yaml)")),
            };
        };
        match self.version(&path, &["version", "-json"], &self.env.terraform.process_env()) {
            Ok(out) => {
                let version = serde_json::from_str::<serde_json::Value>(&out)
                    .ok()
                    .and_then(|v| v.get("terraform_version").and_then(|v| v.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| out.lines().next().unwrap_or("").to_owned());
                Check { name: "terraform", status: Status::Ok, detail: format!("{binary} v{version} ({})", path.display()), remedy: None }
            }
            Err(e) => Check { name: "terraform", status: Status::Fail, detail: e, remedy: Some(format!("reinstall {binary}")) },
        }
    }

    fn talosctl(&self) -> Check {
        let Some(path) = find_program("talosctl", &self.search_path) else {
            return self.absent(
                "talosctl",
                "not found in tools-path or PATH".to_owned(),
                "install talosctl (the version of your Talos nodes) on PATH, or add its folder to tools-path in env.yaml".to_owned(),
            );
        };
        match self.version(&path, &["version", "--client"], &BTreeMap::new()) {
            Ok(out) => {
                // `Tag:` in the long client block of `talosctl version` (talosctl v1.13.9, cmd/talos/version.go).
                let tag = out
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("Tag:").map(str::trim))
                    .or_else(|| out.lines().map(str::trim).find(|l| !l.is_empty() && *l != "Client:"))
                    .unwrap_or("unknown version");
                Check { name: "talosctl", status: Status::Ok, detail: format!("talosctl {tag} ({})", path.display()), remedy: None }
            }
            Err(e) => Check { name: "talosctl", status: Status::Fail, detail: e, remedy: Some("reinstall talosctl".to_owned()) },
        }
    }

    fn kubectl(&self) -> Check {
        let Some(path) = find_program("kubectl", &self.search_path) else {
            return Check {
                name: "kubectl",
                status: Status::Fail,
                detail: "not found in tools-path or PATH".to_owned(),
                remedy: Some("install kubectl (Debian: apt-get install kubernetes-client); the documented commands run it".to_owned()),
            };
        };
        match self.version(&path, &["version", "--client", "-o", "json"], &BTreeMap::new()) {
            Ok(out) => {
                let version = serde_json::from_str::<serde_json::Value>(&out)
                    .ok()
                    .and_then(|v| v.pointer("/clientVersion/gitVersion").and_then(|v| v.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| "unknown version".to_owned());
                Check { name: "kubectl", status: Status::Ok, detail: format!("kubectl {version} ({})", path.display()), remedy: None }
            }
            Err(e) => Check { name: "kubectl", status: Status::Fail, detail: e, remedy: Some("reinstall kubectl".to_owned()) },
        }
    }

    fn terraform_root(&self) -> Check {
        let root = &self.env.terraform.root;
        let modules = std::fs::read_dir(root).map(|entries| entries.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".tf")).count());
        match modules {
            Ok(n) if n > 0 => {
                Check { name: "terraform-root", status: Status::Ok, detail: format!("{} ({n} .tf files)", root.display()), remedy: None }
            }
            Ok(_) => Check {
                name: "terraform-root",
                status: Status::Fail,
                detail: format!("{} holds no .tf file", root.display()),
                remedy: Some("point terraform.root in env.yaml at the environment's root module".to_owned()),
            },
            Err(e) => Check {
                name: "terraform-root",
                status: Status::Fail,
                detail: format!("{} is not readable: {e}", root.display()),
                remedy: Some("point terraform.root in env.yaml at the environment's root module (is VIXENS_TERRAFORM_REPO right?)".to_owned()),
            },
        }
    }

    fn infra_repo(&self) -> Check {
        let repo = &self.env.infra_repo;
        if repo.is_dir() {
            Check { name: "infra-repo", status: Status::Ok, detail: repo.display().to_string(), remedy: None }
        } else {
            Check {
                name: "infra-repo",
                status: Status::Fail,
                detail: format!("{} is not a folder", repo.display()),
                remedy: Some("point infra-repo in env.yaml at the GitOps repository (is VIXENS_REPO right?)".to_owned()),
            }
        }
    }

    fn kubeconfig(&self, name: &'static str, path: &Path) -> Check {
        if !path.exists() {
            return self.absent(
                name,
                format!("{} does not exist", path.display()),
                format!("put the kubeconfig at {} or fix `{name}` in env.yaml", path.display()),
            );
        }
        match kube::config::Kubeconfig::read_from(path) {
            Ok(config) => {
                let context = config.current_context.clone().unwrap_or_else(|| "(none)".to_owned());
                let server = current_server(&config).unwrap_or_else(|| "no server".to_owned());
                Check { name, status: Status::Ok, detail: format!("{} (context {context}, server {server})", path.display()), remedy: None }
            }
            Err(e) => Check {
                name,
                status: Status::Fail,
                detail: format!("{} is not a usable kubeconfig: {e}", path.display()),
                remedy: Some("regenerate it (terraform output, or talosctl kubeconfig)".to_owned()),
            },
        }
    }

    /// The talosconfig check, and the endpoints of its current context when it is usable.
    fn talosconfig(&self) -> (Check, Option<Vec<String>>) {
        let path = &self.env.talosconfig;
        if !path.exists() {
            let remedy = format!("put the talosconfig at {} or fix `talosconfig` in env.yaml", path.display());
            return (self.absent("talosconfig", format!("{} does not exist", path.display()), remedy), None);
        }
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_saphyr::from_str::<TalosConfig>(&text).map_err(|e| e.to_string().lines().next().unwrap_or("").to_owned()));
        let fail = |detail: String| Check {
            name: "talosconfig",
            status: Status::Fail,
            detail,
            remedy: Some("regenerate it (terraform output, or talosctl gen config)".to_owned()),
        };
        match parsed {
            Ok(config) => match config.current() {
                Some((context, endpoints)) if !endpoints.is_empty() => {
                    let detail = format!("{} (context {context}, endpoints {})", path.display(), endpoints.join(", "));
                    (Check { name: "talosconfig", status: Status::Ok, detail, remedy: None }, Some(endpoints))
                }
                Some((context, _)) => (fail(format!("{}: context {context} has no endpoints", path.display())), None),
                None => (fail(format!("{}: its current context is not defined", path.display())), None),
            },
            Err(e) => (fail(format!("{} is not a usable talosconfig: {e}", path.display())), None),
        }
    }

    fn kubernetes_api(&self) -> Check {
        let started = Instant::now();
        let server = kube::config::Kubeconfig::read_from(&self.env.kubeconfig).ok().and_then(|c| current_server(&c)).unwrap_or_default();
        match server_version(&self.env.kubeconfig) {
            Ok(version) => Check {
                name: "kubernetes-api",
                status: Status::Ok,
                detail: format!("{server} answered GET /version: Kubernetes {version} in {} ms", started.elapsed().as_millis()),
                remedy: None,
            },
            Err(ApiProbe::Unauthorized) => Check {
                name: "kubernetes-api",
                status: Status::Fail,
                detail: format!("{server} answered 401 Unauthorized: it does not accept the credentials of {}", self.env.kubeconfig.display()),
                remedy: Some("regenerate the kubeconfig (talosctl kubeconfig, or terraform output): its token or certificate is stale".to_owned()),
            },
            Err(ApiProbe::Unreachable(e)) => self.absent(
                "kubernetes-api",
                format!("{server} unreachable: {e}"),
                format!(
                    "is the cluster up and the VIP reachable from here? try `kubectl --kubeconfig {} get --raw /version`",
                    self.env.kubeconfig.display()
                ),
            ),
        }
    }
}

/// The server URL of the kubeconfig's current context.
fn current_server(config: &kube::config::Kubeconfig) -> Option<String> {
    let current = config.current_context.as_deref()?;
    let context = config.contexts.iter().find(|c| c.name == current)?.context.as_ref()?;
    let cluster = config.clusters.iter().find(|c| c.name == context.cluster)?.cluster.as_ref()?;
    cluster.server.clone()
}

/// Why `GET /version` gave no version.
enum ApiProbe {
    /// The server answered, and refused the credentials.
    Unauthorized,
    /// No usable answer.
    Unreachable(String),
}

/// `GET /version` with the kubeconfig's credentials: the Kubernetes version, or why there is none.
fn server_version(kubeconfig: &Path) -> Result<String, ApiProbe> {
    match vixens_ops::probe::api(kubeconfig, "kubeconfig", API_TIMEOUT * 2) {
        Ok(version) => Ok(version.git_version),
        Err(vixens_kube::Error::Unauthorized { .. }) => Err(ApiProbe::Unauthorized),
        Err(error) => Err(ApiProbe::Unreachable(vixens_diagnostic::error_chain(&error))),
    }
}

/// A TCP connection to each Talos endpoint: the API is reachable when every one accepts.
fn talos_api(endpoints: &[String], talosconfig: &Path) -> Check {
    let results: Vec<(String, Result<(), String>)> = endpoints.iter().map(|e| (e.clone(), connect(e))).collect();
    let reachable = results.iter().filter(|(_, r)| r.is_ok()).count();
    let detail = results
        .iter()
        .map(|(e, r)| match r {
            Ok(()) => format!("{e} accepts connections"),
            Err(why) => format!("{e} unreachable ({why})"),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let (status, remedy) = match reachable {
        n if n == results.len() => (Status::Ok, None),
        0 => (
            Status::Fail,
            Some(format!("are the nodes up and the Talos VIP reachable from here? try `talosctl --talosconfig {} version`", talosconfig.display())),
        ),
        _ => (Status::Warn, Some("some endpoints are down: talosctl fails over, but check them".to_owned())),
    };
    Check { name: "talos-api", status, detail, remedy }
}

/// Connects to `endpoint` (`host`, `host:port` or `[v6]:port`; the port defaults to 50000).
fn connect(endpoint: &str) -> Result<(), String> {
    let with_port = if endpoint.rsplit_once(':').is_some_and(|(host, port)| port.parse::<u16>().is_ok() && !host.ends_with(':')) {
        endpoint.to_owned()
    } else {
        format!("{endpoint}:{TALOS_API_PORT}")
    };
    let addresses: Vec<_> = with_port.to_socket_addrs().map_err(|e| e.to_string())?.collect();
    let mut last = "no address".to_owned();
    for address in addresses {
        match TcpStream::connect_timeout(&address, API_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

/// The parts of a talosconfig the doctor reads (the rest, keys and certificates, is ignored).
#[derive(serde::Deserialize)]
struct TalosConfig {
    context: Option<String>,
    #[serde(default)]
    contexts: BTreeMap<String, TalosContext>,
}

#[derive(serde::Deserialize)]
struct TalosContext {
    #[serde(default)]
    endpoints: Vec<String>,
}

impl TalosConfig {
    fn current(&self) -> Option<(String, Vec<String>)> {
        let name = self.context.as_ref()?;
        self.contexts.get(name).map(|c| (name.clone(), c.endpoints.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_without_a_port_gets_the_talos_api_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(connect(&format!("127.0.0.1:{port}")), Ok(()));
        drop(listener);
        let err = connect(&format!("127.0.0.1:{port}")).unwrap_err();
        assert!(err.contains("refused"), "{err}");
    }

    #[test]
    fn one_endpoint_down_of_two_is_a_warning_and_all_down_a_failure() {
        let up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (up_at, down_at) = (up.local_addr().unwrap().to_string(), down.local_addr().unwrap().to_string());
        drop(down);
        let talosconfig = Path::new("talosconfig");
        assert_eq!(talos_api(std::slice::from_ref(&up_at), talosconfig).status, Status::Ok);
        let mixed = talos_api(&[up_at.clone(), down_at.clone()], talosconfig);
        assert_eq!(mixed.status, Status::Warn);
        assert!(mixed.detail.starts_with(&format!("{up_at} accepts connections; {down_at} unreachable (")), "{}", mixed.detail);
        assert_eq!(talos_api(&[down_at], talosconfig).status, Status::Fail);
    }

    #[test]
    fn a_program_is_found_in_the_tools_path_before_path() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        for dir in [&first, &second] {
            let tool = dir.path().join("talosctl");
            std::fs::write(&tool, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        }
        let dirs = vec![first.path().to_owned(), second.path().to_owned()];
        assert_eq!(find_program("talosctl", &dirs), Some(first.path().join("talosctl")));
        assert_eq!(find_program("no-such-tool", &dirs), None);
    }
}

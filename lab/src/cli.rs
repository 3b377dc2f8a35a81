//! `vixens-lab up|down|status|nas|talosctl|iscsiadm`: the lab's command line.
//!
//! `up` starts the daemon fully detached (its own session, stdin from /dev/null, stdout and
//! stderr on `DIR/daemon.log`), so terraform's local-exec returns at once, and returns only once
//! the API answers over TLS. `down` stops it and waits until the process is gone. Both are
//! idempotent in the way terraform needs: `down` on a stopped lab succeeds; `up` on a running
//! one refuses with a clear message rather than start a second daemon.
//!
//! `nas up` starts the NAS daemon the same way (MinIO's S3 endpoint for terraform's state, the
//! iSCSI portal); it must run before `terraform init`, and is idempotent and fast: on a running
//! NAS with the same keys it only prints where it serves.

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::faults::Faults;
use crate::spec::{AppSpec, LabSpec};
use crate::state_dir::{LabInfo, StateDir};

/// Prints a line on stdout; a closed stdout (`vixens-lab up | head -1`) is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// How long `up` waits for the daemon's API.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// `status` exit code of a stopped lab (as `systemctl status` for an inactive unit).
const EXIT_STOPPED: u8 = 3;

#[derive(Parser)]
#[command(name = "vixens-lab", version, about = "A simulated Vixens homelab on one machine: a Kubernetes API, Talos nodes, Argo CD and a NAS.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a lab in the background; returns once its API serves.
    Up(UpArgs),
    /// Stop the lab of a state folder and wait until its process is gone (a stopped lab is fine).
    Down(StateDirArg),
    /// Report whether the lab of a state folder runs (exit 0) or not (exit 3).
    Status(StateDirArg),
    /// The lab's NAS: MinIO (S3) for terraform's state, and the iSCSI portal.
    #[command(subcommand)]
    Nas(NasCommand),
    /// The talosctl stand-in (what `DIR/bin/talosctl` runs).
    #[command(disable_help_flag = true)]
    Talosctl {
        /// talosctl's own arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// The iscsiadm stand-in (what `DIR/bin/iscsiadm` runs).
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Iscsiadm {
        /// iscsiadm's own arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run the daemon in the foreground (what `up` starts detached).
    #[command(hide = true)]
    Daemon(StateDirArg),
}

#[derive(Subcommand)]
enum NasCommand {
    /// Start the NAS of a folder in the background (or report the running one); returns once its
    /// S3 endpoint serves. Keys: MINIO_ROOT_USER / MINIO_ROOT_PASSWORD (MinIO's defaults when unset).
    Up(NasUpArgs),
    /// Stop the NAS daemon of a folder (a stopped NAS is fine). Its data stays.
    Down(NasDirArg),
    /// Report whether the NAS of a folder serves (exit 0) or not (exit 3).
    Status(NasDirArg),
    /// Print the S3 endpoint of the running NAS (`http://127.0.0.1:PORT`); exit 3 when it is stopped.
    Endpoint(NasDirArg),
    /// Delete the newest LUN of a claim from the NAS, as someone deleting it in DSM would.
    DeleteLun {
        /// The NAS folder.
        #[arg(long, value_name = "DIR")]
        nas_dir: PathBuf,
        /// The claim (`vaultwarden-data`): its LUN's description is `<namespace>/<claim>`.
        #[arg(long, value_name = "NAME")]
        claim: String,
    },
    /// Run the NAS daemon in the foreground (what `nas up` starts detached).
    #[command(hide = true)]
    Serve(NasUpArgs),
}

#[derive(Args)]
struct NasDirArg {
    /// The NAS folder (LUNs, buckets).
    #[arg(long, value_name = "DIR")]
    nas_dir: PathBuf,
}

#[derive(Args)]
struct NasUpArgs {
    /// The NAS folder (LUNs, buckets): created if missing.
    #[arg(long, value_name = "DIR")]
    nas_dir: PathBuf,
    /// A bucket to create if it does not exist yet (repeatable), as the homelab's were made by hand.
    #[arg(long = "bucket", value_name = "NAME")]
    buckets: Vec<String>,
    /// The daemon stops by itself after this long without a request (`30m`, `90s`).
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
}

#[derive(Args)]
struct StateDirArg {
    /// The lab's state folder (kubeconfig, talosconfig, lab.json, daemon.log).
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
}

#[derive(Args)]
struct UpArgs {
    /// The lab's state folder: created if missing.
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// The cluster name (nodes are `<name>-controlplane-N`, `<name>-worker-N`).
    #[arg(long, default_value = "lab")]
    name: String,
    /// Control-plane nodes.
    #[arg(long, default_value_t = 3, value_name = "N")]
    nodes: usize,
    /// Worker nodes.
    #[arg(long, default_value_t = 0, value_name = "N")]
    workers: usize,
    /// Replace the default app tree with N generated apps (scale tests).
    #[arg(long, value_name = "N", conflicts_with = "apps")]
    app_count: Option<usize>,
    /// A YAML list of child Applications (name, sync_wave, path, destination_namespace, volumes, labels).
    #[arg(long, value_name = "FILE", conflicts_with = "gitops_repo")]
    apps: Option<PathBuf>,
    /// Build the app tree from this GitOps repository (Vixens' layout: argocd/overlays/<overlay>/,
    /// argocd/bootstrap/root-app-<overlay>.yaml, apps/<tier>/...).
    #[arg(long, value_name = "DIR", conflicts_with = "app_count")]
    gitops_repo: Option<PathBuf>,
    /// The overlay of --gitops-repo whose Applications Argo CD applies.
    #[arg(long, value_name = "ENV", requires = "gitops_repo")]
    overlay: Option<String>,
    /// The Argo CD release the lab behaves as: 3 (3.x) or 2.10 (what an Application records differs).
    #[arg(long, default_value = "3", value_name = "VERSION", value_parser = crate::spec::ArgoCdVersion::parse)]
    argocd_version: crate::spec::ArgoCdVersion,
    /// The NAS folder (iSCSI LUNs, state bucket): survives `down` and destroy.
    #[arg(long, value_name = "DIR")]
    nas_dir: Option<PathBuf>,
    /// Multiplies every simulated delay (10 = ten times slower).
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    time_scale: f64,
    /// The daemon stops by itself after this long without a request (`30m`, `90s`).
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = humantime::parse_duration)]
    idle_timeout: Duration,
}

/// Entry point of the `vixens-lab` binary.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Up(args) => up(&args),
        Command::Down(dir) => down(&dir.state_dir),
        Command::Status(dir) => status(&dir.state_dir),
        Command::Nas(command) => nas(command),
        Command::Talosctl { args } => return talosctl(args),
        Command::Iscsiadm { args } => return crate::iscsiadm::main(args),
        Command::Daemon(dir) => daemon(&dir.state_dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vixens-lab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn nas(command: NasCommand) -> anyhow::Result<ExitCode> {
    use crate::nas::control;
    match command {
        NasCommand::Up(args) => control::up(&args.nas_dir, &control::keys_from_env(), &args.buckets, args.idle_timeout),
        NasCommand::Down(dir) => control::down(&dir.nas_dir),
        NasCommand::Status(dir) => control::status(&dir.nas_dir),
        NasCommand::Endpoint(dir) => control::endpoint(&dir.nas_dir),
        NasCommand::DeleteLun { nas_dir, claim } => control::delete_lun(&nas_dir, &claim),
        NasCommand::Serve(args) => {
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
                .with_ansi(false)
                .with_writer(std::io::stderr)
                .init();
            let nas = crate::nas::Nas::new(std::path::absolute(&args.nas_dir)?);
            crate::nas::server::run(&nas, &control::keys_from_env(), &args.buckets, args.idle_timeout)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn talosctl(args: Vec<OsString>) -> ExitCode {
    crate::talosctl::main(args)
}

fn daemon(dir: &Path) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let state = StateDir::new(dir)?;
    if let Err(e) = crate::daemon::run(&state) {
        tracing::error!("{e:#}");
        return Err(e);
    }
    Ok(ExitCode::SUCCESS)
}

fn up(args: &UpArgs) -> anyhow::Result<ExitCode> {
    let faults = Faults::from_env()?;
    let (apps, root_app) = apps(args)?;
    let spec = LabSpec {
        name: args.name.clone(),
        nodes: LabSpec::nodes_for(&args.name, args.nodes, args.workers),
        apps,
        time_scale: args.time_scale,
        faults,
        idle_timeout: args.idle_timeout,
        nas_dir: args.nas_dir.as_deref().map(std::path::absolute).transpose()?,
        argocd_version: args.argocd_version,
        root_app,
    };
    spec.check_faults()?;
    crate::nas::prepare(&spec)?;
    std::fs::create_dir_all(&args.state_dir).with_context(|| format!("creating {}", args.state_dir.display()))?;
    let state = StateDir::new(&args.state_dir)?;
    let _up_lock = state.lock_up()?;
    if state.daemon_running()? {
        let what = state.read_info()?.map_or_else(String::new, |info| format!(" (`{}`, pid {}, {})", info.name, info.pid, info.api_url));
        bail!("a lab is already running in {}{what}; run `vixens-lab down --state-dir {}` first", state.root().display(), state.root().display());
    }
    let _ = std::fs::remove_file(state.lab_json());
    std::fs::write(state.spec_json(), serde_json::to_vec_pretty(&spec)?)?;
    if spec.faults.apply_fail {
        // The cluster never comes up, but the NAS and the operator's tools are there, as on the
        // homelab after a failed apply: what checks the NAS afterwards finds both.
        state.write_tools(&std::env::current_exe()?).with_context(|| format!("writing the tools of {}", state.root().display()))?;
        bail!("fault `apply-fail` injected through {}: the lab refuses to start", crate::faults::FAULTS_VAR);
    }
    let log = std::fs::File::create(state.daemon_log()).with_context(|| format!("creating {}", state.daemon_log().display()))?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("daemon")
        .arg("--state-dir")
        .arg(state.root())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the lab daemon")?;
    let info = wait_until_serving(&state, &mut child)?;
    say!("lab `{}` is up: {} (pid {})", info.name, info.api_url, info.pid);
    say!("  export KUBECONFIG={}", state.kubeconfig().display());
    say!("  export TALOSCONFIG={}", state.talosconfig().display());
    say!("  export PATH={}:$PATH", state.root().join("bin").display());
    Ok(ExitCode::SUCCESS)
}

/// The apps of the lab and, from a GitOps repository, its root app: `--gitops-repo DIR --overlay
/// ENV`, `--apps FILE`, `--app-count N` generated ones, or the built-in tree modelled on the
/// homelab's dev environment.
fn apps(args: &UpArgs) -> anyhow::Result<(Vec<AppSpec>, Option<serde_json::Value>)> {
    if let Some(repo) = &args.gitops_repo {
        let overlay = args.overlay.as_deref().unwrap_or(&args.name);
        let tree = crate::gitops::load(repo, overlay)?;
        return Ok((tree.apps, Some(tree.root)));
    }
    if let Some(path) = &args.apps {
        return Ok((AppSpec::load_list(path)?, None));
    }
    Ok((args.app_count.map_or_else(crate::argocd::default_apps, crate::argocd::generated_apps), None))
}

/// Waits until the daemon wrote lab.json and its API answers `/readyz` over TLS.
fn wait_until_serving(state: &StateDir, child: &mut std::process::Child) -> anyhow::Result<LabInfo> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("the lab daemon exited ({status}) before serving:\n{}", log_tail(state));
        }
        if let Some(info) = state.read_info()?.filter(|i| i.pid == child.id()) {
            let ca = std::fs::read_to_string(state.ca_crt())?;
            if probe(&info.api_url, &ca).is_ok() {
                return Ok(info);
            }
        }
        if started.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            bail!("the lab daemon did not serve within {}s:\n{}", START_TIMEOUT.as_secs(), log_tail(state));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last lines of the daemon's log, for error messages.
fn log_tail(state: &StateDir) -> String {
    let text = std::fs::read_to_string(state.daemon_log()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("--- {} (last lines) ---\n{tail}", state.daemon_log().display())
}

/// `GET /readyz` over TLS, trusting only the lab CA.
fn probe(api_url: &str, ca_pem: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = api_url.trim_start_matches("https://").parse()?;
    let tcp = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(5)))?;
    let server_name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let connection = rustls::ClientConnection::new(crate::tls::client_config(ca_pem)?, server_name)?;
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    tls.write_all(format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())?;
    let mut head = [0u8; 12];
    tls.read_exact(&mut head)?;
    if &head == b"HTTP/1.1 200" { Ok(()) } else { bail!("/readyz answered {}", String::from_utf8_lossy(&head)) }
}

fn down(dir: &Path) -> anyhow::Result<ExitCode> {
    if !dir.is_dir() {
        say!("no lab in {}: nothing to stop", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let state = StateDir::new(dir)?;
    let Some(pid) = running_pid(&state)? else {
        say!("the lab in {} is not running", state.root().display());
        apply_nas_faults(&state)?;
        return Ok(ExitCode::SUCCESS);
    };
    let name = state.read_info()?.map_or_else(|| "lab".to_owned(), |i| format!("`{}`", i.name));
    slow_destroy(&state);
    let process = rustix::process::Pid::from_raw(pid).context("invalid pid in daemon.lock")?;
    let _ = rustix::process::kill_process(process, rustix::process::Signal::TERM);
    if !wait_gone(&state, pid, STOP_TIMEOUT) {
        let _ = rustix::process::kill_process(process, rustix::process::Signal::KILL);
        if !wait_gone(&state, pid, STOP_TIMEOUT) {
            bail!("the lab daemon (pid {pid}) did not stop");
        }
    }
    say!("lab {name} stopped (pid {pid})");
    apply_nas_faults(&state)?;
    Ok(ExitCode::SUCCESS)
}

/// The `slow-destroy` fault of the lab that runs in `state`: `down` takes that long, as a slow
/// `talosctl reset` makes a real destroy take, so that a destroy can overrun its budget mid-apply.
fn slow_destroy(state: &StateDir) {
    let spec: Option<LabSpec> = std::fs::read(state.spec_json()).ok().and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(delay) = spec.and_then(|s| s.faults.slow_destroy) {
        say!("fault slow-destroy: stopping the lab in {}", humantime::format_duration(delay));
        std::thread::sleep(delay);
    }
}

/// The `wipe-lun` fault of the lab that ran in `state` (`spec.json`, kept after the daemon stops).
fn apply_nas_faults(state: &StateDir) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read(state.spec_json()) else { return Ok(()) };
    let spec: LabSpec = serde_json::from_slice(&text).with_context(|| format!("parsing {}", state.spec_json().display()))?;
    for wiped in crate::nas::on_down(&spec)? {
        say!("fault wipe-lun: deleted {}", wiped.display());
    }
    Ok(())
}

/// The pid of the daemon holding the folder's lock, if one does.
fn running_pid(state: &StateDir) -> anyhow::Result<Option<i32>> {
    if !state.daemon_running()? {
        return Ok(None);
    }
    // The lock is held: its holder writes its pid right after taking it.
    for _ in 0..100 {
        let text = std::fs::read_to_string(state.root().join("daemon.lock"))?;
        if let Ok(pid) = text.trim().parse() {
            return Ok(Some(pid));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bail!("a process holds {} without writing its pid", state.root().join("daemon.lock").display())
}

/// Waits until the daemon released its lock and its process is gone (a zombie counts as gone:
/// nobody may be left to reap it in a container).
fn wait_gone(state: &StateDir, pid: i32, timeout: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if !state.daemon_running().unwrap_or(true) && !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `pid (comm) S ...`: the state follows the last parenthesis.
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()).is_some_and(|s| s != 'Z' && s != 'X'),
        Err(_) => false,
    }
}

fn status(dir: &Path) -> anyhow::Result<ExitCode> {
    let state = StateDir::new(dir)?;
    let pid = if dir.is_dir() { running_pid(&state)? } else { None };
    let Some(pid) = pid else {
        say!("stopped: no lab runs in {}", state.root().display());
        return Ok(ExitCode::from(EXIT_STOPPED));
    };
    match state.read_info()? {
        Some(info) => {
            let ca = std::fs::read_to_string(state.ca_crt()).unwrap_or_default();
            match probe(&info.api_url, &ca) {
                Ok(()) => {
                    say!("running: lab `{}`, pid {pid}, {} (talos {}), since {}", info.name, info.api_url, info.talos_endpoint, info.started_at);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => bail!("lab `{}` (pid {pid}) runs but its API at {} does not answer: {e:#}", info.name, info.api_url),
            }
        }
        None => bail!("a lab daemon (pid {pid}) is starting in {}", state.root().display()),
    }
}

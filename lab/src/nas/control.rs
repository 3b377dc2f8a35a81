//! `vixens-lab nas up|down|status|endpoint`: starting and stopping the NAS daemon
//! ([`super::server`]) of a NAS folder.
//!
//! `up` is what a harness runs before `terraform init` of a lab: idempotent (a NAS already
//! serving with the same keys is only reported, in milliseconds) and quick otherwise (the daemon
//! serves within a fraction of a second). Its last line is `export AWS_ENDPOINT_URL_S3=<url>`, the
//! variable terraform's S3 backend reads its endpoint from.

use std::io::Write as _;
use std::net::TcpStream;
use std::path::Path;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use super::Nas;
use super::server::{Keys, NasInfo, s3_address};

/// How long `up` waits for the daemon to serve.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `down` waits after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// The exit code of `status` and `endpoint` for a NAS that is not running.
const EXIT_STOPPED: u8 = 3;
/// MinIO's default root user and password, when MINIO_ROOT_USER / MINIO_ROOT_PASSWORD are unset.
const MINIO_DEFAULT_KEY: &str = "minioadmin";

macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The keys MinIO would take from its environment.
#[must_use]
pub fn keys_from_env() -> Keys {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| MINIO_DEFAULT_KEY.to_owned());
    Keys { access_key: var("MINIO_ROOT_USER"), secret_key: var("MINIO_ROOT_PASSWORD") }
}

/// `nas up`: starts the daemon unless one already serves `dir` with `keys`.
///
/// # Errors
/// A NAS already serves the folder with other keys, or the daemon does not serve in time.
pub fn up(dir: &Path, keys: &Keys, buckets: &[String], idle_timeout: Duration) -> anyhow::Result<ExitCode> {
    let nas = Nas::new(std::path::absolute(dir)?);
    std::fs::create_dir_all(nas.root()).with_context(|| format!("creating {}", nas.root().display()))?;
    if let Some(info) = serving(&nas)? {
        if info.keys != keys.fingerprint() {
            bail!(
                "the NAS in {} already runs with other keys (access key `{}`); run `vixens-lab nas down --nas-dir {}` first",
                nas.root().display(),
                info.access_key,
                nas.root().display()
            );
        }
        let missing: Vec<&String> = buckets.iter().filter(|b| !nas.bucket_dir(b).is_dir()).collect();
        for bucket in &missing {
            std::fs::create_dir_all(nas.bucket_dir(bucket)).with_context(|| format!("creating bucket {bucket}"))?;
        }
        report(&nas, &info, "is up");
        return Ok(ExitCode::SUCCESS);
    }
    let log = std::fs::File::create(nas.root().join("nas.log")).context("creating nas.log")?;
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.args(["nas", "serve", "--nas-dir"]).arg(nas.root()).arg("--idle-timeout").arg(humantime::format_duration(idle_timeout).to_string());
    for bucket in buckets {
        command.args(["--bucket", bucket]);
    }
    let mut child = command
        .env("MINIO_ROOT_USER", &keys.access_key)
        .env("MINIO_ROOT_PASSWORD", &keys.secret_key)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting the NAS daemon")?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            let text = std::fs::read_to_string(nas.root().join("nas.log")).unwrap_or_default();
            bail!("the NAS daemon exited ({status}) before serving:\n{}", text.trim_end());
        }
        if let Some(info) = nas.read_info()?.filter(|i| i.pid == child.id())
            && reachable(&info)
        {
            report(&nas, &info, "is up");
            return Ok(ExitCode::SUCCESS);
        }
        if started.elapsed() > START_TIMEOUT {
            let _ = child.kill();
            bail!("the NAS daemon did not serve within {}s", START_TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn report(nas: &Nas, info: &NasInfo, state: &str) {
    let buckets: Vec<String> = std::fs::read_dir(nas.buckets_dir())
        .map(|d| d.filter_map(Result::ok).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    let mut buckets = buckets;
    buckets.sort();
    say!(
        "NAS in {} {state} (pid {}): S3 {} (buckets: {}), iSCSI portal {}:3260",
        nas.root().display(),
        info.pid,
        info.s3_endpoint,
        if buckets.is_empty() { "none".to_owned() } else { buckets.join(", ") },
        crate::talos::NAS_PORTAL
    );
    say!("export AWS_ENDPOINT_URL_S3={}", info.s3_endpoint);
}

/// The running daemon's info, when a daemon holds the folder and serves.
fn serving(nas: &Nas) -> anyhow::Result<Option<NasInfo>> {
    if !nas.daemon_running()? {
        return Ok(None);
    }
    for _ in 0..300 {
        if let Some(info) = nas.read_info()?
            && reachable(&info)
        {
            return Ok(Some(info));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    bail!("a NAS daemon holds {} but does not serve", nas.lock_path().display())
}

fn reachable(info: &NasInfo) -> bool {
    s3_address(info).is_ok_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// `nas down`: stops the daemon (a stopped NAS is fine); the data stays.
///
/// # Errors
/// The daemon does not stop.
pub fn down(dir: &Path) -> anyhow::Result<ExitCode> {
    let nas = Nas::new(std::path::absolute(dir)?);
    if !nas.root().is_dir() || !nas.daemon_running()? {
        say!("the NAS in {} is not running", nas.root().display());
        return Ok(ExitCode::SUCCESS);
    }
    let pid: i32 = std::fs::read_to_string(nas.lock_path())?.trim().parse().context("no pid in nas.lock")?;
    let process = rustix::process::Pid::from_raw(pid).context("invalid pid in nas.lock")?;
    let _ = rustix::process::kill_process(process, rustix::process::Signal::TERM);
    let started = Instant::now();
    while nas.daemon_running()? {
        if started.elapsed() > STOP_TIMEOUT {
            let _ = rustix::process::kill_process(process, rustix::process::Signal::KILL);
            if started.elapsed() > STOP_TIMEOUT * 2 {
                bail!("the NAS daemon (pid {pid}) did not stop");
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    say!("NAS in {} stopped (pid {pid})", nas.root().display());
    Ok(ExitCode::SUCCESS)
}

/// `nas status`: exit 0 and where it serves, or exit 3.
///
/// # Errors
/// The folder's files cannot be read.
pub fn status(dir: &Path) -> anyhow::Result<ExitCode> {
    let nas = Nas::new(std::path::absolute(dir)?);
    match serving(&nas)? {
        Some(info) => {
            report(&nas, &info, "is running");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            say!("stopped: no NAS runs in {}", nas.root().display());
            Ok(ExitCode::from(EXIT_STOPPED))
        }
    }
}

/// `nas endpoint`: the S3 endpoint alone, for scripts.
///
/// # Errors
/// The folder's files cannot be read.
pub fn endpoint(dir: &Path) -> anyhow::Result<ExitCode> {
    let nas = Nas::new(std::path::absolute(dir)?);
    match serving(&nas)? {
        Some(info) => {
            say!("{}", info.s3_endpoint);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("vixens-lab: no NAS runs in {}", nas.root().display());
            Ok(ExitCode::from(EXIT_STOPPED))
        }
    }
}

/// `nas delete-lun`: the newest LUN of `claim` deleted, as someone deleting it in DSM would.
///
/// # Errors
/// The LUN records cannot be read or removed.
pub fn delete_lun(dir: &Path, claim: &str) -> anyhow::Result<ExitCode> {
    let nas = Nas::new(std::path::absolute(dir)?);
    match nas.wipe_claim(claim)? {
        Some(path) => say!("deleted {}", path.display()),
        None => say!("no LUN of claim {claim} on the NAS in {}", nas.root().display()),
    }
    Ok(ExitCode::SUCCESS)
}

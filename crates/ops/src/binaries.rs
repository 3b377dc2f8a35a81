//! The harness's own binaries, for the suites and tests that drive them as users do.
//!
//! Environment packages (`environments/*`) and the CLI tests need `vixens` and `vixens-lab`,
//! but cargo only hands a test the binaries of its own package (`CARGO_BIN_EXE_*`), and only
//! for integration tests. [`binaries`] builds both with a nested
//! `cargo build --bins -p vixens -p vixens-lab` in the profile of the running test, reads
//! their paths from cargo's JSON messages (so any `CARGO_TARGET_DIR` or
//! `CARGO_BUILD_BUILD_DIR` works), and does so once per nextest run: test processes of one run
//! (same `NEXTEST_RUN_ID`) share the result through a file guarded by a file lock, so that they
//! neither build twice nor race on cargo's own lock.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use vixens_drivers::process::Command;

/// A cold build of both binaries on a 2-core machine takes a few minutes; this is the ceiling.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The absolute paths of the harness's binaries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Binaries {
    /// The `vixens` command-line tool.
    pub vixens: PathBuf,
    /// The lab simulator (`vixens-lab`).
    pub vixens_lab: PathBuf,
}

impl Binaries {
    /// Their folders, once each: put first on `PATH`, documented commands and the lab's
    /// terraform that call `vixens` and `vixens-lab` by name run this build.
    #[must_use]
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut folders: Vec<PathBuf> = [&self.vixens, &self.vixens_lab].iter().filter_map(|p| p.parent().map(Path::to_owned)).collect();
        folders.dedup();
        folders
    }
}

/// Why the binaries could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// cargo could not be run, or its lock or cache file could not be used.
    #[error("cannot build the harness binaries: {0}")]
    Io(String),
    /// cargo ran and failed (a compile error): the end of what it printed.
    #[error("`cargo build --bins -p vixens -p vixens-lab` failed (exit {code}):\n{stderr}")]
    BuildFailed {
        /// cargo's exit code.
        code: i32,
        /// The last lines of cargo's stderr (rendered compiler diagnostics).
        stderr: String,
    },
    /// cargo succeeded but did not report one of the binaries.
    #[error("cargo built no `{0}` executable")]
    Missing(&'static str),
}

/// The paths of `vixens` and `vixens-lab`, built in the running test's profile.
///
/// The first call of a nextest run builds (a no-op when they are fresh); later calls, in this
/// process or in other test processes of the same run, reuse the answer.
///
/// # Errors
/// [`Error::BuildFailed`] with cargo's diagnostics when the build fails; [`Error::Io`] when
/// cargo or the lock file cannot be used.
pub fn binaries() -> Result<Binaries, Error> {
    static ONCE: OnceLock<Result<Binaries, Error>> = OnceLock::new();
    ONCE.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| Error::Io(format!("cannot find the running test: {e}")))?;
        let run = Run { workspace: workspace_root(), profile: profile_of(&exe), run_id: std::env::var("NEXTEST_RUN_ID").ok() };
        run.binaries()
    })
    .clone()
}

/// `dirs` then this process's PATH, as one PATH value.
#[must_use]
pub fn search_path(dirs: &[PathBuf]) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(dirs.iter().cloned().chain(std::env::split_paths(&path))).unwrap_or(path)
}

/// `program` as a path: itself when it names a path, else the first match in `dirs` then PATH,
/// `None` when there is none.
#[must_use]
pub fn find(program: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::split_paths(&search_path(dirs)).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// The workspace this crate belongs to.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/ops sits inside the workspace").to_owned()
}

/// The cargo profile a test executable was built with, from its folder:
/// `<target>/[<triple>/]<profile dir>/deps/<test>-<hash>`, where the `debug` folder is the `dev`
/// (and `test`) profile and any other folder is named after its profile.
fn profile_of(exe: &Path) -> String {
    let profile_dir = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "deps"))
        .and_then(Path::parent)
        .or_else(|| exe.parent())
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    match profile_dir.as_deref() {
        None | Some("debug") => "dev".to_owned(),
        Some(other) => other.to_owned(),
    }
}

struct Run {
    workspace: PathBuf,
    profile: String,
    run_id: Option<String>,
}

/// What one nextest run recorded: its id and the binaries it built.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cached {
    run_id: String,
    binaries: Binaries,
}

impl Run {
    /// Under the lock: reuse this run's answer if another process already built, else build.
    fn binaries(&self) -> Result<Binaries, Error> {
        let io = |what: &str, e: std::io::Error| Error::Io(format!("{what}: {e}"));
        let dir = self.cache_dir();
        std::fs::create_dir_all(&dir).map_err(|e| io(&format!("cannot create {}", dir.display()), e))?;
        let lock_path = dir.join("lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| io(&format!("cannot open {}", lock_path.display()), e))?;
        lock.lock().map_err(|e| io(&format!("cannot lock {}", lock_path.display()), e))?;
        let cache = dir.join("binaries.json");
        if let Some(found) = self.cached(&cache) {
            return Ok(found);
        }
        let built = self.build()?;
        if let Some(run_id) = &self.run_id {
            let record = Cached { run_id: run_id.clone(), binaries: built.clone() };
            let json = serde_json::to_string(&record).expect("paths serialize");
            std::fs::write(&cache, json).map_err(|e| io(&format!("cannot write {}", cache.display()), e))?;
        }
        Ok(built)
        // `lock` is released when dropped here.
    }

    /// A folder per workspace and profile, so that two checkouts never share an answer.
    fn cache_dir(&self) -> PathBuf {
        use sha2::Digest;
        let key = sha2::Sha256::digest(format!("{}\n{}", self.workspace.display(), self.profile).as_bytes());
        let short: String = key.iter().take(8).map(|b| format!("{b:02x}")).collect();
        std::env::temp_dir().join("vixens-testkit").join(short)
    }

    fn cached(&self, cache: &Path) -> Option<Binaries> {
        let run_id = self.run_id.as_ref()?;
        let cached: Cached = serde_json::from_str(&std::fs::read_to_string(cache).ok()?).ok()?;
        let fresh = &cached.run_id == run_id && cached.binaries.vixens.is_file() && cached.binaries.vixens_lab.is_file();
        fresh.then_some(cached.binaries)
    }

    fn build(&self) -> Result<Binaries, Error> {
        let mut command = Command::new(env!("CARGO"))
            .args(["build", "--bins", "-p", "vixens", "-p", "vixens-lab", "--message-format=json-render-diagnostics", "--profile"])
            .arg(&self.profile)
            .arg("--manifest-path")
            .arg(self.workspace.join("Cargo.toml"))
            .dir(&self.workspace)
            .timeout(BUILD_TIMEOUT);
        // Variables cargo sets for the running test: build scripts that track one of them (ring
        // tracks CARGO_MANIFEST_DIR) would otherwise rebuild, with everything above them (rustls,
        // kube, the harness crates), on every alternation between this build and the outer one.
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_set_by_cargo_for_tests) {
                command = command.env_remove(name);
            }
        }
        let done = command.run().map_err(|e| Error::Io(vixens_drivers::process::tail(&format!("{e}"), 5)))?;
        if !done.success() {
            return Err(Error::BuildFailed { code: done.code(), stderr: done.stderr_tail(40) });
        }
        parse_artifacts(&done.stdout)
    }
}

/// True for the variables cargo sets in a test's environment (not the user's configuration).
fn is_set_by_cargo_for_tests(name: &str) -> bool {
    ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_BIN_", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "CARGO_RUSTC_CURRENT_DIR"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The executables of `vixens` and `vixens-lab` in cargo's JSON messages.
fn parse_artifacts(messages: &str) -> Result<Binaries, Error> {
    let mut vixens = None;
    let mut vixens_lab = None;
    for message in messages.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()) {
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(executable) = message["executable"].as_str() else { continue };
        match message["target"]["name"].as_str() {
            Some("vixens") => vixens = Some(PathBuf::from(executable)),
            Some("vixens-lab") => vixens_lab = Some(PathBuf::from(executable)),
            _ => {}
        }
    }
    Ok(Binaries { vixens: vixens.ok_or(Error::Missing("vixens"))?, vixens_lab: vixens_lab.ok_or(Error::Missing("vixens-lab"))? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_is_read_from_the_test_executables_folder() {
        assert_eq!(profile_of(Path::new("/w/target/debug/deps/harness-1a2b")), "dev");
        assert_eq!(profile_of(Path::new("/build/debug/deps/suites-1a2b")), "dev");
        assert_eq!(profile_of(Path::new("/w/target/release/deps/harness-1a2b")), "release");
        assert_eq!(profile_of(Path::new("/w/target/x86_64-unknown-linux-gnu/ci/deps/harness-1a2b")), "ci");
    }

    #[test]
    fn executables_are_read_from_cargos_json_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"harness","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"vixens-lab","kind":["bin"]},"executable":"/t/debug/vixens-lab"}
not json: a line cargo printed for people
{"reason":"compiler-artifact","target":{"name":"vixens","kind":["bin"]},"executable":"/t/debug/vixens"}
{"reason":"build-finished","success":true}"#;
        let found = parse_artifacts(messages).unwrap();
        assert_eq!(found, Binaries { vixens: "/t/debug/vixens".into(), vixens_lab: "/t/debug/vixens-lab".into() });
        let err = parse_artifacts(r#"{"reason":"build-finished","success":true}"#).unwrap_err();
        assert_eq!(err.to_string(), "cargo built no `vixens` executable");
    }

    #[test]
    fn both_binaries_are_built_once_and_run() {
        let first = binaries().unwrap_or_else(|e| panic!("{e}"));
        assert!(first.vixens.is_absolute() && first.vixens_lab.is_absolute(), "{first:?}");
        let version = Command::new(&first.vixens).arg("--version").run().unwrap();
        assert!(version.success() && version.stdout.starts_with("vixens "), "{version:?}");
        let help = Command::new(&first.vixens_lab).arg("--help").run().unwrap();
        assert!(help.success(), "{help:?}");
        assert_eq!(binaries().unwrap(), first);
    }

    #[test]
    fn a_second_process_of_the_same_run_reuses_the_first_ones_build() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run { workspace: dir.path().to_owned(), profile: "dev".into(), run_id: Some("run-1".into()) };
        let cache = dir.path().join("binaries.json");
        let vixens = dir.path().join("vixens");
        let lab = dir.path().join("vixens-lab");
        std::fs::write(&vixens, "").unwrap();
        std::fs::write(&lab, "").unwrap();
        let record = Cached { run_id: "run-1".into(), binaries: Binaries { vixens: vixens.clone(), vixens_lab: lab.clone() } };
        std::fs::write(&cache, serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(run.cached(&cache), Some(record.binaries.clone()));
        let next_run = Run { run_id: Some("run-2".into()), ..run };
        assert_eq!(next_run.cached(&cache), None, "another nextest run builds again");
        let outside_nextest = Run { run_id: None, ..next_run };
        assert_eq!(outside_nextest.cached(&cache), None);
    }
}

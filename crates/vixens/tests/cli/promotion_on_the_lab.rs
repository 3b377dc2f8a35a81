//! The promotion gate on the lab, end to end as a release manager runs it: five recreate cycles
//! by `cargo nextest run --profile promotion --stress-count 5`, then `vixens promote` and
//! `vixens report`; fewer cycles than required, cycles on another revision and a cycle with a
//! fault are refused, each with its reason.
//!
//! Everything runs on private copies, so the developer's lab, ledger and JUnit are untouched: the
//! lab's work dir (`VIXENS_WORK_DIR`), the infrastructure repository (`VIXENS_INFRA_REPO`, a clone
//! of this one at HEAD, which the cycles record as their revision) and nextest's store (a copy of
//! `.config/nextest.toml` pointing it into the temporary folder).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vixens_drivers::process::{Command, Finished};
use vixens_testkit::workspace;

/// Five lab cycles take about 40 s on a quiet 2-core machine; nextest's own timeout for a lab
/// test is 5 minutes.
const STRESS_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A private lab, infrastructure repository and nextest store, in one temporary folder.
struct Promotion {
    dir: tempfile::TempDir,
}

impl Promotion {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let promotion = Self { dir };
        git(&workspace(), &[OsString::from("clone"), "-q".into(), workspace().into(), promotion.infra().into()]);
        let config = std::fs::read_to_string(workspace().join(".config/nextest.toml")).unwrap();
        let store = format!("dir = \"{}\"", promotion.path("nextest").display());
        assert!(config.contains("dir = \"target/nextest\""), "nextest.toml no longer sets its store dir");
        std::fs::write(promotion.path("nextest.toml"), config.replace("dir = \"target/nextest\"", &store)).unwrap();
        promotion
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn infra(&self) -> PathBuf {
        self.path("infra")
    }

    fn junit(&self) -> PathBuf {
        self.path("nextest/promotion/junit.xml")
    }

    /// `cmd` with the private lab's variables, and none of the outer nextest run's.
    fn scoped(&self, mut cmd: Command) -> Command {
        for (name, _) in std::env::vars_os().filter(|(name, _)| name.to_string_lossy().starts_with("NEXTEST_")) {
            cmd = cmd.env_remove(name);
        }
        // The lab's terraform calls `vixens-lab` by name, which sits beside this `vixens`.
        let bin = Path::new(env!("CARGO_BIN_EXE_vixens")).parent().unwrap().to_owned();
        let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
        cmd.env("PATH", path).env("VIXENS_WORK_DIR", self.path("work")).env("VIXENS_INFRA_REPO", self.infra()).dir(workspace())
    }

    /// `count` recreate cycles on the private lab with the promotion profile, with `faults`.
    fn cycles(&self, count: u32, faults: &str) -> Finished {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let config = self.path("nextest.toml");
        let cmd = Command::new(cargo)
            .args(["nextest", "run", "--config-file"])
            .arg(config)
            .args(["--profile", "promotion", "--stress-count", &count.to_string(), "-E", "package(=lab) & test(recreate_cycle)"])
            .env("VIXENS_LAB_FAULTS", faults)
            .timeout(STRESS_TIMEOUT);
        let done = self.scoped(cmd).run().expect("cargo nextest runs");
        // What the run brought up is torn down by its janitor; wait for it (or do it).
        let reap = self.vixens(&["lease", "reap", "lab"]);
        assert!(reap.success(), "vixens lease reap lab: {}{}", reap.stdout, reap.stderr_tail(20));
        done
    }

    fn vixens(&self, args: &[&str]) -> Finished {
        let cmd = Command::new(env!("CARGO_BIN_EXE_vixens")).args(args).timeout(Duration::from_secs(120));
        self.scoped(cmd).run().expect("vixens runs")
    }

    fn promote(&self, extra: &[&str]) -> Finished {
        let junit = self.junit();
        let mut args = vec!["promote", "lab", "--junit", junit.to_str().unwrap()];
        args.extend(extra);
        self.vixens(&args)
    }

    fn commit_to_infra(&self) {
        let author = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"];
        let args: Vec<OsString> = author.iter().chain(&["commit", "-q", "--allow-empty", "-m", "a later change"]).map(OsString::from).collect();
        git(&self.infra(), &args);
    }
}

fn git(dir: &Path, args: &[OsString]) -> String {
    let done = Command::new("git").arg("-C").arg(dir).args(args).timeout(Duration::from_secs(120)).run().expect("git runs");
    assert!(done.success(), "git {args:?}: {}", done.stderr_tail(20));
    done.stdout.trim().to_owned()
}

#[track_caller]
fn assert_output(done: &Finished, code: i32, lines: &[&str]) {
    let all = format!("{}{}", done.stdout, done.stderr_tail(40));
    assert_eq!(done.code(), code, "{all}");
    for line in lines {
        assert!(done.stdout.contains(line), "no `{line}` in:\n{all}");
    }
}

#[test]
fn five_clean_lab_cycles_pass_promotion_and_a_fault_fewer_cycles_or_another_revision_are_refused() {
    let promotion = Promotion::new();
    let head = git(&promotion.infra(), &["rev-parse".into(), "HEAD".into()]);
    let short = &head[..12];

    let cycles = promotion.cycles(5, "");
    assert!(cycles.success(), "five clean cycles: {}{}", cycles.stdout, cycles.stderr_tail(40));
    let passed = promotion.promote(&[]);
    assert_output(
        &passed,
        0,
        &[
            &format!("promotion of lab at revision {short} (infra repo HEAD): PASS\n"),
            &format!("  ✓ cycles: 5/5 consecutive cycles on revision {short}, each within the 2m budget"),
            "  ✓ junit: 5/5 fresh_cluster_validation::recreate_cycle runs passed",
        ],
    );

    let out = promotion.path("report");
    let report = promotion.vixens(&["report", "lab", "--junit", promotion.junit().to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_output(&report, 0, &["promotion verdict for lab: PASS"]);
    let html = std::fs::read_to_string(out.join("lab.html")).unwrap();
    assert!(html.contains("<svg") && std::fs::read_to_string(out.join("lab.md")).unwrap().contains("PASS"));

    assert_output(&promotion.promote(&["--cycles", "6"]), 1, &[&format!("  ✗ cycles: fewer than 6 cycles on revision {short} (5)")]);

    let faulted = promotion.cycles(1, "app-degraded=traefik");
    assert!(!faulted.success(), "a cycle with a degraded app passed: {}", faulted.stdout);
    assert_output(
        &promotion.promote(&[]),
        1,
        &[
            "consecutive cycles; cycle 6 failed in phase argocd: traefik has been Degraded for ",
            "fresh_cluster_validation::recreate_cycle failed in lab::suites (stress run 1): recreate_cycle on lab failed in phase argocd: traefik",
        ],
    );

    promotion.commit_to_infra();
    assert_output(&promotion.promote(&[]), 1, &[&format!("  ✗ cycles: cycles ran on revision {short}, promoting ")]);
}

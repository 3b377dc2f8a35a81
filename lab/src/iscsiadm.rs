//! The `iscsiadm` stand-in (`DIR/bin/iscsiadm`, on the lab's tools PATH): open-iscsi's
//! administration tool as an operator's machine, logged in to the lab's NAS like the cluster's
//! nodes, sees it. It prints what open-iscsi 2.1 prints and fails as it does, with its exit codes
//! (`iscsi_err.h`):
//!
//! | command | output | failures |
//! |---|---|---|
//! | `-m discovery -t sendtargets -p IP[:PORT]` | `IP:PORT,1 <iqn>` per target on the NAS (every LUN's) | NAS down: `cannot make connection to IP: Connection refused`, exit 4; unknown portal: `No route to host`, exit 11; not root: `Maybe you are not root?`, exit 6; no target: `No portals found`, exit 21 |
//! | `-m node` | `IP:PORT,1 <iqn>` per known target (discovered or logged in) | none: `No records found`, exit 21 |
//! | `-m session [-P 1]` | `tcp: [<sid>] IP:PORT,1 <iqn> (non-flash)` per session | none: `No active sessions.`, exit 21 |
//!
//! Sessions are the iSCSI logins of the lab's CSI node plugin (one per bound Synology volume, kept
//! in `DIR/iscsi/sessions` while the lab runs); node records are those plus what discovery found
//! (`DIR/iscsi/nodes`). Discovery asks the NAS daemon's portal (`vixens-lab nas up`), so a NAS that
//! is not running is unreachable, exactly as a NAS that is off. Faults (from the lab's spec):
//! `nas-unreachable` refuses the portal; `iscsiadm-not-root` fails where open-iscsi needs root.

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::faults::Faults;
use crate::nas::Nas;
use crate::spec::LabSpec;
use crate::state_dir::StateDir;
use crate::talos::NAS_PORTAL;

/// The variable the `DIR/bin/iscsiadm` shim sets to its lab's state folder.
pub const STATE_DIR_VAR: &str = "VIXENS_LAB_STATE_DIR";
/// The iSCSI port.
const ISCSI_PORT: u16 = 3260;
/// The target portal group tag of a Synology target.
const TPGT: u8 = 1;
/// open-iscsi's exit codes.
mod exit {
    pub const TRANS: u8 = 4;
    pub const IDBM: u8 = 6;
    pub const INVAL: u8 = 7;
    pub const PDU_TIMEOUT: u8 = 11;
    pub const NO_OBJS_FOUND: u8 = 21;
}

/// The lines of a sessions or node-records file (missing: none).
#[must_use]
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|t| t.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
}

/// Writes a sessions or node-records file, one entry per line.
///
/// # Errors
/// The folder or file cannot be written.
pub fn write_lines(path: &Path, lines: &[String]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    crate::state_dir::write_atomic(path, text.as_bytes(), 0o644)
}

/// `DIR/iscsi/sessions`: the iSCSI sessions of the lab's nodes, one target IQN per line.
#[must_use]
pub fn sessions_file(state: &StateDir) -> PathBuf {
    state.root().join("iscsi/sessions")
}

fn nodes_file(state: &StateDir) -> PathBuf {
    state.root().join("iscsi/nodes")
}

/// What one invocation asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Invocation {
    mode: Option<String>,
    discovery_type: Option<String>,
    portal: Option<String>,
    print_level: u8,
    version: bool,
}

/// Runs the stand-in with `args` (without the program name).
#[must_use]
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args.into_iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let invocation = match parse(&args) {
        Ok(invocation) => invocation,
        Err(message) => return fail(&[&message], exit::INVAL),
    };
    if invocation.version {
        println!("iscsiadm version 2.1.10");
        return ExitCode::SUCCESS;
    }
    let Some(state) = std::env::var_os(STATE_DIR_VAR).and_then(|d| StateDir::new(Path::new(&d)).ok()) else {
        return fail(&[&format!("{STATE_DIR_VAR} is not set: run the lab's DIR/bin/iscsiadm")], 1);
    };
    let spec: Option<LabSpec> = std::fs::read(state.spec_json()).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let faults = spec.as_ref().map(|s| s.faults.clone()).unwrap_or_default();
    match invocation.mode.as_deref() {
        Some("session") => session(&state, invocation.print_level),
        Some("node") => node(&state, &faults),
        Some("discovery" | "discoverydb") => discovery(&state, spec.as_ref(), &faults, &invocation),
        Some(other) => fail(&[&format!("Invalid mode {other}")], exit::INVAL),
        None => fail(&["You must specify a mode"], exit::INVAL),
    }
}

fn parse(args: &[String]) -> Result<Invocation, String> {
    let mut invocation = Invocation::default();
    let mut items = args.iter();
    while let Some(arg) = items.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| items.next().cloned()).ok_or_else(|| format!("option '{flag}' requires an argument"));
        match flag {
            "-m" | "--mode" => invocation.mode = Some(value()?),
            "-t" | "--type" => invocation.discovery_type = Some(value()?),
            "-p" | "--portal" => invocation.portal = Some(value()?),
            "-P" | "--print" => invocation.print_level = value()?.parse().map_err(|_| "Invalid print level".to_owned())?,
            "-V" | "--version" => invocation.version = true,
            other => return Err(format!("unrecognized option '{other}'")),
        }
    }
    Ok(invocation)
}

/// Prints each line on stderr with iscsiadm's prefix and exits with `code`.
fn fail(lines: &[&str], code: u8) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        let _ = writeln!(stderr, "iscsiadm: {line}");
    }
    ExitCode::from(code)
}

fn session(state: &StateDir, print_level: u8) -> ExitCode {
    let sessions = read_lines(&sessions_file(state));
    if sessions.is_empty() {
        return fail(&["No active sessions."], exit::NO_OBJS_FOUND);
    }
    let mut out = std::io::stdout().lock();
    for (i, iqn) in sessions.iter().enumerate() {
        let sid = i + 1;
        let portal = format!("{NAS_PORTAL}:{ISCSI_PORT},{TPGT}");
        let _ = if print_level == 0 {
            writeln!(out, "tcp: [{sid}] {portal} {iqn} (non-flash)")
        } else {
            writeln!(
                out,
                "Target: {iqn} (non-flash)\n\tCurrent Portal: {portal}\n\tPersistent Portal: {portal}\n\t\t**********\n\t\tInterface:\n\t\t**********\n\t\tIface Name: default\n\t\tIface Transport: tcp\n\t\tIface HWaddress: default\n\t\tIface Netdev: default\n\t\tSID: {sid}\n\t\tiSCSI Connection State: LOGGED IN\n\t\tiSCSI Session State: LOGGED_IN\n\t\tInternal iscsid Session State: NO CHANGE"
            )
        };
    }
    ExitCode::SUCCESS
}

fn node(state: &StateDir, faults: &Faults) -> ExitCode {
    let mut records = read_lines(&nodes_file(state));
    for iqn in read_lines(&sessions_file(state)) {
        if !records.contains(&iqn) {
            records.push(iqn);
        }
    }
    // Not root: the node database (/etc/iscsi/nodes, root only) lists as empty.
    if records.is_empty() || faults.iscsiadm_not_root {
        return fail(&["No records found"], exit::NO_OBJS_FOUND);
    }
    records.sort();
    let mut out = std::io::stdout().lock();
    for iqn in records {
        let _ = writeln!(out, "{NAS_PORTAL}:{ISCSI_PORT},{TPGT} {iqn}");
    }
    ExitCode::SUCCESS
}

fn discovery(state: &StateDir, spec: Option<&LabSpec>, faults: &Faults, invocation: &Invocation) -> ExitCode {
    if !matches!(invocation.discovery_type.as_deref(), Some("sendtargets" | "st")) {
        return fail(&["Invalid or missing discovery type: only sendtargets (st) is supported"], exit::INVAL);
    }
    let Some(portal) = invocation.portal.as_deref() else {
        return fail(&["Please specify portal as <ipaddr>[:<ipport>]"], exit::INVAL);
    };
    let (ip, port) = match portal.rsplit_once(':') {
        Some((ip, port)) => (ip, port.parse().unwrap_or(ISCSI_PORT)),
        None => (portal, ISCSI_PORT),
    };
    if faults.iscsiadm_not_root {
        return fail(
            &[
                "Maybe you are not root?",
                "Could not lock discovery DB: /run/lock/iscsi/lock.write: Permission denied",
                "Could not add new discovery record.",
            ],
            exit::IDBM,
        );
    }
    if ip != NAS_PORTAL || port != ISCSI_PORT {
        return connection_failed(ip, "No route to host", "iSCSI PDU timed out", exit::PDU_TIMEOUT);
    }
    let refused = || connection_failed(ip, "Connection refused", "encountered connection failure", exit::TRANS);
    if faults.nas_unreachable {
        return refused();
    }
    let Some(targets) = spec.and_then(Nas::of).and_then(|nas| ask_portal(&nas)) else { return refused() };
    if targets.is_empty() {
        return fail(&["No portals found"], exit::NO_OBJS_FOUND);
    }
    let mut records = read_lines(&nodes_file(state));
    let mut out = std::io::stdout().lock();
    for iqn in &targets {
        let _ = writeln!(out, "{ip}:{port},{TPGT} {iqn}");
        if !records.contains(iqn) {
            records.push(iqn.clone());
        }
    }
    // Discovery records what it found in the node database, as open-iscsi does.
    let _ = write_lines(&nodes_file(state), &records);
    ExitCode::SUCCESS
}

/// The targets the NAS's portal sends, or `None` when it cannot be reached.
fn ask_portal(nas: &Nas) -> Option<Vec<String>> {
    let info = nas.read_info().ok().flatten()?;
    let address = info.iscsi_portal.parse().ok()?;
    let mut tcp = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut text = String::new();
    tcp.read_to_string(&mut text).ok()?;
    Some(text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

/// open-iscsi's discovery after its connection attempts all failed (one try, then `reopen_max` 5).
fn connection_failed(ip: &str, reason: &str, error: &str, code: u8) -> ExitCode {
    let attempt = format!("cannot make connection to {ip}: {reason}");
    let mut lines: Vec<&str> = std::iter::repeat_n(attempt.as_str(), 6).collect();
    let summary = format!("Could not perform SendTargets discovery: {error}");
    lines.push("connection login retries (reopen_max) 5 exceeded");
    lines.push(&summary);
    fail(&lines, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_like_getopt_long() {
        let args: Vec<String> = ["-m", "discovery", "--type=st", "-p", "10.5.255.10"].iter().map(|s| (*s).to_owned()).collect();
        let invocation = parse(&args).unwrap();
        assert_eq!(invocation.mode.as_deref(), Some("discovery"));
        assert_eq!(invocation.discovery_type.as_deref(), Some("st"));
        assert_eq!(invocation.portal.as_deref(), Some("10.5.255.10"));
        assert_eq!(parse(&["--frobnicate".to_owned()]).unwrap_err(), "unrecognized option '--frobnicate'");
        assert_eq!(parse(&["-m".to_owned()]).unwrap_err(), "option '-m' requires an argument");
    }
}

//! The workspace's floors (docs/architecture.md, ADR-009) as a check: a crate's dependencies are
//! all on floors below its own, the documentation and log checks never pull a Kubernetes client,
//! and the lab imports none of the harness's crates. Dev-dependencies are free: tests may use
//! anything.

use std::collections::BTreeMap;
use std::path::Path;

use libtest_mimic::{Failed, Trial};

/// Each crate of ours and its floor; a crate may depend only on crates of a lower floor.
const FLOORS: &[(&str, u8)] = &[
    ("vixens-diagnostic", 0),
    ("vixens-config", 1),
    ("vixens-drivers", 1),
    ("vixens-logscan", 1),
    ("vixens-kube", 1),
    ("vixens-docs", 2),
    ("vixens-ops", 3),
    ("vixens-checks", 4),
    ("vixens-suites", 5),
    ("vixens-testkit", 6),
    ("vixens", 7),
];

/// Crates that must build without a Kubernetes client, and the crates that would bring one.
const KUBE_FREE: &[&str] = &["vixens-diagnostic", "vixens-config", "vixens-drivers", "vixens-logscan", "vixens-docs"];
const KUBE: &[&str] = &["kube", "k8s-openapi", "vixens-kube"];

/// The `layout::*` trials for the workspace at `repo`.
pub fn trials(repo: &Path) -> Vec<Trial> {
    let repo = repo.to_owned();
    let lab = repo.clone();
    vec![
        Trial::test("layout::no_crate_imports_one_above_it", move || check_floors(&dependencies(&repo)?)),
        Trial::test("layout::the_lab_imports_none_of_the_harness", move || check_lab(&lab)),
        Trial::test(
            "layout::the_check_refuses_an_import_upwards_and_kube_under_the_docs",
            the_check_refuses_an_import_upwards_and_kube_under_the_docs,
        ),
    ]
}

/// Every crate of `crates/` and the names of its normal dependencies.
fn dependencies(repo: &Path) -> Result<BTreeMap<String, Vec<String>>, Failed> {
    let mut crates = BTreeMap::new();
    let entries = std::fs::read_dir(repo.join("crates")).map_err(|e| format!("cannot list crates/: {e}"))?;
    for entry in entries {
        let manifest = entry.map_err(|e| e.to_string())?.path().join("Cargo.toml");
        let (name, deps) = manifest_dependencies(&manifest)?;
        crates.insert(name, deps);
    }
    Ok(crates)
}

/// A manifest's package name and its `[dependencies]`.
fn manifest_dependencies(manifest: &Path) -> Result<(String, Vec<String>), Failed> {
    let text = std::fs::read_to_string(manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{}: {e}", manifest.display()))?;
    let name = doc["package"]["name"].as_str().ok_or_else(|| format!("{}: no package name", manifest.display()))?.to_owned();
    let deps = doc.get("dependencies").and_then(|d| d.as_table_like()).map(|t| t.iter().map(|(k, _)| k.to_owned()).collect()).unwrap_or_default();
    Ok((name, deps))
}

fn floor(name: &str) -> Option<u8> {
    FLOORS.iter().find(|(crate_name, _)| *crate_name == name).map(|(_, floor)| *floor)
}

fn check_floors(crates: &BTreeMap<String, Vec<String>>) -> Result<(), Failed> {
    let mut problems = Vec::new();
    for (name, deps) in crates {
        let Some(own) = floor(name) else {
            problems.push(format!("{name} has no floor: add it to tests/layout/floors.rs and docs/architecture.md"));
            continue;
        };
        for dep in deps {
            if let Some(theirs) = floor(dep).filter(|theirs| *theirs >= own) {
                problems.push(format!("{name} (floor {own}) depends on {dep} (floor {theirs}): a crate may only import crates below it"));
            }
        }
        if KUBE_FREE.contains(&name.as_str()) {
            for kube in reachable(name, crates).into_iter().filter(|d| KUBE.contains(&d.as_str())) {
                problems.push(format!("{name} must build without a Kubernetes client, but reaches {kube}"));
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n").into()) }
}

/// Every dependency `name` reaches through the crates of the workspace.
fn reachable(name: &str, crates: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut todo = vec![name.to_owned()];
    while let Some(next) = todo.pop() {
        for dep in crates.get(&next).into_iter().flatten() {
            if !seen.contains(dep) {
                seen.push(dep.clone());
                todo.push(dep.clone());
            }
        }
    }
    seen
}

fn check_lab(repo: &Path) -> Result<(), Failed> {
    let (_, deps) = manifest_dependencies(&repo.join("lab/Cargo.toml"))?;
    let ours: Vec<&String> = deps.iter().filter(|d| floor(d).is_some()).collect();
    if ours.is_empty() { Ok(()) } else { Err(format!("the lab is the oracle and must not import the harness, but depends on {ours:?}").into()) }
}

/// The check itself shown to fail: an import upwards, a Kubernetes client under the docs.
fn the_check_refuses_an_import_upwards_and_kube_under_the_docs() -> Result<(), Failed> {
    let crates = |edges: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        edges.iter().map(|(name, deps)| ((*name).to_owned(), deps.iter().map(|d| (*d).to_owned()).collect())).collect()
    };
    check_floors(&crates(&[("vixens-docs", &["vixens-drivers"]), ("vixens-drivers", &[])]))?;
    let upwards = check_floors(&crates(&[("vixens-drivers", &["vixens-ops"]), ("vixens-ops", &[])])).err().ok_or("an upward import passed")?;
    let kube = check_floors(&crates(&[("vixens-config", &["kube"])])).err().ok_or("kube under config passed")?;
    let (upwards, kube) = (format!("{upwards:?}"), format!("{kube:?}"));
    if !upwards.contains("vixens-drivers (floor 1) depends on vixens-ops (floor 3)")
        || !kube.contains("vixens-config must build without a Kubernetes client")
    {
        return Err(format!("unexpected messages: {upwards} / {kube}").into());
    }
    Ok(())
}

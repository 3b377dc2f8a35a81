//! env.yaml errors as people see them: every file in `tests/fixtures/bad-env/` rendered the way
//! `vixens` renders it (miette, no colour), pinned by an insta snapshot. Each snapshot shows
//! every problem of its file with `file:line:col`, the offending key and what was expected.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::{GraphicalReportHandler, GraphicalTheme};
use rstest::rstest;
use vixens_ops::env::Environment;

/// Renders `error` as `vixens` does on a terminal without colour, at a fixed width.
fn render(error: &dyn miette::Diagnostic) -> String {
    let mut out = String::new();
    GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, error)
        .expect("rendering into a String cannot fail");
    out
}

#[rstest]
fn a_bad_env_yaml_is_reported_with_every_problem_in_place(#[files("../../tests/fixtures/bad-env/*.yaml")] path: PathBuf) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let relative = path.canonicalize().unwrap().strip_prefix(&workspace).expect("fixtures live in the workspace").to_owned();
    // Loaded by its path relative to the workspace, with no variables at all, so that the
    // snapshot (line wrapping included) is the same wherever the repository is checked out.
    // nextest runs each test in its own process: changing this one's folder touches no other.
    std::env::set_current_dir(&workspace).unwrap();
    let relative = relative.as_path();
    let error = Environment::load_with(relative, &BTreeMap::<String, String>::new()).expect_err("every bad-env fixture must be rejected");
    let rendered = render(&error.to_diagnostic());
    let name = relative.file_stem().unwrap().to_string_lossy().into_owned();
    insta::assert_snapshot!(name, rendered);
}

#[test]
fn every_problem_line_carries_file_line_and_column() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("tests/fixtures/bad-env/unknown-keys.yaml");
    let error = Environment::load_with(&path, &BTreeMap::<String, String>::new()).unwrap_err();
    let listed: Vec<String> = error.to_string().lines().skip(1).map(str::trim).map(str::to_owned).collect();
    let prefix = format!("{}:", path.display());
    assert_eq!(listed.len(), 5, "{error}");
    for line in &listed {
        let rest = line.strip_prefix(&prefix).unwrap_or_else(|| panic!("{line:?} does not start with the file"));
        let mut parts = rest.splitn(3, ':');
        assert!(parts.next().unwrap().parse::<usize>().is_ok(), "{line}");
        assert!(parts.next().unwrap().parse::<usize>().is_ok(), "{line}");
        assert!(parts.next().unwrap().contains("unknown key `"), "{line}");
    }
}

//! `vixens commands lint`: the gate a pull request runs before merging.
//!
//! Every entry needs context, an example and expected output; ids are unique; placeholders
//! are defined; blocks are closed; no credential is written anywhere in the document; and every
//! entry has passed, as written now, on at least [`MIN_ENVIRONMENTS`] distinct environments.
//! Problems are reported all at once, in line order, each as `file:line: rule: message`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::document::{Document, Entry, Problem, Rule};
use super::matcher::placeholder_names;
use crate::secrets::allow::ALLOW_PATH;

/// The specification: every documented command is tested on at least 2 environments.
///
/// A simulated environment (the embedded lab, recorded as `` `lab` (simulated) on ...``)
/// counts: the harness's own commands run nowhere else, and the lab is the oracle that behaves
/// as the real tools do. What it cannot prove, a real cluster's behaviour, stays visible: every
/// record says whether it is simulated, and [`simulated_only`] counts the entries proven on
/// simulated environments only, which the lint's summary states.
pub const MIN_ENVIRONMENTS: usize = 2;

/// How many entries of `doc` are validated, with their current digest, on simulated
/// environments only.
#[must_use]
pub fn simulated_only(doc: &Document) -> usize {
    doc.entries
        .iter()
        .filter(|entry| {
            let mut current = entry.current_validations().peekable();
            current.peek().is_some() && current.all(|v| v.simulated)
        })
        .count()
}

/// Every problem of `doc`, the parser's included, sorted by line.
#[must_use]
pub fn lint(doc: &Document) -> Vec<Problem> {
    let mut problems = doc.problems.clone();
    if doc.entries.is_empty() {
        problems.push(Problem {
            line: 1,
            rule: Rule::MissingExample,
            message: "the document has no entries: document each command under its own `###` heading".into(),
        });
    }
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &doc.entries {
        if let Some(first) = ids.insert(&entry.id, entry.line) {
            ids.insert(&entry.id, first);
            problems.push(Problem {
                line: entry.line,
                rule: Rule::DuplicateId,
                message: format!("`{}` is already the id of the entry on line {first}: give each entry its own heading", entry.id),
            });
        }
        check_entry(doc, entry, &mut problems);
    }
    problems.extend(doc.secrets.iter().map(|finding| Problem {
        line: finding.line,
        rule: Rule::Secrets,
        message: format!(
            "{}: a credential in the document; in its place write what `vixens commands run` shows, `[REDACTED:{}]`, or `[..]`, \
             and rotate it, or accept it in {ALLOW_PATH} with a reason",
            finding.describe(),
            finding.rule
        ),
    }));
    problems.sort_by_key(|p| (p.line, p.rule));
    problems
}

fn check_entry(doc: &Document, entry: &Entry, problems: &mut Vec<Problem>) {
    let mut problem = |line, rule, message: String| problems.push(Problem { line, rule, message });
    match entry.context.as_deref() {
        None => problem(
            entry.line,
            Rule::MissingContext,
            format!("`{}` has no context: its first paragraph must start with `Context:` (when to use it, what access it needs)", entry.id),
        ),
        Some("") => problem(
            entry.line,
            Rule::MissingContext,
            format!("the `Context:` of `{}` says nothing: say when to use it and what access it needs", entry.id),
        ),
        Some(_) => {}
    }
    let Some(example) = entry.example.as_ref().filter(|e| !e.steps.is_empty()) else {
        let line = entry.example.as_ref().map_or(entry.line, |e| e.line);
        problem(line, Rule::MissingExample, format!("`{}` has no example: add a ```console block with `$ ` command lines", entry.id));
        return;
    };
    for step in &example.steps {
        if step.expected.is_empty() && step.status.is_none() {
            problem(
                step.line,
                Rule::MissingExpectedOutput,
                format!(
                    "`$ {}` has no expected output: write what it prints (`...` for any lines), or `? 0` alone if it prints nothing",
                    step.summary()
                ),
            );
        }
        for line in &step.expected {
            for name in placeholder_names(&line.text) {
                if !doc.placeholders.iter().any(|p| p.name == name) {
                    problem(
                        line.line,
                        Rule::UnknownPlaceholder,
                        format!(
                            "`[{name}]` is not defined: add \"`[{name}]` per environment: ...\" or \"`[{name}]` pattern `REGEX`: ...\" to the Placeholders section"
                        ),
                    );
                }
            }
        }
    }
    let current: BTreeSet<&str> = entry.current_validations().map(|v| v.env.as_str()).collect();
    if current.len() < MIN_ENVIRONMENTS {
        let line = entry.validated_on.as_ref().map_or_else(|| example.closing_line.unwrap_or(example.line), |v| v.line);
        problem(line, Rule::UnderValidated, under_validated(entry, &current));
    }
}

fn under_validated(entry: &Entry, current: &BTreeSet<&str>) -> String {
    let digest = entry.example.as_ref().map(|e| e.digest.to_string()).unwrap_or_default();
    let mut message = match current.len() {
        0 => format!("`{}` is validated on no environment with its current digest `{digest}`", entry.id),
        n => format!(
            "`{}` is validated on {n} environment{} with its current digest `{digest}` ({})",
            entry.id,
            if n == 1 { "" } else { "s" },
            current.iter().copied().collect::<Vec<_>>().join(", ")
        ),
    };
    let stale: BTreeSet<&str> = entry
        .validated_on
        .iter()
        .flat_map(|v| &v.records)
        .filter_map(|r| r.record.as_ref())
        .filter(|r| !current.contains(r.env.as_str()))
        .map(|r| r.env.as_str())
        .collect();
    if !stale.is_empty() {
        let _ = write!(message, "; the records of {} are for an earlier version of the block", stale.into_iter().collect::<Vec<_>>().join(", "));
    }
    let _ = write!(message, ". It needs {MIN_ENVIRONMENTS}: run `vixens commands run ENV --record` on each");
    message
}

/// Renders `problems` as `file:line: rule: message` lines.
#[must_use]
pub fn render(doc: &Document, problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("{}:{}: {}: {}\n", doc.path.display(), p.line, p.rule, p.message)).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::commands::parse::parse;
    use crate::commands::validation::Digest;

    fn rules(text: &str) -> Vec<(usize, Rule)> {
        lint(&parse(Path::new("docs/commands.md"), text)).iter().map(|p| (p.line, p.rule)).collect()
    }

    #[test]
    fn entries_proven_only_on_simulated_environments_are_counted() {
        let digest = Digest::of("$ true\n? 0");
        let doc = |records: &str| {
            format!("# Ops\n\n### A\n\nContext: a.\n\n```console\n$ true\n? 0\n```\n\nValidated on:\n{records}").replace("DIGEST", digest.as_str())
        };
        let simulated = doc("- `lab` (simulated) on 2026-11-26 (digest `DIGEST`)\n- `lab-ha` (simulated) on 2026-11-26 (digest `DIGEST`)\n");
        let parsed = parse(Path::new("docs/commands.md"), &simulated);
        assert_eq!(lint(&parsed), [], "simulated environments count towards the two");
        assert_eq!(simulated_only(&parsed), 1);
        let real = doc("- `lab` (simulated) on 2026-11-26 (digest `DIGEST`)\n- `dev` on 2026-11-26 (digest `DIGEST`)\n");
        assert_eq!(simulated_only(&parse(Path::new("docs/commands.md"), &real)), 0);
    }

    fn validated(block: &str, envs: &[&str]) -> String {
        let digest = Digest::of(block);
        envs.iter().map(|e| format!("- `{e}` on 2026-11-26 (digest `{digest}`)\n")).collect()
    }

    fn entry(title: &str, block: &str, envs: &[&str]) -> String {
        format!("### {title}\n\nContext: when needed.\n\n```console\n{block}```\n\nValidated on:\n{}\n", validated(block, envs))
    }

    #[test]
    fn a_complete_entry_validated_on_two_environments_is_clean() {
        assert_eq!(rules(&entry("Say hi", "$ echo hi\nhi\n", &["lab", "lab-ha"])), []);
    }

    #[test]
    fn each_missing_part_is_named_at_its_line() {
        let text = "### No context\n\n```console\n$ echo\n? 0\n```\n\n### No example\n\nContext: x.\n\n### No output\n\nContext: y.\n\n```console\n$ echo hi\n```\n";
        let got = rules(text);
        assert!(got.contains(&(1, Rule::MissingContext)), "{got:?}");
        assert!(got.contains(&(8, Rule::MissingExample)), "{got:?}");
        assert!(got.contains(&(17, Rule::MissingExpectedOutput)), "{got:?}");
    }

    #[test]
    fn duplicate_ids_point_at_the_first_one() {
        let text = entry("Say hi", "$ echo hi\nhi\n", &["a", "b"]) + &entry("Say hi!", "$ echo hi\nhi\n", &["a", "b"]);
        let problems = lint(&parse(Path::new("docs/commands.md"), &text));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!((problems[0].line, problems[0].rule), (14, Rule::DuplicateId));
        assert_eq!(problems[0].message, "`say-hi` is already the id of the entry on line 1: give each entry its own heading");
    }

    #[test]
    fn an_undefined_placeholder_is_named() {
        let doc = parse(Path::new("docs/commands.md"), &entry("P", "$ echo x\n[NODE] [..]\n", &["a", "b"]));
        let problems = lint(&doc);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 7);
        assert_eq!(problems[0].rule, Rule::UnknownPlaceholder);
    }

    #[test]
    fn an_entry_validated_on_one_environment_is_under_validated() {
        let doc = parse(Path::new("docs/commands.md"), &entry("Once", "$ true\n? 0\n", &["lab"]));
        let problems = lint(&doc);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 10);
        assert_eq!(
            problems[0].message,
            format!(
                "`once` is validated on 1 environment with its current digest `{}` (lab). It needs 2: run `vixens commands run ENV --record` on each",
                Digest::of("$ true\n? 0\n")
            )
        );
    }

    #[test]
    fn a_changed_command_invalidates_its_old_records() {
        let old = entry("Changed", "$ echo old\nold\n", &["lab", "lab-ha"]);
        let changed = old.replace("$ echo old\nold\n```", "$ echo new\nnew\n```");
        let problems = lint(&parse(Path::new("docs/commands.md"), &changed));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].rule, Rule::UnderValidated);
        assert!(problems[0].message.contains("validated on no environment with its current digest"), "{}", problems[0].message);
        assert!(problems[0].message.contains("the records of lab, lab-ha are for an earlier version of the block"), "{}", problems[0].message);
    }

    #[test]
    fn the_same_environment_twice_counts_once() {
        let text =
            entry("Twice", "$ true\n? 0\n", &["lab"]).replace("Validated on:\n", &format!("Validated on:\n{}", validated("$ true\n? 0\n", &["lab"])));
        let got = rules(&text);
        assert!(got.contains(&(10, Rule::UnderValidated)), "{got:?}");
        assert!(got.contains(&(12, Rule::BadRecord)), "{got:?}");
    }

    #[test]
    fn an_empty_document_has_no_entries() {
        assert_eq!(rules("# Commands\n\nNothing yet.\n"), [(1, Rule::MissingExample)]);
    }

    #[test]
    fn problems_render_as_file_line_rule_message() {
        let doc = parse(Path::new("docs/commands.md"), "### X\n\nContext: y.\n");
        assert_eq!(
            render(&doc, &lint(&doc)),
            "docs/commands.md:1: missing-example: `x` has no example: add a ```console block with `$ ` command lines\n"
        );
    }
}

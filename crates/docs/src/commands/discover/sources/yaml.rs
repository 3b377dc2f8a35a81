//! Commands in YAML: the `run:` steps of GitHub workflows and composite actions, and the `cmds` of
//! Taskfiles. Only those keys are read; the rest of the file is the tools' business. Each
//! command keeps its line: the parser gives where its node starts, the text where each line is.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Snippet, locate};
use crate::adr::config::yaml_message;

#[derive(Deserialize)]
struct Workflow {
    #[serde(default)]
    jobs: BTreeMap<String, Job>,
    /// A composite action's steps.
    #[serde(default)]
    runs: Option<Steps>,
}

#[derive(Deserialize)]
struct Job {
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    defaults: Option<Defaults>,
}

#[derive(Deserialize)]
struct Defaults {
    #[serde(default)]
    run: Option<RunDefaults>,
}

#[derive(Deserialize)]
struct RunDefaults {
    #[serde(default)]
    shell: Option<String>,
}

#[derive(Deserialize)]
struct Steps {
    #[serde(default)]
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    #[serde(default)]
    run: Option<Spanned<String>>,
    #[serde(default)]
    shell: Option<String>,
}

/// The `run:` steps of a workflow or composite action; a step in another language (`shell:
/// pwsh`, `python`) is skipped.
///
/// # Errors
/// A file that is not YAML of that shape, as `file:line:column: why`.
pub(super) fn workflow(file: &str, text: &str) -> Result<Vec<Snippet>, String> {
    let workflow: Workflow = parse(file, text)?;
    let job_steps = workflow.jobs.into_values().flat_map(|job| {
        let shell = job.defaults.and_then(|d| d.run).and_then(|r| r.shell);
        job.steps.into_iter().map(move |step| (step, shell.clone()))
    });
    let composite = workflow.runs.into_iter().flat_map(|r| r.steps).map(|step| (step, None));
    let mut snippets: Vec<Snippet> = job_steps
        .chain(composite)
        .filter(|(step, default)| is_shell(step.shell.as_ref().or(default.as_ref())))
        .filter_map(|(step, _)| step.run)
        .map(|run| snippet(file, text, run.referenced.line() as usize, &run.value))
        .collect();
    snippets.sort_by_key(|s| s.line);
    Ok(snippets)
}

/// `bash`, `sh` and GitHub's default are shell; `pwsh`, `python`, `cmd` are not.
fn is_shell(shell: Option<&String>) -> bool {
    shell.is_none_or(|s| matches!(s.split_whitespace().next(), Some("bash" | "sh")))
}

#[derive(Deserialize)]
struct Taskfile {
    #[serde(default)]
    tasks: BTreeMap<String, Spanned<Task>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Task {
    Line(String),
    Lines(Vec<Cmd>),
    Full(TaskBody),
}

#[derive(Deserialize)]
struct TaskBody {
    #[serde(default)]
    cmds: Vec<Cmd>,
    #[serde(default)]
    cmd: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Cmd {
    Line(String),
    Full(CmdBody),
}

/// `- cmd: …` (a `- task: …` item has no command of its own).
#[derive(Deserialize)]
struct CmdBody {
    #[serde(default)]
    cmd: Option<String>,
}

/// The commands of a Taskfile's tasks.
///
/// # Errors
/// A file that is not YAML of that shape, as `file:line:column: why`.
pub(super) fn taskfile(file: &str, text: &str) -> Result<Vec<Snippet>, String> {
    let taskfile: Taskfile = parse(file, text)?;
    let mut snippets = Vec::new();
    for task in taskfile.tasks.into_values() {
        let commands: Vec<String> = match task.value {
            Task::Line(line) => vec![line],
            Task::Lines(cmds) => cmds.into_iter().filter_map(Cmd::text).collect(),
            Task::Full(body) => body.cmd.into_iter().chain(body.cmds.into_iter().filter_map(Cmd::text)).collect(),
        };
        let mut from = task.referenced.line() as usize;
        for command in commands {
            let found = snippet(file, text, from, &command);
            from = found.line + command.trim().lines().count().max(1) - 1;
            snippets.push(found);
        }
    }
    snippets.sort_by_key(|s| s.line);
    Ok(snippets)
}

impl Cmd {
    fn text(self) -> Option<String> {
        match self {
            Cmd::Line(line) => Some(line),
            Cmd::Full(body) => body.cmd,
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<T, String> {
    serde_saphyr::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        format!("{file}:{line}:{column}: {}", yaml_message(&e))
    })
}

/// The snippet of `value`, a YAML string whose node starts on line `from`: its first line is
/// where the text is.
fn snippet(file: &str, text: &str, from: usize, value: &str) -> Snippet {
    let value = value.trim_start_matches(['\n', '\r']);
    let first = value.lines().next().unwrap_or_default();
    Snippet { file: file.to_owned(), line: locate(text, from, first), text: value.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_run_steps_keep_their_lines() {
        let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v5\n      - run: cargo test\n\
                    \x20     - name: two lines\n        run: |\n          echo a\n          talosctl health\n\
                    \x20     - shell: pwsh\n        run: Get-Item x\n";
        let snippets = workflow(".github/workflows/ci.yml", text).unwrap();
        assert_eq!(snippets.len(), 2, "{snippets:#?}");
        assert_eq!((snippets[0].line, snippets[0].text.as_str()), (7, "cargo test"));
        assert_eq!((snippets[1].line, snippets[1].text.as_str()), (10, "echo a\ntalosctl health\n"));
    }

    #[test]
    fn a_broken_workflow_is_named_with_its_line() {
        let problem = workflow("w.yml", "jobs:\n  a:\n    steps: [\n").unwrap_err();
        assert!(problem.starts_with("w.yml:"), "{problem}");
        let problem = workflow("w.yml", "jobs:\n  a:\n    steps: 3\n").unwrap_err();
        assert!(problem.starts_with("w.yml:3:"), "{problem}");
    }

    #[test]
    fn taskfile_commands_in_every_shape() {
        let text = "version: '3'\ntasks:\n  up: terraform apply\n  list:\n    - kubectl get nodes\n  sync:\n    desc: sync\n    cmds:\n\
                    \x20     - task: up\n      - cmd: argocd app sync root\n      - helm list\n";
        let snippets = taskfile("Taskfile.yml", text).unwrap();
        let found: Vec<(usize, &str)> = snippets.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(found, vec![(3, "terraform apply"), (5, "kubectl get nodes"), (10, "argocd app sync root"), (11, "helm list")]);
    }
}

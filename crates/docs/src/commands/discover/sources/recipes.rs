//! Justfile and Makefile recipes: each recipe's body, one shell line per line, with its echo and
//! error prefixes (`@`, `-`, `+`) removed and the file's simple variables put in
//! (`vixens := "cargo run -p vixens --"` makes `{{vixens}} promote` a `vixens promote`). A value
//! only known when the recipe runs (a parameter, a function call) stays a template word.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::Snippet;

static JUST_HEADER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^@?[A-Za-z_][A-Za-z0-9_-]*(\s[^:]*)?:([^=]|$)").expect("a valid regex"));
static JUST_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_-]*)\s*:=\s*(.*)$").expect("a valid regex"));
static JUST_INTERPOLATION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}").expect("a valid regex"));
static MAKE_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:(?:export|override)\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=|:=|::=|\?=|\+=)\s*(.*)$").expect("a valid regex"));

/// Words that start a Justfile line which is no recipe.
const JUST_STATEMENTS: &[&str] = &["set ", "alias ", "import ", "mod ", "export "];

/// The recipes of a Justfile.
pub(super) fn justfile(file: &str, text: &str) -> Vec<Snippet> {
    let lines: Vec<&str> = text.lines().collect();
    let variables = just_variables(&lines);
    let expand = |line: &str| {
        JUST_INTERPOLATION.replace_all(line, |c: &regex::Captures<'_>| variables.get(&c[1]).cloned().unwrap_or_else(|| c[0].to_owned())).into_owned()
    };
    recipes(file, &lines, is_just_header, |line| line.starts_with([' ', '\t']), &expand, "@-")
}

fn is_just_header(line: &str) -> bool {
    !line.starts_with(['#', '[', ' ', '\t'])
        && !JUST_STATEMENTS.iter().any(|s| line.starts_with(s))
        && !JUST_VARIABLE.is_match(line)
        && JUST_HEADER.is_match(line)
}

/// `name := "value"`: the variables whose value is a plain string.
fn just_variables(lines: &[&str]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|line| JUST_VARIABLE.captures(line))
        .filter_map(|c| {
            let value = c[2].trim();
            let unquoted =
                value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
            Some((c[1].to_owned(), unquoted.to_owned()))
        })
        .collect()
}

/// The rules of a Makefile.
pub(super) fn makefile(file: &str, text: &str) -> Vec<Snippet> {
    let lines: Vec<&str> = text.lines().collect();
    let variables = make_variables(&lines);
    let is_rule = |line: &str| {
        !line.starts_with(['#', '\t', ' ']) && !MAKE_VARIABLE.is_match(line) && line.split_once(':').is_some_and(|(_, after)| !after.starts_with('='))
    };
    let expand = |line: &str| make_expand(line, &variables, 0);
    recipes(file, &lines, is_rule, |line| line.starts_with('\t'), &expand, "@-+")
}

fn make_variables(lines: &[&str]) -> BTreeMap<String, String> {
    let mut variables: BTreeMap<String, String> = BTreeMap::new();
    for line in lines.iter().filter(|l| !l.starts_with('\t')) {
        if let Some(c) = MAKE_VARIABLE.captures(line) {
            let value = c[3].trim().to_owned();
            match &c[2] {
                "+=" => {
                    let entry = variables.entry(c[1].to_owned()).or_default();
                    if !entry.is_empty() {
                        entry.push(' ');
                    }
                    entry.push_str(&value);
                }
                "?=" => {
                    variables.entry(c[1].to_owned()).or_insert(value);
                }
                _ => {
                    variables.insert(c[1].to_owned(), value);
                }
            }
        }
    }
    variables
}

/// Expands make's `$(NAME)`, `${NAME}` and `$$`; `$(shell …)` becomes a command substitution,
/// what make cannot tell before running (a function, an automatic variable) a template word.
fn make_expand(line: &str, variables: &BTreeMap<String, String>, depth: usize) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some(&open @ ('(' | '{')) => {
                let close = if open == '(' { ')' } else { '}' };
                let mut level = 0;
                let mut end = i + 1;
                while end < chars.len() {
                    if chars[end] == open {
                        level += 1;
                    } else if chars[end] == close {
                        level -= 1;
                        if level == 0 {
                            break;
                        }
                    }
                    end += 1;
                }
                let inner: String = chars[i + 2..end.min(chars.len())].iter().collect();
                out.push_str(&make_reference(&inner, variables, depth));
                i = end + 1;
            }
            Some(c) => {
                // `$@`, `$<`, `$^`: automatic variables.
                out.push_str(&format!("{{{{{c}}}}}"));
                i += 2;
            }
            None => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

fn make_reference(inner: &str, variables: &BTreeMap<String, String>, depth: usize) -> String {
    if let Some(command) = inner.strip_prefix("shell ") {
        return format!("$({})", make_expand(command, variables, depth + 1));
    }
    match variables.get(inner.trim()) {
        Some(value) if depth < 8 => make_expand(value, variables, depth + 1),
        _ => format!("{{{{{}}}}}", inner.trim()),
    }
}

/// The bodies after each header line: lines for which `in_body` holds (blank lines too), each
/// command line's `prefixes` removed and `expand` applied. A body starting with a `#!` line is a
/// script in that language: read when it is shell, skipped otherwise.
fn recipes(
    file: &str,
    lines: &[&str],
    is_header: impl Fn(&str) -> bool,
    in_body: impl Fn(&str) -> bool,
    expand: &dyn Fn(&str) -> String,
    prefixes: &str,
) -> Vec<Snippet> {
    let mut snippets = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if !is_header(lines[i]) {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < lines.len() && (in_body(lines[end]) || lines[end].trim().is_empty()) {
            end += 1;
        }
        if let Some(text) = body(&lines[start..end], expand, prefixes) {
            snippets.push(Snippet { file: file.to_owned(), line: start + 1, text });
        }
        i = end;
    }
    snippets
}

fn body(lines: &[&str], expand: &dyn Fn(&str) -> String, prefixes: &str) -> Option<String> {
    let first = lines.iter().find(|l| !l.trim().is_empty())?;
    if let Some(shebang) = first.trim().strip_prefix("#!") {
        let shell = ["sh", "bash", "zsh", "dash"].iter().any(|s| shebang.split(['/', ' ']).any(|w| w == *s));
        if !shell {
            return None;
        }
    }
    let mut text = String::new();
    let mut continued = false;
    for line in lines {
        let mut command = line.trim_start();
        if command.starts_with("#!") {
            command = "";
        }
        if !continued {
            command = command.trim_start_matches(|c| prefixes.contains(c));
        }
        continued = command.ends_with('\\');
        text.push_str(&expand(command));
        text.push('\n');
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn justfile_recipes_have_their_variables_put_in() {
        let text = "# Daily recipes.\nvixens := \"cargo run --quiet -p vixens --\"\nset shell := [\"bash\", \"-c\"]\n\ndefault:\n    @just --list\n\n\
                    # The verdict.\npromote ENV *ARGS:\n    {{vixens}} promote {{ENV}} {{ARGS}}\n    -kubectl get pods \\\n      -n x\n\
                    [private]\npy:\n    #!/usr/bin/env python3\n    print('kubectl')\n";
        let snippets = justfile("Justfile", text);
        assert_eq!(snippets.len(), 2, "{snippets:#?}");
        assert_eq!(snippets[0], Snippet { file: "Justfile".into(), line: 6, text: "just --list\n\n".into() });
        assert_eq!(snippets[1].line, 10);
        assert_eq!(snippets[1].text, "cargo run --quiet -p vixens -- promote {{ENV}} {{ARGS}}\nkubectl get pods \\\n-n x\n");
    }

    #[test]
    fn makefile_rules_have_their_variables_put_in() {
        let text = "KUBECTL ?= kubectl\nNS := argocd\n.PHONY: sync\nsync: deps\n\t@$(KUBECTL) -n $(NS) get apps\n\t-echo $$HOME $@ $(shell talosctl -n x version)\n\nx = 1\n";
        let snippets = makefile("Makefile", text);
        assert_eq!(snippets.len(), 1, "{snippets:#?}");
        assert_eq!(snippets[0].line, 5);
        assert_eq!(snippets[0].text, "kubectl -n argocd get apps\necho $HOME {{@}} $(talosctl -n x version)\n\n");
    }
}

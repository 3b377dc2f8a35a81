//! Expected output against actual output: `[..]`, `...` and named placeholders.
//!
//! Each expected line compiles to a matcher: an exact string when it has no placeholder, else
//! an anchored regex where `[..]` is any run of characters, a per-environment `[NAME]` is the
//! environment's literal value and a pattern `[NAME]` is its regex. A line that is just `...`
//! matches any run of lines, including none. Trailing whitespace never counts.
//!
//! When the output does not match, [`Expected::normalize`] rewrites it toward the expected
//! text, as snapbox does: lines that match show the expected text, runs absorbed by `...`
//! show as `...`, and only real differences remain for the diff.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::document::{ExpectedLine, Placeholder, PlaceholderValue};

/// `[..]` or `[NAME]` inside an expected line.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[\.\.\]|\[([A-Z][A-Z0-9_]*)\]").expect("the token pattern is valid"));

/// How far ahead a mismatched line looks for the expected one before calling it changed:
/// bounds the cost of normalizing a long output that went wrong early.
const LOOKAHEAD: usize = 200;

/// The compiled expected output of one command.
#[derive(Debug, Clone)]
pub struct Expected {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone)]
enum Token {
    /// `...`: any run of lines.
    AnyLines,
    /// One line.
    Line { text: String, matcher: LineMatcher },
}

#[derive(Debug, Clone)]
enum LineMatcher {
    Exact(String),
    Pattern(Regex),
}

impl LineMatcher {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatcher::Exact(text) => text == line.trim_end(),
            LineMatcher::Pattern(re) => re.is_match(line.trim_end()),
        }
    }
}

/// Why expected output cannot be compiled for an environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A per-environment placeholder has no value in this environment.
    #[error("the placeholder `[{name}]` (line {line}) has no value in this environment: add `commands.values.{name}` to its env.yaml")]
    MissingValue {
        /// The placeholder's name.
        name: String,
        /// The expected line using it.
        line: usize,
    },
}

/// One line of actual output as shown in a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownLine {
    /// The output line it stands for (1-based), when it stands for one.
    pub line: Option<usize>,
    /// The expected text when the line matched, else the actual text.
    pub text: String,
}

impl Expected {
    /// Compiles `lines` with the document's `placeholders` and the environment's `values`.
    ///
    /// A `[NAME]` that is not defined stays literal text (lint reports it).
    ///
    /// # Errors
    /// [`CompileError::MissingValue`] for a per-environment placeholder the environment does
    /// not give.
    pub fn compile(lines: &[ExpectedLine], placeholders: &[Placeholder], values: &BTreeMap<String, String>) -> Result<Self, CompileError> {
        let tokens = lines
            .iter()
            .map(|l| {
                if l.text.trim() == "..." {
                    return Ok(Token::AnyLines);
                }
                let matcher = compile_line(l, placeholders, values)?;
                Ok(Token::Line { text: l.text.trim_end().to_owned(), matcher })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tokens })
    }

    /// True when `actual` matches, line for line.
    #[must_use]
    pub fn matches(&self, actual: &str) -> bool {
        let lines = output_lines(actual);
        // Glob matching with `...` as the star: each other token matches exactly one line, so
        // remembering the last star and backtracking to it is enough (and linear in practice).
        let (mut t, mut a) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while a < lines.len() {
            match self.tokens.get(t) {
                Some(Token::Line { matcher, .. }) if matcher.matches(lines[a]) => {
                    t += 1;
                    a += 1;
                }
                Some(Token::AnyLines) => {
                    star = Some((t, a));
                    t += 1;
                }
                _ => match star {
                    Some((st, sa)) => {
                        t = st + 1;
                        a = sa + 1;
                        star = Some((st, sa + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[t..].iter().all(|t| matches!(t, Token::AnyLines))
    }

    /// `actual` rewritten toward the expected text, for a readable diff.
    #[must_use]
    pub fn normalize(&self, actual: &str) -> Vec<ShownLine> {
        let lines = output_lines(actual);
        let mut shown = Vec::new();
        let raw = |a: usize| ShownLine { line: Some(a + 1), text: lines[a].trim_end().to_owned() };
        let (mut t, mut a) = (0, 0);
        while t < self.tokens.len() {
            match &self.tokens[t] {
                Token::AnyLines => {
                    let stop = self.absorbed_until(t, a, &lines);
                    shown.push(ShownLine { line: (stop > a).then_some(a + 1), text: "...".into() });
                    a = stop;
                    t += 1;
                }
                Token::Line { text, matcher } => {
                    if a >= lines.len() {
                        // Missing from the output: the diff shows it as removed.
                        t += 1;
                    } else if matcher.matches(lines[a]) {
                        shown.push(ShownLine { line: Some(a + 1), text: text.clone() });
                        t += 1;
                        a += 1;
                    } else if (a + 1..lines.len().min(a + 1 + LOOKAHEAD)).any(|k| matcher.matches(lines[k])) {
                        // An extra line: the expected one comes later.
                        shown.push(raw(a));
                        a += 1;
                    } else {
                        // A changed line.
                        shown.push(raw(a));
                        a += 1;
                        t += 1;
                    }
                }
            }
        }
        shown.extend((a..lines.len()).map(raw));
        shown
    }
}

impl Expected {
    /// Where the `...` at token `t` stops absorbing lines, starting at line `a`: at the first
    /// line matching the expected line after it. When that line is nowhere (it changed), at
    /// the first later expected line that is found, leaving one actual line for each expected
    /// line in between, so that the diff pairs them up as changed lines.
    fn absorbed_until(&self, t: usize, a: usize, lines: &[&str]) -> usize {
        let mut between = 0;
        for token in &self.tokens[t + 1..] {
            match token {
                Token::AnyLines if between == 0 => {}
                Token::AnyLines => break,
                Token::Line { matcher, .. } => {
                    if let Some(found) = (a..lines.len()).find(|&k| matcher.matches(lines[k])) {
                        return found.saturating_sub(between).max(a);
                    }
                    between += 1;
                }
            }
        }
        lines.len().saturating_sub(between).max(a)
    }
}

/// The lines of an output, with trailing blank lines dropped (as in the expected block).
fn output_lines(actual: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = actual.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

fn compile_line(line: &ExpectedLine, placeholders: &[Placeholder], values: &BTreeMap<String, String>) -> Result<LineMatcher, CompileError> {
    let text = line.text.trim_end();
    if !TOKEN.is_match(text) {
        return Ok(LineMatcher::Exact(text.to_owned()));
    }
    let mut pattern = String::from("^");
    let mut last = 0;
    let mut literal_only = true;
    for caps in TOKEN.captures_iter(text) {
        let whole = caps.get(0).expect("a match has a whole group");
        let literal = &text[last..whole.start()];
        last = whole.end();
        let Some(name) = caps.get(1) else {
            literal_only = false;
            if whole.end() == text.len() && literal.ends_with(char::is_whitespace) {
                // `Built: [..]` also matches `Built:` once its trailing spaces are trimmed.
                pattern.push_str(&regex::escape(literal.trim_end()));
                pattern.push_str(r"(?:\s.*)?");
            } else {
                pattern.push_str(&regex::escape(literal));
                pattern.push_str(".*");
            }
            continue;
        };
        pattern.push_str(&regex::escape(literal));
        let name = name.as_str();
        match placeholders.iter().find(|p| p.name == name).map(|p| &p.value) {
            Some(PlaceholderValue::PerEnvironment) => {
                let value = values.get(name).ok_or_else(|| CompileError::MissingValue { name: name.to_owned(), line: line.line })?;
                pattern.push_str(&regex::escape(value));
            }
            Some(PlaceholderValue::Pattern(p)) => {
                pattern.push_str(&format!("(?:{p})"));
                literal_only = false;
            }
            None => pattern.push_str(&regex::escape(whole.as_str())),
        }
    }
    if literal_only {
        // Only literal values: compare as text.
        return Ok(LineMatcher::Exact(unescape_literal(text, placeholders, values)));
    }
    pattern.push_str(&regex::escape(&text[last..]));
    pattern.push('$');
    // A bad placeholder pattern is a lint problem; here the line can only match itself.
    Ok(Regex::new(&pattern).map_or_else(|_| LineMatcher::Exact(text.to_owned()), LineMatcher::Pattern))
}

/// `text` with every per-environment placeholder replaced by its value.
fn unescape_literal(text: &str, placeholders: &[Placeholder], values: &BTreeMap<String, String>) -> String {
    TOKEN
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let whole = caps[0].to_owned();
            let Some(name) = caps.get(1) else { return whole };
            let per_env = placeholders.iter().any(|p| p.name == name.as_str() && p.value == PlaceholderValue::PerEnvironment);
            if per_env { values.get(name.as_str()).cloned().unwrap_or(whole) } else { whole }
        })
        .into_owned()
}

/// The placeholder names (`NODE` for `[NODE]`) used in `text`.
pub fn placeholder_names(text: &str) -> impl Iterator<Item = &str> {
    TOKEN.captures_iter(text).filter_map(|c| c.get(1)).map(|m| m.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<ExpectedLine> {
        text.lines().enumerate().map(|(i, t)| ExpectedLine { line: 10 + i, text: t.to_owned() }).collect()
    }

    fn placeholders() -> Vec<Placeholder> {
        vec![
            Placeholder { name: "NODE".into(), line: 3, value: PlaceholderValue::PerEnvironment },
            Placeholder { name: "AGE".into(), line: 4, value: PlaceholderValue::Pattern("[0-9]+[smhd]".into()) },
        ]
    }

    fn values() -> BTreeMap<String, String> {
        BTreeMap::from([("NODE".to_owned(), "10.5.0.2".to_owned())])
    }

    fn expected(text: &str) -> Expected {
        Expected::compile(&lines(text), &placeholders(), &values()).unwrap()
    }

    #[test]
    fn exact_lines_match_ignoring_trailing_whitespace() {
        let e = expected("a\nb  ");
        assert!(e.matches("a   \nb\n\n"));
        assert!(!e.matches("a\nc\n"));
        assert!(!e.matches("a\n"));
        assert!(!e.matches("a\nb\nc\n"));
    }

    #[test]
    fn dots_in_brackets_match_any_run_within_a_line() {
        let e = expected("Built: [..]\nNAME [..] READY");
        assert!(e.matches("Built: \nNAME  x y  READY\n"));
        assert!(!e.matches("Built: x\nNAME READY\n"), "[..] keeps the spaces around it");
    }

    #[test]
    fn three_dots_match_any_run_of_lines() {
        let e = expected("first\n...\nlast");
        assert!(e.matches("first\nlast\n"));
        assert!(e.matches("first\n1\n2\nlast\n"));
        assert!(!e.matches("first\n1\n"));
        let e = expected("...\nlast\n...");
        assert!(e.matches("last\n"));
        assert!(e.matches("a\nlast\nb\nlast\nc\n"));
        assert!(expected("...").matches(""));
        // Backtracking: the first `x` seen is not the one that lets the rest match.
        assert!(expected("...\nx\ny").matches("x\nx\ny\n"));
    }

    #[test]
    fn placeholders_match_their_value_or_pattern() {
        let e = expected("[NODE]   apid   Running   OK   [AGE] ago");
        assert!(e.matches("10.5.0.2   apid   Running   OK   3m ago"));
        assert!(!e.matches("10.5.0.3   apid   Running   OK   3m ago"));
        assert!(!e.matches("10.5.0.2   apid   Running   OK   soon ago"));
        // A literal-only line is compared as text: a dot in the value is not a wildcard.
        let e = expected("node [NODE]");
        assert!(e.matches("node 10.5.0.2"));
        assert!(!e.matches("node 10x5x0x2"));
    }

    #[test]
    fn an_undefined_placeholder_is_literal_text() {
        assert!(expected("[INFO] ok").matches("[INFO] ok"));
    }

    #[test]
    fn a_missing_environment_value_names_the_placeholder_and_line() {
        let err = Expected::compile(&lines("x\n[NODE]"), &placeholders(), &BTreeMap::new()).unwrap_err();
        assert_eq!(err, CompileError::MissingValue { name: "NODE".into(), line: 11 });
        assert_eq!(
            err.to_string(),
            "the placeholder `[NODE]` (line 11) has no value in this environment: add `commands.values.NODE` to its env.yaml"
        );
    }

    #[test]
    fn normalizing_keeps_only_real_differences() {
        let e = expected("start\n...\nnode [NODE]: [AGE]\nend");
        let shown = e.normalize("start\nnoise\nnoise\nnode 10.5.0.2: 5s\nEND\n");
        let texts: Vec<(Option<usize>, &str)> = shown.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(texts, [(Some(1), "start"), (Some(2), "..."), (Some(4), "node [NODE]: [AGE]"), (Some(5), "END")]);
    }

    #[test]
    fn a_changed_line_after_three_dots_is_paired_with_the_last_line() {
        let e = expected("header\n...\nnode [NODE] Ready");
        let shown = e.normalize("header\n1\n2\n3\nnode 10.5.0.2 NotReady\n");
        let texts: Vec<(Option<usize>, &str)> = shown.iter().map(|s| (s.line, s.text.as_str())).collect();
        assert_eq!(texts, [(Some(1), "header"), (Some(2), "..."), (Some(5), "node 10.5.0.2 NotReady")]);
    }

    #[test]
    fn normalizing_shows_extra_and_missing_lines() {
        let e = expected("a\nb\nc");
        let shown = e.normalize("a\nextra\nb\n");
        let texts: Vec<&str> = shown.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["a", "extra", "b"]);
    }

    #[test]
    fn placeholder_names_are_listed() {
        let names: Vec<&str> = placeholder_names("[NODE] [..] [AGE] [lower] [X1_Y]").collect();
        assert_eq!(names, ["NODE", "AGE", "X1_Y"]);
    }
}

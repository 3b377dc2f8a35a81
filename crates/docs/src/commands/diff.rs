//! The diff shown when a command's output differs from its entry, in the style of snapbox:
//! a header naming both sides, two line-number columns (the document's line, the output's
//! line), a sign per line (`|` same, `-` expected only, `+` actual only), and, in a long diff,
//! unchanged runs folded to five lines of context around each change.
//!
//! ```text
//! --- expected: docs/commands.md:58
//! +++ actual:   output of `talosctl health` on lab
//!    58    1 | discovered nodes: ["[NODE]"]
//!    59      - waiting for etcd to be healthy: OK
//!          2 + waiting for etcd to be healthy: 1 error occurred:
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

/// Context kept around each change once a diff is long enough to fold.
const CONTEXT: usize = 5;
/// Diffs up to this many lines are shown whole.
const FOLD_ABOVE: usize = 20;
/// The diff algorithm's time limit, after which it approximates (snapbox uses the same).
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

/// One side of a diff: a label for the header and numbered lines.
#[derive(Debug, Clone)]
pub struct Side {
    /// `expected: docs/commands.md:58`.
    pub label: String,
    /// Each line with its number, when it has one.
    pub lines: Vec<(Option<usize>, String)>,
}

/// Renders the diff from `expected` to `actual`.
#[must_use]
pub fn render(expected: &Side, actual: &Side) -> String {
    let old: Vec<&str> = expected.lines.iter().map(|(_, t)| t.as_str()).collect();
    let new: Vec<&str> = actual.lines.iter().map(|(_, t)| t.as_str()).collect();
    let diff = TextDiff::configure().algorithm(Algorithm::Patience).timeout(DIFF_TIMEOUT).diff_slices(&old, &new);
    let width = number_width(expected).max(number_width(actual));
    let mut out = String::new();
    let _ = writeln!(out, "--- {}", expected.label);
    let _ = writeln!(out, "+++ {}", actual.label);
    let groups = if old.len().max(new.len()) > FOLD_ABOVE { diff.grouped_ops(CONTEXT) } else { vec![diff.ops().to_vec()] };
    for (i, group) in groups.iter().enumerate() {
        if i > 0 || group.first().is_some_and(|op| op.old_range().start > 0 || op.new_range().start > 0) {
            let _ = writeln!(out, "{:>w$}", "⋮", w = width + 1);
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let old_no = change.old_index().and_then(|i| expected.lines[i].0);
                let new_no = change.new_index().and_then(|i| actual.lines[i].0);
                let sign = match change.tag() {
                    ChangeTag::Equal => '|',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                let _ = writeln!(out, "{} {} {sign} {}", number(old_no, width), number(new_no, width), change.value());
            }
        }
    }
    let last_shown = groups.last().and_then(|g| g.last()).map(|op| (op.old_range().end, op.new_range().end));
    if last_shown.is_some_and(|(o, n)| o < old.len() || n < new.len()) {
        let _ = writeln!(out, "{:>w$}", "⋮", w = width + 1);
    }
    out
}

fn number(n: Option<usize>, width: usize) -> String {
    n.map_or_else(|| " ".repeat(width), |n| format!("{n:>width$}"))
}

fn number_width(side: &Side) -> usize {
    side.lines.iter().filter_map(|(n, _)| *n).max().unwrap_or(0).to_string().len().max(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(label: &str, first: usize, text: &str) -> Side {
        Side { label: label.into(), lines: text.lines().enumerate().map(|(i, t)| (Some(first + i), t.to_owned())).collect() }
    }

    #[test]
    fn shows_both_line_numbers_and_a_sign_per_line() {
        let expected = side("expected: docs/commands.md:58", 58, "discovered nodes\nwaiting: OK\nend");
        let actual = side("actual:   output of `talosctl health` on lab", 1, "discovered nodes\nwaiting: FAIL\nend");
        assert_eq!(
            render(&expected, &actual),
            "\
--- expected: docs/commands.md:58
+++ actual:   output of `talosctl health` on lab
 58   1 | discovered nodes
 59     - waiting: OK
      2 + waiting: FAIL
 60   3 | end
"
        );
    }

    #[test]
    fn a_long_diff_folds_unchanged_runs() {
        let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let expected = side("expected", 100, &text);
        let actual = side("actual", 1, &text.replace("line 20\n", "line twenty\n"));
        let out = render(&expected, &actual);
        assert!(out.contains(" ⋮\n"), "{out}");
        assert!(out.contains("\n119     - line 20\n"), "{out}");
        assert!(out.contains("\n     20 + line twenty\n"), "{out}");
        assert!(!out.contains("line 1\n"), "{out}");
        assert!(!out.contains("line 40\n"), "{out}");
        assert_eq!(out.matches('|').count(), 10, "{out}");
    }
}

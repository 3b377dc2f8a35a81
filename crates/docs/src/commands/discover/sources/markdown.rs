//! Shell blocks of Markdown runbooks, read with pulldown-cmark (a fence nested in a list item or
//! a quote is found where a reader sees it) and kept line for line.
//!
//! A `console` (or `shell-session`) block is a session: `$ ` lines are commands, `> ` lines and
//! the lines after a trailing `\` continue them, everything else is output. A `sh`, `bash`,
//! `shell` or `zsh` block is a script, unless a line starts with a `$ ` prompt: then it is a
//! session too, whose other lines are output. Output lines become blank lines, so every command
//! keeps the line it is on.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::Snippet;
use crate::adr::markdown::LineIndex;

/// The shell blocks of a Markdown file.
pub(super) fn blocks(file: &str, text: &str) -> Vec<Snippet> {
    let lines = LineIndex::new(text);
    let mut snippets = Vec::new();
    let mut events = Parser::new_ext(text, Options::empty()).into_offset_iter();
    while let Some((event, range)) = events.next() {
        let Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) = event else { continue };
        let mut content = String::new();
        for (event, _) in events.by_ref() {
            match event {
                Event::Text(t) => content.push_str(&t),
                Event::End(TagEnd::CodeBlock) => break,
                _ => {}
            }
        }
        let language = info.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
        let shell = match language.as_str() {
            "console" | "shell-session" | "terminal" => session(&content),
            "sh" | "bash" | "shell" | "zsh" if content.lines().any(|l| l.starts_with("$ ")) => session(&content),
            "sh" | "bash" | "shell" | "zsh" => content.clone(),
            _ => continue,
        };
        snippets.push(Snippet { file: file.to_owned(), line: lines.line(range.start) + 1, text: shell });
    }
    snippets
}

fn session(content: &str) -> String {
    let mut out = Vec::new();
    let mut in_command = false;
    let mut backslash = false;
    for line in content.lines() {
        let command = if let Some(command) = line.strip_prefix("$ ").or_else(|| (line.trim_end() == "$").then_some("")) {
            Some(command)
        } else if backslash {
            Some(line)
        } else if in_command {
            line.strip_prefix("> ")
        } else {
            None
        };
        in_command = command.is_some();
        backslash = command.is_some_and(|c| c.trim_end().ends_with('\\'));
        out.push(command.unwrap_or_default());
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_blocks_keep_commands_and_drop_output() {
        let text = "# Runbook\n\n1. Upgrade:\n\n   ```console\n   $ talosctl -n 10.0.0.2 upgrade \\\n       --image x\n   upgrading\n   $ kubectl get nodes\n   NAME\n   ```\n\n\
                    ```python\nprint(1)\n```\n\n```sh\n$ helm list\nNAME  NAMESPACE\n```\n\n```bash\nflux get all # every kind\n```\n";
        let snippets = blocks("docs/runbook.md", text);
        assert_eq!(snippets.len(), 3, "{snippets:#?}");
        assert_eq!(snippets[0].line, 6);
        assert_eq!(snippets[0].text, "talosctl -n 10.0.0.2 upgrade \\\n    --image x\n\nkubectl get nodes\n\n");
        assert_eq!(snippets[1].line, 18);
        assert_eq!(snippets[1].text, "helm list\n\n");
        assert_eq!((snippets[2].line, snippets[2].text.as_str()), (23, "flux get all # every kind\n"));
    }
}

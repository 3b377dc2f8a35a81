//! Reads a commands document with pulldown-cmark, keeping exact line numbers.
//!
//! A CommonMark parser, not a line scanner: fences nested in list items or block quotes, `~~~`
//! fences and fences longer than three characters are found where a reader sees them. Every
//! event carries its byte range; a line index turns ranges into 1-based lines. Parsing never
//! fails: what cannot be read becomes a [`Problem`] at its line, and reading fails only for
//! bytes that are not a document at all (not UTF-8, too large).

use std::path::{Path, PathBuf};
use std::time::Duration;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::document::{
    Convergence, Document, Entry, Example, ExpectedLine, Placeholder, PlaceholderValue, Problem, RecordLine, Rule, Step, ValidatedOn, slug,
};
use super::validation::{Digest, Validation};

/// The largest document read. Far beyond any real commands.md; past it, the file is refused
/// rather than parsed into memory.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Why a document cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be opened or read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_BYTES`].
    #[error("{}: {size} bytes is more than the {limit} bytes a commands document may have; split it", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("{}:{line}:{column}: not UTF-8 text (byte 0x{byte:02x}); save the document as UTF-8", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line of the first invalid byte.
        line: usize,
        /// Its column (1-based, in bytes).
        column: usize,
        /// The byte.
        byte: u8,
    },
}

/// Reads and parses the document at `path`.
///
/// # Errors
/// See [`read`].
pub fn load(path: &Path) -> Result<Document, LoadError> {
    let text = read(path)?;
    Ok(parse(path, &text))
}

/// Reads the document at `path` as text.
///
/// # Errors
/// [`LoadError::Io`] if it cannot be read, [`LoadError::TooLarge`] past [`MAX_BYTES`],
/// [`LoadError::NotUtf8`] naming the line and column of the first bad byte.
pub fn read(path: &Path) -> Result<String, LoadError> {
    // A regular file only, read up to the limit: a FIFO would hang the read, a device never end it.
    let bytes = vixens_diagnostic::input::read(path, MAX_BYTES).map_err(|e| match e {
        vixens_diagnostic::input::InputError::TooLarge { size, limit, .. } => LoadError::TooLarge { path: path.to_owned(), size, limit },
        other => LoadError::Io { path: path.to_owned(), source: other.into_io() },
    })?;
    decode(path, bytes)
}

/// Checks that `bytes` is a document: small enough and UTF-8.
///
/// # Errors
/// [`LoadError::TooLarge`] or [`LoadError::NotUtf8`].
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, LoadError> {
    let size = bytes.len() as u64;
    if size > MAX_BYTES {
        return Err(LoadError::TooLarge { path: path.to_owned(), size, limit: MAX_BYTES });
    }
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..bad];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + bad - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        LoadError::NotUtf8 { path: path.to_owned(), line, column, byte: bytes[bad] }
    })
}

/// Parses `text` (read from `path`, which is only kept for messages).
#[must_use]
pub fn parse(path: &Path, text: &str) -> Document {
    let mut reader = Reader {
        text,
        lines: LineIndex::new(text),
        doc: Document {
            path: path.to_owned(),
            entries: Vec::new(),
            placeholders: Vec::new(),
            problems: Vec::new(),
            secrets: crate::secrets::scan(&path.display().to_string(), text, crate::secrets::Kind::Markdown),
        },
        entry: None,
        in_placeholders: false,
        depth: 0,
        record_list_pending: None,
    };
    let mut events = Parser::new_ext(text, Options::empty()).into_offset_iter();
    while let Some((event, range)) = events.next() {
        reader.event(event, range, &mut events);
    }
    reader.finish_entry();
    reader.doc
}

/// Byte offsets of line starts, to turn a range into a 1-based line.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        Self(std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect())
    }

    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&start| start <= offset)
    }
}

type Events<'a> = pulldown_cmark::OffsetIter<'a>;

/// The entry being read, with what is needed to judge its first paragraph.
struct EntryState {
    entry: Entry,
    blocks_seen: usize,
    /// The marker the current paragraph line continues (`Context`, `Mutating`).
    continuing: Option<Marker>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    Context,
    Mutating,
}

struct Reader<'t> {
    text: &'t str,
    lines: LineIndex,
    doc: Document,
    entry: Option<EntryState>,
    /// Inside a `Placeholders` section: its lists are definitions.
    in_placeholders: bool,
    /// Nesting of lists, items and quotes: entry markers count only at the top level.
    depth: usize,
    /// The depth and line of a `Validated on:` paragraph whose list is expected next.
    record_list_pending: Option<(usize, usize, String)>,
}

impl Reader<'_> {
    fn event(&mut self, event: Event<'_>, range: std::ops::Range<usize>, events: &mut Events<'_>) {
        let line = self.lines.line(range.start);
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                let title = inline_text(events, &TagEnd::Heading(level));
                self.heading(level, title.trim().to_owned(), line);
            }
            Event::Start(Tag::Paragraph) => {
                let text = inline_text(events, &TagEnd::Paragraph);
                self.paragraph(&text, line, range.start);
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let content = code_text(events);
                self.block_seen();
                if let CodeBlockKind::Fenced(info) = kind {
                    self.code_block(&info, &content, range);
                }
            }
            Event::Start(Tag::List(_)) => {
                let pending = self.record_list_pending.take();
                self.block_seen();
                if let Some((_, heading_line, prefix)) = pending.filter(|(d, ..)| *d == self.depth) {
                    self.record_list(events, heading_line, prefix);
                } else if self.in_placeholders && self.depth == 0 {
                    self.placeholder_list(events);
                } else {
                    self.depth += 1;
                }
            }
            Event::Start(Tag::Item | Tag::BlockQuote(_) | Tag::FootnoteDefinition(_)) => {
                self.block_seen();
                self.depth += 1;
            }
            Event::End(TagEnd::List(_) | TagEnd::Item | TagEnd::BlockQuote(_) | TagEnd::FootnoteDefinition) => {
                self.depth = self.depth.saturating_sub(1);
            }
            Event::Start(Tag::HtmlBlock | Tag::Table(_)) | Event::Rule => self.block_seen(),
            _ => {}
        }
    }

    /// Counts a block of the current entry; anything but a `Validated on:` list after its
    /// paragraph cancels the wait for that list.
    fn block_seen(&mut self) {
        self.record_list_pending = None;
        if self.depth == 0
            && let Some(state) = &mut self.entry
        {
            state.blocks_seen += 1;
            state.continuing = None;
        }
    }

    fn heading(&mut self, level: HeadingLevel, title: String, line: usize) {
        self.record_list_pending = None;
        if self.depth > 0 {
            return;
        }
        match level {
            HeadingLevel::H1 | HeadingLevel::H2 => {
                self.finish_entry();
                self.in_placeholders = title.eq_ignore_ascii_case("placeholders");
            }
            HeadingLevel::H3 => {
                self.finish_entry();
                self.in_placeholders = false;
                self.entry = Some(EntryState {
                    entry: Entry {
                        id: slug(&title),
                        title,
                        line,
                        context: None,
                        mutating: None,
                        converges: None,
                        timeout: None,
                        example: None,
                        validated_on: None,
                    },
                    blocks_seen: 0,
                    continuing: None,
                });
            }
            // Deeper headings are part of the entry they sit in.
            _ => {}
        }
    }

    fn finish_entry(&mut self) {
        if let Some(state) = self.entry.take() {
            self.doc.entries.push(state.entry);
        }
    }

    fn problem(&mut self, line: usize, rule: Rule, message: impl Into<String>) {
        self.doc.problems.push(Problem { line, rule, message: message.into() });
    }

    /// A paragraph: entry markers, one per line, and the `Validated on:` heading of a record
    /// list.
    fn paragraph(&mut self, text: &str, line: usize, start: usize) {
        if text.trim() == "Validated on:" {
            let prefix = self.prefix_at(start);
            self.block_seen();
            self.record_list_pending = Some((self.depth, line, prefix));
            return;
        }
        self.record_list_pending = None;
        if self.depth > 0 || self.entry.is_none() {
            return;
        }
        let first_block = self.entry.as_ref().is_some_and(|s| s.blocks_seen == 0);
        self.block_seen();
        for (i, text_line) in text.lines().enumerate() {
            let at = line + i;
            let is_first_line = first_block && i == 0;
            self.marker_line(text_line.trim(), at, is_first_line);
        }
    }

    fn marker_line(&mut self, text: &str, line: usize, first_line_of_entry: bool) {
        let Some(state) = self.entry.as_mut() else { return };
        if let Some(rest) = text.strip_prefix("Context:") {
            if first_line_of_entry {
                state.entry.context = Some(rest.trim().to_owned());
                state.continuing = Some(Marker::Context);
            }
            // A `Context:` elsewhere is reported by lint: the entry has no context up front.
        } else if let Some(rest) = text.strip_prefix("Mutating:") {
            state.entry.mutating = Some(rest.trim().to_owned());
            state.continuing = Some(Marker::Mutating);
            if rest.trim().is_empty() {
                self.problem(line, Rule::BadMarker, "`Mutating:` must say what the entry changes: `Mutating: brings a lab up in /tmp/lab`");
            }
        } else if let Some(rest) = text.strip_prefix("Converges:") {
            state.continuing = None;
            match parse_convergence(rest) {
                Ok(c) => state.entry.converges = Some(c),
                Err(message) => self.problem(line, Rule::BadMarker, message),
            }
        } else if let Some(rest) = text.strip_prefix("Timeout:") {
            state.continuing = None;
            match parse_duration(rest.trim()) {
                Ok(d) => state.entry.timeout = Some(d),
                Err(e) => self.problem(line, Rule::BadMarker, format!("`Timeout:` takes a duration such as 90s or 5m: {e}")),
            }
        } else {
            let target = match state.continuing {
                Some(Marker::Context) => state.entry.context.as_mut(),
                Some(Marker::Mutating) => state.entry.mutating.as_mut(),
                None => None,
            };
            if let Some(target) = target {
                target.push(' ');
                target.push_str(text);
            }
        }
    }

    fn code_block(&mut self, info: &str, content: &str, range: std::ops::Range<usize>) {
        if info.split_whitespace().next() != Some("console") {
            return;
        }
        let source = &self.text[range.clone()];
        let opening_line = self.lines.line(range.start);
        let prefix = self.prefix_at(range.start);
        let closing_line = fence_closes(source).then(|| self.lines.line(range.end.saturating_sub(1)));
        if closing_line.is_none() {
            self.problem(opening_line, Rule::UnterminatedBlock, "this `console` block is never closed: add a closing fence like its opening one");
        }
        if self.entry.is_none() {
            return;
        }
        if self.entry.as_ref().is_some_and(|s| s.entry.example.is_some()) {
            self.problem(
                opening_line,
                Rule::BadExample,
                "a second `console` block: an entry has one example (put several `$ ` commands in one block)",
            );
            return;
        }
        let steps = self.console_steps(content, opening_line + 1);
        let example = Example { line: opening_line, closing_line, prefix, steps, digest: Digest::of(content) };
        if let Some(state) = self.entry.as_mut() {
            state.entry.example = Some(example);
        }
    }

    /// Reads the content of a `console` block whose first line is `first_line`.
    fn console_steps(&mut self, content: &str, first_line: usize) -> Vec<Step> {
        let mut steps: Vec<Step> = Vec::new();
        // True while the lines after a `$ ` line may still continue it (`> `) or give `? CODE`.
        let mut in_command = false;
        let mut reported_stray_output = false;
        for (i, raw) in content.lines().enumerate() {
            let line = first_line + i;
            let text = raw.trim_end();
            if let Some(command) = text.strip_prefix("$ ").or_else(|| (text == "$").then_some("")) {
                if command.trim().is_empty() {
                    self.problem(line, Rule::BadExample, "an empty command: write it after `$ `");
                }
                steps.push(Step { line, command: command.to_owned(), status: None, expected: Vec::new() });
                in_command = true;
                continue;
            }
            let Some(step) = steps.last_mut() else {
                if !reported_stray_output && !text.is_empty() {
                    reported_stray_output = true;
                    self.problem(line, Rule::BadExample, "output before the first command: start the block with a `$ ` line");
                }
                continue;
            };
            if in_command && let Some(more) = text.strip_prefix("> ").or_else(|| (text == ">").then_some("")) {
                step.command.push('\n');
                step.command.push_str(more);
                continue;
            }
            if in_command && let Some(code) = text.strip_prefix("? ") {
                in_command = false;
                match code.trim().parse::<i32>() {
                    Ok(code) if (0..=255).contains(&code) => step.status = Some(code),
                    _ => self.problem(line, Rule::BadExample, format!("`? {}` is not an exit status: write `? 0` to `? 255`", code.trim())),
                }
                continue;
            }
            in_command = false;
            step.expected.push(ExpectedLine { line, text: text.to_owned() });
        }
        for step in &mut steps {
            while step.expected.last().is_some_and(|l| l.text.is_empty()) {
                step.expected.pop();
            }
        }
        steps
    }

    /// The container prefix of a block starting at `offset`: what precedes it on its line, with
    /// quote markers and tabs kept and anything else (a list bullet) turned into spaces.
    fn prefix_at(&self, offset: usize) -> String {
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        self.text[start..offset].chars().map(|c| if c == '>' || c == '\t' { c } else { ' ' }).collect()
    }

    fn record_list(&mut self, events: &mut Events<'_>, heading_line: usize, prefix: String) {
        let mut records = Vec::new();
        for (line, _) in list_items(events, &self.lines) {
            let source = self.text.lines().nth(line - 1).unwrap_or_default();
            let item = source.trim_start_matches([' ', '\t', '>']).trim_start_matches(['-', '*', '+']);
            let record = match Validation::parse(item) {
                Ok(v) => Some(v),
                Err(message) => {
                    self.problem(line, Rule::BadRecord, message);
                    None
                }
            };
            records.push(RecordLine { line, record });
        }
        let mut seen = std::collections::BTreeMap::new();
        for r in &records {
            if let Some(v) = &r.record
                && let Some(first) = seen.insert(v.env.clone(), r.line)
            {
                self.problem(
                    r.line,
                    Rule::BadRecord,
                    format!("a second record for `{}` (the first is on line {first}): keep one line per environment", v.env),
                );
            }
        }
        match self.entry.as_mut() {
            Some(state) => state.entry.validated_on = Some(ValidatedOn { line: heading_line, records, prefix }),
            None => self.problem(heading_line, Rule::BadRecord, "`Validated on:` outside any entry: it belongs under an entry's `console` block"),
        }
    }

    fn placeholder_list(&mut self, events: &mut Events<'_>) {
        for (line, pieces) in list_items(events, &self.lines) {
            match parse_placeholder(&pieces) {
                Ok((name, value)) => {
                    if let PlaceholderValue::Pattern(p) = &value
                        && let Err(e) = regex::Regex::new(p)
                    {
                        self.problem(
                            line,
                            Rule::BadPlaceholder,
                            format!("the pattern of `[{name}]` is not a regular expression: {}", last_line(&e.to_string())),
                        );
                    }
                    if let Some(first) = self.doc.placeholders.iter().find(|p| p.name == name) {
                        let first = first.line;
                        self.problem(
                            line,
                            Rule::BadPlaceholder,
                            format!("`[{name}]` is already defined on line {first}: define each placeholder once"),
                        );
                        continue;
                    }
                    self.doc.placeholders.push(Placeholder { name, line, value });
                }
                Err(message) => self.problem(line, Rule::BadPlaceholder, message),
            }
        }
    }
}

/// A piece of inline content: code spans are kept apart from text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Code(String),
    Text(String),
}

/// Collects the inline text up to `end`: code spans keep their content, breaks become
/// newlines.
fn inline_text(events: &mut Events<'_>, end: &TagEnd) -> String {
    let mut out = String::new();
    for (event, _) in events.by_ref() {
        match event {
            Event::End(ref e) if e == end => break,
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            _ => {}
        }
    }
    out
}

fn code_text(events: &mut Events<'_>) -> String {
    let mut out = String::new();
    for (event, _) in events.by_ref() {
        match event {
            Event::End(TagEnd::CodeBlock) => break,
            Event::Text(t) => out.push_str(&t),
            _ => {}
        }
    }
    out
}

/// Consumes a list (its `Start` already read) and returns each top-level item's line and
/// inline pieces; nested blocks inside items are skipped.
fn list_items(events: &mut Events<'_>, lines: &LineIndex) -> Vec<(usize, Vec<Piece>)> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    for (event, range) in events.by_ref() {
        match event {
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) if depth == 0 => break,
            Event::End(TagEnd::List(_)) => depth -= 1,
            Event::Start(Tag::Item) if depth == 0 => items.push((lines.line(range.start), Vec::new())),
            Event::Code(c) if depth == 0 => {
                if let Some((_, pieces)) = items.last_mut() {
                    pieces.push(Piece::Code(c.into_string()));
                }
            }
            Event::Text(t) if depth == 0 => {
                if let Some((_, pieces)) = items.last_mut() {
                    pieces.push(Piece::Text(t.into_string()));
                }
            }
            Event::SoftBreak if depth == 0 => {
                if let Some((_, pieces)) = items.last_mut() {
                    pieces.push(Piece::Text(" ".into()));
                }
            }
            _ => {}
        }
    }
    items
}

/// `[NAME]` per environment, or `[NAME]` pattern `REGEX`.
fn parse_placeholder(pieces: &[Piece]) -> Result<(String, PlaceholderValue), String> {
    const FORM: &str = "write \"`[NAME]` per environment: ...\" or \"`[NAME]` pattern `REGEX`: ...\"";
    let mut rest = pieces.iter().filter(|p| !matches!(p, Piece::Text(t) if t.trim().is_empty()));
    let Some(Piece::Code(code)) = rest.next() else {
        return Err(format!("a placeholder definition starts with its name in backticks: {FORM}"));
    };
    let name = code
        .strip_prefix('[')
        .and_then(|c| c.strip_suffix(']'))
        .filter(|n| is_placeholder_name(n))
        .ok_or_else(|| format!("`{code}` is not a placeholder name: use capitals, digits and `_` in brackets, like `[NODE_IP]`"))?
        .to_owned();
    match rest.next() {
        Some(Piece::Text(t)) if t.trim_start().to_lowercase().starts_with("per environment") => Ok((name, PlaceholderValue::PerEnvironment)),
        Some(Piece::Text(t)) if t.trim() == "pattern" => match rest.next() {
            Some(Piece::Code(pattern)) => Ok((name, PlaceholderValue::Pattern(pattern.clone()))),
            _ => Err(format!("the pattern of `[{name}]` goes in backticks: {FORM}")),
        },
        _ => Err(format!("say what `[{name}]` matches: {FORM}")),
    }
}

/// Placeholder names: a capital letter, then capitals, digits or `_`.
#[must_use]
pub fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// True when the fenced block's source ends with a closing fence matching its opening one.
fn fence_closes(source: &str) -> bool {
    let strip = |l: &str| l.trim_start_matches([' ', '\t', '>']).to_owned();
    let mut lines = source.lines();
    let opening = strip(lines.next().unwrap_or_default());
    let fence_char = opening.chars().next().unwrap_or('`');
    let fence_len = opening.chars().take_while(|&c| c == fence_char).count();
    let Some(last) = lines.next_back() else { return false };
    let last = strip(last);
    let last = last.trim_end();
    last.len() >= fence_len && last.chars().all(|c| c == fence_char)
}

fn parse_convergence(text: &str) -> Result<Convergence, String> {
    const FORM: &str = "write `Converges: within 2m` or `Converges: within 2m, every 5s`";
    let text = text.trim();
    let (within, every) = match text.split_once(',') {
        Some((w, e)) => (w.trim(), Some(e.trim())),
        None => (text, None),
    };
    let within = within.strip_prefix("within ").ok_or_else(|| format!("cannot read `Converges: {text}`: {FORM}"))?;
    let within = parse_duration(within.trim()).map_err(|e| format!("cannot read `Converges: {text}` ({e}): {FORM}"))?;
    let every = match every {
        None => Convergence::DEFAULT_EVERY,
        Some(e) => {
            let e = e.strip_prefix("every ").ok_or_else(|| format!("cannot read `Converges: {text}`: {FORM}"))?;
            parse_duration(e.trim()).map_err(|err| format!("cannot read `Converges: {text}` ({err}): {FORM}"))?
        }
    };
    Ok(Convergence { within, every })
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("a duration of zero".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{text:?} is not a duration: {e}")),
    }
}

/// The regex crate puts the reason on the last line of its message, under the pattern.
fn last_line(text: &str) -> &str {
    text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or(text).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        parse(Path::new("docs/commands.md"), text)
    }

    const ENTRY: &str = "\
# Operations

## Placeholders

- `[NODE]` per environment: the first control-plane node.
- `[AGE]` pattern `[0-9]+[smhd]`: an age as kubectl prints it.

## Talos

### Check `talosctl health`

Context: after a recreate; needs the talosconfig.
It reads only.

Converges: within 2m, every 5s

Timeout: 90s

```console
$ talosctl -n \"$NODE\" health \\
>   --wait-timeout 1m
? 0
discovered nodes: [\"[NODE]\"]
...
waiting for all k8s nodes to report schedulable: OK

$ echo done
done
```

Validated on:
- `lab` on 2026-11-26 with talosctl v1.13.9 (digest `0123456789ab`)
";

    #[test]
    fn reads_an_entry_with_exact_lines() {
        let d = doc(ENTRY);
        assert_eq!(d.problems, []);
        let e = &d.entries[0];
        assert_eq!(e.id, "check-talosctl-health");
        assert_eq!(e.line, 10);
        assert_eq!(e.context.as_deref(), Some("after a recreate; needs the talosconfig. It reads only."));
        assert_eq!(e.converges, Some(Convergence { within: Duration::from_secs(120), every: Duration::from_secs(5) }));
        assert_eq!(e.timeout, Some(Duration::from_secs(90)));
        assert!(!e.is_mutating());
        let ex = e.example.as_ref().unwrap();
        assert_eq!((ex.line, ex.closing_line), (19, Some(29)));
        assert_eq!(ex.steps.len(), 2);
        assert_eq!(ex.steps[0].line, 20);
        assert_eq!(ex.steps[0].command, "talosctl -n \"$NODE\" health \\\n  --wait-timeout 1m");
        assert_eq!(ex.steps[0].status, Some(0));
        let expected: Vec<(usize, &str)> = ex.steps[0].expected.iter().map(|l| (l.line, l.text.as_str())).collect();
        assert_eq!(expected, [(23, "discovered nodes: [\"[NODE]\"]"), (24, "..."), (25, "waiting for all k8s nodes to report schedulable: OK")]);
        assert_eq!(ex.steps[1].expected, [ExpectedLine { line: 28, text: "done".into() }]);
        let v = e.validated_on.as_ref().unwrap();
        assert_eq!(v.line, 31);
        assert_eq!(v.records[0].line, 32);
        assert_eq!(v.records[0].record.as_ref().unwrap().env, "lab");
        assert_eq!(d.placeholders.len(), 2);
        assert_eq!(d.placeholders[1], Placeholder { name: "AGE".into(), line: 6, value: PlaceholderValue::Pattern("[0-9]+[smhd]".into()) });
    }

    #[test]
    fn finds_tilde_fences_nested_in_lists_and_quotes() {
        let d = doc(
            "### Nested\n\nContext: x.\n\n1. First:\n\n   ~~~~console\n   $ echo a\n   a\n   ~~~~\n\n### Quoted\n\nContext: y.\n\n> ```console\n> $ echo b\n> b\n> ```\n",
        );
        assert_eq!(d.problems, []);
        let a = d.entries[0].example.as_ref().unwrap();
        assert_eq!((a.line, a.closing_line, a.prefix.as_str()), (7, Some(10), "   "));
        assert_eq!(a.steps[0].expected[0], ExpectedLine { line: 9, text: "a".into() });
        let b = d.entries[1].example.as_ref().unwrap();
        assert_eq!((b.line, b.closing_line, b.prefix.as_str()), (16, Some(19), "> "));
        assert_eq!(b.steps[0].line, 17);
    }

    #[test]
    fn an_unterminated_block_is_a_problem_at_its_fence() {
        let d = doc("### Open\n\nContext: x.\n\n```console\n$ echo a\na\n");
        assert_eq!(
            d.problems,
            [Problem {
                line: 5,
                rule: Rule::UnterminatedBlock,
                message: "this `console` block is never closed: add a closing fence like its opening one".into()
            }]
        );
        assert_eq!(d.entries[0].example.as_ref().unwrap().closing_line, None);
        let d = doc("### Open in a list\n\nContext: x.\n\n- ```console\n  $ echo a\n- next item\n");
        assert_eq!(d.problems[0].rule, Rule::UnterminatedBlock);
        assert_eq!(d.problems[0].line, 5);
    }

    #[test]
    fn a_shorter_fence_does_not_close_a_longer_one() {
        let d = doc("### Long fence\n\nContext: x.\n\n````console\n$ echo '```'\n```\n````\n");
        assert_eq!(d.problems, []);
        assert_eq!(d.entries[0].example.as_ref().unwrap().steps[0].expected[0].text, "```");
    }

    #[test]
    fn bad_markers_and_blocks_are_reported_at_their_line() {
        let d = doc(
            "### Bad\n\nContext: x.\n\nConverges: eventually\n\nTimeout: soon\n\nMutating:\n\n```console\nstray\n$\n$ false\n? maybe\n```\n\n```console\n$ echo again\n```\n",
        );
        let got: Vec<(usize, Rule)> = d.problems.iter().map(|p| (p.line, p.rule)).collect();
        assert_eq!(
            got,
            [
                (5, Rule::BadMarker),
                (7, Rule::BadMarker),
                (9, Rule::BadMarker),
                (12, Rule::BadExample),
                (13, Rule::BadExample),
                (15, Rule::BadExample),
                (18, Rule::BadExample)
            ]
        );
        assert!(d.problems[0].message.contains("write `Converges: within 2m`"), "{}", d.problems[0].message);
        assert_eq!(d.problems[5].message, "`? maybe` is not an exit status: write `? 0` to `? 255`");
    }

    #[test]
    fn bad_placeholder_definitions_are_reported() {
        let d = doc(
            "## Placeholders\n\n- `[NODE]` per environment\n- `[NODE]` pattern `x`\n- `[lower]` per environment\n- `[BAD]` pattern `(`\n- `[WHAT]` is something\n- no code\n",
        );
        let got: Vec<(usize, Rule)> = d.problems.iter().map(|p| (p.line, p.rule)).collect();
        assert_eq!(
            got,
            [(4, Rule::BadPlaceholder), (5, Rule::BadPlaceholder), (6, Rule::BadPlaceholder), (7, Rule::BadPlaceholder), (8, Rule::BadPlaceholder)]
        );
        assert_eq!(d.problems[0].message, "`[NODE]` is already defined on line 3: define each placeholder once");
        assert_eq!(d.placeholders.len(), 2);
    }

    #[test]
    fn duplicate_and_unreadable_records_are_reported() {
        let d = doc(
            "### R\n\nContext: x.\n\n```console\n$ true\n? 0\n```\n\nValidated on:\n- `lab` on 2026-11-26 (digest `0123456789ab`)\n- `lab` on 2026-11-27 (digest `0123456789ab`)\n- lab yesterday\n",
        );
        let got: Vec<(usize, Rule)> = d.problems.iter().map(|p| (p.line, p.rule)).collect();
        assert_eq!(got, [(13, Rule::BadRecord), (12, Rule::BadRecord)]);
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let err = decode(Path::new("docs/commands.md"), b"# ok\nab\xffc\n".to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "docs/commands.md:2:3: not UTF-8 text (byte 0xff); save the document as UTF-8");
    }

    #[test]
    fn a_huge_file_is_refused_before_it_is_parsed() {
        let err = decode(Path::new("big.md"), vec![b'a'; MAX_BYTES as usize + 1]).unwrap_err();
        assert!(matches!(err, LoadError::TooLarge { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            format!("big.md: {} bytes is more than the {MAX_BYTES} bytes a commands document may have; split it", MAX_BYTES + 1)
        );
    }

    #[test]
    fn deep_nesting_and_long_lines_near_the_limit_parse() {
        let quotes = format!("### Deep\n\nContext: x.\n\n{}```console\n$ echo\n", "> ".repeat(50_000));
        let lists: String = (0..2_000).map(|i| format!("{}- item\n", "  ".repeat(i))).collect();
        let brackets = format!("### Brackets\n\nContext: {}\n", "[".repeat(1_000_000));
        for text in [quotes, lists, brackets] {
            assert!(text.len() as u64 <= MAX_BYTES);
            let d = doc(&text);
            let _ = crate::commands::lint::lint(&d);
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::commands::lint::lint;

        /// Pieces of markdown that exercise the parser: fences of both kinds and lengths,
        /// console content, markers, headings, lists, quotes and records.
        fn fragment() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("### Entry\n".to_owned()),
                Just("## Placeholders\n".to_owned()),
                Just("- `[NODE]` per environment: x\n".to_owned()),
                Just("- `[AGE]` pattern `[0-9]+(`\n".to_owned()),
                Just("Context: something\n".to_owned()),
                Just("Mutating: it changes\n".to_owned()),
                Just("Converges: within 1s, every 1ms\n".to_owned()),
                Just("Timeout: 0s\n".to_owned()),
                Just("```console\n".to_owned()),
                Just("~~~~console\n".to_owned()),
                Just("```\n".to_owned()),
                Just("~~~\n".to_owned()),
                Just("$ echo hi \\\n".to_owned()),
                Just("> continued\n".to_owned()),
                Just("? 3\n".to_owned()),
                Just("? 999\n".to_owned()),
                Just("...\n".to_owned()),
                Just("[NODE] [..] [UNDEFINED]\n".to_owned()),
                Just("Validated on:\n".to_owned()),
                Just("- `lab` on 2026-11-26 (digest `0123456789ab`)\n".to_owned()),
                Just("- `prop-env` on 2020-01-01 (digest `0123456789ab`)\n".to_owned()),
                Just("- garbage record\n".to_owned()),
                Just("1. ".to_owned()),
                Just("   ".to_owned()),
                Just("> ".to_owned()),
                Just("\n".to_owned()),
                Just("\r\n".to_owned()),
                "[ -~\t]{0,40}\n",
                "\\PC{0,20}",
            ]
        }

        fn document() -> impl Strategy<Value = String> {
            prop::collection::vec(fragment(), 0..60).prop_map(|parts| parts.concat())
        }

        proptest! {
            #[test]
            fn any_bytes_give_a_document_or_a_clear_error(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
                match decode(Path::new("docs/commands.md"), bytes.clone()) {
                    Ok(text) => {
                        let d = parse(Path::new("docs/commands.md"), &text);
                        let _ = lint(&d);
                    }
                    Err(LoadError::NotUtf8 { line, column, byte, .. }) => {
                        prop_assert!(line >= 1 && column >= 1);
                        prop_assert!(std::str::from_utf8(&bytes).is_err());
                        prop_assert!(bytes.contains(&byte));
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other}"),
                }
            }

            #[test]
            fn markdown_of_any_shape_parses_with_lines_inside_the_file(text in document()) {
                let d = parse(Path::new("docs/commands.md"), &text);
                let last_line = text.split('\n').count();
                let problems = lint(&d);
                for p in &problems {
                    prop_assert!((1..=last_line).contains(&p.line), "{p:?} outside 1..={last_line}");
                    prop_assert!(!p.message.is_empty());
                }
                for e in &d.entries {
                    prop_assert!((1..=last_line).contains(&e.line));
                    if let Some(ex) = &e.example {
                        prop_assert!(ex.closing_line.is_none_or(|c| c > ex.line && c <= last_line));
                        for step in &ex.steps {
                            prop_assert!(step.line > ex.line && step.line <= last_line);
                            prop_assert!(step.expected.iter().all(|l| l.line > step.line && l.line <= last_line));
                        }
                    }
                }
                // Parsing is a function of the text: the same text, the same document.
                let again = parse(Path::new("docs/commands.md"), &text);
                prop_assert_eq!(again.problems, d.problems);
            }

            #[test]
            fn recording_changes_nothing_but_records(text in document()) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("commands.md");
                std::fs::write(&path, &text).unwrap();
                let d = parse(&path, &text);
                let passed = d.entries.iter().filter_map(|e| {
                    let digest = e.example.as_ref()?.digest.clone();
                    Some(crate::commands::record::Passed { id: e.id.clone(), digest, tools: vec!["kubectl v1.34.1".into()] })
                }).collect();
                let recording = crate::commands::record::Recording { env: "prop-env".into(), simulated: false, date: "2026-11-26".into(), passed };
                crate::commands::record::record(&path, &recording, false).unwrap();
                let after = std::fs::read_to_string(&path).unwrap();
                let kept = |t: &str| -> Vec<String> {
                    t.lines()
                        .filter(|l| !l.contains("`prop-env`") && l.trim_start_matches([' ', '>']).trim() != "Validated on:" && !l.trim_start_matches([' ', '>']).trim().is_empty())
                        .map(str::to_owned)
                        .collect()
                };
                prop_assert_eq!(kept(&after), kept(&text));
            }
        }
    }
}

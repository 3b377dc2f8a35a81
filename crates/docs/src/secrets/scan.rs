//! The scanner: one text in, its findings out.
//!
//! This is a content scan, as grep is, not a reading of the document's structure: secrets sit
//! in prose, code blocks, HTML comments, link targets, front matter and YAML files alike, and
//! must be found in all of them. Markdown structure matters only for one question, which lines
//! are a command's output (the lines of a `console` block that are not `$ ` commands, `> `
//! continuations or `? N` statuses), and that is read with pulldown-cmark, as everywhere else.
//!
//! 1. PEM blocks first: a `-----BEGIN X-----` line, body lines that look like a PEM body and the
//!    matching `-----END X-----` (within [`MAX_PEM_LINES`]). A private key is reported at its
//!    BEGIN line; every line of every block is then claimed, so a body line is never read again
//!    as a token.
//! 2. Then each line that is not claimed, rule by rule in table order (see [`super::rules`]).
//!
//! Byte offsets map to lines by a binary search over line starts: counting newlines for each
//! offset is quadratic and never ends on a multi-megabyte changelog.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

use regex::Captures;

use super::Finding;
use super::checks::{self, Pem};
use super::rules::{ANY, COMPILED, PRIVATE_KEY_PEM, Rule, Shape, Value};

/// How a text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Markdown: the output lines of its `console` blocks get `bare-secret-output` too.
    Markdown,
    /// YAML, shell and other text.
    Text,
    /// A command's output: every line is output (`vixens commands run`).
    Output,
}

impl Kind {
    /// The kind of a documentation file by its extension; `None` for files the scan does not
    /// read (images, binaries, other formats).
    #[must_use]
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Kind::Markdown),
            "yaml" | "yml" | "sh" | "bash" => Some(Kind::Text),
            _ => None,
        }
    }
}

/// The longest PEM block looked for: an RSA 4096 key is about 50 lines.
pub const MAX_PEM_LINES: usize = 200;

/// Every secret in `text`, in line order; `file` names it in the findings.
#[must_use]
pub fn scan(file: &str, text: &str, kind: Kind) -> Vec<Finding> {
    let lines = Lines::new(text);
    let mut findings = Vec::new();
    let mut claimed_lines = BTreeSet::new();
    for block in pem_blocks(&lines) {
        claimed_lines.extend(block.first..=block.last);
        if block.is_secret() {
            findings.push(Finding::new(file, block.first + 1, PRIVATE_KEY_PEM, &block.value, block.span.clone()));
        }
    }
    let outputs = match kind {
        Kind::Markdown => output_lines(text, &lines),
        Kind::Text | Kind::Output => HashMap::new(),
    };
    for index in 0..lines.len() {
        if claimed_lines.contains(&index) {
            continue;
        }
        let output = if kind == Kind::Output { Some(0) } else { outputs.get(&index).copied() };
        scan_line(file, &lines, index, output, &mut findings);
    }
    findings.sort_by_key(|f| f.line);
    findings
}

/// What a rule's match turned out to be.
enum Verdict {
    /// A secret: reported, and its span claimed.
    Secret,
    /// Recognised as no secret (a placeholder, public material): its span is claimed.
    NotSecret,
    /// Not this rule's shape after all: the span stays free for later rules.
    NoMatch,
}

/// Runs the line rules on line `index`. `output` is the column where a command's output starts
/// on it (after a block quote's `> ` or a list's indentation), when the line is output.
fn scan_line(file: &str, lines: &Lines<'_>, index: usize, output: Option<usize>, findings: &mut Vec<Finding>) {
    let (start, line) = lines.get(index);
    // One search tells which rules may match: most lines match none, and the others one or two.
    let may_match = ANY.matches(line);
    let output = output.filter(|&column| line.is_char_boundary(column)).map(|column| (column, ANY.matches(&line[column..])));
    let mut claimed: Vec<Range<usize>> = Vec::new();
    for (i, compiled) in COMPILED.iter().filter(|c| c.rule.id != PRIVATE_KEY_PEM).enumerate() {
        let rule = compiled.rule;
        let column = match (rule.shape.contains(&Shape::OutputOnly), &output) {
            (false, _) if may_match.matched(i) => 0,
            (true, Some((column, on_output))) if on_output.matched(i) => *column,
            _ => continue,
        };
        for caps in compiled.regex.captures_iter(&line[column..]) {
            let Some(m) = caps.name("secret") else { continue };
            let value = trim_value(m.as_str());
            let span = column + m.start()..column + m.start() + value.len();
            if value.is_empty() || claimed.iter().any(|c| span.start < c.end && c.start < span.end) {
                continue;
            }
            match verdict(rule, &caps, m.as_str(), value) {
                Verdict::NoMatch => {}
                Verdict::NotSecret => claimed.push(span),
                Verdict::Secret => {
                    findings.push(Finding::new(file, index + 1, rule.id, value, start + span.start..start + span.end));
                    claimed.push(span);
                }
            }
        }
    }
}

/// Trailing prose punctuation is not part of a value (`… est gs8w85Tiij3Mp3KM.`).
fn trim_value(value: &str) -> &str {
    value.trim_end_matches(['.', ')', ']', ':', '!', '?', '»'])
}

fn verdict(rule: &Rule, caps: &Captures<'_>, raw: &str, value: &str) -> Verdict {
    let shape_holds = |shape: &Shape| match shape {
        Shape::Base64Pem => checks::base64_pem(value) != Pem::NotPem,
        Shape::Jwt => checks::jwt(value),
        Shape::Bootstrap => checks::bootstrap(value),
        // The caller skips the rule on other lines.
        Shape::OutputOnly => true,
        Shape::MixedCaseDigit => checks::mixed_case_digit(value),
        Shape::NamesTheSecret => caps.name("key").is_none_or(|k| checks::names_the_secret(k.as_str())),
    };
    if !rule.shape.iter().all(shape_holds) {
        return Verdict::NoMatch;
    }
    // The untrimmed match too: trimming turns `sk-ant-api03-...` into no placeholder.
    if checks::is_placeholder(value) || checks::is_placeholder(raw) {
        return Verdict::NotSecret;
    }
    for check in rule.value {
        let holds = match check {
            Value::BodyEntropy { skip, min } => value.get(*skip..).is_some_and(|body| checks::entropy(body) >= *min),
            Value::Random => checks::random(value),
            Value::Base64Words => match checks::base64_words(value) {
                Some(secret) => return if secret { Verdict::Secret } else { Verdict::NotSecret },
                None => true,
            },
            Value::PrivatePem => checks::base64_pem(value) != Pem::Public,
            Value::Authorization => checks::authorization(caps.name("scheme").map(|m| m.as_str()), value),
            Value::UrlPassword => checks::url_password(value),
            Value::NotTheUser => caps.name("user").is_none_or(|u| u.as_str() != value),
        };
        if !holds {
            return Verdict::NotSecret;
        }
    }
    Verdict::Secret
}

/// The lines of a text, with their byte offsets; a line excludes its `\n` and `\r`.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).filter(|&s| s < text.len() || s == 0).collect();
        Self { text, starts }
    }

    fn len(&self) -> usize {
        if self.text.is_empty() { 0 } else { self.starts.len() }
    }

    /// The line's start offset and its text.
    fn get(&self, index: usize) -> (usize, &'a str) {
        let start = self.starts[index];
        let end = self.starts.get(index + 1).map_or(self.text.len(), |next| next - 1);
        let line = &self.text[start..end];
        let line = line.strip_suffix('\n').unwrap_or(line);
        (start, line.strip_suffix('\r').unwrap_or(line))
    }

    /// The 0-based line holding byte `offset`.
    fn index_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).saturating_sub(1)
    }
}

/// The lines of `console` blocks (also `shell-session`, `sh-session`, `terminal`) that are
/// output, each with the column its output starts at (after a block quote's `> `).
fn output_lines(text: &str, lines: &Lines<'_>) -> HashMap<usize, usize> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut out = HashMap::new();
    let mut in_console = false;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let language = info.split([' ', ',', '{']).next().unwrap_or_default().to_ascii_lowercase();
                in_console = matches!(language.as_str(), "console" | "shell-session" | "shellsession" | "sh-session" | "bash-session" | "terminal");
            }
            Event::End(TagEnd::CodeBlock) => in_console = false,
            Event::Text(content) if in_console => {
                let first = lines.index_of(range.start);
                // The parser gives a nested block's lines one by one, each from its content's
                // start; a top-level block's lines may come together, with nothing before them.
                let column = range.start - lines.get(first).0;
                for (i, line) in content.lines().enumerate() {
                    let line = line.trim_start();
                    let prompt = line == "$" || line.starts_with("$ ") || line.starts_with("> ") || line.starts_with("? ");
                    if !line.is_empty() && !prompt {
                        out.insert(first + i, if i == 0 { column } else { 0 });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A PEM block: its BEGIN and END lines (0-based), its label, its base64 body.
struct PemBlock {
    first: usize,
    last: usize,
    private: bool,
    /// The body lines as written, prefixes (`> `, indentation) and header lines removed.
    written: String,
    /// The base64 characters of the body: the value fingerprinted, so re-indenting or quoting
    /// the block does not change it.
    value: String,
    /// The body's bytes in the text, for [`super::scrub`].
    span: Range<usize>,
}

impl PemBlock {
    /// A private key with a real body: not `...`, and random enough.
    fn is_secret(&self) -> bool {
        self.private && !checks::is_placeholder(&self.written) && self.value.len() >= 40 && checks::entropy(&self.value) >= 4.0
    }
}

fn pem_blocks(lines: &Lines<'_>) -> Vec<PemBlock> {
    let begin = &COMPILED.iter().find(|c| c.rule.id == PRIVATE_KEY_PEM).expect("the table has the PEM rule").regex;
    let mut blocks = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let (start, line) = lines.get(index);
        let found = begin.captures(line).and_then(|caps| {
            let whole = caps.get(0)?;
            let label = caps.name("label")?.as_str();
            pem_block(lines, index, start + whole.end(), &line[whole.end()..], label)
        });
        match found {
            Some(block) => {
                index = block.last + 1;
                blocks.push(block);
            }
            None => index += 1,
        }
    }
    blocks
}

/// The block whose BEGIN marker ends at byte `after` of line `first`, if its END follows.
fn pem_block(lines: &Lines<'_>, first: usize, after: usize, rest: &str, label: &str) -> Option<PemBlock> {
    let end_marker = format!("-----END {label}-----");
    let private = label.contains("PRIVATE KEY");
    // A key on one line, as a JSON or YAML string writes it: `-----BEGIN …-----\nMIIE…\n-----END …-----`.
    if let Some(at) = rest.find(&end_marker) {
        let body = rest[..at].replace("\\n", "\n");
        let (written, value) = normalise(body.lines());
        return Some(PemBlock { first, last: first, private, written, value, span: after..after + at });
    }
    // In prose (`keys start with `-----BEGIN RSA PRIVATE KEY-----`, as …`) the marker is a
    // mention, not a block.
    if !rest.trim().trim_end_matches("\\n").trim_matches(['"', '\'', '`']).is_empty() {
        return None;
    }
    let mut body = Vec::new();
    for index in first + 1..lines.len().min(first + 1 + MAX_PEM_LINES) {
        let (start, line) = lines.get(index);
        if line.contains(&end_marker) {
            let span = match body.first() {
                Some(&(first_start, _)) => first_start..start.saturating_sub(1).max(first_start),
                None => after..after,
            };
            let (written, value) = normalise(body.iter().map(|(_, l)| *l));
            return Some(PemBlock { first, last: index, private, written, value, span });
        }
        if !looks_like_pem_body(line) {
            return None;
        }
        body.push((start, line));
    }
    None
}

/// The headers a PEM body may start with: RFC 1421's, which OpenSSL writes for encrypted keys,
/// and OpenPGP armor's (RFC 4880 section 6.2).
const PEM_HEADERS: &[&str] = &["Proc-Type", "DEK-Info", "Comment", "Version", "Hash", "Charset", "MessageID"];

/// Base64, a header, a blank line, or a placeholder (`...`), once the block's own prefix
/// (indentation, Markdown `> `) is removed.
fn looks_like_pem_body(line: &str) -> bool {
    let line = strip_prefix(line);
    line.is_empty()
        || line.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        || line.split_once(": ").is_some_and(|(name, _)| PEM_HEADERS.contains(&name))
        || checks::is_placeholder(line)
}

fn strip_prefix(line: &str) -> &str {
    line.trim_start_matches([' ', '\t', '>']).trim_end()
}

/// The body lines without their prefixes and headers, and the base64 characters they hold.
fn normalise<'a>(body: impl Iterator<Item = &'a str>) -> (String, String) {
    let written: String = body.map(strip_prefix).filter(|l| !l.contains(": ")).collect::<Vec<_>>().join("");
    let value = written.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')).collect();
    (written, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str, kind: Kind) -> Vec<(usize, &'static str)> {
        scan("t", text, kind).iter().map(|f| (f.line, f.rule)).collect()
    }

    const PASSWORD: &str = "gs8w85Tiij3Mp3KM";

    #[test]
    fn bare_output_lines_count_only_in_console_blocks() {
        let md = format!("{PASSWORD}\n\n```console\n$ argocd admin initial-password\n{PASSWORD}\n```\n\n```sh\n{PASSWORD}\n```\n");
        assert_eq!(rules(&md, Kind::Markdown), [(5, "bare-secret-output")]);
        assert_eq!(rules(PASSWORD, Kind::Output), [(1, "bare-secret-output")]);
        assert_eq!(rules(PASSWORD, Kind::Text), []);
    }

    #[test]
    fn console_blocks_nested_in_lists_and_quotes_are_found() {
        let md = format!("- step:\n\n  ```console\n  $ cmd\n  {PASSWORD}\n  ```\n\n> ```console\n> $ cmd\n> {PASSWORD}\n> ```\n");
        assert_eq!(rules(&md, Kind::Markdown), [(5, "bare-secret-output"), (10, "bare-secret-output")]);
    }

    #[test]
    fn a_span_is_reported_once_by_the_first_rule_that_claims_it() {
        let text = format!("curl -H \"Authorization: Bearer {}\" https://x\n", "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");
        assert_eq!(rules(&text, Kind::Text), [(1, "github-token")]);
        // A placeholder is claimed: the generic rule does not pick it up again.
        assert_eq!(rules("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", Kind::Text), []);
    }

    #[test]
    fn a_pem_block_is_one_finding_at_its_begin_line_however_it_is_quoted() {
        let body =
            ["MHcCAQEEIFlC3R3+h3EuxmLWn1X4yXGXNm98/0aXzdqJ7oRq2ZbBoAoGCCqGSM49", "AwEHoUQDQgAE2v5Yb8Q0x3N7k1mZpTQwHcLs9fRjK4uV6aBn1eXyGdW3Tt0oPq5C"];
        let block = |prefix: &str| {
            format!(
                "text\n{prefix}-----BEGIN EC PRIVATE KEY-----\n{prefix}{}\n{prefix}{}\n{prefix}-----END EC PRIVATE KEY-----\nafter\n",
                body[0], body[1]
            )
        };
        for prefix in ["", "> ", "    "] {
            let found = scan("t", &block(prefix), Kind::Markdown);
            assert_eq!(found.iter().map(|f| (f.line, f.rule)).collect::<Vec<_>>(), [(2, PRIVATE_KEY_PEM)], "prefix {prefix:?}");
            assert_eq!(found[0].fingerprint, scan("t", &block(""), Kind::Markdown)[0].fingerprint, "the fingerprint ignores the prefix");
        }
        let one_line = format!("key: \"-----BEGIN EC PRIVATE KEY-----\\n{}\\n{}\\n-----END EC PRIVATE KEY-----\\n\"\n", body[0], body[1]);
        assert_eq!(rules(&one_line, Kind::Text), [(1, PRIVATE_KEY_PEM)]);
    }

    #[test]
    fn certificates_and_empty_key_blocks_are_claimed_silently() {
        let cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ3v9x2Lk8QpWm4Tz7Rb1Yc5Hn0swCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n";
        assert_eq!(rules(&format!("```console\n$ cat ca.crt\n{cert}```\n"), Kind::Markdown), []);
        assert_eq!(rules("-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n", Kind::Text), []);
    }

    #[test]
    fn a_begin_marker_in_prose_claims_nothing() {
        let text = format!(
            "Keys start with `-----BEGIN RSA PRIVATE KEY-----`, as the RFC says.\n\npassword: {PASSWORD}\n\n`-----END RSA PRIVATE KEY-----`\n"
        );
        assert_eq!(rules(&text, Kind::Markdown), [(3, "secret-assignment")]);
    }

    #[test]
    fn crlf_line_endings_and_spans_map_back_to_the_text() {
        let text = format!("a: b\r\npassword: {PASSWORD}\r\n");
        let found = scan("t", &text, Kind::Text);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].line, &text[found[0].span.clone()]), (2, PASSWORD));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Pieces that steer the text towards the rules: keywords, prefixes, PEM markers,
        /// console fences, base64 and random tails, French and odd Unicode.
        fn piece() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("password: ".to_owned()),
                Just("Le mot de passe est : ".to_owned()),
                Just("-----BEGIN RSA PRIVATE KEY-----\n".to_owned()),
                Just("-----END RSA PRIVATE KEY-----\n".to_owned()),
                Just("```console\n$ cmd\n".to_owned()),
                Just("```\n".to_owned()),
                Just("> ".to_owned()),
                Just("Authorization: Basic ".to_owned()),
                Just("https://user:".to_owned()),
                Just("ghp_".to_owned()),
                Just("LS0tLS1CRUdJTi".to_owned()),
                Just("eyJhbGciOiJIUzI1NiJ9.eyJ".to_owned()),
                Just("\r\n".to_owned()),
                "[A-Za-z0-9+/=_.-]{0,40}",
                "\\PC{0,12}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            #[test]
            fn any_text_scans_and_scrubs_without_panicking(pieces in proptest::collection::vec(piece(), 0..40)) {
                let text: String = pieces.concat();
                for kind in [Kind::Markdown, Kind::Text, Kind::Output] {
                    for finding in scan("t", &text, kind) {
                        prop_assert!(text.get(finding.span.clone()).is_some(), "{:?} outside the text", finding.span);
                        prop_assert!(finding.line >= 1 && finding.line <= text.lines().count().max(1));
                    }
                    let _ = crate::secrets::scrub(&text, kind);
                }
            }
        }
    }

    #[test]
    fn a_kind_is_chosen_by_extension() {
        assert_eq!(Kind::of(Path::new("docs/adr/001-x.md")), Some(Kind::Markdown));
        assert_eq!(Kind::of(Path::new("docs/examples/kubeconfig.YAML")), Some(Kind::Text));
        assert_eq!(Kind::of(Path::new("docs/runbooks/rotate.sh")), Some(Kind::Text));
        assert_eq!(Kind::of(Path::new("docs/diagram.png")), None);
    }
}

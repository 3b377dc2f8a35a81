//! Stage one of loading: env.yaml parsed into a tree of nodes that each remember where they are
//! written, so that stage two can report every problem of the file at once, each at its place.
//!
//! serde-saphyr does the YAML work (syntax, anchors, scalar typing) and hands each value over
//! with its [`Spanned`] location; the tree keeps mappings in file order and never stops at an
//! unexpected key or type: judging those is stage two's job.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, MessageFormatter, Spanned};

/// Where something is written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset in the file.
    pub offset: usize,
    /// Length in bytes (at least 1, so that a label always has something to point at).
    pub len: usize,
}

impl At {
    /// The part of `self` (whose text is `text`) that starts `start` bytes in and is `len` bytes
    /// long, with its own line and column.
    pub fn within(self, text: &str, start: usize, len: usize) -> Self {
        let before = &text[..start];
        let (line, column) = match before.rfind('\n') {
            Some(nl) => (self.line + before.matches('\n').count(), before[nl + 1..].chars().count() + 1),
            None => (self.line, self.column + before.chars().count()),
        };
        Self { line, column, offset: self.offset + start, len: len.max(1) }
    }
}

/// A YAML value with its place.
#[derive(Debug, Clone)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it is written.
    pub at: At,
}

/// A mapping key with its place.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key as written.
    pub name: String,
    /// Where it is written.
    pub at: At,
}

/// A value. Booleans and floats keep no payload: where a string is expected, their spelling in
/// the file is used (`1.10` stays `1.10`), and no key expects them as such.
#[derive(Debug, Clone)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` or `false`.
    Bool,
    /// An integer.
    Int(i128),
    /// A number with a fraction or an exponent.
    Float,
    /// A string.
    Str(String),
    /// A sequence, in file order.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Key, Node)>),
}

impl Value {
    /// What this is, as a message says it ("a sequence").
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "nothing (null)",
            Self::Bool => "a boolean",
            Self::Int(_) => "an integer",
            Self::Float => "a number",
            Self::Str(_) => "a string",
            Self::Seq(_) => "a sequence",
            Self::Map(_) => "a mapping",
        }
    }
}

/// A file that is not YAML at all: where, and why.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub at: At,
    /// Why, on one line.
    pub message: String,
}

/// Parses `text` into a tree. An empty file is a null node.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let lines = LineIndex::new(text);
    match serde_saphyr::from_str_with_options::<Spanned<Raw>>(text, limits()) {
        Ok(root) => Ok(lines.node(text, root)),
        Err(e) => {
            let message = serde_saphyr::UserMessageFormatter.format_message(e.without_snippet()).into_owned();
            let at = e.location().map_or(At { line: 1, column: 1, offset: 0, len: 1 }, |l| lines.at(text, &l));
            Err(SyntaxError { at, message })
        }
    }
}

/// What an env.yaml may take, far beyond any real one (a few hundred nodes, five levels deep):
/// nesting is capped so that reading never overflows the stack (each level is a few frames of
/// the tree's deserializer), and aliases so that an expanding alias chain (a "billion laughs")
/// is refused at once instead of replaying millions of events.
fn limits() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_nodes: 100_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000,
        },
    }
}

/// The deepest nesting of mappings and sequences read.
const MAX_DEPTH: usize = 32;

/// The tree as serde-saphyr hands it over, before locations are turned into byte spans.
enum Raw {
    Null,
    Bool,
    Int(i128),
    Float,
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_none<E>(self) -> Result<Raw, E> {
        Ok(Raw::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
        Ok(Raw::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
        Ok(Raw::Int(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::Float)
    }
    fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Raw::Map(entries))
    }
}

/// Turns serde-saphyr's line and character column into byte offsets, which is what a labelled
/// span needs (serde-saphyr knows byte offsets only for some nodes).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn at(&self, text: &str, location: &Location) -> At {
        let line = (location.line() as usize).max(1);
        let column = (location.column() as usize).max(1);
        let line_start = self.starts.get(line - 1).copied().unwrap_or(text.len());
        let line_text = &text[line_start..];
        let offset = line_start + line_text.char_indices().nth(column - 1).map_or(line_text.len(), |(i, _)| i);
        let chars = location.span().len() as usize;
        let len = text[offset..].char_indices().nth(chars).map_or(text.len() - offset, |(i, _)| i);
        At { line, column, offset, len: len.max(1) }
    }

    fn node(&self, text: &str, raw: Spanned<Raw>) -> Node {
        let at = self.at(text, &raw.referenced);
        let value = match raw.value {
            Raw::Null => Value::Null,
            Raw::Bool => Value::Bool,
            Raw::Int(i) => Value::Int(i),
            Raw::Float => Value::Float,
            Raw::Str(s) => Value::Str(s),
            Raw::Seq(items) => Value::Seq(items.into_iter().map(|i| self.node(text, i)).collect()),
            Raw::Map(entries) => {
                Value::Map(entries.into_iter().map(|(k, v)| (Key { at: self.at(text, &k.referenced), name: k.value }, self.node(text, v))).collect())
            }
        };
        Node { value, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(node: &Node) -> &[(Key, Node)] {
        match &node.value {
            Value::Map(m) => m,
            other => panic!("expected a mapping, got {other:?}"),
        }
    }

    #[test]
    fn keys_and_values_know_their_line_column_and_bytes() {
        let text = "name: lab\n# a comment\nnodes:\n  - address: \"10.5.0.2\"\n";
        let root = parse(text).unwrap();
        let entries = map(&root);
        assert_eq!(entries[0].0.name, "name");
        assert_eq!(entries[0].1.at, At { line: 1, column: 7, offset: 6, len: 3 });
        let Value::Seq(nodes) = &entries[1].1.value else { panic!() };
        let (key, value) = &map(&nodes[0])[0];
        assert_eq!((key.at.line, key.at.column), (4, 5));
        assert_eq!(&text[key.at.offset..key.at.offset + key.at.len], "address");
        assert_eq!((value.at.line, value.at.column), (4, 14));
        assert!(matches!(&value.value, Value::Str(s) if s == "10.5.0.2"));
    }

    #[test]
    fn offsets_count_bytes_after_multibyte_characters() {
        let text = "description: Café lab\nname: x\n";
        let entries = parse(text).unwrap();
        let (key, value) = &map(&entries)[1];
        assert_eq!(&text[key.at.offset..key.at.offset + key.at.len], "name");
        assert_eq!(&text[value.at.offset..value.at.offset + value.at.len], "x");
    }

    #[test]
    fn a_syntax_error_has_a_place_and_a_plain_message() {
        let err = parse("name: lab\nnodes: [a, b\nkind: x\n").unwrap_err();
        assert_eq!(err.at.line, 3);
        assert!(!err.message.contains('\n'), "{}", err.message);
    }
}

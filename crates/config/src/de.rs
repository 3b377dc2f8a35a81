//! Serde over the located [`yaml`](crate::yaml) tree, lenient: the file model derives
//! `Deserialize`, and this deserializer records a structural problem (an unknown key, a section
//! that is not a mapping, a list that is not a sequence) where it finds it and goes on, so that
//! one load reports every problem of the file at once instead of stopping at the first, as
//! `deny_unknown_fields` would.
//!
//! Three wrapper types carry what plain serde cannot: [`Located`] keeps a value's place in the
//! file, [`Section`] and [`List`] say whether a section or a list had the right shape. Each asks
//! for itself through `deserialize_newtype_struct` with a marker name, the way `toml`'s
//! `Spanned` does; any other deserializer sees an ordinary newtype.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::error::ProblemKind;
use crate::yaml::{At, Key, Node, Value};

const LOCATED: &str = "$vixens::Located";
const SECTION: &str = "$vixens::Section";
const LIST_PREFIX: &str = "$vixens::List:";

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// Where the value is written.
    pub at: At,
    /// The value.
    pub value: T,
}

/// A section of the file (`terraform:`), read only when it is a mapping (or empty). A section of
/// another shape was reported as a problem; its keys are then not judged one by one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section<T> {
    /// A mapping, read.
    Mapping(Located<T>),
    /// Something else, already reported.
    NotAMapping,
}

/// A list of entries (`nodes:`), read only when it is a sequence (or empty). A list of another
/// shape was reported as a problem, naming what was expected ([`ListItem::EXPECTED`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum List<T> {
    /// A sequence, read, each entry with its place.
    Items(Located<Vec<Located<T>>>),
    /// Something else, already reported.
    NotAList,
}

/// An entry of a [`List`]: what a list of it is called in messages.
pub trait ListItem {
    /// The marker and the words: `concat!("$vixens::List:", "a list of nodes")`.
    const MARKER: &'static str;
}

/// A problem the deserializer found, before it is tied to its file.
pub type Found = (At, ProblemKind);

/// Reads `T` from `node`, whose key path is `path` (`""` for the whole file), pushing every
/// structural problem to `problems`.
pub fn read<'de, T: Deserialize<'de>>(node: &Node, path: &str, problems: &mut Vec<Found>) -> T {
    let found = RefCell::new(Vec::new());
    let read = T::deserialize(NodeDe { node, path: path.to_owned(), found: &found });
    problems.extend(found.into_inner());
    match read {
        Ok(value) => value,
        // The model is lenient: only a type that is not made of the wrappers above can fail.
        Err(error) => unreachable!("the env.yaml model accepts any YAML: {error}"),
    }
}

/// A serde error; the lenient model never produces one from a parsed tree.
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Self(message.to_string())
    }
}

struct NodeDe<'a> {
    node: &'a Node,
    path: String,
    found: &'a RefCell<Vec<Found>>,
}

impl<'a> NodeDe<'a> {
    fn child(&self, node: &'a Node, path: String) -> Self {
        NodeDe { node, path, found: self.found }
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    fn wrong_type(&self, expected: &str) {
        let key = if self.path.is_empty() { "(the file)".to_owned() } else { self.path.clone() };
        let kind = ProblemKind::WrongType { key, expected: expected.to_owned(), found: self.node.value.kind() };
        self.found.borrow_mut().push((self.node.at, kind));
    }

    fn unknown_keys(&self, entries: &[(Key, Node)], fields: &'static [&'static str]) {
        for (key, _) in entries.iter().filter(|(k, _)| !fields.contains(&k.name.as_str())) {
            let distance = |known: &str| strsim::levenshtein(known, &key.name);
            let suggestion = fields.iter().copied().min_by_key(|k| distance(k)).filter(|k| distance(k) <= 2);
            let kind = ProblemKind::UnknownKey { key: self.key_path(&key.name), expected: fields.to_vec(), suggestion };
            self.found.borrow_mut().push((key.at, kind));
        }
    }
}

impl<'de> Deserializer<'de> for NodeDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool => visitor.visit_bool(true),
            Value::Int(i) => visitor.visit_i128(*i),
            Value::Float => visitor.visit_f64(0.0),
            Value::Str(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(Items { de: &self, items: items.iter().enumerate() }),
            Value::Map(entries) => visitor.visit_map(Entries { de: &self, entries: entries.iter(), value: None }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        // An explicit `key: ~` counts as absent, as an omitted key does.
        if matches!(self.node.value, Value::Null) { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        let shaped = match (name, &self.node.value) {
            (LOCATED, _) | (SECTION, Value::Map(_) | Value::Null) => true,
            (SECTION, _) => {
                self.wrong_type("a mapping");
                false
            }
            (list, Value::Seq(_) | Value::Null) if list.starts_with(LIST_PREFIX) => true,
            (list, _) if list.starts_with(LIST_PREFIX) => {
                self.wrong_type(&list[LIST_PREFIX.len()..]);
                false
            }
            _ => return visitor.visit_newtype_struct(self),
        };
        if shaped { visitor.visit_seq(LocatedSeq { at: Some(self.node.at), value: Some(self) }) } else { visitor.visit_unit() }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Map(entries) => {
                self.unknown_keys(entries, fields);
                let known: Vec<&(Key, Node)> = entries.iter().filter(|(k, _)| fields.contains(&k.name.as_str())).collect();
                visitor.visit_map(Entries { de: &self, entries: known.into_iter(), value: None })
            }
            Value::Null => visitor.visit_map(Entries { de: &self, entries: [].iter(), value: None }),
            _ => {
                self.wrong_type("a mapping");
                visitor.visit_map(Entries { de: &self, entries: [].iter(), value: None })
            }
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Seq(items) => visitor.visit_seq(Items { de: &self, items: items.iter().enumerate() }),
            _ => visitor.visit_seq(Items { de: &self, items: [].iter().enumerate() }),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        tuple tuple_struct map enum identifier ignored_any
    }
}

/// A sequence's items, each with its indexed key path (`nodes[1]`).
struct Items<'a, 'b, I> {
    de: &'b NodeDe<'a>,
    items: I,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Node)>> SeqAccess<'de> for Items<'a, '_, I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some((i, item)) = self.items.next() else { return Ok(None) };
        seed.deserialize(self.de.child(item, format!("{}[{i}]", self.de.path))).map(Some)
    }
}

/// A mapping's entries; each key is handed over with its place (as a [`Key`] when asked for one).
struct Entries<'a, 'b, I> {
    de: &'b NodeDe<'a>,
    entries: I,
    value: Option<(&'a Key, &'a Node)>,
}

impl<'de, 'a, I: Iterator<Item = &'a (Key, Node)>> MapAccess<'de> for Entries<'a, '_, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some((key, value));
        seed.deserialize(KeyDe(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self.value.take().expect("serde asks for a value after its key");
        seed.deserialize(self.de.child(value, self.de.key_path(&key.name)))
    }
}

/// A mapping key: a string, or a [`Key`] with its place.
struct KeyDe<'a>(&'a Key);

impl<'de> Deserializer<'de> for KeyDe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(&self.0.name)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        if name == LOCATED {
            visitor.visit_seq(LocatedSeq { at: Some(self.0.at), value: Some(self.0.name.as_str().into_deserializer()) })
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit unit_struct
        seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// A located value as a two-element sequence: its place (line, column, offset, length), then
/// the value itself.
struct LocatedSeq<D> {
    at: Option<At>,
    value: Option<D>,
}

impl<'de, D: Deserializer<'de, Error = Error>> SeqAccess<'de> for LocatedSeq<D> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if let Some(at) = self.at.take() {
            let place = [at.line, at.column, at.offset, at.len].map(|n| n as u64);
            return seed.deserialize(serde::de::value::SeqDeserializer::new(place.into_iter())).map(Some);
        }
        match self.value.take() {
            Some(value) => seed.deserialize(value).map(Some),
            None => Ok(None),
        }
    }
}

impl<'de> Deserialize<'de> for At {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let [line, column, offset, len] = <[u64; 4]>::deserialize(deserializer)?;
        let usize_of = |n: u64| usize::try_from(n).map_err(de::Error::custom);
        Ok(At { line: usize_of(line)?, column: usize_of(column)?, offset: usize_of(offset)?, len: usize_of(len)? })
    }
}

/// Visits the two elements of a [`LocatedSeq`], or a unit for a wrongly shaped section or list.
struct LocatedVisitor<V, T, F> {
    wrap: F,
    unshaped: Option<T>,
    value: std::marker::PhantomData<V>,
}

impl<V, T, F> LocatedVisitor<V, T, F> {
    fn new(wrap: F, unshaped: Option<T>) -> Self {
        Self { wrap, unshaped, value: std::marker::PhantomData }
    }
}

impl<'de, V: Deserialize<'de>, T, F: FnOnce(Located<V>) -> T> Visitor<'de> for LocatedVisitor<V, T, F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value with its place in the file")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let at = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let value = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok((self.wrap)(Located { at, value }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        self.unshaped.ok_or_else(|| E::custom("a value with its place in the file"))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(LOCATED, LocatedVisitor::new(|located| located, None))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Section<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(SECTION, LocatedVisitor::new(Section::Mapping, Some(Section::NotAMapping)))
    }
}

impl<'de, T: Deserialize<'de> + ListItem> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(T::MARKER, LocatedVisitor::new(List::Items, Some(List::NotAList)))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Located::<Value>::deserialize(deserializer)?;
        Ok(Node { value: located.value, at: located.at })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Located::<String>::deserialize(deserializer)?;
        Ok(Key { name: located.value, at: located.at })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Rebuilds a [`Value`] from what [`NodeDe::deserialize_any`] hands over.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Bool)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Float)
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::yaml;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    struct Top {
        name: Option<Node>,
        terraform: Option<Section<Terraform>>,
        nodes: Option<List<Item>>,
    }

    #[derive(Debug, Deserialize)]
    struct Terraform {
        root: Option<Node>,
    }

    #[derive(Debug, Deserialize)]
    struct Item {
        address: Option<Node>,
    }

    impl ListItem for Item {
        const MARKER: &'static str = concat!("$vixens::List:", "a list of nodes");
    }

    fn read_top(text: &str) -> (Top, Vec<String>) {
        let root = yaml::parse(text).unwrap();
        let mut found = Vec::new();
        let top: Top = read(&root, "", &mut found);
        found.sort_by_key(|(at, _)| at.offset);
        (top, found.iter().map(|(at, kind)| format!("{}:{}: {kind}", at.line, at.column)).collect())
    }

    #[test]
    fn values_keep_their_place_and_sections_their_shape() {
        let (top, problems) = read_top("name: lab\nterraform:\n  root: tf\nnodes:\n  - address: 10.5.0.2\n");
        assert!(problems.is_empty(), "{problems:?}");
        let name = top.name.unwrap();
        assert!(matches!(&name.value, Value::Str(s) if s == "lab"));
        assert_eq!((name.at.line, name.at.column, name.at.offset, name.at.len), (1, 7, 6, 3));
        let Some(Section::Mapping(terraform)) = top.terraform else { panic!("terraform is a mapping") };
        assert_eq!(terraform.at.line, 3);
        assert_eq!(terraform.value.root.unwrap().at.line, 3);
        let Some(List::Items(nodes)) = top.nodes else { panic!("nodes is a list") };
        assert_eq!(nodes.value[0].at.line, 5);
        assert!(matches!(&nodes.value[0].value.address.as_ref().unwrap().value, Value::Str(s) if s == "10.5.0.2"));
    }

    #[test]
    fn every_structural_problem_is_collected_and_reading_goes_on() {
        let (top, problems) = read_top("nam: lab\nterraform: tf\nnodes: {address: x}\nextra: 1\n");
        assert_eq!(
            problems,
            [
                "1:1: unknown key `nam`; expected one of: name, terraform, nodes",
                "2:12: `terraform`: expected a mapping, found a string",
                "3:8: `nodes`: expected a list of nodes, found a mapping",
                "4:1: unknown key `extra`; expected one of: name, terraform, nodes",
            ]
        );
        assert!(top.name.is_none());
        assert!(matches!(top.terraform, Some(Section::NotAMapping)));
        assert_eq!(top.nodes.map(|n| matches!(n, List::NotAList)), Some(true));
    }

    #[test]
    fn unknown_keys_inside_list_items_name_their_index_and_suggest_the_closest_key() {
        let (_, problems) = read_top("nodes:\n  - {address: a}\n  - {adress: b}\n");
        assert_eq!(problems, ["3:6: unknown key `nodes[1].adress`; expected one of: address"]);
    }

    #[test]
    fn an_explicit_null_counts_as_absent() {
        let (top, problems) = read_top("name: ~\nterraform:\n");
        assert!(problems.is_empty());
        assert!(top.name.is_none());
        assert!(top.terraform.is_none());
    }
}

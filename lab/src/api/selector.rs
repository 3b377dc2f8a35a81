//! Label and field selectors (`?labelSelector=`, `?fieldSelector=`), with the grammar of
//! `k8s.io/apimachinery/pkg/labels`: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`,
//! `!k`, joined by commas.

use serde_json::Value;

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    /// `value` is the key's value, `None` when the key is absent.
    fn matches(&self, value: Option<&str>) -> bool {
        match self {
            Self::Equals(_, v) => value == Some(v.as_str()),
            Self::NotEquals(_, v) => value != Some(v.as_str()),
            Self::In(_, vs) => value.is_some_and(|x| vs.iter().any(|v| v == x)),
            Self::NotIn(_, vs) => value.is_none_or(|x| vs.iter().all(|v| v != x)),
            Self::Exists(_) => value.is_some(),
            Self::DoesNotExist(_) => value.is_none(),
        }
    }

    fn key(&self) -> &str {
        match self {
            Self::Equals(k, _) | Self::NotEquals(k, _) | Self::In(k, _) | Self::NotIn(k, _) | Self::Exists(k) | Self::DoesNotExist(k) => k,
        }
    }
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    /// Parses a label selector.
    ///
    /// # Errors
    /// A message naming the part that cannot be parsed (the server answers 400).
    pub fn parse(text: &str) -> Result<Self, String> {
        split_top_level(text).into_iter().map(parse_requirement).collect::<Result<_, _>>().map(Self)
    }

    /// True when the object's `metadata.labels` satisfy every requirement.
    #[must_use]
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        self.0.iter().all(|r| r.matches(labels.and_then(|l| l.get(r.key())).and_then(Value::as_str)))
    }
}

/// A parsed field selector: equality and inequality on dotted paths (`metadata.name=x`,
/// `involvedObject.kind=Pod`, `spec.nodeName!=`); an absent field reads as the empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<Requirement>);

impl FieldSelector {
    /// Parses a field selector.
    ///
    /// # Errors
    /// A message naming the part that cannot be parsed (the server answers 400).
    pub fn parse(text: &str) -> Result<Self, String> {
        let parse = |part: &str| match parse_requirement(part)? {
            r @ (Requirement::Equals(..) | Requirement::NotEquals(..)) => Ok(r),
            _ => Err(format!("invalid field selector: '{part}': only =, == and != are supported")),
        };
        split_top_level(text).into_iter().map(parse).collect::<Result<_, _>>().map(Self)
    }

    /// True when every field requirement holds.
    #[must_use]
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|r| {
            let pointer = format!("/{}", r.key().replace('.', "/"));
            let value = match object.pointer(&pointer) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            r.matches(Some(&value))
        })
    }
}

/// Splits on commas outside parentheses, dropping empty parts.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let invalid = || format!("unable to parse requirement: '{part}'");
    if let Some(key) = part.strip_prefix('!') {
        return valid_key(key.trim(), part).map(|k| Requirement::DoesNotExist(k.to_owned()));
    }
    for (op, make) in [("!=", Requirement::NotEquals as fn(String, String) -> Requirement), ("==", Requirement::Equals), ("=", Requirement::Equals)] {
        if let Some((key, value)) = part.split_once(op) {
            let key = valid_key(key.trim(), part)?;
            return Ok(make(key.to_owned(), value.trim().to_owned()));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    match words.as_slice() {
        [key] => valid_key(key, part).map(|k| Requirement::Exists(k.to_owned())),
        [key, rest] => {
            let rest = rest.trim();
            let (op, set) = rest.split_once(char::is_whitespace).map_or((rest, ""), |(o, s)| (o, s.trim()));
            let (op, set) = match rest.find('(') {
                Some(i) if op.contains('(') => (&rest[..i], &rest[i..]),
                _ => (op, set),
            };
            let values = set
                .strip_prefix('(')
                .and_then(|s| s.strip_suffix(')'))
                .ok_or_else(invalid)?
                .split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            let key = valid_key(key, part)?.to_owned();
            match op.trim() {
                "in" => Ok(Requirement::In(key, values)),
                "notin" => Ok(Requirement::NotIn(key, values)),
                _ => Err(invalid()),
            }
        }
        _ => Err(invalid()),
    }
}

fn valid_key<'a>(key: &'a str, part: &str) -> Result<&'a str, String> {
    let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok { Ok(key) } else { Err(format!("unable to parse requirement: '{part}': invalid label key \"{key}\"")) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn app(labels: Value) -> Value {
        json!({"metadata": {"name": "traefik", "namespace": "argocd", "labels": labels}})
    }

    #[test]
    fn equality_inequality_and_sets_select_by_label() {
        let obj = app(json!({"tier": "system", "wave": "2"}));
        for (selector, expected) in [
            ("tier=system", true),
            ("tier==system", true),
            ("tier!=system", false),
            ("tier in (system, infra)", true),
            ("tier in(apps)", false),
            ("tier notin (apps)", true),
            ("missing notin (x)", true),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("tier=system,wave in (1,2)", true),
            ("tier=system,wave=3", false),
            ("", true),
        ] {
            assert_eq!(LabelSelector::parse(selector).unwrap().matches(&obj), expected, "{selector}");
        }
    }

    #[test]
    fn a_malformed_selector_is_refused_with_the_part_named() {
        assert_eq!(LabelSelector::parse("tier in system").unwrap_err(), "unable to parse requirement: 'tier in system'");
        assert!(LabelSelector::parse("ti er=x").unwrap_err().contains("invalid label key"));
    }

    #[test]
    fn field_selectors_read_dotted_paths() {
        let obj = app(json!({}));
        assert!(FieldSelector::parse("metadata.name=traefik,metadata.namespace=argocd").unwrap().matches(&obj));
        assert!(!FieldSelector::parse("metadata.name!=traefik").unwrap().matches(&obj));
        assert!(FieldSelector::parse("spec.nodeName=").unwrap().matches(&obj));
        assert!(FieldSelector::parse("metadata.name in (a)").is_err());
    }
}

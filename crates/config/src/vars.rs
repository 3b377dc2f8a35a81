//! `${VAR}` expansion. A missing variable is an error that names it; `${VAR:-default}` supplies a
//! default, as in the shell. Built-in variables (see [`super`]) come before the process
//! environment.

use std::collections::BTreeMap;

/// Where `${VAR}` values come from.
pub trait VarSource {
    /// The value of `name`, if set.
    fn var(&self, name: &str) -> Option<String>;
}

/// Variables from the process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessVars;

impl VarSource for ProcessVars {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl VarSource for std::collections::BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl VarSource for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A [`VarSource`] that remembers every variable it was asked for and had a value.
pub struct Recording<'a> {
    inner: &'a dyn VarSource,
    seen: std::cell::RefCell<BTreeMap<String, String>>,
}

impl<'a> Recording<'a> {
    /// Records what `inner` answers.
    #[must_use]
    pub fn new(inner: &'a dyn VarSource) -> Self {
        Self { inner, seen: std::cell::RefCell::default() }
    }

    /// The variables asked for that had a value, with that value.
    pub fn into_seen(self) -> BTreeMap<String, String> {
        self.seen.into_inner()
    }
}

impl VarSource for Recording<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let value = self.inner.var(name)?;
        self.seen.borrow_mut().insert(name.to_owned(), value.clone());
        Some(value)
    }
}

/// The built-in variables of one env.yaml, looked up before `vars`.
pub struct Scope<'a> {
    /// `ENV_DIR`, `ENV_NAME`, `WORK_DIR`: they win over the variables.
    pub builtins: BTreeMap<&'static str, String>,
    /// Everything else.
    pub vars: &'a dyn VarSource,
}

impl VarSource for Scope<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.builtins.get(name).cloned().or_else(|| self.vars.var(name))
    }
}

/// A `${...}` reference that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpandError {
    /// `${NAME}` with `NAME` unset and no default.
    Missing {
        /// The variable's name.
        name: String,
        /// Byte offset of the `$` in the input.
        offset: usize,
    },
    /// `${` with no closing `}`, or an empty or invalid name.
    Malformed {
        /// Byte offset of the `$` in the input.
        offset: usize,
    },
}

/// Expands every `${NAME}` and `${NAME:-default}` in `input`. `$$` stands for a literal `$`.
///
/// # Errors
/// Every missing or malformed reference in `input`, in order.
pub fn expand(input: &str, vars: &dyn VarSource) -> Result<String, Vec<ExpandError>> {
    let mut out = String::with_capacity(input.len());
    let mut errors = Vec::new();
    let mut rest = input;
    let mut offset = 0;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let start = offset + at;
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            offset = start + 2;
            rest = tail;
            continue;
        }
        let Some(body) = after.strip_prefix('{') else {
            out.push('$');
            offset = start + 1;
            rest = after;
            continue;
        };
        let Some(close) = body.find('}') else {
            errors.push(ExpandError::Malformed { offset: start });
            return Err(errors);
        };
        let reference = &body[..close];
        let (name, default) = match reference.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (reference, None),
        };
        if !is_var_name(name) {
            errors.push(ExpandError::Malformed { offset: start });
        } else if let Some(value) = vars.var(name).filter(|v| !v.is_empty() || default.is_none()) {
            out.push_str(&value);
        } else if let Some(default) = default {
            out.push_str(default);
        } else {
            errors.push(ExpandError::Missing { name: name.to_owned(), offset: start });
        }
        let consumed = 2 + close + 1;
        offset = start + consumed;
        rest = &rest[at + consumed..];
    }
    out.push_str(rest);
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic()) && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("HOME".into(), "/home/op".into()), ("EMPTY".into(), String::new())])
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(expand("${HOME}/.kube", &vars()).unwrap(), "/home/op/.kube");
        assert_eq!(expand("${NOPE:-/tmp}/x", &vars()).unwrap(), "/tmp/x");
        assert_eq!(expand("${EMPTY:-fallback}", &vars()).unwrap(), "fallback");
        assert_eq!(expand("cost $$5 and $HOME", &vars()).unwrap(), "cost $5 and $HOME");
    }

    #[test]
    fn a_missing_variable_is_named() {
        let errors = expand("${VIXENS_REPO}/docs and ${VIXENS_SECRETS}", &vars()).unwrap_err();
        assert_eq!(
            errors,
            vec![ExpandError::Missing { name: "VIXENS_REPO".into(), offset: 0 }, ExpandError::Missing { name: "VIXENS_SECRETS".into(), offset: 24 },]
        );
    }

    #[test]
    fn malformed_references_are_errors() {
        assert_eq!(expand("${", &vars()).unwrap_err(), vec![ExpandError::Malformed { offset: 0 }]);
        assert_eq!(expand("a${1X}", &vars()).unwrap_err(), vec![ExpandError::Malformed { offset: 1 }]);
    }
}

//! The saved plan as `terraform show -json PLANFILE` prints it, typed.
//!
//! Only what the destroy guard and the cycle need is read: each resource change's address, module,
//! mode, type, name, instance key, provider and actions. Everything else in the document is
//! ignored, so a newer minor format version still parses; a different major version, an action
//! this harness does not know, or malformed JSON is refused: no destroy ever starts from a plan the
//! harness does not fully understand.
//!
//! A document that is not a plan is refused too, however plan-like its `format_version`: every
//! plan terraform prints has `planned_values` (Go's `omitempty` never omits that struct), while
//! `terraform show -json` of a *state* (no plan file given) prints `values` instead. Checking a
//! state, or `{"format_version":"1.0"}`, as a plan would say "nothing is destroyed" about a plan
//! nobody read. The format version is read as a JSON string (what terraform writes) or a number
//! (`1.2`, what a hand-edited or re-serialised file may hold), the same either way.

use serde::{Deserialize, Deserializer};

/// The largest plan document the harness reads: `terraform show -json` of a homelab's plan is
/// well under a megabyte, and of a large estate a few tens of megabytes. A file over this is
/// refused before it is read, so checking a plan never takes more memory than this plus the
/// parsed changes.
pub const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// The plan format major version this module reads. Terraform documents that a change of the minor
/// version only adds fields, and that consumers should refuse a major version they do not know.
const SUPPORTED_MAJOR: &str = "1";

/// A parsed `terraform show -json` plan.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Plan {
    /// The JSON format version (`"1.2"` with Terraform 1.11), as text even when the document
    /// writes it as a number.
    #[serde(deserialize_with = "format_version")]
    pub format_version: String,
    /// The Terraform (or OpenTofu) version that wrote the plan.
    #[serde(default)]
    pub terraform_version: Option<String>,
    /// Every planned change, one per resource instance (no-ops included).
    #[serde(default)]
    pub resource_changes: Vec<ResourceChange>,
    /// False when the plan cannot be applied (absent in older formats).
    #[serde(default)]
    pub applyable: Option<bool>,
    /// False when some changes were deferred to a later plan (absent in older formats).
    #[serde(default)]
    pub complete: Option<bool>,
    /// True when planning stopped on an error (absent in older formats).
    #[serde(default)]
    pub errored: Option<bool>,
}

/// One resource instance's planned change.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResourceChange {
    /// The full address, e.g. `module.m.terraform_data.x["a"]`.
    pub address: String,
    /// The module the resource is in (`module.m`); `None` in the root module, where Terraform
    /// leaves the key out.
    #[serde(default)]
    pub module_address: Option<String>,
    /// Managed resource or data source.
    pub mode: Mode,
    /// The resource type (`terraform_data`, `synology_iscsi_lun`).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource name in its module.
    pub name: String,
    /// The instance key: a number for `count`, a string for `for_each`, `None` for a single
    /// resource.
    #[serde(default)]
    pub index: Option<InstanceKey>,
    /// The provider's source address (`terraform.io/builtin/terraform`).
    pub provider_name: String,
    /// Set when the change concerns a deposed object (a leftover of a failed replace).
    #[serde(default)]
    pub deposed: Option<String>,
    /// The resource's address before a `moved` block renamed it.
    #[serde(default)]
    pub previous_address: Option<String>,
    /// Why Terraform chose this action (`replace_because_cannot_update`, `delete_because_no_resource_config`).
    #[serde(default)]
    pub action_reason: Option<String>,
    /// The change itself.
    pub change: Change,
}

/// Whether a resource is managed or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A `resource` block: Terraform creates, updates and destroys it.
    Managed,
    /// A `data` block: only read.
    Data,
}

/// A `count` or `for_each` instance key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceKey {
    /// `count` index.
    Int(i64),
    /// `for_each` key.
    Str(String),
}

/// The part of `change` the harness reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Change {
    /// What Terraform will do to the object.
    pub actions: Action,
}

/// A planned action, read from the `actions` array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `["no-op"]`: nothing changes.
    NoOp,
    /// `["create"]`.
    Create,
    /// `["read"]`: a data source is read during apply.
    Read,
    /// `["update"]`: changed in place.
    Update,
    /// `["delete"]`: destroyed.
    Delete,
    /// `["delete","create"]` or `["create","delete"]`: destroyed and created again.
    Replace(ReplaceOrder),
    /// `["forget"]`: removed from the state, the real object is left alone.
    Forget,
    /// `["create","forget"]`: a new object is created and the old one forgotten, not destroyed.
    CreateThenForget,
}

/// The order of a replace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaceOrder {
    /// `["delete","create"]`: the default.
    DeleteThenCreate,
    /// `["create","delete"]`: `create_before_destroy`.
    CreateThenDelete,
}

/// Why a plan document was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The text is not JSON, or its shape is not a plan's.
    #[error("not a terraform plan JSON document: {message}")]
    Malformed {
        /// What is wrong and where (JSON path, line and column).
        message: String,
    },
    /// The document has no `format_version`.
    #[error("no `format_version` key: is this the output of `terraform show -json PLANFILE`?")]
    NoFormatVersion,
    /// The document has a format version but no `planned_values`: not a plan (a state printed by
    /// `terraform show -json` without a plan file, or a hand-made document).
    #[error(
        "not a plan: no `planned_values`, which every plan has{}; save a plan with `terraform plan -out=PLANFILE`, then `terraform show -json PLANFILE`",
        if *.state { " (this is a state: `terraform show -json` was given no plan file)" } else { "" }
    )]
    NotAPlan {
        /// True when the document is a state (`values` instead of `planned_values`).
        state: bool,
    },
    /// The document's format version is not one this harness reads.
    #[error("plan format version {found:?} is not supported: this harness reads {SUPPORTED_MAJOR}.x")]
    UnsupportedFormat {
        /// The version found in the document.
        found: String,
    },
}

impl Plan {
    /// Parses the output of `terraform show -json PLANFILE`.
    ///
    /// # Errors
    /// [`ParseError::Malformed`] for invalid JSON or an unexpected shape (naming the JSON path,
    /// line and column), [`ParseError::NoFormatVersion`] and [`ParseError::UnsupportedFormat`] for
    /// a document of another kind or another major version, and an unknown `actions` list is
    /// `Malformed` too, naming the resource.
    pub fn parse(json: &str) -> Result<Self, ParseError> {
        /// The keys that say what the document is; everything else is skipped unread.
        #[derive(Deserialize)]
        struct Probe {
            format_version: Option<serde_json::Value>,
            planned_values: Option<serde::de::IgnoredAny>,
            values: Option<serde::de::IgnoredAny>,
        }
        let probe: Probe = serde_json::from_str(json).map_err(|e| ParseError::Malformed { message: e.to_string() })?;
        let found = match probe.format_version {
            None => return Err(ParseError::NoFormatVersion),
            Some(serde_json::Value::String(v)) => v,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(other) => return Err(ParseError::UnsupportedFormat { found: other.to_string() }),
        };
        if found.split('.').next() != Some(SUPPORTED_MAJOR) {
            return Err(ParseError::UnsupportedFormat { found });
        }
        if probe.planned_values.is_none() {
            return Err(ParseError::NotAPlan { state: probe.values.is_some() });
        }
        let deserializer = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(deserializer).map_err(|e| ParseError::Malformed { message: format!("at {}: {}", e.path(), e.inner()) })
    }

    /// The changes that destroy an object: deletes and replaces (in either order).
    pub fn destructive_changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resource_changes.iter().filter(|c| c.change.actions.destroys())
    }
}

impl ResourceChange {
    /// True for a managed resource (not a data source).
    #[must_use]
    pub fn is_managed(&self) -> bool {
        self.mode == Mode::Managed
    }
}

impl Action {
    /// True when the real object is destroyed: a delete, or a replace in either order.
    #[must_use]
    pub fn destroys(self) -> bool {
        matches!(self, Self::Delete | Self::Replace(_))
    }

    /// The action as Terraform writes it in plan text.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoOp => "no-op",
            Self::Create => "create",
            Self::Read => "read",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Replace(ReplaceOrder::DeleteThenCreate) => "delete, then create",
            Self::Replace(ReplaceOrder::CreateThenDelete) => "create, then delete",
            Self::Forget => "forget",
            Self::CreateThenForget => "create, then forget",
        }
    }

    fn from_list(actions: &[String]) -> Option<Self> {
        let list: Vec<&str> = actions.iter().map(String::as_str).collect();
        Some(match list.as_slice() {
            ["no-op"] => Self::NoOp,
            ["create"] => Self::Create,
            ["read"] => Self::Read,
            ["update"] => Self::Update,
            ["delete"] => Self::Delete,
            ["delete", "create"] => Self::Replace(ReplaceOrder::DeleteThenCreate),
            ["create", "delete"] => Self::Replace(ReplaceOrder::CreateThenDelete),
            ["forget"] => Self::Forget,
            ["create", "forget"] => Self::CreateThenForget,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(deserializer)?;
        Self::from_list(&list).ok_or_else(|| serde::de::Error::custom(format!("unknown actions {list:?}: this harness does not know what they do")))
    }
}

/// `format_version` as text: a JSON string as it is, a number as JSON writes it (`1.2`).
fn format_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(v) => Ok(v),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected a version such as \"1.2\", found {other}"))),
    }
}

impl std::fmt::Display for InstanceKey {
    /// As in an address: `0` or `"a"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for InstanceKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = InstanceKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an integer (count) or a string (for_each)")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<InstanceKey, E> {
                Ok(InstanceKey::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<InstanceKey, E> {
                i64::try_from(v).map(InstanceKey::Int).map_err(|_| E::custom("count index out of range"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<InstanceKey, E> {
                Ok(InstanceKey::Str(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like `terraform show -json` of a destroy plan (Terraform 1.11.4), trimmed.
    const DESTROY_PLAN: &str = r#"{
      "format_version": "1.2", "terraform_version": "1.11.4",
      "planned_values": {"root_module": {}},
      "resource_changes": [
        {"address": "terraform_data.a", "mode": "managed", "type": "terraform_data", "name": "a",
         "provider_name": "terraform.io/builtin/terraform",
         "change": {"actions": ["delete"], "before": {"id": "x"}, "after": null}},
        {"address": "terraform_data.c[1]", "mode": "managed", "type": "terraform_data", "name": "c", "index": 1,
         "provider_name": "terraform.io/builtin/terraform", "change": {"actions": ["delete"]}},
        {"address": "module.m.terraform_data.x[\"a\"]", "module_address": "module.m", "mode": "managed",
         "type": "terraform_data", "name": "x", "index": "a",
         "provider_name": "terraform.io/builtin/terraform", "change": {"actions": ["delete"]}}
      ],
      "applyable": true, "complete": true, "errored": false
    }"#;

    #[test]
    fn reads_addresses_modules_and_instance_keys() {
        let plan = Plan::parse(DESTROY_PLAN).unwrap();
        assert_eq!(plan.format_version, "1.2");
        let [root, counted, keyed] = plan.resource_changes.as_slice() else { panic!("three changes") };
        assert_eq!((root.module_address.as_deref(), root.index.as_ref()), (None, None));
        assert_eq!(counted.index, Some(InstanceKey::Int(1)));
        assert_eq!(keyed.module_address.as_deref(), Some("module.m"));
        assert_eq!(keyed.index, Some(InstanceKey::Str("a".into())));
        assert_eq!(keyed.address, r#"module.m.terraform_data.x["a"]"#);
        assert!(plan.resource_changes.iter().all(|c| c.change.actions == Action::Delete && c.is_managed()));
        assert_eq!(plan.destructive_changes().count(), 3);
    }

    #[test]
    fn a_replace_is_destructive_in_both_orders() {
        for (actions, order) in
            [(r#"["delete","create"]"#, ReplaceOrder::DeleteThenCreate), (r#"["create","delete"]"#, ReplaceOrder::CreateThenDelete)]
        {
            let json = format!(
                r#"{{"format_version":"1.2","planned_values":{{}},"resource_changes":[{{"address":"a.b","mode":"managed","type":"a","name":"b",
                "provider_name":"p","action_reason":"replace_because_cannot_update","change":{{"actions":{actions}}}}}]}}"#
            );
            let plan = Plan::parse(&json).unwrap();
            let change = &plan.resource_changes[0];
            assert_eq!(change.change.actions, Action::Replace(order));
            assert!(change.change.actions.destroys());
            assert_eq!(change.action_reason.as_deref(), Some("replace_because_cannot_update"));
        }
    }

    #[test]
    fn forget_and_no_op_do_not_destroy() {
        for a in ["no-op", "create", "read", "update", "forget"] {
            assert!(!Action::from_list(&[a.to_owned()]).unwrap().destroys(), "{a}");
        }
        assert!(!Action::from_list(&["create".into(), "forget".into()]).unwrap().destroys());
    }

    #[test]
    fn an_unknown_major_format_version_is_refused_naming_it() {
        let err = Plan::parse(r#"{"format_version":"2.0","planned_values":{},"resource_changes":[]}"#).unwrap_err();
        assert_eq!(err.to_string(), r#"plan format version "2.0" is not supported: this harness reads 1.x"#);
        let err = Plan::parse(r#"{"format_version":2.1,"planned_values":{}}"#).unwrap_err();
        assert_eq!(err.to_string(), r#"plan format version "2.1" is not supported: this harness reads 1.x"#);
    }

    #[test]
    fn a_numeric_format_version_reads_as_the_same_version() {
        let plan = Plan::parse(r#"{"format_version":1.2,"planned_values":{"root_module":{}},"resource_changes":[]}"#).unwrap();
        assert_eq!(plan.format_version, "1.2");
    }

    #[test]
    fn a_state_printed_by_terraform_show_is_not_a_plan() {
        // `terraform show -json` without a plan file (Terraform 1.11), trimmed.
        let state = r#"{"format_version":"1.0","terraform_version":"1.11.4","values":{"root_module":{"resources":[]}}}"#;
        let err = Plan::parse(state).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a plan: no `planned_values`, which every plan has (this is a state: `terraform show -json` was given no plan file); \
             save a plan with `terraform plan -out=PLANFILE`, then `terraform show -json PLANFILE`"
        );
        let err = Plan::parse(r#"{"format_version":"1.0"}"#).unwrap_err();
        assert!(matches!(err, ParseError::NotAPlan { state: false }), "{err}");
    }

    #[test]
    fn a_newer_minor_version_with_extra_keys_still_parses() {
        let plan = Plan::parse(r#"{"format_version":"1.9","new_key":{},"planned_values":{},"resource_changes":[]}"#).unwrap();
        assert!(plan.resource_changes.is_empty());
    }

    #[test]
    fn a_document_without_format_version_is_refused() {
        let err = Plan::parse(r#"{"version":4,"serial":3}"#).unwrap_err();
        assert!(matches!(err, ParseError::NoFormatVersion), "{err}");
    }

    #[test]
    fn malformed_json_is_refused_with_its_location() {
        let err = Plan::parse("{\"format_version\": \"1.2\",\n \"resource_changes\": [}").unwrap_err();
        assert_eq!(err.to_string(), "not a terraform plan JSON document: expected value at line 2 column 23");
    }

    #[test]
    fn an_unknown_action_is_refused_naming_the_resource_path() {
        let json = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a.b","mode":"managed","type":"a","name":"b",
            "provider_name":"p","change":{"actions":["obliterate"]}}]}"#;
        let err = Plan::parse(json).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"not a terraform plan JSON document: at resource_changes[0].change.actions: unknown actions ["obliterate"]: this harness does not know what they do at line 2 column 67"#
        );
    }

    #[test]
    fn a_missing_address_is_refused() {
        let json = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"mode":"managed","type":"a","name":"b","provider_name":"p","change":{"actions":["delete"]}}]}"#;
        let err = Plan::parse(json).unwrap_err();
        assert!(err.to_string().contains("resource_changes[0]: missing field `address`"), "{err}");
    }

    #[test]
    fn a_bad_index_type_is_refused() {
        let json = r#"{"format_version":"1.2","planned_values":{},"resource_changes":[{"address":"a.b[true]","mode":"managed","type":"a","name":"b","index":true,"provider_name":"p","change":{"actions":["delete"]}}]}"#;
        let err = Plan::parse(json).unwrap_err();
        assert!(
            err.to_string().contains("resource_changes[0].index: invalid type: boolean `true`, expected an integer (count) or a string (for_each)"),
            "{err}"
        );
    }

    /// Pieces of plan JSON and of what is not a plan: every key the parser reads, values of each
    /// JSON type where it expects another, and the characters that end a document early.
    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"format_version\":",
        "\"1.2\"",
        "1.2",
        "\"2.0\"",
        "\"planned_values\":",
        "\"values\":",
        "\"resource_changes\":",
        "\"address\":",
        "\"module_address\":",
        "\"mode\":",
        "\"managed\"",
        "\"data\"",
        "\"type\":",
        "\"name\":",
        "\"index\":",
        "\"provider_name\":",
        "\"change\":",
        "\"actions\":",
        "[\"delete\"]",
        "[\"create\",\"delete\"]",
        "[\"obliterate\"]",
        "\"errored\":",
        "true",
        "null",
        "-1",
        "18446744073709551616",
        "\"a.b[0]\"",
        "\"\\u0000\"",
        "\"é\"",
        " ",
        "\n",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..proptest::prelude::ProptestConfig::default() })]

        #[test]
        fn any_text_is_a_plan_or_a_refusal_never_a_panic(text in "\\PC{0,2000}") {
            let _ = Plan::parse(&text);
        }

        #[test]
        fn plan_shaped_json_is_a_plan_or_a_refusal_never_a_panic(parts in proptest::collection::vec(0..FRAGMENTS.len(), 0..200)) {
            let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
            let started = std::time::Instant::now();
            if let Ok(plan) = Plan::parse(&text) {
                // Whatever was accepted is a plan of the supported major version.
                proptest::prop_assert!(plan.format_version.starts_with('1'));
                proptest::prop_assert!(plan.destructive_changes().all(|c| c.change.actions.destroys()));
            }
            proptest::prop_assert!(started.elapsed() < std::time::Duration::from_secs(1));
        }
    }

    #[test]
    fn deeply_nested_json_is_read_or_refused_without_overflowing_the_stack() {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let deep = format!("{}1{}", open.repeat(100_000), close.repeat(100_000));
            for text in [
                format!("{{\"format_version\":\"1.2\",\"planned_values\":{deep}}}"),
                format!("{{\"format_version\":\"1.2\",\"planned_values\":{{}},\"resource_changes\":{deep}}}"),
                format!("{{\"format_version\":\"1.2\",\"planned_values\":{}", open.repeat(100_000)),
            ] {
                let started = std::time::Instant::now();
                let _ = Plan::parse(&text);
                assert!(started.elapsed() < std::time::Duration::from_secs(5));
            }
        }
    }
}

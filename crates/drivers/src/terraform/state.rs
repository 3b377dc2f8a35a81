//! The state as `terraform state pull` prints it: the exact bytes (a backup must be the state, not
//! a re-serialisation of it) and the few fields the harness checks (version, serial, lineage,
//! resources).

use serde::Deserialize;

use super::plan::{InstanceKey, Mode};

/// The state format version this module reads (Terraform 0.12 and later, OpenTofu).
const SUPPORTED_VERSION: u64 = 4;

/// What `terraform state pull` returned.
#[derive(Debug, Clone, PartialEq)]
pub struct PulledState {
    /// The bytes exactly as printed (Terraform adds one trailing newline to the stored file).
    pub bytes: Vec<u8>,
    /// The parsed state; `None` when there is no state yet (terraform printed nothing).
    pub state: Option<State>,
}

/// A parsed state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct State {
    /// State format version (4).
    pub version: u64,
    /// The Terraform version that last wrote it.
    #[serde(default)]
    pub terraform_version: Option<String>,
    /// Increases on every write, by more than one per apply: never assert a +1 step.
    pub serial: u64,
    /// A UUID fixed for the life of the state; a different lineage is a different state.
    pub lineage: String,
    /// Every resource (each with its instances); empty after a destroy.
    #[serde(default)]
    pub resources: Vec<StateResource>,
}

/// One resource in the state.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StateResource {
    /// The module (`module.m`); `None` in the root module.
    #[serde(default)]
    pub module: Option<String>,
    /// Managed resource or data source.
    pub mode: Mode,
    /// The resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource name in its module.
    pub name: String,
    /// The provider configuration address (`provider["terraform.io/builtin/terraform"]`).
    pub provider: String,
    /// The resource's instances.
    #[serde(default)]
    pub instances: Vec<StateInstance>,
}

/// One instance of a state resource. Attributes are not read here: they may hold secrets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StateInstance {
    /// The `count` or `for_each` key; `None` for a single instance.
    #[serde(default)]
    pub index_key: Option<InstanceKey>,
}

/// Why pulled state was refused.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or not shaped like a state.
    #[error("not a terraform state document: {message}")]
    Malformed {
        /// What is wrong and where.
        message: String,
    },
    /// A state format version this harness does not read.
    #[error("state format version {found} is not supported: this harness reads version {SUPPORTED_VERSION}")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
}

impl PulledState {
    /// Reads what `terraform state pull` printed; empty (or blank) output means no state yet.
    ///
    /// # Errors
    /// [`ParseError`] when the bytes are not a version 4 state.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, ParseError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self { bytes, state: None });
        }
        let state = State::parse(&bytes)?;
        Ok(Self { bytes, state: Some(state) })
    }
}

impl State {
    /// Parses a state document.
    ///
    /// # Errors
    /// [`ParseError`] when `bytes` are not a version 4 state.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Probe {
            version: Option<u64>,
        }
        let malformed = |message: String| ParseError::Malformed { message };
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        match probe.version {
            Some(SUPPORTED_VERSION) => {}
            Some(found) => return Err(ParseError::UnsupportedVersion { found }),
            None => return Err(malformed("no `version` key".into())),
        }
        let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(deserializer).map_err(|e| malformed(format!("at {}: {}", e.path(), e.inner())))
    }

    /// The address of every resource instance, as plan and state commands print them.
    #[must_use]
    pub fn addresses(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.resources {
            let module = r.module.as_ref().map(|m| format!("{m}.")).unwrap_or_default();
            let data = if r.mode == Mode::Data { "data." } else { "" };
            let base = format!("{module}{data}{}.{}", r.resource_type, r.name);
            for i in &r.instances {
                out.push(match &i.index_key {
                    Some(key) => format!("{base}[{key}]"),
                    None => base.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like `terraform state pull` after an apply (Terraform 1.11.4), trimmed.
    const STATE: &str = r#"{
  "version": 4,
  "terraform_version": "1.11.4",
  "serial": 6,
  "lineage": "472f7286-aaa7-a655-f0c2-620961a5eb38",
  "outputs": {"s": {"value": "secret-value", "type": "string", "sensitive": true}},
  "resources": [
    {"mode": "managed", "type": "terraform_data", "name": "c",
     "provider": "provider[\"terraform.io/builtin/terraform\"]",
     "instances": [{"index_key": 0, "schema_version": 0, "attributes": {"id": "1"}}, {"index_key": 1, "schema_version": 0, "attributes": {"id": "2"}}]},
    {"module": "module.m", "mode": "managed", "type": "terraform_data", "name": "x",
     "provider": "provider[\"terraform.io/builtin/terraform\"]",
     "instances": [{"index_key": "a", "schema_version": 0, "attributes": {"id": "3"}}]}
  ],
  "check_results": null
}
"#;

    #[test]
    fn keeps_the_bytes_and_reads_serial_lineage_and_addresses() {
        let pulled = PulledState::parse(format!("{STATE}\n").into_bytes()).unwrap();
        assert_eq!(pulled.bytes, format!("{STATE}\n").into_bytes());
        let state = pulled.state.unwrap();
        assert_eq!((state.version, state.serial), (4, 6));
        assert_eq!(state.lineage, "472f7286-aaa7-a655-f0c2-620961a5eb38");
        assert_eq!(state.addresses(), ["terraform_data.c[0]", "terraform_data.c[1]", r#"module.m.terraform_data.x["a"]"#]);
    }

    #[test]
    fn empty_output_means_no_state() {
        assert_eq!(PulledState::parse(Vec::new()).unwrap(), PulledState { bytes: Vec::new(), state: None });
    }

    #[test]
    fn an_unknown_state_version_is_refused() {
        let err = PulledState::parse(br#"{"version": 3, "serial": 1, "lineage": "x"}"#.to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "state format version 3 is not supported: this harness reads version 4");
    }

    #[test]
    fn a_truncated_state_is_refused() {
        let err = PulledState::parse(STATE.as_bytes()[..120].to_vec()).unwrap_err();
        assert!(err.to_string().starts_with("not a terraform state document: EOF while parsing"), "{err}");
    }

    #[test]
    fn a_state_without_lineage_is_refused() {
        let err = PulledState::parse(br#"{"version": 4, "serial": 1}"#.to_vec()).unwrap_err();
        assert_eq!(err.to_string(), "not a terraform state document: at .: missing field `lineage` at line 1 column 27");
    }
}

//! One line of an entry's validation record, `Validated on:` in `docs/commands.md`: where and
//! when the entry passed, with which tools, and the digest of the block that passed. Reading and
//! writing the document both use it; rewriting the record is [`super::record`].
//!
//! An environment the harness simulates (the embedded lab: an environment it provisions itself)
//! is marked as such, `` `lab` (simulated) on ... ``, so that no reader takes a record of the lab
//! for a proof on a real cluster.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest as _, Sha256};

/// Hex characters kept from the SHA-256: enough to tell versions of one entry apart.
const DIGEST_LEN: usize = 12;

/// A short digest of an entry's `console` block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The digest of a block's content. Trailing whitespace and trailing blank lines do not
    /// count: editors strip them, and they never change what is checked.
    #[must_use]
    pub fn of(content: &str) -> Self {
        let lines: Vec<&str> = content.lines().map(str::trim_end).collect();
        let end = lines.iter().rposition(|l| !l.is_empty()).map_or(0, |i| i + 1);
        let hash = Sha256::digest(lines[..end].join("\n").as_bytes());
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        Self(hex[..DIGEST_LEN].to_owned())
    }

    /// The digest as written in a record.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `Validated on:` line: where and when an entry passed, with which tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The environment's name.
    pub env: String,
    /// True when the environment is simulated (the embedded lab), not a real cluster.
    pub simulated: bool,
    /// The UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// The versions of the tools the entry runs (`kubectl v1.34.1`).
    pub tools: Vec<String>,
    /// The digest of the block that passed.
    pub digest: Digest,
}

static RECORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^`(?P<env>[^`]+)`(?P<simulated> \(simulated\))? on (?P<date>\d{4}-\d{2}-\d{2})(?: with (?P<tools>.+?))? \(digest `(?P<digest>[0-9a-f]{12})`\)$")
        .expect("the record pattern is valid")
});

impl Validation {
    /// Reads the text of a list item (without its bullet).
    ///
    /// # Errors
    /// A message naming the expected form.
    pub fn parse(item: &str) -> Result<Self, String> {
        let caps = RECORD.captures(item.trim()).ok_or_else(|| {
            format!(
                "cannot read {:?}; expected \"`ENV` on YYYY-MM-DD with TOOL VERSION, ... (digest `HEX12`)\" (\"`ENV` (simulated) on ...\" for a lab), as `vixens commands run ENV --record` writes it",
                item.trim()
            )
        })?;
        Ok(Self {
            env: caps["env"].to_owned(),
            simulated: caps.name("simulated").is_some(),
            date: caps["date"].to_owned(),
            tools: caps.name("tools").map(|t| t.as_str().split(", ").map(str::to_owned).collect()).unwrap_or_default(),
            digest: Digest(caps["digest"].to_owned()),
        })
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`{} on {}", self.env, if self.simulated { " (simulated)" } else { "" }, self.date)?;
        if !self.tools.is_empty() {
            // A comma inside a version would split it in two when read back.
            let tools: Vec<String> = self.tools.iter().map(|t| t.replace(',', ";")).collect();
            write!(f, " with {}", tools.join(", "))?;
        }
        write!(f, " (digest `{}`)", self.digest)
    }
}

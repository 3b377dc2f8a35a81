//! The confirmation: a destroy goes on only when the operator named the environment.
//!
//! On a terminal, `vixens destroy` prompts and the operator types the name. Without a terminal
//! (CI, the recreate cycle), the name comes from `--confirm ENV` or, for CI, from the variable
//! [`VARIABLE`]. The variable is read only where there is no terminal, so that one exported in an
//! interactive shell never skips the prompt. The value must equal the environment's name exactly
//! (surrounding whitespace aside): a missing or wrong one refuses the destroy.
//!
//! This module only judges; the prompt itself belongs to the binary.

use std::fmt;

use super::guard::{Reason, Verdict};
use crate::env::VarSource;

/// The variable CI sets to confirm a destroy without a terminal.
pub const VARIABLE: &str = "VIXENS_CONFIRM_DESTROY";

/// What the operator said, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// Typed at the prompt on a terminal.
    Typed(String),
    /// `--confirm NAME`.
    Flag(String),
    /// `VIXENS_CONFIRM_DESTROY=NAME`.
    Variable(String),
    /// Nothing was given.
    Missing,
}

impl Confirmation {
    /// The confirmation where there is no terminal: `flag` if given, else [`VARIABLE`] from `vars`
    /// (an empty value counts as unset), else [`Confirmation::Missing`].
    #[must_use]
    pub fn without_terminal(flag: Option<String>, vars: &dyn VarSource) -> Self {
        match flag {
            Some(value) => Self::Flag(value),
            None => vars.var(VARIABLE).filter(|v| !v.is_empty()).map_or(Self::Missing, Self::Variable),
        }
    }

    /// Judges this confirmation for the environment `name`.
    #[must_use]
    pub fn judge(&self, name: &str) -> Verdict {
        let (given, source) = match self {
            Self::Typed(v) | Self::Flag(v) | Self::Variable(v) => (v, self.source()),
            Self::Missing => return Verdict::Refused(refusal(Reason::NotConfirmed { environment: name.to_owned() })),
        };
        if given.trim() == name {
            Verdict::Allowed
        } else {
            Verdict::Refused(refusal(Reason::WrongConfirmation { environment: name.to_owned(), given: given.clone(), source: source.to_owned() }))
        }
    }

    fn source(&self) -> &'static str {
        match self {
            Self::Typed(_) => "the answer at the prompt",
            Self::Flag(_) => "--confirm",
            Self::Variable(_) => VARIABLE,
            Self::Missing => "nothing",
        }
    }
}

fn refusal(reason: Reason) -> super::Refusal {
    super::Refusal { reason, addresses: Vec::new() }
}

impl fmt::Display for Confirmation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no confirmation"),
            Self::Typed(v) | Self::Flag(v) | Self::Variable(v) => write!(f, "{} {v:?}", self.source()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn reason(verdict: Verdict) -> Option<Reason> {
        match verdict {
            Verdict::Allowed => None,
            Verdict::Refused(r) => Some(r.reason),
        }
    }

    #[test]
    fn the_exact_name_confirms_from_any_source() {
        for c in [Confirmation::Typed("lab\n".into()), Confirmation::Flag("lab".into()), Confirmation::Variable(" lab ".into())] {
            assert_eq!(c.judge("lab"), Verdict::Allowed, "{c}");
        }
    }

    #[test]
    fn no_confirmation_is_refused_saying_how_to_give_one() {
        let Verdict::Refused(refusal) = Confirmation::Missing.judge("lab") else { panic!("refused") };
        assert_eq!(
            refusal.to_string(),
            "no confirmation: type the environment's name at the prompt on a terminal, or pass `--confirm lab` \
             (or set VIXENS_CONFIRM_DESTROY=lab where there is no terminal)"
        );
    }

    #[test]
    fn a_wrong_name_is_refused_naming_what_was_given_and_where() {
        let Verdict::Refused(refusal) = Confirmation::Flag("lab-ha".into()).judge("lab") else { panic!("refused") };
        assert_eq!(refusal.to_string(), r#"--confirm says "lab-ha", which is not the environment's name `lab`"#);
        for wrong in ["LAB", "la", "yes", "lab lab", ""] {
            assert!(matches!(reason(Confirmation::Typed(wrong.into()).judge("lab")), Some(Reason::WrongConfirmation { .. })), "{wrong:?}");
        }
    }

    #[test]
    fn without_a_terminal_the_flag_wins_over_the_variable() {
        let vars = BTreeMap::from([(VARIABLE.to_owned(), "lab".to_owned())]);
        assert_eq!(Confirmation::without_terminal(Some("dev".into()), &vars), Confirmation::Flag("dev".into()));
        assert_eq!(Confirmation::without_terminal(None, &vars), Confirmation::Variable("lab".into()));
        let empty = BTreeMap::from([(VARIABLE.to_owned(), String::new())]);
        assert_eq!(Confirmation::without_terminal(None, &empty), Confirmation::Missing);
    }
}

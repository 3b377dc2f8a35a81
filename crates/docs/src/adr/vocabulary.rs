//! The words ADRs are written in, English and French: status values, section headings,
//! consequence labels and header fields, each folded (lower case, accents removed) so that
//! `Accepté`, `ACCEPTE` and `accepte` are one word.
//!
//! Built-in words cover what real ADR folders write (adr-tools, MADR, the Vixens homelab); the
//! configuration adds more. How each status spelling maps is documented in `docs/adr/README.md`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The five statuses every spelling is normalised to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written down, not decided yet.
    Proposed,
    /// Decided and in force.
    Accepted,
    /// No longer in force, with nothing replacing it.
    Deprecated,
    /// Replaced by a newer ADR, which it names.
    Superseded,
    /// Considered and turned down.
    Rejected,
}

impl Status {
    /// True for an ADR whose decision is in force: the end of every supersession chain.
    #[must_use]
    pub fn is_live(self) -> bool {
        self == Self::Accepted
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Proposed => "Proposed",
            Self::Accepted => "Accepted",
            Self::Deprecated => "Deprecated",
            Self::Superseded => "Superseded",
            Self::Rejected => "Rejected",
        })
    }
}

/// Built-in status spellings, folded. "Active" (the homelab's newer files) is a decision in
/// force, so Accepted; "Superceded" is adr-tools' spelling; "remplacé" is the French Superseded.
const STATUSES: &[(&str, Status)] = &[
    ("proposed", Status::Proposed),
    ("propose", Status::Proposed),
    ("proposee", Status::Proposed),
    ("draft", Status::Proposed),
    ("brouillon", Status::Proposed),
    ("in review", Status::Proposed),
    ("under review", Status::Proposed),
    ("en revue", Status::Proposed),
    ("en discussion", Status::Proposed),
    ("accepted", Status::Accepted),
    ("accepte", Status::Accepted),
    ("acceptee", Status::Accepted),
    ("approved", Status::Accepted),
    ("approuve", Status::Accepted),
    ("approuvee", Status::Accepted),
    ("adopted", Status::Accepted),
    ("adopte", Status::Accepted),
    ("adoptee", Status::Accepted),
    ("active", Status::Accepted),
    ("actif", Status::Accepted),
    ("in force", Status::Accepted),
    ("en vigueur", Status::Accepted),
    ("implemented", Status::Accepted),
    ("implemente", Status::Accepted),
    ("implementee", Status::Accepted),
    ("deprecated", Status::Deprecated),
    ("deprecie", Status::Deprecated),
    ("depreciee", Status::Deprecated),
    ("obsolete", Status::Deprecated),
    ("retired", Status::Deprecated),
    ("superseded", Status::Superseded),
    ("superceded", Status::Superseded),
    ("replaced", Status::Superseded),
    ("remplace", Status::Superseded),
    ("remplacee", Status::Superseded),
    ("rejected", Status::Rejected),
    ("rejete", Status::Rejected),
    ("rejetee", Status::Rejected),
    ("refused", Status::Rejected),
    ("refuse", Status::Rejected),
    ("refusee", Status::Rejected),
    ("declined", Status::Rejected),
];

/// Headings of the three required sections, and of the status section.
const CONTEXT: &[&str] = &["context", "contexte", "context and problem statement", "problem statement", "contexte et problematique", "problematique"];
const DECISION: &[&str] = &["decision", "decision outcome", "decision retenue"];
const CONSEQUENCES: &[&str] = &["consequences", "consequence"];
const STATUS_HEADINGS: &[&str] = &["status", "statut", "etat"];
/// Labels of the two halves of the Consequences.
const POSITIVE: &[&str] = &["positive", "positives", "positif", "positifs", "avantages", "avantage", "pros"];
const NEGATIVE: &[&str] = &["negative", "negatives", "negatif", "negatifs", "inconvenients", "inconvenient", "cons"];
/// Header field names (`**Status:** Accepted`, `**Supersedes:** [ADR-3](003-x.md)`).
const STATUS_FIELDS: &[&str] = &["status", "statut", "etat"];
const SUCCESSOR_FIELDS: &[&str] = &["superseded by", "superceded by", "superseded-by", "replaced by", "remplace par", "remplacee par"];
const PREDECESSOR_FIELDS: &[&str] = &["supersedes", "supercedes", "replaces", "remplace"];

/// Folds a word for comparison: lower case, accents removed, typographic spaces and
/// apostrophes made plain (French writes `Statut :` with a no-break space).
#[must_use]
pub fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

/// One character folded to exactly one character, so that positions in a folded text are
/// positions in the original, counted in characters.
#[must_use]
pub fn fold_char(c: char) -> char {
    let mut lower = c.to_lowercase();
    let c = if lower.len() == 1 { lower.next().unwrap_or(c) } else { c };
    match c {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ç' => 'c',
        'ÿ' => 'y',
        '\u{a0}' | '\u{202f}' | '\t' => ' ',
        '’' | '‘' => '\'',
        other => other,
    }
}

/// A heading or label reduced to its words: folded, leading numbering (`2.`, `1)`), emoji and
/// punctuation removed, trailing colons dropped, inner spaces collapsed.
#[must_use]
pub fn heading_key(text: &str) -> String {
    let folded = fold(text);
    let start = folded.trim_start_matches(|c: char| !c.is_alphabetic());
    let words: Vec<&str> = start.split_whitespace().collect();
    words.join(" ").trim_end_matches(|c: char| c == ':' || c.is_whitespace() || c == '.').to_owned()
}

/// A section an ADR must have, or the status section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectionKind {
    /// Why a decision was needed.
    Context,
    /// What was decided.
    Decision,
    /// What follows, good and bad.
    Consequences,
    /// The status, as a section of its own (adr-tools, `## Statut`).
    Status,
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Context => "Context",
            Self::Decision => "Decision",
            Self::Consequences => "Consequences",
            Self::Status => "Status",
        })
    }
}

/// One half of the Consequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Half {
    /// Positive, Avantages, Pros.
    Positive,
    /// Negative, Inconvénients, Cons.
    Negative,
}

/// What a header field declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `Status: X`.
    Status,
    /// `Superseded by: ADR-N`.
    SupersededBy,
    /// `Supersedes: ADR-N`.
    Supersedes,
}

/// The built-in words plus the configured ones, folded and ready to match.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    statuses: Vec<(String, Status)>,
    sections: Vec<(String, SectionKind)>,
    halves: Vec<(String, Half)>,
}

/// Words added by the configuration, as written there (they are folded here).
#[derive(Debug, Clone, Default)]
pub struct ExtraWords {
    /// Status spelling → status.
    pub statuses: BTreeMap<String, Status>,
    /// Section kind → extra heading aliases.
    pub sections: Vec<(SectionKind, String)>,
    /// Consequence half → extra labels.
    pub halves: Vec<(Half, String)>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        Self::new(&ExtraWords::default())
    }
}

impl Vocabulary {
    /// The built-in words plus `extra`.
    #[must_use]
    pub fn new(extra: &ExtraWords) -> Self {
        let mut statuses: Vec<(String, Status)> = STATUSES.iter().map(|(w, s)| ((*w).to_owned(), *s)).collect();
        statuses.extend(extra.statuses.iter().map(|(w, s)| (heading_key(w), *s)));
        // Longest first, so that `in review` wins over a shorter word it starts with.
        statuses.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let builtin_sections = [
            (SectionKind::Context, CONTEXT),
            (SectionKind::Decision, DECISION),
            (SectionKind::Consequences, CONSEQUENCES),
            (SectionKind::Status, STATUS_HEADINGS),
        ];
        let mut sections: Vec<(String, SectionKind)> =
            builtin_sections.iter().flat_map(|(kind, words)| words.iter().map(move |w| ((*w).to_owned(), *kind))).collect();
        sections.extend(extra.sections.iter().map(|(kind, w)| (heading_key(w), *kind)));
        let mut halves: Vec<(String, Half)> =
            POSITIVE.iter().map(|w| ((*w).to_owned(), Half::Positive)).chain(NEGATIVE.iter().map(|w| ((*w).to_owned(), Half::Negative))).collect();
        halves.extend(extra.halves.iter().map(|(half, w)| (heading_key(w), *half)));
        Self { statuses, sections, halves }
    }

    /// The status a value starts with: `Superseded by [ADR-7](007-x.md)` is Superseded,
    /// `✅ Accepté (2024-03-01)` is Accepted. `None` when it starts with no known word.
    #[must_use]
    pub fn status(&self, value: &str) -> Option<Status> {
        let folded = fold(value);
        let start = folded.trim_start_matches(|c: char| !c.is_alphanumeric());
        self.status_at(start)
    }

    /// The first status word found anywhere in `text`, at a word boundary (index entries write
    /// statuses in any cell or after a dash).
    #[must_use]
    pub fn find_status(&self, text: &str) -> Option<Status> {
        let folded = fold(text);
        let mut previous = ' ';
        for (i, c) in folded.char_indices() {
            if c.is_alphabetic()
                && !previous.is_alphanumeric()
                && let Some(status) = self.status_at(&folded[i..])
            {
                return Some(status);
            }
            previous = c;
        }
        None
    }

    fn status_at(&self, folded: &str) -> Option<Status> {
        self.statuses.iter().find_map(|(word, status)| {
            let rest = folded.strip_prefix(word.as_str())?;
            (!rest.starts_with(char::is_alphanumeric)).then_some(*status)
        })
    }

    /// The section a heading names, matched on its whole text (`## 2. Décision :`).
    #[must_use]
    pub fn section(&self, heading: &str) -> Option<SectionKind> {
        let key = heading_key(heading);
        self.sections.iter().find(|(word, _)| *word == key).map(|(_, kind)| *kind)
    }

    /// The consequence half a label names: any of its words (`Conséquences positives`,
    /// `Negative consequences`), or its whole text for multi-word aliases.
    #[must_use]
    pub fn half(&self, label: &str) -> Option<Half> {
        let key = heading_key(label);
        let words: Vec<&str> = key.split(|c: char| !c.is_alphanumeric() && c != '-').filter(|w| !w.is_empty()).collect();
        self.halves.iter().find(|(word, _)| *word == key || words.contains(&word.as_str())).map(|(_, half)| *half)
    }

    /// The field a header key names (`Status`, `Statut`, `Superseded by`, `Supersedes`).
    #[must_use]
    pub fn field(&self, key: &str) -> Option<Field> {
        let key = heading_key(key);
        if STATUS_FIELDS.contains(&key.as_str()) {
            Some(Field::Status)
        } else if SUCCESSOR_FIELDS.contains(&key.as_str()) {
            Some(Field::SupersededBy)
        } else if PREDECESSOR_FIELDS.contains(&key.as_str()) {
            Some(Field::Supersedes)
        } else {
            None
        }
    }
}

/// Where, after a supersession verb, the ADR it names starts: `supersedes` (and the French
/// `remplace` when not followed by `par`) points back to a predecessor.
#[must_use]
pub fn predecessor_verb_end(folded_line: &str) -> Option<usize> {
    const VERBS: &[&str] = &["supersedes", "supercedes", "replaces", "remplace"];
    let mut previous = ' ';
    for (i, c) in folded_line.char_indices() {
        if c.is_alphabetic() && !previous.is_alphanumeric() {
            for verb in VERBS {
                if let Some(rest) = folded_line[i..].strip_prefix(verb) {
                    let boundary = !rest.starts_with(char::is_alphanumeric);
                    let successor_form = rest.trim_start().starts_with("par ");
                    if boundary && !successor_form {
                        return Some(i + verb.len());
                    }
                }
            }
        }
        previous = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("Accepted", Some(Status::Accepted))]
    #[case("Accepté", Some(Status::Accepted))]
    #[case("ACCEPTÉE", Some(Status::Accepted))]
    #[case("✅ Active", Some(Status::Accepted))]
    #[case("Accepted (2024-01-02)", Some(Status::Accepted))]
    #[case("Superseded by [ADR-017](017-x.md)", Some(Status::Superseded))]
    #[case("Superceded by [3. Foo](0003-foo.md)", Some(Status::Superseded))]
    #[case("superseded by ADR-0123", Some(Status::Superseded))]
    #[case("Remplacé par ADR-012", Some(Status::Superseded))]
    #[case("Déprécié", Some(Status::Deprecated))]
    #[case("Rejeté", Some(Status::Rejected))]
    #[case("Proposé", Some(Status::Proposed))]
    #[case("In review", Some(Status::Proposed))]
    #[case("Activated", None)]
    #[case("Living", None)]
    #[case("", None)]
    fn every_real_world_status_spelling_is_normalised(#[case] value: &str, #[case] expected: Option<Status>) {
        assert_eq!(Vocabulary::default().status(value), expected);
    }

    #[test]
    fn configured_statuses_add_to_the_built_in_ones() {
        let extra = ExtraWords { statuses: [("Living".to_owned(), Status::Accepted)].into(), ..ExtraWords::default() };
        assert_eq!(Vocabulary::new(&extra).status("living"), Some(Status::Accepted));
    }

    #[rstest]
    #[case("Context", Some(SectionKind::Context))]
    #[case("2. Contexte :", Some(SectionKind::Context))]
    #[case("Context and Problem Statement", Some(SectionKind::Context))]
    #[case("Décision", Some(SectionKind::Decision))]
    #[case("🎯 Decision Outcome", Some(SectionKind::Decision))]
    #[case("Conséquences", Some(SectionKind::Consequences))]
    #[case("Statut", Some(SectionKind::Status))]
    #[case("Trade-offs", None)]
    #[case("Decision Drivers", None)]
    fn section_headings_match_in_english_and_french(#[case] heading: &str, #[case] expected: Option<SectionKind>) {
        assert_eq!(Vocabulary::default().section(heading), expected);
    }

    #[rstest]
    #[case("Positive", Some(Half::Positive))]
    #[case("Conséquences positives", Some(Half::Positive))]
    #[case("Avantages", Some(Half::Positive))]
    #[case("Pros", Some(Half::Positive))]
    #[case("Négatives", Some(Half::Negative))]
    #[case("Inconvénients", Some(Half::Negative))]
    #[case("Negative consequences", Some(Half::Negative))]
    #[case("Neutral", None)]
    #[case("Risques", None)]
    fn consequence_halves_match_in_english_and_french(#[case] label: &str, #[case] expected: Option<Half>) {
        assert_eq!(Vocabulary::default().half(label), expected);
    }

    #[test]
    fn the_index_status_is_found_anywhere_in_an_entry() {
        let words = Vocabulary::default();
        assert_eq!(words.find_status("Cache layout — superseded by ADR-9"), Some(Status::Superseded));
        assert_eq!(words.find_status("Unacceptable things"), None);
    }

    #[test]
    fn supersedes_verbs_point_back_but_remplace_par_points_forward() {
        assert_eq!(predecessor_verb_end("this adr supersedes adr-3"), Some(19));
        assert_eq!(predecessor_verb_end("cet adr remplace l'adr-3"), Some(16));
        assert_eq!(predecessor_verb_end("remplace par adr-9"), None);
        assert_eq!(predecessor_verb_end("superseded by adr-9"), None);
    }
}

//! The words ADRs are written in, English and French: status values, section headings,
//! consequence labels and header fields, each folded (lower case, accents removed) so that
//! `Accepté`, `ACCEPTE` and `accepte` are one word.
//!
//! Built-in words cover what real ADR folders write (adr-tools, MADR, the Vixens homelab); the
//! configuration adds more. How each status spelling maps is documented in `docs/adr/README.md`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

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
/// "Trade-offs" is what the homelab's newer ADRs write for their Consequences, with `Pros:` and
/// `Cons:` labels: a real convention, accepted by default.
const CONSEQUENCES: &[&str] = &["consequences", "consequence", "trade-offs", "tradeoffs", "trade offs", "compromis"];
/// Words that may qualify a section word in a heading: `Décision finale`, `Final decision`.
const QUALIFIERS: &[&str] = &["finale", "final", "retenue", "prise", "outcome", "adoptee", "choisie"];
const STATUS_HEADINGS: &[&str] = &["status", "statut", "etat"];
/// Labels of the two halves of the Consequences. MADR writes `Good, because ...` and
/// `Bad, because ...`: accepted by default.
const POSITIVE: &[&str] = &["positive", "positives", "positif", "positifs", "avantages", "avantage", "pros", "good"];
const NEGATIVE: &[&str] = &["negative", "negatives", "negatif", "negatifs", "inconvenients", "inconvenient", "cons", "bad"];
/// Words around a half in a heading of its own: `## Positive Consequences`, `## Points négatifs`.
const HALF_FILLERS: &[&str] = &["consequences", "consequence", "points", "point", "les"];
/// Header field names (`**Status:** Accepted`, `**Supersedes:** [ADR-3](003-x.md)`).
const STATUS_FIELDS: &[&str] = &["status", "statut", "etat"];
const SUCCESSOR_FIELDS: &[&str] = &["superseded by", "superceded by", "superseded-by", "replaced by", "remplace par", "remplacee par"];
const PREDECESSOR_FIELDS: &[&str] = &["supersedes", "supercedes", "replaces", "remplace"];
const DATE_FIELDS: &[&str] = &["date", "decided", "date de decision"];

/// Index section headings and the statuses of the ADRs listed under them. "Historical" holds
/// both the Superseded and the Deprecated.
const SECTION_STATUSES: &[(&str, &[Status])] = &[
    ("actives", &[Status::Accepted]),
    ("active", &[Status::Accepted]),
    ("accepted", &[Status::Accepted]),
    ("acceptees", &[Status::Accepted]),
    ("acceptes", &[Status::Accepted]),
    ("en vigueur", &[Status::Accepted]),
    ("current", &[Status::Accepted]),
    ("in force", &[Status::Accepted]),
    ("superseded", &[Status::Superseded]),
    ("remplacees", &[Status::Superseded]),
    ("remplaces", &[Status::Superseded]),
    ("replaced", &[Status::Superseded]),
    ("historical", &[Status::Superseded, Status::Deprecated]),
    ("historique", &[Status::Superseded, Status::Deprecated]),
    ("history", &[Status::Superseded, Status::Deprecated]),
    ("archived", &[Status::Superseded, Status::Deprecated]),
    ("archivees", &[Status::Superseded, Status::Deprecated]),
    ("deprecated", &[Status::Deprecated]),
    ("obsoletes", &[Status::Deprecated]),
    ("obsolete", &[Status::Deprecated]),
    ("depreciees", &[Status::Deprecated]),
    ("deprecies", &[Status::Deprecated]),
    ("rejected", &[Status::Rejected]),
    ("rejetees", &[Status::Rejected]),
    ("rejetes", &[Status::Rejected]),
    ("proposed", &[Status::Proposed]),
    ("proposees", &[Status::Proposed]),
    ("proposes", &[Status::Proposed]),
    ("drafts", &[Status::Proposed]),
    ("draft", &[Status::Proposed]),
    ("brouillons", &[Status::Proposed]),
    ("en discussion", &[Status::Proposed]),
    ("in review", &[Status::Proposed]),
];

/// Words of a sentence that declare a path gone or not there yet: such a path is not missing.
const ABSENCE_MARKERS: &[&str] = &[
    "removed",
    "remove",
    "deleted",
    "delete",
    "dropped",
    "retired",
    "no longer exists",
    "no longer exist",
    "gone",
    "create",
    "to be created",
    "will be added",
    "to add",
    "todo",
    "planned",
    "supprime",
    "supprimee",
    "supprimes",
    "supprimees",
    "supprimer",
    "suppression",
    "retire",
    "retiree",
    "retires",
    "retirees",
    "efface",
    "effacee",
    "effaces",
    "effacees",
    "n'existe plus",
    "n'existent plus",
    "creer",
    "a creer",
    "sera cree",
    "sera creee",
    "seront crees",
    "a ajouter",
    "prevu",
    "prevue",
    "prevus",
    "prevues",
];
/// Words that declare gone only the paths written before them: in "X was moved to Y", Y must
/// exist.
const MOVE_MARKERS: &[&str] = &["moved", "renamed", "migrated", "deplace", "deplacee", "deplaces", "renomme", "renommee", "renommes"];

/// A passive supersession claim: "ADR-005 is superseded by this ADR", "l'ADR-025 est donc
/// remplacé par le présent ADR". Matched on folded text; the ADR it names is the last one
/// mentioned before it in the sentence.
static PASSIVE_CLAIM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\b(?:is|are|was|were|has been|have been|est|sont|a ete|ont ete|etait)\s+)?(?:(?:now|hence|hereby|thereby|therefore|effectively|donc|desormais|ainsi|aujourd'hui)\s+)?\b(?:superseded|superceded|replaced|remplacee?s?|rendue? obsolete)\s+(?:by|par)\s+(?:this|the present|the current|cette|cet|ce|le present|la presente|celui-ci|celle-ci)\s+(?:adr|decision|document|record)\b",
    )
    .expect("valid regex")
});

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
    /// `Date: 2024-01-02`.
    Date,
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

    /// The section a heading names (`## 2. Décision :`): its text up to a colon, a section
    /// word alone or with a qualifier (`Décision finale : Cilium`, `Final decision: Cilium`).
    /// `Decision Drivers` and `Critères de décision` name no section.
    #[must_use]
    pub fn section(&self, heading: &str) -> Option<SectionKind> {
        let key = heading_key(heading);
        let head = key.split(':').next().unwrap_or(&key).trim();
        let found = |text: &str| self.sections.iter().find(|(word, _)| *word == text).map(|(_, kind)| *kind);
        found(&key).or_else(|| found(head)).or_else(|| {
            QUALIFIERS.iter().find_map(|q| {
                let rest = head.strip_suffix(q).map(str::trim_end).or_else(|| head.strip_prefix(q).map(str::trim_start))?;
                (rest.len() < head.len()).then(|| found(rest)).flatten()
            })
        })
    }

    /// The half a heading of its own names, when it names nothing else: `## Avantages`,
    /// `## Negative Consequences`, `## Points positifs`, but not MADR's `## Pros and Cons of the
    /// Options`.
    #[must_use]
    pub fn sibling_half(&self, heading: &str) -> Option<Half> {
        let key = heading_key(heading);
        let words: Vec<&str> = key.split_whitespace().filter(|w| !HALF_FILLERS.contains(w)).collect();
        match words.as_slice() {
            [word] => self.halves.iter().find(|(w, _)| w == word).map(|(_, half)| *half),
            _ => None,
        }
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
        } else if DATE_FIELDS.contains(&key.as_str()) {
            Some(Field::Date)
        } else {
            None
        }
    }

    /// The statuses of the ADRs an index lists under this heading: `## Actives` → Accepted,
    /// `## Historical / Superseded` → Superseded (the words must agree). `None` for a heading
    /// that names no status (`## Index`).
    #[must_use]
    pub fn section_statuses(&self, heading: &str) -> Option<Vec<Status>> {
        // `## 🏆 Active Decisions (Accepted)`: the words around the status say what is listed.
        const FILLERS: &[&str] =
            &["decisions", "decision", "adrs", "adr", "records", "record", "architecture", "d'architecture", "les", "des", "the"];
        let key = heading_key(heading);
        let kept: Vec<&str> = key.split(' ').filter(|w| !FILLERS.contains(w)).collect();
        let key = kept.join(" ");
        let parts: Vec<&str> =
            key.split(['/', '&', ',', '+', '|', '(', ')', '-', '—']).flat_map(|p| p.split(" and ")).flat_map(|p| p.split(" et ")).collect();
        let mut agreed: Option<Vec<Status>> = None;
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let (_, statuses) = SECTION_STATUSES.iter().find(|(word, _)| *word == part)?;
            agreed = Some(match agreed {
                None => statuses.to_vec(),
                Some(before) => before.into_iter().filter(|s| statuses.contains(s)).collect(),
            });
        }
        agreed.filter(|a| !a.is_empty())
    }

    /// Every spelling of a status this vocabulary knows, folded.
    pub fn spellings(&self) -> impl Iterator<Item = (&str, Status)> {
        self.statuses.iter().map(|(w, s)| (w.as_str(), *s))
    }
}

/// True when the sentence declares the path at `at` (a byte offset in `folded_sentence`) gone
/// or still to be created: "was removed", "a été supprimé", "Create ...", "Il faut créer ...".
/// A move ("moved to", "déplacé vers") declares gone only what is written before it.
#[must_use]
pub fn declares_absent(folded_sentence: &str, at: usize) -> bool {
    ABSENCE_MARKERS.iter().any(|m| !word_positions(folded_sentence, m).is_empty())
        || MOVE_MARKERS.iter().flat_map(|m| word_positions(folded_sentence, m).into_iter().map(move |p| p + m.len())).any(|end| {
            // "moved from X to Y": X is gone up to "to"; "X was moved to Y": X is before the verb.
            let rest = &folded_sentence[end..];
            let from = ["from", "de", "depuis"].iter().any(|w| rest.trim_start().starts_with(&format!("{w} ")));
            let boundary = if from {
                ["to", "into", "vers", "dans", "sous"].iter().flat_map(|w| word_positions(rest, w)).min().map_or(folded_sentence.len(), |p| end + p)
            } else {
                end
            };
            at < boundary && (!from || at > end)
        })
}

/// Byte offsets where `phrase` stands as whole words in `text`.
#[must_use]
pub fn word_positions(text: &str, phrase: &str) -> Vec<usize> {
    text.match_indices(phrase)
        .filter(|(i, _)| {
            let before = text[..*i].chars().next_back();
            let after = text[i + phrase.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Where, in a folded sentence, a passive supersession claim starts ("is superseded by this
/// ADR"), unless it is negated ("is not superseded by this ADR").
#[must_use]
pub fn passive_claims(folded_sentence: &str) -> Vec<usize> {
    PASSIVE_CLAIM.find_iter(folded_sentence).map(|m| m.start()).filter(|&start| !negated_before(folded_sentence, start)).collect()
}

/// True when one of the three words before byte `at` negates what follows: `not`, `never`,
/// `ne`, `n'`, `pas`.
fn negated_before(folded: &str, at: usize) -> bool {
    const NEGATIONS: &[&str] = &["not", "never", "doesn't", "don't", "isn't", "aren't", "wasn't", "ne", "n", "pas", "jamais", "non"];
    folded[..at].split(|c: char| !c.is_alphanumeric() && c != '\'').rev().filter(|w| !w.is_empty()).take(3).any(|w| NEGATIONS.contains(&w))
        || folded[..at].trim_end().ends_with("n'")
}

/// Where, after a supersession verb, the ADR it names starts: `supersedes` (and the French
/// `remplace` when not followed by `par`) points back to a predecessor. A negated verb ("ne
/// remplace pas", "does not supersede") claims nothing.
#[must_use]
pub fn predecessor_verb_end(folded_line: &str) -> Option<usize> {
    const VERBS: &[&str] = &["supersedes", "supercedes", "replaces", "remplace"];
    let mut previous = ' ';
    for (i, c) in folded_line.char_indices() {
        if c.is_alphabetic() && !previous.is_alphanumeric() {
            for verb in VERBS {
                if let Some(rest) = folded_line[i..].strip_prefix(verb) {
                    let boundary = !rest.starts_with(char::is_alphanumeric);
                    let next = rest.split_whitespace().next().unwrap_or_default();
                    let successor_form = next == "par";
                    let negated = negated_before(folded_line, i) || ["pas", "plus", "jamais", "point"].contains(&next);
                    if boundary && !successor_form && !negated {
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
    #[case("Trade-offs", Some(SectionKind::Consequences))]
    #[case("Décision finale : Cilium en remplacement de kube-proxy", Some(SectionKind::Decision))]
    #[case("Final decision: Cilium replaces kube-proxy", Some(SectionKind::Decision))]
    #[case("Decision: use Cilium", Some(SectionKind::Decision))]
    #[case("Décision retenue", Some(SectionKind::Decision))]
    #[case("Decision Drivers", None)]
    #[case("Decision Makers", None)]
    #[case("Critères de décision", None)]
    #[case("Considered Options", None)]
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
    #[case("Good", Some(Half::Positive))]
    #[case("Bad", Some(Half::Negative))]
    #[case("Neutral", None)]
    #[case("Risques", None)]
    fn consequence_halves_match_in_english_and_french(#[case] label: &str, #[case] expected: Option<Half>) {
        assert_eq!(Vocabulary::default().half(label), expected);
    }

    #[rstest]
    #[case("Avantages", Some(Half::Positive))]
    #[case("Inconvénients", Some(Half::Negative))]
    #[case("Positive Consequences", Some(Half::Positive))]
    #[case("Points négatifs", Some(Half::Negative))]
    #[case("Pros and Cons of the Options", None)]
    #[case("Considered Options", None)]
    fn a_half_as_a_section_of_its_own(#[case] heading: &str, #[case] expected: Option<Half>) {
        assert_eq!(Vocabulary::default().sibling_half(heading), expected);
    }

    #[rstest]
    #[case("Actives", Some(vec![Status::Accepted]))]
    #[case("Historical / Superseded", Some(vec![Status::Superseded]))]
    #[case("Historique", Some(vec![Status::Superseded, Status::Deprecated]))]
    #[case("Obsolètes / Dépréciées", Some(vec![Status::Deprecated]))]
    #[case("Rejetées", Some(vec![Status::Rejected]))]
    #[case("Proposées", Some(vec![Status::Proposed]))]
    #[case("🏆 Active Decisions (Accepted)", Some(vec![Status::Accepted]))]
    #[case("📜 Historical / Superseded Decisions", Some(vec![Status::Superseded]))]
    #[case("🗑️ Deprecated Decisions", Some(vec![Status::Deprecated]))]
    #[case("Accepted / Rejected", None)]
    #[case("ADR Status", None)]
    #[case("Architecture (Coming Soon)", None)]
    #[case("Index", None)]
    #[case("Écrire un ADR", None)]
    fn index_headings_give_the_status_of_their_entries(#[case] heading: &str, #[case] expected: Option<Vec<Status>>) {
        assert_eq!(Vocabulary::default().section_statuses(heading), expected);
    }

    #[rstest]
    #[case("the old folder, `apps/x/`, was removed in the same change", true)]
    #[case("l'ancien module terraform/modules/k3s/ a ete supprime", true)]
    #[case("suppression de apps/netdata/ une fois les tableaux repris", true)]
    #[case("the root app stays. create argocd/projects/infra.yaml, an appproject", true)]
    #[case("il faut creer apps/_shared/policies/image-tags.yaml", true)]
    #[case("the values are in apps/monitoring/values.yaml", false)]
    #[case("the recreated cluster reads apps/x.yaml", false)]
    fn removed_and_planned_paths_are_declared_absent(#[case] sentence: &str, #[case] absent: bool) {
        let at = sentence.find("apps/").or_else(|| sentence.find("terraform/")).or_else(|| sentence.find("argocd/")).unwrap();
        assert_eq!(declares_absent(sentence, at), absent);
    }

    #[test]
    fn a_move_declares_gone_only_where_it_comes_from() {
        let sentence = "apps/old/x.yaml was moved to apps/new/x.yaml";
        assert!(declares_absent(sentence, 0));
        assert!(!declares_absent(sentence, sentence.find("apps/new").unwrap()));
        let sentence = "the cache moved from src/lru.rs to src/lfu.rs";
        assert!(declares_absent(sentence, sentence.find("src/lru").unwrap()));
        assert!(!declares_absent(sentence, sentence.find("src/lfu").unwrap()));
    }

    #[rstest]
    #[case("adr-005 is superseded by this adr; the overlays only set the url", 1)]
    #[case("l'adr-025 est donc remplace par le present adr", 1)]
    #[case("le cache de l'adr-035 est remplace par cette decision", 1)]
    #[case("adr-010: the traefik ingress, superseded by this adr", 1)]
    #[case("adr-005 is not superseded by this adr", 0)]
    #[case("l'adr-005 n'est pas remplace par cet adr", 0)]
    #[case("superseded by adr-9", 0)]
    fn passive_supersession_claims(#[case] sentence: &str, #[case] claims: usize) {
        assert_eq!(passive_claims(sentence).len(), claims);
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
        assert_eq!(predecessor_verb_end("cet adr ne remplace pas l'adr-001"), None);
        assert_eq!(predecessor_verb_end("this adr never replaces adr-1"), None);
    }
}

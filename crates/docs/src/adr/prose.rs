//! Sentences, not lines: a writer breaks lines anywhere, so "create" at the end of one line
//! governs the path at the start of the next, and "ADR-005 is superseded by this ADR" may start
//! on the line before. A [`Paragraph`] joins the lines of one paragraph or list item and maps
//! positions back to them; [`Paragraph::sentence`] cuts it at sentence ends.

use std::ops::Range;

use super::markdown::{BlockKind, TextLine};

/// The lines of one paragraph or list item, joined with spaces.
#[derive(Debug, Clone)]
pub struct Paragraph {
    /// Index, in the file's lines, of its first line.
    pub first: usize,
    /// Where each of its lines starts in [`Paragraph::text`].
    starts: Vec<usize>,
    /// The lines' texts joined with one space.
    pub text: String,
}

impl Paragraph {
    /// Index, in the file's lines, of the line holding byte `at` of [`Paragraph::text`], and
    /// the byte offset within that line.
    #[must_use]
    pub fn locate(&self, at: usize) -> (usize, usize) {
        let i = self.starts.partition_point(|&s| s <= at).max(1) - 1;
        (self.first + i, at - self.starts[i])
    }

    /// Byte `offset` of the `line`-th line of the file (one of this paragraph's) as a position
    /// in [`Paragraph::text`].
    #[must_use]
    pub fn position(&self, line: usize, offset: usize) -> usize {
        self.starts[line - self.first] + offset
    }

    /// True when the file's `line`-th line is one of this paragraph's.
    #[must_use]
    pub fn holds(&self, line: usize) -> bool {
        (self.first..self.first + self.starts.len()).contains(&line)
    }

    /// The sentence around byte `at` of [`Paragraph::text`]: from the previous sentence end to
    /// the next. `. `, `! `, `? ` and `;` end a sentence; a colon does not (`create: x.yaml`).
    #[must_use]
    pub fn sentence(&self, at: usize) -> Range<usize> {
        let ends = sentence_ends(&self.text);
        let start = ends.iter().copied().filter(|&e| e <= at).max().unwrap_or(0);
        let end = ends.iter().copied().find(|&e| e > at).unwrap_or(self.text.len());
        start..end
    }

    /// Every sentence, in order.
    #[must_use]
    pub fn sentences(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for end in sentence_ends(&self.text).into_iter().chain(std::iter::once(self.text.len())) {
            if end > start {
                out.push(start..end);
            }
            start = end;
        }
        out
    }
}

/// Positions right after each sentence end of `text`.
fn sentence_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        let followed_by_space = bytes.get(i + 1).is_none_or(u8::is_ascii_whitespace);
        if b == b';' || (matches!(b, b'.' | b'!' | b'?') && followed_by_space) {
            ends.push(i + 1);
        }
    }
    ends
}

/// The paragraphs and list items of `lines`, each with its lines joined. Headings and table
/// rows are paragraphs of their own.
#[must_use]
pub fn paragraphs(lines: &[TextLine]) -> Vec<Paragraph> {
    let mut out: Vec<Paragraph> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let continues = !line.block_start && matches!(line.kind, BlockKind::Paragraph | BlockKind::Item) && !out.is_empty();
        match out.last_mut() {
            Some(paragraph) if continues => {
                paragraph.text.push(' ');
                paragraph.starts.push(paragraph.text.len());
                paragraph.text.push_str(&line.text);
            }
            _ => out.push(Paragraph { first: i, starts: vec![0], text: line.text.clone() }),
        }
    }
    out
}

/// The paragraph holding the file's `line`-th line.
#[must_use]
pub fn paragraph_of(paragraphs: &[Paragraph], line: usize) -> Option<&Paragraph> {
    let i = paragraphs.partition_point(|p| p.first <= line).checked_sub(1)?;
    paragraphs.get(i).filter(|p| p.holds(line))
}

#[cfg(test)]
mod tests {
    use super::super::markdown::Markdown;
    use super::*;

    #[test]
    fn a_sentence_runs_across_the_lines_of_its_paragraph() {
        let md = Markdown::parse("# T\n\nThe root app stays. Create\n`argocd/projects/infra.yaml`, an AppProject; then sync.\n");
        let paragraphs = paragraphs(&md.lines);
        let p = paragraph_of(&paragraphs, 2).unwrap();
        assert_eq!(p.first, 1);
        let at = p.position(2, 0);
        assert_eq!(&p.text[p.sentence(at)], " Create argocd/projects/infra.yaml, an AppProject;");
        assert_eq!(p.locate(at), (2, 0));
        assert_eq!(p.sentences().len(), 3);
    }

    #[test]
    fn a_colon_and_a_dotted_name_do_not_end_a_sentence() {
        let md = Markdown::parse("Next step: create values.yaml in apps/x.\n");
        let p = &paragraphs(&md.lines)[0];
        assert_eq!(p.sentences().len(), 1);
        assert_eq!(p.sentences()[0], 0..p.text.len());
    }

    #[test]
    fn items_and_headings_are_paragraphs_of_their_own() {
        let md = Markdown::parse("## Status\n\n- Proposed\n- Accepted\n  on 2024-01-02\n");
        let texts: Vec<String> = paragraphs(&md.lines).into_iter().map(|p| p.text).collect();
        assert_eq!(texts, ["Status", "Proposed", "Accepted on 2024-01-02"]);
    }
}

//! Markdown read the way a renderer reads it (pulldown-cmark), reduced to what the ADR rules
//! look at: headings, lines of inline text (with the links and code spans on them), code blocks
//! and the front matter, each with its 1-based line.
//!
//! A line scanner would take a `# comment` in a fenced block for a heading, or miss a `~~~`
//! fence nested in a list; the parser does not. Line numbers come from byte offsets through a
//! [`LineIndex`].

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd};

/// Maps byte offsets to 1-based line numbers.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The index of `text`'s line starts.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { starts }
    }

    /// The 1-based line holding byte `offset`.
    #[must_use]
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }
}

/// A heading, with the extent of its section (up to the next heading of the same or a higher
/// level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 for `#`, 2 for `##`...
    pub level: u8,
    /// Its text, inline markup removed.
    pub text: String,
    /// Its line.
    pub line: usize,
    /// Byte range of the section body: from the end of the heading to the next heading of the
    /// same or a higher level.
    pub body: Range<usize>,
}

/// The kind of block a line of text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A heading's text.
    Heading,
    /// A paragraph (or text in a block quote).
    Paragraph,
    /// A list item.
    Item,
    /// A table row; [`TextLine::cells`] holds its cells.
    TableRow,
}

/// A link (or image) on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The destination as written (reference links resolved).
    pub dest: String,
    /// Byte range of the link text within [`TextLine::text`].
    pub text: Range<usize>,
}

/// One line of inline text: a heading, one source line of a paragraph or list item, or a table
/// row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextLine {
    /// Byte offset in the file.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// Which block it is part of.
    pub kind: BlockKind,
    /// True for the first line of its block.
    pub block_start: bool,
    /// True when the line opens with bold or italic text (`**Status:** Accepted`).
    pub starts_emphasised: bool,
    /// True when the line opens with struck-through text (`~~Proposed~~`).
    pub starts_struck: bool,
    /// True for a table's header row.
    pub header: bool,
    /// The text, markup removed, code spans kept.
    pub text: String,
    /// For table rows, each cell's text.
    pub cells: Vec<String>,
    /// For table rows, each cell's byte range within [`TextLine::text`].
    pub cell_spans: Vec<Range<usize>>,
    /// Links and images on the line.
    pub links: Vec<Link>,
    /// Code spans on the line.
    pub code: Vec<String>,
    /// Runs of plain text (neither code nor link destinations), for path mentions.
    pub prose: Vec<String>,
}

/// A Markdown file, reduced.
#[derive(Debug, Clone, Default)]
pub struct Markdown {
    /// The YAML front matter's text and the line it starts on.
    pub front_matter: Option<(String, usize)>,
    /// Every heading, in order.
    pub headings: Vec<Heading>,
    /// Every line of inline text, in order.
    pub lines: Vec<TextLine>,
    /// Byte offsets of code blocks with content (they count as section content).
    pub code_blocks: Vec<usize>,
}

impl Markdown {
    /// Parses `text`.
    #[must_use]
    pub fn parse(text: &str) -> Self {
        let index = LineIndex::new(text);
        let options = Options::ENABLE_TABLES
            | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
            | Options::ENABLE_STRIKETHROUGH
            | Options::ENABLE_TASKLISTS
            | Options::ENABLE_FOOTNOTES;
        let mut builder = Builder { index: Some(&index), ..Builder::default() };
        for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
            builder.event(event, range);
        }
        builder.flush();
        let mut out = builder.out;
        close_sections(&mut out.headings, &builder.heading_starts, text.len());
        out
    }

    /// Lines of a section body, headings excluded.
    pub fn lines_in(&self, body: &Range<usize>) -> impl Iterator<Item = &TextLine> {
        let body = body.clone();
        self.lines.iter().filter(move |l| body.contains(&l.offset) && l.kind != BlockKind::Heading)
    }

    /// True when the section body holds any text or code (HTML comments do not count: a
    /// template's `<!-- fill in -->` is still empty).
    #[must_use]
    pub fn has_content(&self, body: &Range<usize>) -> bool {
        self.lines_in(body).any(|l| !l.text.trim().is_empty()) || self.code_blocks.iter().any(|o| body.contains(o))
    }
}

/// Sets each heading's body end: the next heading of the same or a higher level.
fn close_sections(headings: &mut [Heading], starts: &[usize], len: usize) {
    for i in 0..headings.len() {
        let level = headings[i].level;
        let end = (i + 1..headings.len()).find(|&j| headings[j].level <= level).map_or(len, |j| starts[j]);
        headings[i].body.end = end.max(headings[i].body.start);
    }
}

#[derive(Default)]
struct Builder<'a> {
    index: Option<&'a LineIndex>,
    out: Markdown,
    heading_starts: Vec<usize>,
    /// The block kinds we are inside, innermost last.
    blocks: Vec<BlockKind>,
    current: Option<TextLine>,
    /// Set after a line break: the next text continues the block on a new line.
    continued: bool,
    /// Emphasis depth, to tell a line that opens with bold text.
    emphasis: usize,
    /// Strikethrough depth, to tell a line that opens with struck text.
    struck: usize,
    /// Open links: where their text starts in the current line, and their destination.
    open_links: Vec<(usize, String)>,
    link_depth: usize,
    in_code_block: bool,
    in_metadata: Option<usize>,
    in_html: bool,
    /// A table row being built, cell by cell.
    row: Option<TextLine>,
    in_cell: bool,
    heading: Option<(u8, usize)>,
}

impl Builder<'_> {
    fn line(&self, offset: usize) -> usize {
        self.index.map_or(1, |i| i.line(offset))
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => self.start(tag, range),
            Event::End(tag) => self.end(tag, range),
            Event::Text(text) => self.text(&text, range, false),
            Event::Code(code) => self.text(&code, range, true),
            Event::InlineMath(text) | Event::DisplayMath(text) => self.text(&text, range, false),
            Event::SoftBreak | Event::HardBreak => {
                if self.row.is_none() {
                    self.flush();
                    self.continued = true;
                }
            }
            Event::Html(_) | Event::InlineHtml(_) | Event::FootnoteReference(_) | Event::Rule | Event::TaskListMarker(_) => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.flush();
                self.heading = Some((heading_level(level), range.start));
                self.blocks.push(BlockKind::Heading);
            }
            Tag::Paragraph => {
                self.flush();
                self.blocks.push(BlockKind::Paragraph);
            }
            Tag::Item => {
                self.flush();
                self.blocks.push(BlockKind::Item);
            }
            Tag::TableHead | Tag::TableRow => {
                self.flush();
                let line = self.line(range.start);
                let mut row = new_line(range.start, line, BlockKind::TableRow, true);
                row.header = matches!(tag, Tag::TableHead);
                self.row = Some(row);
            }
            Tag::TableCell => {
                self.in_cell = true;
                if let Some(row) = &mut self.row {
                    row.cells.push(String::new());
                    if !row.text.is_empty() {
                        row.text.push_str(" | ");
                    }
                    row.cell_spans.push(row.text.len()..row.text.len());
                }
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.in_code_block = true;
            }
            Tag::MetadataBlock(MetadataBlockKind::YamlStyle) => self.in_metadata = Some(range.start),
            Tag::MetadataBlock(MetadataBlockKind::PlusesStyle) => {}
            Tag::HtmlBlock => self.in_html = true,
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.link_depth += 1;
                let at = self.target().map_or(0, |l| l.text.len());
                self.open_links.push((at, dest_url.to_string()));
            }
            Tag::Emphasis | Tag::Strong => self.emphasis += 1,
            Tag::Strikethrough => self.struck += 1,
            Tag::BlockQuote(_) | Tag::List(_) | Tag::FootnoteDefinition(_) | Tag::Table(_) => self.flush(),
            Tag::DefinitionList | Tag::DefinitionListTitle | Tag::DefinitionListDefinition => self.flush(),
            Tag::Superscript | Tag::Subscript => {}
        }
    }

    fn end(&mut self, tag: TagEnd, range: Range<usize>) {
        match tag {
            TagEnd::Heading(_) => {
                self.flush();
                self.blocks.pop();
                if let Some((level, start)) = self.heading.take() {
                    let parts: Vec<&str> = self.out.lines.iter().rev().take_while(|l| l.offset >= start).map(|l| l.text.as_str()).collect();
                    let text = parts.into_iter().rev().collect::<Vec<_>>().join(" ");
                    self.heading_starts.push(start);
                    self.out.headings.push(Heading { level, text, line: self.line(start), body: range.end..range.end });
                }
            }
            TagEnd::Paragraph | TagEnd::Item => {
                self.flush();
                self.blocks.pop();
            }
            TagEnd::TableHead | TagEnd::TableRow => {
                if let Some(row) = self.row.take() {
                    self.out.lines.push(row);
                }
            }
            TagEnd::TableCell => {
                self.in_cell = false;
                if let Some(row) = &mut self.row
                    && let Some(span) = row.cell_spans.last_mut()
                {
                    span.end = row.text.len();
                }
            }
            TagEnd::CodeBlock => self.in_code_block = false,
            TagEnd::MetadataBlock(_) => self.in_metadata = None,
            TagEnd::HtmlBlock => self.in_html = false,
            TagEnd::Link | TagEnd::Image => {
                self.link_depth = self.link_depth.saturating_sub(1);
                if let Some((at, dest)) = self.open_links.pop()
                    && let Some(target) = self.target_mut()
                {
                    let end = target.text.len().max(at);
                    target.links.push(Link { dest, text: at..end });
                }
            }
            TagEnd::Emphasis | TagEnd::Strong => self.emphasis = self.emphasis.saturating_sub(1),
            TagEnd::Strikethrough => self.struck = self.struck.saturating_sub(1),
            TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::FootnoteDefinition | TagEnd::Table => self.flush(),
            TagEnd::DefinitionList | TagEnd::DefinitionListTitle | TagEnd::DefinitionListDefinition => self.flush(),
            TagEnd::Superscript | TagEnd::Subscript => {}
        }
    }

    fn text(&mut self, text: &str, range: Range<usize>, code: bool) {
        if let Some(start) = self.in_metadata {
            let line = self.line(start) + 1;
            match &mut self.out.front_matter {
                Some((kept, _)) => kept.push_str(text),
                None => self.out.front_matter = Some((text.to_owned(), line)),
            }
            return;
        }
        if self.in_html {
            return;
        }
        if self.in_code_block {
            if !text.trim().is_empty() {
                self.out.code_blocks.push(range.start);
            }
            return;
        }
        if self.row.is_some() {
            if !self.in_cell {
                return;
            }
        } else if self.current.is_none() {
            let kind = self.blocks.last().copied().unwrap_or(BlockKind::Paragraph);
            let line = self.line(range.start);
            let mut new = new_line(range.start, line, kind, !self.continued);
            new.starts_emphasised = self.emphasis > 0;
            new.starts_struck = self.struck > 0;
            self.current = Some(new);
            self.continued = false;
        }
        let in_link = self.link_depth > 0;
        let Some(target) = self.target_mut() else { return };
        target.text.push_str(text);
        if let Some(cell) = target.cells.last_mut().filter(|_| target.kind == BlockKind::TableRow) {
            cell.push_str(text);
        }
        if code {
            target.code.push(text.to_owned());
        } else if !in_link {
            target.prose.push(text.to_owned());
        }
    }

    /// The line inline content goes to: the table row being built, else the current line.
    fn target(&self) -> Option<&TextLine> {
        self.row.as_ref().or(self.current.as_ref())
    }

    fn target_mut(&mut self) -> Option<&mut TextLine> {
        self.row.as_mut().or(self.current.as_mut())
    }

    fn flush(&mut self) {
        if let Some(line) = self.current.take() {
            self.out.lines.push(line);
        }
        self.continued = false;
    }
}

fn new_line(offset: usize, line: usize, kind: BlockKind, block_start: bool) -> TextLine {
    TextLine {
        offset,
        line,
        kind,
        block_start,
        starts_emphasised: false,
        starts_struck: false,
        header: false,
        text: String::new(),
        cells: Vec::new(),
        cell_spans: Vec::new(),
        links: Vec::new(),
        code: Vec::new(),
        prose: Vec::new(),
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_come_from_byte_offsets() {
        let index = LineIndex::new("a\nbc\n\nd");
        assert_eq!([0, 1, 2, 4, 5, 6].map(|o| index.line(o)), [1, 1, 2, 2, 3, 4]);
    }

    #[test]
    fn a_heading_in_a_fenced_block_is_not_a_heading() {
        let md = Markdown::parse("# Title\n\n- item\n\n  ~~~sh\n  # not a heading\n  ~~~\n\n## Context\n\nWhy.\n");
        let headings: Vec<_> = md.headings.iter().map(|h| (h.level, h.text.as_str(), h.line)).collect();
        assert_eq!(headings, [(1, "Title", 1), (2, "Context", 9)]);
        assert_eq!(md.code_blocks.len(), 1);
    }

    #[test]
    fn paragraph_lines_keep_their_own_line_numbers_and_links() {
        let md = Markdown::parse("# T\n\n**Date:** 2024-01-01\n**Status:** Superseded by [ADR-7](007-x.md)\n");
        let status = &md.lines[2];
        assert_eq!((status.line, status.text.as_str()), (4, "Status: Superseded by ADR-7"));
        assert!(status.starts_emphasised && !status.block_start);
        assert_eq!(status.links, [Link { dest: "007-x.md".into(), text: 22..27 }]);
    }

    #[test]
    fn a_table_row_is_one_line_with_its_cells() {
        let md = Markdown::parse("| ADR | Status |\n|---|---|\n| [3](003-x.md) | Accepted |\n");
        assert!(md.lines[0].header);
        let row = &md.lines[1];
        assert_eq!((row.line, row.kind, row.header), (3, BlockKind::TableRow, false));
        assert_eq!(row.cells, ["3", "Accepted"]);
        assert_eq!(row.cell_spans.iter().map(|s| &row.text[s.clone()]).collect::<Vec<_>>(), ["3", "Accepted"]);
        assert_eq!(row.links[0].dest, "003-x.md");
    }

    #[test]
    fn a_struck_item_says_so() {
        let md = Markdown::parse("- ~~Proposed~~\n- Accepted\n");
        assert_eq!(md.lines.iter().map(|l| l.starts_struck).collect::<Vec<_>>(), [true, false]);
    }

    #[test]
    fn sections_end_at_the_next_heading_of_their_level() {
        let md = Markdown::parse("# T\n## Consequences\n### Positive\nGood.\n### Negative\nBad.\n## References\n");
        let consequences = &md.headings[1];
        assert!(md.lines_in(&consequences.body).any(|l| l.text == "Bad."));
        assert!(!md.has_content(&md.headings[4].body));
    }

    #[test]
    fn front_matter_is_kept_with_its_first_line() {
        let md = Markdown::parse("---\nstatus: accepted\n---\n# T\n");
        assert_eq!(md.front_matter, Some(("status: accepted\n".into(), 2)));
        assert_eq!(md.headings[0].line, 4);
    }

    #[test]
    fn html_comments_are_not_content() {
        let md = Markdown::parse("## Context\n\n<!-- why is this needed? -->\n\n## Decision\n");
        assert!(!md.has_content(&md.headings[0].body));
    }
}

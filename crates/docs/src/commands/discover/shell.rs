//! Shell text split into simple commands, the way bash reads it, with the line each starts on.
//!
//! Not a shell: nothing is expanded or run. It knows enough of the grammar to find every command
//! an operator would run: quotes (`'…'`, `"…"`, `$'…'`), `\` escapes and continuations, the
//! separators (`|`, `&&`, `||`, `;`, `&`, newlines), redirections and their targets, here-document
//! bodies (skipped: they are data), command substitutions (`$(…)`, backticks, `<(…)`: their
//! commands are commands too), the compound commands' keywords (`if`, `for`, `case` patterns…),
//! function definitions (their names are not tools), and leading assignments (`A=b cmd`).
//! Template markers (`{{ENV}}` of just and Task, `${{ … }}` of GitHub Actions) are one opaque
//! word. A word that expands anything is marked non-literal: its value is not known until run.

/// One word of a command, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the command would receive it when it is literal; as written otherwise.
    pub text: String,
    /// False when the word expands something (`$NODE`, `$(…)`, `{{ENV}}`): its value is not
    /// known from the text.
    pub literal: bool,
}

/// A simple command: its words (leading assignments and redirections removed) and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The line of its first word.
    pub line: usize,
    /// Its words, the program first.
    pub words: Vec<Word>,
}

/// What a piece of shell text holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Every simple command, in text order (those of a substitution after the one holding it).
    pub commands: Vec<SimpleCommand>,
    /// The names of the functions it defines: calling one runs commands read here already.
    pub functions: Vec<String>,
}

/// Splits `text`, whose first line is line `first_line` of its file, into simple commands.
#[must_use]
pub fn parse(text: &str, first_line: usize) -> Script {
    let mut lexer = Lexer { chars: text.chars().collect(), pos: 0, line: first_line, tokens: Vec::new(), nested: Script::default() };
    lexer.run();
    let Lexer { tokens, nested, .. } = lexer;
    let mut parser = Parser::default();
    parser.run(&tokens);
    let mut script = Script { commands: parser.commands, functions: parser.functions };
    script.commands.extend(nested.commands);
    script.functions.extend(nested.functions);
    script
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word {
        word: Word,
        line: usize,
    },
    /// A separator or grouping operator: `|`, `&&`, `;`, `(`, `;;`…
    Op(&'static str),
    Newline,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    tokens: Vec<Token>,
    /// Commands found in substitutions.
    nested: Script,
}

/// Redirection operators, longest first; each takes the next word as its target.
const REDIRECTIONS: &[&str] = &["&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", ">", "<"];
/// Control operators, longest first.
const OPERATORS: &[&str] = &[";;&", ";;", ";&", "&&", "||", "|&", "|", ";", "&", "(", ")"];

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.peek(i) == Some(c))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn run(&mut self) {
        let mut heredocs: Vec<(String, bool)> = Vec::new();
        let mut redirect_pending: Option<&'static str> = None;
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                }
                '\n' => {
                    self.bump();
                    self.tokens.push(Token::Newline);
                    for (delimiter, strip_tabs) in heredocs.drain(..) {
                        self.skip_heredoc(&delimiter, strip_tabs);
                    }
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                '#' => self.skip_comment(),
                _ => {
                    if let Some(op) = self.redirection() {
                        redirect_pending = Some(op);
                        continue;
                    }
                    if (c == '<' || c == '>') && self.peek(1) == Some('(') {
                        // Process substitution: its command runs; the word is a file name.
                        let line = self.line;
                        let mut word = Word { text: String::new(), literal: false };
                        self.bump();
                        word.text.push(c);
                        self.substitution(&mut word);
                        self.emit_word(word, line, &mut redirect_pending, &mut heredocs);
                        continue;
                    }
                    if self.starts_with("((") {
                        self.skip_arithmetic_command();
                        continue;
                    }
                    if let Some(op) = OPERATORS.iter().find(|op| self.starts_with(op)) {
                        self.pos += op.len();
                        self.tokens.push(Token::Op(op));
                        continue;
                    }
                    let (word, line) = self.word();
                    // `2>&1`, `3<file`: a number right before a redirection is its descriptor.
                    if word.literal && word.text.chars().all(|c| c.is_ascii_digit()) && self.redirection_ahead() {
                        continue;
                    }
                    self.emit_word(word, line, &mut redirect_pending, &mut heredocs);
                }
            }
        }
    }

    fn emit_word(&mut self, word: Word, line: usize, redirect: &mut Option<&'static str>, heredocs: &mut Vec<(String, bool)>) {
        match redirect.take() {
            Some(op @ ("<<" | "<<-")) => heredocs.push((word.text, op == "<<-")),
            Some(_) => {}
            None => self.tokens.push(Token::Word { word, line }),
        }
    }

    fn redirection_ahead(&self) -> bool {
        REDIRECTIONS.iter().any(|op| self.starts_with(op)) && self.peek(1) != Some('(')
    }

    fn redirection(&mut self) -> Option<&'static str> {
        let op = REDIRECTIONS.iter().find(|op| self.starts_with(op)).copied()?;
        if op.len() == 1 && self.peek(1) == Some('(') {
            return None;
        }
        self.pos += op.len();
        Some(op)
    }

    fn skip_comment(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.bump();
        }
    }

    fn skip_heredoc(&mut self, delimiter: &str, strip_tabs: bool) {
        while self.peek(0).is_some() {
            let mut text = String::new();
            while let Some(c) = self.peek(0) {
                self.bump();
                if c == '\n' {
                    break;
                }
                text.push(c);
            }
            let text = if strip_tabs { text.trim_start_matches('\t') } else { &text };
            if text.trim_end_matches('\r') == delimiter {
                return;
            }
        }
    }

    fn skip_arithmetic_command(&mut self) {
        let end = self.matching_paren(self.pos + 1).unwrap_or(self.chars.len());
        while self.pos <= end && self.bump().is_some() {}
        if self.peek(0) == Some(')') {
            self.bump();
        }
    }

    /// The index of the `)` closing the `(` at `open`, minding quotes and nesting.
    fn matching_paren(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut i = open;
        while let Some(&c) = self.chars.get(i) {
            match c {
                '\\' => i += 1,
                '\'' => i = self.chars[i + 1..].iter().position(|&q| q == '\'').map_or(self.chars.len(), |p| i + 1 + p),
                '"' => i = self.closing_double_quote(i + 1).unwrap_or(self.chars.len()),
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    fn closing_double_quote(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while let Some(&c) = self.chars.get(i) {
            match c {
                '\\' => i += 1,
                '"' => return Some(i),
                '$' if self.chars.get(i + 1) == Some(&'(') => i = self.matching_paren(i + 1)?,
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// Reads one word, up to an unquoted blank, operator or newline.
    fn word(&mut self) -> (Word, usize) {
        let line = self.line;
        let mut word = Word { text: String::new(), literal: true };
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '<' | '>' => break,
                '(' | ')' if !word.text.ends_with('=') || c == ')' => break,
                '(' => {
                    // `A=(x y)`: an array assignment is one word.
                    let end = self.matching_paren(self.pos).unwrap_or(self.chars.len() - 1);
                    self.take_raw(end + 1, &mut word);
                    word.literal = false;
                }
                '\\' => {
                    self.bump();
                    match self.bump() {
                        Some('\n') | None => {}
                        Some(c) => word.text.push(c),
                    }
                }
                '\'' => {
                    self.bump();
                    while let Some(c) = self.bump() {
                        if c == '\'' {
                            break;
                        }
                        word.text.push(c);
                    }
                }
                '"' => self.double_quoted(&mut word),
                '$' => self.dollar(&mut word),
                '`' => self.backticks(&mut word),
                '{' if self.peek(1) == Some('{') => self.template(&mut word),
                _ => {
                    self.bump();
                    word.text.push(c);
                }
            }
        }
        (word, line)
    }

    fn take_raw(&mut self, end: usize, word: &mut Word) {
        while self.pos < end {
            match self.bump() {
                Some(c) => word.text.push(c),
                None => break,
            }
        }
    }

    fn double_quoted(&mut self, word: &mut Word) {
        self.bump();
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.bump();
                    return;
                }
                '\\' => {
                    self.bump();
                    match self.bump() {
                        Some('\n') | None => {}
                        Some(e @ ('"' | '\\' | '$' | '`')) => word.text.push(e),
                        Some(other) => {
                            word.text.push('\\');
                            word.text.push(other);
                        }
                    }
                }
                '$' => self.dollar(word),
                '`' => self.backticks(word),
                '{' if self.peek(1) == Some('{') => self.template(word),
                _ => {
                    self.bump();
                    word.text.push(c);
                }
            }
        }
    }

    /// `$…`: a substitution, an expansion, or `$'…'` (a literal with C escapes).
    fn dollar(&mut self, word: &mut Word) {
        match self.peek(1) {
            Some('(') if self.peek(2) == Some('(') => {
                let end = self.matching_paren(self.pos + 1).unwrap_or(self.chars.len() - 1);
                self.take_raw(end + 1, word);
                word.literal = false;
            }
            Some('(') => {
                self.bump();
                word.text.push('$');
                self.substitution(word);
            }
            Some('{') => {
                let mut depth = 0usize;
                while let Some(c) = self.bump() {
                    word.text.push(c);
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                word.literal = false;
            }
            Some('\'') => {
                self.bump();
                self.bump();
                while let Some(c) = self.bump() {
                    match c {
                        '\'' => break,
                        '\\' => {
                            if let Some(e) = self.bump() {
                                word.text.push(match e {
                                    'n' => '\n',
                                    't' => '\t',
                                    other => other,
                                });
                            }
                        }
                        other => word.text.push(other),
                    }
                }
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                word.text.push('$');
                self.bump();
                while self.peek(0).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    word.text.push(self.bump().unwrap_or_default());
                }
                word.literal = false;
            }
            Some('@' | '*' | '#' | '?' | '-' | '$' | '!') => {
                word.text.push('$');
                self.bump();
                word.text.push(self.bump().unwrap_or_default());
                word.literal = false;
            }
            _ => {
                self.bump();
                word.text.push('$');
            }
        }
    }

    /// `(…)` of `$(…)`, `<(…)` or `>(…)`, at the `(`: its commands are read as commands too.
    fn substitution(&mut self, word: &mut Word) {
        let line = self.line;
        let start = self.pos;
        let end = self.matching_paren(start).unwrap_or(self.chars.len());
        let inner: String = self.chars[(start + 1).min(end)..end].iter().collect();
        self.take_raw(end + 1, word);
        word.literal = false;
        self.nest(&inner, line);
    }

    fn backticks(&mut self, word: &mut Word) {
        let line = self.line;
        self.bump();
        let mut inner = String::new();
        while let Some(c) = self.bump() {
            match c {
                '`' => break,
                '\\' => {
                    if let Some(e) = self.bump() {
                        inner.push(e);
                    }
                }
                other => inner.push(other),
            }
        }
        word.text.push_str(&format!("`{inner}`"));
        word.literal = false;
        self.nest(&inner, line);
    }

    /// `{{ … }}` (just, Task, GitHub's `${{ … }}` after its `$`): one opaque piece of the word.
    fn template(&mut self, word: &mut Word) {
        while let Some(c) = self.bump() {
            word.text.push(c);
            if c == '}' && self.peek(0) == Some('}') {
                self.bump();
                word.text.push('}');
                break;
            }
        }
        word.literal = false;
    }

    fn nest(&mut self, inner: &str, line: usize) {
        let script = parse(inner, line);
        self.nested.commands.extend(script.commands);
        self.nested.functions.extend(script.functions);
    }
}

/// Turns tokens into simple commands, skipping the grammar's keywords and case patterns.
#[derive(Default)]
struct Parser {
    commands: Vec<SimpleCommand>,
    functions: Vec<String>,
    current: Vec<Word>,
    line: usize,
    /// Skip words up to the next separator (a `for` or `select` header).
    skip_to_separator: bool,
    /// Skip words up to `in` (a `case` header), then expect a pattern.
    case_header: bool,
    /// Open `case` statements.
    case_depth: usize,
    /// A case pattern comes next: skip up to its `)`.
    expect_pattern: bool,
    /// Inside `[[ … ]]`.
    in_test: bool,
    /// `function NAME`: the next word is a function's name.
    function_name_next: bool,
}

/// Words that open, continue or close a compound command where a command may start.
const KEYWORDS: &[&str] = &["if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "esac"];

impl Parser {
    fn run(&mut self, tokens: &[Token]) {
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Word { word, line } => self.word(word, *line),
                Token::Op("(") if self.current.len() == 1 && tokens.get(i + 1) == Some(&Token::Op(")")) => {
                    // `name() { … }`: a definition, not a call.
                    let name = self.current.remove(0);
                    self.functions.push(name.text);
                    i += 1;
                }
                Token::Op(")") if self.expect_pattern => self.expect_pattern = false,
                Token::Op(op) => {
                    self.finish();
                    if matches!(*op, ";;" | ";&" | ";;&") && self.case_depth > 0 {
                        self.expect_pattern = true;
                    }
                }
                Token::Newline => {
                    if !self.expect_pattern {
                        self.finish();
                    }
                }
            }
            i += 1;
        }
        self.finish();
    }

    fn word(&mut self, word: &Word, line: usize) {
        let text = word.text.as_str();
        if self.function_name_next {
            self.function_name_next = false;
            self.functions.push(text.trim_end_matches("()").to_owned());
            return;
        }
        if self.skip_to_separator || (self.expect_pattern && text != "esac") {
            return;
        }
        if self.case_header {
            if word.literal && text == "in" {
                self.case_header = false;
                self.expect_pattern = true;
            }
            return;
        }
        if self.in_test {
            self.in_test = text != "]]";
            return;
        }
        if !self.current.is_empty() {
            self.current.push(word.clone());
            return;
        }
        // At a command's start.
        if word.literal && KEYWORDS.contains(&text) {
            if text == "esac" {
                self.case_depth = self.case_depth.saturating_sub(1);
                self.expect_pattern = false;
            }
            return;
        }
        match (word.literal, text) {
            (true, "for" | "select") => self.skip_to_separator = true,
            (true, "case") => {
                self.case_header = true;
                self.case_depth += 1;
            }
            (true, "[[") => self.in_test = true,
            (true, "function") => self.function_name_next = true,
            _ if is_assignment(text) => {}
            _ => {
                self.line = line;
                self.current.push(word.clone());
            }
        }
    }

    fn finish(&mut self) {
        self.skip_to_separator = false;
        if !self.current.is_empty() {
            self.commands.push(SimpleCommand { line: self.line, words: std::mem::take(&mut self.current) });
        }
    }
}

/// `NAME=value`, `NAME+=value`, `NAME[i]=value`.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else { return false };
    let name = name.strip_suffix('+').unwrap_or(name);
    let name = name.split_once('[').map_or(name, |(n, _)| n);
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(text: &str) -> Vec<(usize, String)> {
        parse(text, 1)
            .commands
            .into_iter()
            .map(|c| (c.line, c.words.iter().map(|w| if w.literal { w.text.clone() } else { format!("<{}>", w.text) }).collect::<Vec<_>>().join(" ")))
            .collect()
    }

    #[test]
    fn quotes_escapes_and_continuations_make_words() {
        assert_eq!(
            commands("kubectl -n 'argo cd' get \"app\"lications \\\n  --selector=a\\ b\n"),
            vec![(1, "kubectl -n argo cd get applications --selector=a b".into())]
        );
        assert_eq!(commands("echo $'a\\tb'"), vec![(1, "echo a\tb".into())]);
    }

    #[test]
    fn separators_split_commands_and_substitutions_are_commands_too() {
        assert_eq!(
            commands("talosctl -n \"$NODE\" dmesg | grep -c err && echo ok; kubectl get pods\nNS=$(kubectl get ns -o name)\n"),
            vec![
                (1, "talosctl -n <$NODE> dmesg".into()),
                (1, "grep -c err".into()),
                (1, "echo ok".into()),
                (1, "kubectl get pods".into()),
                (2, "kubectl get ns -o name".into()),
            ]
        );
        assert_eq!(commands("diff <(kubectl get cm a) b"), vec![(1, "diff <<(kubectl get cm a)> b".into()), (1, "kubectl get cm a".into())]);
        assert_eq!(commands("v=`terraform output -raw ip`"), vec![(1, "terraform output -raw ip".into())]);
    }

    #[test]
    fn assignments_redirections_and_here_documents_are_not_commands() {
        assert_eq!(
            commands("KUBECONFIG=/tmp/k kubectl apply -f - <<'EOF' 2>&1 >/dev/null\nkind: Namespace\nEOF\nA=1 B=2\nterraform plan > plan.txt\n"),
            vec![(1, "kubectl apply -f -".into()), (5, "terraform plan".into())]
        );
        assert_eq!(commands("arr=(a b c)\ncat <<-END\n\tnot a command\n\tEND\nflux get all"), vec![(2, "cat".into()), (5, "flux get all".into())]);
    }

    #[test]
    fn compound_commands_keep_only_their_commands() {
        let text = "if ! kubectl get ns x; then\n  for n in a b; do talosctl -n $n health; done\nfi\n\
                    case \"$1\" in\n  dev|prod) terraform apply ;;\n  *)\n    echo no ;;\nesac\n[[ -f x ]] && helm list\n(( n++ ))\n";
        assert_eq!(
            commands(text),
            vec![
                (1, "kubectl get ns x".into()),
                (2, "talosctl -n <$n> health".into()),
                (5, "terraform apply".into()),
                (7, "echo no".into()),
                (9, "helm list".into()),
            ]
        );
    }

    #[test]
    fn functions_are_named_and_comments_skipped() {
        let script = parse("log() { printf '%s\\n' \"$*\"; }\nfunction have { command -v \"$1\"; }\n# kubectl delete ns x\nlog hi # trailing\n", 1);
        assert_eq!(script.functions, vec!["log", "have"]);
        let lines: Vec<String> = script.commands.iter().map(|c| c.words[0].text.clone()).collect();
        assert_eq!(lines, vec!["printf", "command", "log"]);
    }

    #[test]
    fn templates_are_one_opaque_word() {
        assert_eq!(
            commands("cargo nextest run -p {{ ENV }} --x ${{ github.base_ref }}"),
            vec![(1, "cargo nextest run -p <{{ ENV }}> --x <${{ github.base_ref }}>".into())]
        );
    }

    #[test]
    fn unterminated_text_never_panics() {
        for text in ["echo 'open", "echo \"open $(", "x=$((", "a `b", "cat <<EOF", "echo ${", "f(", "\\", "$", "{{"] {
            let _ = parse(text, 1);
        }
    }
}

//! Operation patterns: a command line reduced to what it does, so that the commands a repository
//! runs can be compared with the ones its `docs/commands.md` documents.
//!
//! A pattern is the program, its subcommand path and the words that change what it does, with
//! values left out unless they change it too: `talosctl -n 10.0.0.2 upgrade --image ghcr.io/…`
//! is `talosctl upgrade --nodes`, `kubectl -n argocd get apps -o yaml` is
//! `kubectl -n argocd get application`, `terraform apply -target=module.x` is
//! `terraform apply -target`. [`super::tools`] knows each tool's grammar.
//!
//! Before that, the plumbing around commands is peeled off or skipped: wrappers (`sudo`, `env
//! A=b`, `exec`, `timeout 5m`, `xargs`…) are removed; `bash -c '…'` is read as the shell text it
//! runs; builtins and text filters (`echo`, `cd`, `test`, `grep`, `jq`…), recipe runners (`just`,
//! `make`, `task`: their recipes are read themselves), version control (`git`) and version or help
//! probes (`kubectl version --client`, `terraform -help`) are not operations.

use std::fmt;

use super::shell::Word;
use super::tools;

/// A value the text does not fix (`"$NODE"`, `{{ENV}}`): in a documented example it stands for
/// any value, so the entry covers every use of the operation.
pub const ANY: &str = "*";

/// An operation pattern: words separated by single spaces, `*` standing for any value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pattern(Vec<String>);

impl Pattern {
    /// A pattern as written in `.config/commands.yaml`: words separated by blanks.
    ///
    /// # Errors
    /// When there is no word.
    pub fn parse(text: &str) -> Result<Self, String> {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            Err("an empty pattern: write the program and its subcommand, as `vixens commands discover` prints them".into())
        } else {
            Ok(Self(words))
        }
    }

    /// True when this pattern, documented or ignored, covers `used`: the same words, where a
    /// `*` here stands for any word there.
    #[must_use]
    pub fn covers(&self, used: &Pattern) -> bool {
        self.0.len() == used.0.len() && self.0.iter().zip(&used.0).all(|(a, b)| a == b || a == ANY)
    }

    /// The program.
    #[must_use]
    pub fn program(&self) -> &str {
        &self.0[0]
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// Builds a pattern: program, flags that come before the path (`kubectl -n argocd`), the path,
/// then the kept flags in a stable order.
#[derive(Debug)]
pub(super) struct Builder {
    head: Vec<String>,
    path: Vec<String>,
    flags: Vec<Vec<String>>,
}

impl Builder {
    pub(super) fn new(program: &str) -> Self {
        Self { head: vec![program.to_owned()], path: Vec::new(), flags: Vec::new() }
    }

    /// A flag and its value written before the path, as people write `kubectl -n argocd get`.
    pub(super) fn head_flag(&mut self, flag: &str, value: &Word) {
        self.head.push(flag.to_owned());
        self.head.push(value_token(value));
    }

    /// The next word of the subcommand path (a `*` when it is not literal).
    pub(super) fn word(&mut self, word: &Word) {
        self.path.push(value_token(word));
    }

    /// A word of the path, already normalised.
    pub(super) fn text(&mut self, text: impl Into<String>) {
        self.path.push(text.into());
    }

    /// A flag whose presence changes what the command does.
    pub(super) fn flag(&mut self, flag: &str) {
        let flag = vec![flag.to_owned()];
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
    }

    /// A flag whose value changes what the command does.
    pub(super) fn flag_value(&mut self, flag: &str, value: &Word) {
        let flag = vec![flag.to_owned(), value_token(value)];
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
    }

    pub(super) fn finish(mut self) -> Pattern {
        self.flags.sort();
        let mut words = self.head;
        words.append(&mut self.path);
        words.extend(self.flags.into_iter().flatten());
        Pattern(words)
    }
}

/// A value as a pattern word: as written when the text fixes it and it reads as one word, else
/// [`ANY`]. `<node-ip>`, `[NODE]` and `…` are how documentation writes "some value".
pub(super) fn value_token(word: &Word) -> String {
    let text = word.text.as_str();
    let placeholder = (text.starts_with('<') && text.ends_with('>'))
        || (text.starts_with('[') && text.ends_with(']') && text.len() > 2)
        || text.contains("...")
        || text.contains('…');
    if !word.literal || placeholder || text.is_empty() || text.chars().any(char::is_whitespace) { ANY.to_owned() } else { text.to_owned() }
}

/// What one simple command is, once its plumbing is peeled off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// An operation, as a pattern.
    Operation(Pattern),
    /// Shell text it runs (`bash -c '…'`, `env -S '…'`), to be read as commands in turn.
    Shell(String),
    /// Not an operation: a builtin, a filter, a recipe runner, a probe, a function of the
    /// script, or a program the text does not name.
    Plumbing,
}

/// Builtins, text filters and file plumbing: what glues operations together.
const PLUMBING: &[&str] = &[
    ".",
    ":",
    "[",
    "alias",
    "awk",
    "base64",
    "basename",
    "bg",
    "break",
    "builtin",
    "cat",
    "cd",
    "chmod",
    "chown",
    "clear",
    "cmp",
    "column",
    "comm",
    "continue",
    "cp",
    "cut",
    "date",
    "declare",
    "df",
    "diff",
    "dirname",
    "du",
    "echo",
    "egrep",
    "envsubst",
    "eval",
    "exit",
    "export",
    "false",
    "fg",
    "fgrep",
    "file",
    "find",
    "fold",
    "gawk",
    "getopts",
    "git",
    "grep",
    "gunzip",
    "gzip",
    "hash",
    "head",
    "hostname",
    "id",
    "install",
    "jobs",
    "jq",
    "just",
    "kill",
    "less",
    "let",
    "ln",
    "local",
    "ls",
    "make",
    "md5sum",
    "mkdir",
    "mktemp",
    "more",
    "mv",
    "nl",
    "paste",
    "popd",
    "printenv",
    "printf",
    "pushd",
    "pwd",
    "read",
    "readarray",
    "readlink",
    "readonly",
    "realpath",
    "return",
    "rev",
    "rg",
    "rm",
    "rmdir",
    "sed",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shift",
    "shopt",
    "sleep",
    "sort",
    "source",
    "stat",
    "tac",
    "tail",
    "tar",
    "task",
    "tee",
    "test",
    "touch",
    "tput",
    "tr",
    "trap",
    "true",
    "type",
    "typeset",
    "ulimit",
    "umask",
    "unalias",
    "uname",
    "uniq",
    "unset",
    "unzip",
    "wait",
    "wc",
    "which",
    "whoami",
    "yes",
    "yq",
    "zcat",
];

/// Shells: `-c TEXT` runs TEXT; a script argument runs that script.
const SHELLS: &[&str] = &["bash", "sh", "zsh", "dash", "ksh"];
/// Other interpreters: a script argument runs that script; inline code is not shell.
const INTERPRETERS: &[&str] = &["python", "python3", "node", "ruby", "perl"];

/// Reads one simple command (leading assignments already removed). `functions` are the names the
/// same file defines.
#[must_use]
pub fn read(words: &[Word], functions: &[String]) -> Reading {
    let words = unwrap(words);
    let Some((program, args)) = words.split_first() else { return Reading::Plumbing };
    if !program.literal || program.text.is_empty() {
        return Reading::Plumbing;
    }
    let name = program_name(&program.text);
    if !looks_like_a_program(&name) || functions.contains(&program.text) || PLUMBING.contains(&name.as_str()) || is_probe(&name, args) {
        return Reading::Plumbing;
    }
    if name.contains('/') {
        // A script of the repository: its arguments are its own business.
        return Reading::Operation(Builder::new(&name).finish());
    }
    if SHELLS.contains(&name.as_str()) {
        return shell(args);
    }
    if INTERPRETERS.contains(&name.as_str()) {
        return interpreter(&name, args);
    }
    tools::pattern(&name, args)
}

/// Output pasted into a shell block (`NAME READY STATUS`, `Error: …`) is no command: a
/// program's name has a lower-case letter and no `:`, and starts with a letter, a digit, `_`
/// or a path.
fn looks_like_a_program(name: &str) -> bool {
    name.chars().any(|c| c.is_lowercase())
        && !name.contains(':')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '~'))
}

/// The program's name: the file name of a known tool given by path (`target/debug/vixens-lab`,
/// `/usr/bin/kubectl`), else the path of a script of the repository (`scripts/upgrade.sh`).
fn program_name(text: &str) -> String {
    let base = text.rsplit('/').next().unwrap_or(text);
    if !text.contains('/') || text.starts_with('/') || text.starts_with('~') || tools::is_known(base) || PLUMBING.contains(&base) {
        base.to_owned()
    } else {
        text.trim_start_matches("./").to_owned()
    }
}

/// `--version`, `version`, `--help` or `help` right after the program, `--version` last
/// (`cargo nextest --version`; `helm install --version 1.2 …` pins a chart), or `-h`/`--help`
/// anywhere: asking about the tool, not operating with it. (`talosctl version` asks the nodes;
/// its grammar tells.)
fn is_probe(name: &str, args: &[Word]) -> bool {
    let first = args.first().map(|w| w.text.as_str());
    matches!(first, Some("--version" | "-version" | "help" | "-help"))
        || (first == Some("version") && name != "talosctl")
        || args.last().is_some_and(|w| w.text == "--version")
        || args.iter().any(|w| w.literal && matches!(w.text.as_str(), "--help" | "-h"))
}

/// Wrappers and the flags they take with a value: the command they run follows.
const WRAPPERS: &[(&str, &[&str])] = &[
    ("sudo", &["-u", "-g", "-h", "-C", "-D", "-p", "-r", "-t", "-U", "--user", "--group"]),
    ("doas", &["-u", "-C"]),
    ("exec", &["-a"]),
    ("time", &[]),
    ("nohup", &[]),
    ("nice", &["-n"]),
    ("ionice", &["-c", "-n", "-p"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("command", &[]),
    ("xargs", &["-n", "-I", "-L", "-P", "-d", "-a", "-E", "-s"]),
    ("watch", &["-n", "--interval"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("env", &["-u", "-C", "--unset", "--chdir"]),
];

/// Peels wrappers off: `sudo -u root env A=b timeout 5m kubectl …` is `kubectl …`.
fn unwrap(mut words: &[Word]) -> &[Word] {
    while let Some((first, rest)) = words.split_first() {
        let Some((name, values)) = WRAPPERS.iter().find(|(name, _)| first.literal && first.text == *name) else { break };
        let mut i = 0;
        while let Some(word) = rest.get(i) {
            let text = word.text.as_str();
            if text == "--" {
                i += 1;
                break;
            }
            if *name == "command" && matches!(text, "-v" | "-V") {
                // `command -v kubectl` asks whether kubectl is there.
                return &[];
            }
            if text.starts_with('-') && text.len() > 1 {
                i += if values.contains(&text) { 2 } else { 1 };
            } else if *name == "env" && text.contains('=') {
                i += 1;
            } else {
                break;
            }
        }
        // `timeout 5m cmd`: the duration comes before the command.
        if *name == "timeout" && rest.get(i).is_some() {
            i += 1;
        }
        words = rest.get(i..).unwrap_or_default();
    }
    words
}

fn shell(args: &[Word]) -> Reading {
    let mut command = false;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let text = word.text.as_str();
        i += 1;
        if text.starts_with(['-', '+']) && !text.starts_with("--") && text.len() > 1 {
            // `-euo pipefail`, `-ec`: `o` takes a value; `c` makes the first operand the text.
            command |= text.contains('c');
            if text.contains('o') {
                i += 1;
            }
        } else if text.starts_with("--") {
            continue;
        } else if command {
            return Reading::Shell(word.text.clone());
        } else {
            return script(word);
        }
    }
    Reading::Plumbing
}

fn interpreter(name: &str, args: &[Word]) -> Reading {
    let mut i = 0;
    while let Some(word) = args.get(i) {
        match word.text.as_str() {
            "-c" | "-e" | "-E" | "-p" => return Reading::Plumbing,
            "-m" => {
                let mut pattern = Builder::new(name);
                pattern.text("-m");
                return args.get(i + 1).map_or(Reading::Plumbing, |module| {
                    pattern.word(module);
                    Reading::Operation(pattern.finish())
                });
            }
            text if text.starts_with('-') => i += 1,
            _ => return script(word),
        }
    }
    Reading::Plumbing
}

/// Running a script of the repository is an operation of its own, named by its path.
fn script(word: &Word) -> Reading {
    if word.literal { Reading::Operation(Builder::new(word.text.trim_start_matches("./")).finish()) } else { Reading::Plumbing }
}

#[cfg(test)]
mod tests {
    use super::super::shell;
    use super::*;

    fn read_line(text: &str) -> String {
        let script = shell::parse(text, 1);
        let command = &script.commands[0];
        match read(&command.words, &script.functions) {
            Reading::Operation(p) => p.to_string(),
            Reading::Shell(text) => format!("shell: {text}"),
            Reading::Plumbing => "plumbing".into(),
        }
    }

    #[test]
    fn wrappers_are_peeled_off() {
        assert_eq!(read_line("sudo -u root env A=b timeout 5m kubectl -n argocd get apps"), "kubectl -n argocd get application");
        assert_eq!(read_line("exec talosctl health"), "talosctl health");
        assert_eq!(read_line("xargs -r -n1 kubectl delete pod"), "kubectl delete pod");
        assert_eq!(read_line("command -v kubectl"), "plumbing");
    }

    #[test]
    fn plumbing_probes_and_functions_are_not_operations() {
        for line in [
            "echo hi",
            "cd /tmp",
            "test -s x",
            "grep -c err f",
            "git push",
            "just cycles lab",
            "kubectl version --client",
            "terraform -help",
            "helm --version",
        ] {
            assert_eq!(read_line(line), "plumbing", "{line}");
        }
        assert_eq!(read_line("log() { :; }; log hi"), "plumbing");
        assert_eq!(read_line("$KUBECTL get pods"), "plumbing");
        assert_eq!(read_line("NAME   READY   STATUS"), "plumbing");
        assert_eq!(read_line("Error: connection refused"), "plumbing");
        assert_eq!(read_line("helm install x repo/x --version 1.2.3"), "helm install");
    }

    #[test]
    fn shells_and_interpreters_name_what_they_run() {
        assert_eq!(read_line("bash -euo pipefail -c 'talosctl health'"), "shell: talosctl health");
        assert_eq!(read_line("bash ./scripts/upgrade.sh dev"), "scripts/upgrade.sh");
        assert_eq!(read_line("./scripts/upgrade.sh dev"), "scripts/upgrade.sh");
        assert_eq!(read_line("target/debug/vixens-lab up --nodes 1"), "vixens-lab up");
        assert_eq!(read_line("python3 -m http.server"), "python3 -m http.server");
        assert_eq!(read_line("python3 -c 'print(1)'"), "plumbing");
    }

    #[test]
    fn a_documented_value_placeholder_covers_every_value() {
        let documented = Pattern::parse("kubectl -n * get pod").unwrap();
        assert!(documented.covers(&Pattern::parse("kubectl -n argocd get pod").unwrap()));
        assert!(!documented.covers(&Pattern::parse("kubectl get pod").unwrap()));
        assert!(!Pattern::parse("kubectl -n argocd get pod").unwrap().covers(&documented));
        assert!(Pattern::parse("  ").is_err());
    }
}

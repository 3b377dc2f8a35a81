//! What each tool's words mean: which flags take a value (so that the value is not taken for a
//! subcommand), how deep its subcommand path goes, and which flags change what it does.
//!
//! The tools of a Talos + Terraform + Argo CD homelab have their grammar here: `kubectl`,
//! `talosctl`, `terraform`/`tofu`, `argocd`, `helm`, `flux`, `kustomize`, and this project's
//! `vixens`, `vixens-lab` and `cargo` (whose `cargo run -p vixens -- …` is `vixens …`). Any other
//! program is its name and its first word when that reads as a subcommand (`apt-get install`).

use super::pattern::{ANY, Builder, Reading, read};
use super::shell::Word;

/// True for the programs whose grammar is known.
#[must_use]
pub fn is_known(name: &str) -> bool {
    matches!(name, "kubectl" | "talosctl" | "terraform" | "tofu" | "argocd" | "helm" | "flux" | "kustomize" | "vixens" | "vixens-lab" | "cargo")
}

/// The reading of `name` run with `args`.
pub(super) fn pattern(name: &str, args: &[Word]) -> Reading {
    let pattern = match name {
        "kubectl" => kubectl(args),
        "talosctl" => return talosctl(args),
        "terraform" | "tofu" => terraform(name, args),
        "argocd" => argocd(args),
        "helm" => helm(args),
        "flux" => flux(args),
        "kustomize" => kustomize(args),
        "vixens" => vixens(args),
        "vixens-lab" => nested(name, args, VIXENS_LAB_VALUES, &[], &[]),
        "cargo" => return cargo(args),
        _ => generic(name, args),
    };
    Reading::Operation(pattern.finish())
}

/// A command's arguments: flags (with their values) and positional words.
struct Args<'a> {
    flags: Vec<(String, Option<Word>)>,
    positionals: Vec<&'a Word>,
    /// The words after `--`.
    rest: &'a [Word],
}

impl<'a> Args<'a> {
    /// Splits `args`; `values` are the flags that take a value. `single_dash` tools (terraform)
    /// spell long flags with one dash, and accept two.
    fn split(args: &'a [Word], values: &[&str], single_dash: bool) -> Self {
        let mut split = Args { flags: Vec::new(), positionals: Vec::new(), rest: &[] };
        let mut i = 0;
        while let Some(word) = args.get(i) {
            i += 1;
            let text = word.text.as_str();
            if text == "--" {
                split.rest = &args[i..];
                break;
            }
            if !text.starts_with('-') || text == "-" {
                split.positionals.push(word);
                continue;
            }
            let text = if single_dash && text.starts_with("--") { &text[1..] } else { text };
            let (name, attached) = match text.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None if !single_dash && !text.starts_with("--") && text.len() > 2 && values.contains(&&text[..2]) => (&text[..2], Some(&text[2..])),
                None => (text, None),
            };
            let value = match attached {
                Some(value) => Some(Word { text: value.to_owned(), literal: word.literal }),
                None if values.contains(&name) => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                None => None,
            };
            split.flags.push((name.to_owned(), value));
        }
        split
    }

    fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(name, _)| names.contains(&name.as_str()))
    }

    fn value(&self, names: &[&str]) -> Option<&Word> {
        self.flags.iter().find(|(name, _)| names.contains(&name.as_str())).and_then(|(_, value)| value.as_ref())
    }

    fn values(&self, names: &[&str]) -> Vec<&Word> {
        self.flags.iter().filter(|(name, _)| names.contains(&name.as_str())).filter_map(|(_, value)| value.as_ref()).collect()
    }

    fn pos(&self, i: usize) -> Option<&'a Word> {
        self.positionals.get(i).copied()
    }

    /// Adds `flag` to the pattern when any of `names` is given.
    fn keep(&self, pattern: &mut Builder, names: &[&str], flag: &str) {
        if self.has(names) {
            pattern.flag(flag);
        }
    }
}

/// A subcommand-like word: lower case letters, digits and dashes.
fn is_subcommand(word: &Word) -> bool {
    word.literal
        && word.text.starts_with(|c: char| c.is_ascii_lowercase())
        && word.text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Any other program: its name, and its first word when that reads as a subcommand
/// (`apt-get install`, `docker compose`). A word after a flag may be that flag's value
/// (`kubeseal --format yaml`): only the first word can be the subcommand.
fn generic(name: &str, args: &[Word]) -> Builder {
    let mut pattern = Builder::new(name);
    if let Some(first) = args.first().filter(|w| is_subcommand(w)) {
        pattern.word(first);
    }
    pattern
}

/// A tool whose path is its subcommand, then one more word for the subcommands in `groups`;
/// `kept` flags are kept when present.
fn nested(name: &str, args: &[Word], values: &[&str], groups: &[&str], kept: &[&str]) -> Builder {
    let args = Args::split(args, values, false);
    let mut pattern = Builder::new(name);
    path(&mut pattern, &args, groups);
    for flag in kept {
        args.keep(&mut pattern, &[flag], flag);
    }
    pattern
}

/// The first positional, and the second when the first is one of `groups`.
fn path(pattern: &mut Builder, args: &Args<'_>, groups: &[&str]) {
    if let Some(sub) = args.pos(0) {
        pattern.word(sub);
        if groups.contains(&sub.text.as_str())
            && let Some(second) = args.pos(1)
        {
            pattern.word(second);
        }
    }
}

const KUBECTL_VALUES: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-s",
    "--server",
    "--token",
    "--as",
    "--as-group",
    "-l",
    "--selector",
    "-o",
    "--output",
    "-f",
    "--filename",
    "-k",
    "--kustomize",
    "-c",
    "--container",
    "--field-selector",
    "--for",
    "--timeout",
    "--type",
    "-p",
    "--patch",
    "--patch-file",
    "--sort-by",
    "--template",
    "--grace-period",
    "--replicas",
    "--image",
    "--from-literal",
    "--from-file",
    "--tail",
    "--since",
    "--since-time",
    "--request-timeout",
    "--subresource",
    "--to-revision",
    "--duration",
    "--audience",
    "-L",
    "--label-columns",
    "--field-manager",
    "--chunk-size",
    "--cascade",
    "--max-log-requests",
    "--resource-version",
];

/// `kubectl [-n NS] VERB [SUBVERB] [KIND]`: the namespace when it is written out, the kind
/// whatever its spelling (`apps`, `application`, `applications.argoproj.io` are one kind).
fn kubectl(words: &[Word]) -> Builder {
    let mut args = Args::split(words, KUBECTL_VALUES, false);
    let streams = args.pos(0).is_some_and(|verb| matches!(verb.text.as_str(), "logs" | "attach"));
    if streams {
        // There `-f` follows and `-p` reads the previous container: no value, no file.
        let values: Vec<&str> = KUBECTL_VALUES.iter().copied().filter(|f| !matches!(*f, "-f" | "-p")).collect();
        args = Args::split(words, &values, false);
    }
    let mut pattern = Builder::new("kubectl");
    if let Some(namespace) = args.value(&["-n", "--namespace"]) {
        pattern.head_flag("-n", namespace);
    }
    if let Some(verb) = args.pos(0) {
        pattern.word(verb);
        let kind_at = match verb.text.as_str() {
            "get" | "describe" | "delete" | "edit" | "patch" | "label" | "annotate" | "scale" | "explain" | "wait" | "autoscale" | "expose"
            | "taint" | "create" => Some(1),
            "rollout" | "set" => Some(2),
            "top" | "config" | "auth" | "certificate" | "apply" => None,
            _ => args.pos(1).filter(|w| w.text.contains('/')).map(|_| 1),
        };
        if matches!(verb.text.as_str(), "rollout" | "set" | "top" | "config" | "auth" | "certificate")
            && let Some(sub) = args.pos(1)
        {
            pattern.word(sub);
        }
        if let Some(kind) = kind_at.and_then(|i| args.pos(i)) {
            pattern.text(resource_kind(kind));
            if verb.text == "create"
                && kind.text == "secret"
                && let Some(secret_type) = args.pos(2)
            {
                pattern.word(secret_type);
            }
        }
    }
    args.keep(&mut pattern, &["-A", "--all-namespaces"], "-A");
    if !streams {
        args.keep(&mut pattern, &["-f", "--filename"], "-f");
    }
    args.keep(&mut pattern, &["-k", "--kustomize"], "-k");
    for flag in ["--all", "--dry-run", "--force", "--server-side", "--prune"] {
        args.keep(&mut pattern, &[flag], flag);
    }
    pattern
}

/// A resource kind as kubectl's short names, plurals and groups spell it, reduced to one name:
/// `po`, `pods` and `pods/web` are `pod`; `apps` and `applications.argoproj.io` are `application`.
fn resource_kind(word: &Word) -> String {
    if !word.literal {
        return ANY.to_owned();
    }
    let kinds: Vec<String> = word.text.split(',').map(|k| one_kind(k.split('/').next().unwrap_or(k))).collect();
    kinds.join(",")
}

fn one_kind(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let name = lower.split('.').next().unwrap_or(&lower);
    let short = match name {
        "po" => "pod",
        "no" => "node",
        "svc" => "service",
        "deploy" => "deployment",
        "sts" => "statefulset",
        "ds" => "daemonset",
        "rs" => "replicaset",
        "ns" => "namespace",
        "cm" => "configmap",
        "pvc" => "persistentvolumeclaim",
        "pv" => "persistentvolume",
        "sc" => "storageclass",
        "ing" => "ingress",
        "cj" => "cronjob",
        "ev" => "event",
        "ep" | "endpoints" => "endpoints",
        "sa" => "serviceaccount",
        "crd" | "crds" => "customresourcedefinition",
        "app" | "apps" => "application",
        "appset" | "appsets" => "applicationset",
        "appproj" | "appprojs" => "appproject",
        "hpa" => "horizontalpodautoscaler",
        "pdb" => "poddisruptionbudget",
        "netpol" => "networkpolicy",
        "ks" => "kustomization",
        "hr" => "helmrelease",
        "all" => "all",
        _ => return singular(name),
    };
    short.to_owned()
}

fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = name.strip_suffix("sses") {
        format!("{stem}ss")
    } else if name.ends_with("ss") || name.ends_with("us") || name.len() <= 3 {
        name.to_owned()
    } else if let Some(stem) = name.strip_suffix("es").filter(|s| s.ends_with("ss") || s.ends_with("x") || s.ends_with("ch")) {
        stem.to_owned()
    } else {
        name.strip_suffix('s').unwrap_or(name).to_owned()
    }
}

const TALOSCTL_VALUES: &[&str] = &[
    "-n",
    "--nodes",
    "-e",
    "--endpoints",
    "--talosconfig",
    "--context",
    "--cluster",
    "-o",
    "--output",
    "--namespace",
    "--image",
    "--to",
    "--from",
    "--mode",
    "--file",
    "--config-patch",
    "--wait-timeout",
    "--timeout",
    "--tail",
    "--system-labels-to-wipe",
    "--user-disks-to-wipe",
    "--control-plane-nodes",
    "--worker-nodes",
    "--init-node",
    "--k8s-version",
    "--kubernetes-version",
    "--install-image",
];

/// `talosctl SUBCOMMAND [WHAT] --nodes`: whether nodes are named, not which; `get`, `etcd`,
/// `config`, `cluster`, `image` and `meta` name what they act on.
fn talosctl(args: &[Word]) -> Reading {
    let args = Args::split(args, TALOSCTL_VALUES, false);
    let mut pattern = Builder::new("talosctl");
    path(&mut pattern, &args, &["get", "etcd", "config", "cluster", "image", "meta", "inspect", "gen", "machineconfig"]);
    if args.pos(0).is_some_and(|w| w.text == "version") && args.has(&["--client", "--short"]) && !args.has(&["-n", "--nodes"]) {
        return Reading::Plumbing;
    }
    args.keep(&mut pattern, &["-n", "--nodes"], "--nodes");
    for flag in ["--insecure", "--preserve", "--stage", "--force", "--graceful", "--reboot", "--dry-run"] {
        args.keep(&mut pattern, &[flag], flag);
    }
    if let Some(mode) = args.value(&["--mode"]) {
        pattern.flag_value("--mode", mode);
    }
    Reading::Operation(pattern.finish())
}

const TERRAFORM_VALUES: &[&str] = &[
    "-chdir",
    "-target",
    "-replace",
    "-var",
    "-var-file",
    "-out",
    "-state",
    "-state-out",
    "-backup",
    "-backend-config",
    "-lock-timeout",
    "-parallelism",
    "-generate-config-out",
    "-from-module",
    "-plugin-dir",
    "-lockfile",
];

/// `terraform SUBCOMMAND [SUB] -target -replace -destroy -auto-approve …`: which resources, and
/// whether anyone is asked.
fn terraform(name: &str, args: &[Word]) -> Builder {
    let args = Args::split(args, TERRAFORM_VALUES, true);
    let mut pattern = Builder::new(name);
    path(&mut pattern, &args, &["state", "workspace", "providers"]);
    for flag in ["-target", "-replace", "-destroy", "-auto-approve", "-refresh-only", "-upgrade", "-reconfigure", "-migrate-state"] {
        args.keep(&mut pattern, &[flag], flag);
    }
    pattern
}

const ARGOCD_VALUES: &[&str] = &[
    "--server",
    "--auth-token",
    "--config",
    "--context",
    "--grpc-web-root-path",
    "--port-forward-namespace",
    "--logformat",
    "--loglevel",
    "--kube-context",
    "--header",
    "-H",
    "--http-retry-max",
    "--client-crt",
    "--client-crt-key",
    "--server-crt",
    "-o",
    "--output",
    "--revision",
    "--resource",
    "--timeout",
    "-l",
    "--selector",
    "--project",
    "--dest-namespace",
    "--dest-server",
    "--repo",
    "--path",
    "--sync-policy",
    "--name",
    "--label",
    "--retry-limit",
    "-p",
    "--parameter",
    "--helm-set",
    "--values",
    "--app-namespace",
    "-N",
];

/// `argocd app sync --prune`: the command group and its verb, and the flags that change what a
/// sync or a delete does.
fn argocd(args: &[Word]) -> Builder {
    let groups = ["app", "appset", "cluster", "repo", "repocreds", "proj", "account", "admin", "cert", "gpg", "context"];
    let kept = ["--prune", "--force", "--dry-run", "--replace", "--hard-refresh", "--refresh", "--resource", "--local", "--async", "--cascade"];
    nested("argocd", args, ARGOCD_VALUES, &groups, &kept)
}

const HELM_VALUES: &[&str] = &[
    "-n",
    "--namespace",
    "--kube-context",
    "--kubeconfig",
    "-f",
    "--values",
    "--set",
    "--set-string",
    "--set-file",
    "--set-json",
    "--version",
    "--repo",
    "-o",
    "--output",
    "--timeout",
    "--description",
    "--post-renderer",
    "--username",
    "--password",
    "--registry-config",
    "--repository-config",
    "--repository-cache",
    "--ca-file",
    "--cert-file",
    "--key-file",
    "--max",
    "--revision",
];

/// `helm [-n NS] upgrade --install`, `helm repo add`.
fn helm(args: &[Word]) -> Builder {
    let split = Args::split(args, HELM_VALUES, false);
    let groups = ["repo", "plugin", "dependency", "dep", "registry", "show", "inspect", "get", "search"];
    let mut pattern = nested(
        "helm",
        args,
        HELM_VALUES,
        &groups,
        &["--install", "--dry-run", "--atomic", "--force", "--reuse-values", "--reset-values", "--create-namespace"],
    );
    split.keep(&mut pattern, &["-i"], "--install");
    if let Some(namespace) = split.value(&["-n", "--namespace"]) {
        pattern.head_flag("-n", namespace);
    }
    pattern
}

const FLUX_VALUES: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--timeout",
    "--owner",
    "--repository",
    "--branch",
    "--path",
    "--url",
    "--source",
    "--interval",
    "--components",
    "--components-extra",
    "--hostname",
    "--kind",
    "--label-selector",
    "-l",
    "--cluster-domain",
    "--version",
    "--registry",
    "--image-pull-secret",
    "--secret-ref",
    "--ignore-paths",
];

/// `flux [-n NS] reconcile kustomization --with-source`, `flux get sources git`.
fn flux(args: &[Word]) -> Builder {
    let split = Args::split(args, FLUX_VALUES, false);
    let mut pattern = Builder::new("flux");
    if let Some(sub) = split.pos(0) {
        pattern.word(sub);
        let takes_kind = matches!(
            sub.text.as_str(),
            "reconcile" | "get" | "suspend" | "resume" | "delete" | "export" | "tree" | "diff" | "build" | "trace" | "create" | "bootstrap"
        );
        if takes_kind && let Some(kind) = split.pos(1) {
            let kind = resource_kind(kind);
            pattern.text(kind.clone());
            if matches!(kind.as_str(), "source" | "image")
                && let Some(what) = split.pos(2)
            {
                pattern.word(what);
            }
        }
    }
    split.keep(&mut pattern, &["-A", "--all-namespaces"], "-A");
    split.keep(&mut pattern, &["--with-source"], "--with-source");
    if let Some(namespace) = split.value(&["-n", "--namespace"]) {
        pattern.head_flag("-n", namespace);
    }
    pattern
}

/// `kustomize build --enable-helm`, `kustomize edit set image`.
fn kustomize(args: &[Word]) -> Builder {
    let split = Args::split(args, &["-o", "--output", "--load-restrictor", "--helm-command", "-e", "--env"], false);
    let mut pattern = Builder::new("kustomize");
    if let Some(sub) = split.pos(0) {
        pattern.word(sub);
        if sub.text == "edit" {
            split.positionals.iter().skip(1).take(2).for_each(|w| pattern.word(w));
        }
    }
    split.keep(&mut pattern, &["--enable-helm"], "--enable-helm");
    split.keep(&mut pattern, &["--enable-alpha-plugins"], "--enable-alpha-plugins");
    if let Some(restrictor) = split.value(&["--load-restrictor"]) {
        pattern.flag_value("--load-restrictor", restrictor);
    }
    pattern
}

const VIXENS_VALUES: &[&str] =
    &["--repo", "--file", "--env", "--entry", "--confirm", "--revision", "--cycles", "--junit", "--out", "--format", "--grace", "--base"];
const VIXENS_LAB_VALUES: &[&str] =
    &["--state-dir", "--name", "--nodes", "--workers", "--app-count", "--apps", "--time-scale", "--idle-timeout", "--nas-dir"];

/// `vixens commands run --record`: this project's own command line.
fn vixens(args: &[Word]) -> Builder {
    nested("vixens", args, VIXENS_VALUES, &["adr", "commands", "logs", "lease"], &["--record", "--mutating"])
}

const CARGO_VALUES: &[&str] = &[
    "-p",
    "--package",
    "--bin",
    "--profile",
    "-E",
    "--filterset",
    "--features",
    "-F",
    "-j",
    "--jobs",
    "--target",
    "--target-dir",
    "--manifest-path",
    "--stress-count",
    "--test-threads",
    "-Z",
    "--color",
    "--message-format",
    "--config",
    "--example",
    "--test",
    "--bench",
    "--partition",
    "--retries",
    "--run-ignored",
    "--cargo-profile",
    "--archive-file",
    "--path",
    "--root",
    "--version",
];

/// `cargo run -p vixens -- …` is `vixens …`; otherwise `cargo nextest run -p lab --stress-count`:
/// the packages, and whether it repeats or only builds.
fn cargo(args: &[Word]) -> Reading {
    let split = Args::split(args, CARGO_VALUES, false);
    if split.pos(0).is_some_and(|w| w.text == "run")
        && let Some(program) = split.value(&["-p", "--package", "--bin"]).filter(|w| w.literal)
    {
        let mut words = vec![program.clone()];
        words.extend(split.rest.iter().cloned());
        return read(&words, &[]);
    }
    let mut pattern = Builder::new("cargo");
    path(&mut pattern, &split, &["nextest"]);
    for package in split.values(&["-p", "--package"]) {
        pattern.flag_value("-p", package);
    }
    split.keep(&mut pattern, &["--stress-count"], "--stress-count");
    split.keep(&mut pattern, &["--no-run"], "--no-run");
    Reading::Operation(pattern.finish())
}

#[cfg(test)]
mod tests {
    use super::super::shell;
    use super::*;

    fn reading(text: &str) -> String {
        let script = shell::parse(text, 1);
        match read(&script.commands[0].words, &[]) {
            Reading::Operation(p) => p.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn kubectl_keeps_a_written_namespace_the_verb_and_the_kind() {
        assert_eq!(reading("kubectl -n argocd patch application root --type merge -p '{}'"), "kubectl -n argocd patch application");
        assert_eq!(reading("kubectl --namespace=argocd get applications.argoproj.io -o yaml"), "kubectl -n argocd get application");
        assert_eq!(reading("kubectl -n \"$NS\" get po -l app=x"), "kubectl -n * get pod");
        assert_eq!(reading("kubectl get nodes --no-headers"), "kubectl get node");
        assert_eq!(reading("kubectl delete pvc data-0 --dry-run=client"), "kubectl delete persistentvolumeclaim --dry-run");
        assert_eq!(reading("kubectl rollout restart deploy/traefik -n traefik"), "kubectl -n traefik rollout restart deployment");
        assert_eq!(reading("kubectl logs deploy/argocd-server -f"), "kubectl logs deployment");
        assert_eq!(reading("kubectl apply -f manifests/ --server-side"), "kubectl apply --server-side -f");
        assert_eq!(reading("kubectl get ingresses,storageclasses -A"), "kubectl get ingress,storageclass -A");
        assert_eq!(reading("kubectl create secret generic x --from-literal=a=b"), "kubectl create secret generic");
    }

    #[test]
    fn talosctl_keeps_whether_nodes_are_named_not_which() {
        assert_eq!(
            reading("talosctl -n 10.0.0.2 upgrade --image ghcr.io/siderolabs/installer:v1.9.0 --preserve"),
            "talosctl upgrade --nodes --preserve"
        );
        assert_eq!(reading("talosctl upgrade --nodes=$NODE"), "talosctl upgrade --nodes");
        assert_eq!(reading("talosctl get members"), "talosctl get members");
        assert_eq!(
            reading("talosctl --talosconfig x apply-config -n a --file c.yaml --mode=no-reboot"),
            "talosctl apply-config --mode no-reboot --nodes"
        );
        assert_eq!(reading("talosctl etcd snapshot db.snap -n cp1"), "talosctl etcd snapshot --nodes");
        assert_eq!(reading("talosctl gen config homelab https://10.0.0.10:6443"), "talosctl gen config");
        assert_eq!(reading("talosctl version --client"), "Plumbing");
        assert_eq!(reading("talosctl version -n cp1"), "talosctl version --nodes");
    }

    #[test]
    fn terraform_keeps_targeting_and_approval() {
        assert_eq!(reading("terraform -chdir=envs/dev apply -target=module.talos -auto-approve"), "terraform apply -auto-approve -target");
        assert_eq!(reading("tofu plan --destroy -out plan.bin"), "tofu plan -destroy");
        assert_eq!(reading("terraform state rm 'module.x'"), "terraform state rm");
        assert_eq!(reading("terraform version"), "Plumbing");
    }

    #[test]
    fn argocd_helm_flux_and_kustomize_have_their_groups() {
        assert_eq!(reading("argocd --server cd.local app sync root --prune"), "argocd app sync --prune");
        assert_eq!(reading("helm -n traefik upgrade -i traefik traefik/traefik -f values.yaml"), "helm -n traefik upgrade --install");
        assert_eq!(reading("helm repo add traefik https://traefik.github.io/charts"), "helm repo add");
        assert_eq!(reading("flux reconcile source git flux-system"), "flux reconcile source git");
        assert_eq!(reading("flux -n flux-system reconcile ks apps --with-source"), "flux -n flux-system reconcile kustomization --with-source");
        assert_eq!(reading("kustomize edit set image app=img:1"), "kustomize edit set image");
        assert_eq!(reading("kustomize build --enable-helm apps/x"), "kustomize build --enable-helm");
    }

    #[test]
    fn cargo_run_of_a_package_is_that_program() {
        assert_eq!(reading("cargo run --locked -q -p vixens -- promote dev --junit x.xml"), "vixens promote");
        assert_eq!(reading("cargo run -p vixens -- commands run lab --record"), "vixens commands run --record");
        assert_eq!(reading("cargo nextest run -p {{ENV}} --profile promotion --stress-count {{COUNT}}"), "cargo nextest run --stress-count -p *");
        assert_eq!(reading("cargo build --bins -p vixens -p vixens-lab"), "cargo build -p vixens -p vixens-lab");
    }

    #[test]
    fn other_programs_are_their_name_and_subcommand() {
        assert_eq!(reading("apt-get install -y -qq kubectl"), "apt-get install");
        assert_eq!(reading("curl -fsS https://x/healthz"), "curl");
        assert_eq!(reading("pip install --quiet rust-just"), "pip install");
        assert_eq!(reading("kubeseal --format yaml --cert pub.pem"), "kubeseal");
    }
}

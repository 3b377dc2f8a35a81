//! The driver against the real terraform, on temporary roots of builtin `terraform_data`
//! resources (offline; init takes about 0.2 s).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::*;

const ROOT_WITH_MODULE: &str = r#"
variable "greeting" {
  type    = string
  default = "hello"
}
resource "terraform_data" "single" {
  input = var.greeting
}
resource "terraform_data" "counted" {
  count = 2
  input = count.index
}
module "m" {
  source = "./m"
}
output "greeting" {
  value = terraform_data.single.output
}
output "token" {
  value     = "not-for-eyes"
  sensitive = true
}
"#;

const MODULE_WITH_FOR_EACH: &str = r#"
resource "terraform_data" "x" {
  for_each = toset(["a", "b"])
  input    = each.key
}
"#;

const PROTECTED_ROOT: &str = r#"
resource "terraform_data" "keep" {
  lifecycle {
    prevent_destroy = true
  }
}
resource "terraform_data" "other" {}
"#;

fn minutes<'a>(n: u64) -> Run<'a> {
    Run::within(Duration::from_secs(60 * n))
}

/// A temporary root module, with TF_DATA_DIR beside it so the root stays clean.
struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    fn new(main_tf: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("root")).unwrap();
        std::fs::write(dir.path().join("root/main.tf"), main_tf).unwrap();
        Self { dir }
    }

    fn with_module(self, name: &str, main_tf: &str) -> Self {
        std::fs::create_dir_all(self.dir.path().join("root").join(name)).unwrap();
        std::fs::write(self.dir.path().join("root").join(name).join("main.tf"), main_tf).unwrap();
        self
    }

    fn config(&self) -> Config {
        Config {
            binary: "terraform".into(),
            root: self.dir.path().join("root"),
            data_dir: Some(self.path("tf-data")),
            vars: BTreeMap::new(),
            backend_config: BTreeMap::new(),
            env: BTreeMap::new(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn terraform(&self) -> Terraform {
        Terraform::new(&self.config())
    }
}

fn pulled_addresses(tf: &Terraform) -> Vec<String> {
    tf.state_pull(minutes(1)).unwrap().state.expect("a state").addresses()
}

#[test]
fn a_saved_destroy_plan_is_shown_then_applied_exactly() {
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    let applied = tf.apply(minutes(1)).unwrap();
    assert_eq!(applied, Summary { added: 5, ..Summary::default() });
    let before = tf.state_pull(minutes(1)).unwrap().state.unwrap();

    let plan_file = root.path("destroy.tfplan");
    assert_eq!(tf.plan_destroy(&plan_file, minutes(1)).unwrap(), PlanOutcome::Changes);
    let plan = tf.show_plan(&plan_file, minutes(1)).unwrap();
    assert_eq!(plan.format_version, "1.2");
    let addresses: Vec<&str> = plan.destructive_changes().map(|c| c.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "terraform_data.counted[0]",
            "terraform_data.counted[1]",
            "terraform_data.single",
            r#"module.m.terraform_data.x["a"]"#,
            r#"module.m.terraform_data.x["b"]"#
        ]
    );
    let keyed = &plan.resource_changes[3];
    assert_eq!((keyed.module_address.as_deref(), keyed.index.clone()), (Some("module.m"), Some(InstanceKey::Str("a".into()))));
    assert_eq!(plan.resource_changes[0].index, Some(InstanceKey::Int(0)));
    assert_eq!(plan.resource_changes[2].index, None);

    let summary = tf.apply_plan(&plan_file, minutes(1)).unwrap();
    assert_eq!(summary, Summary { destroyed: 5, ..Summary::default() });
    let after = tf.state_pull(minutes(1)).unwrap().state.unwrap();
    assert!(after.resources.is_empty());
    assert_eq!(after.lineage, before.lineage);
    assert!(after.serial > before.serial);
}

#[test]
fn state_pull_keeps_the_bytes_terraform_printed() {
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    assert_eq!(tf.state_pull(minutes(1)).unwrap().state, None, "no state before the first apply");
    tf.apply(minutes(1)).unwrap();
    let pulled = tf.state_pull(minutes(1)).unwrap();
    let file = std::fs::read(root.path("root/terraform.tfstate")).unwrap();
    // `state pull` prints the stored file plus one newline.
    assert_eq!(pulled.bytes, [file.as_slice(), b"\n"].concat());
    assert_eq!(pulled_addresses(&tf).len(), 5);
}

#[test]
fn destroy_on_an_empty_state_plans_no_changes() {
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    assert_eq!(tf.plan_destroy(&root.path("p"), minutes(1)).unwrap(), PlanOutcome::NoChanges);
    assert_eq!(tf.destroy(minutes(1)).unwrap(), Summary::default());
}

#[test]
fn prevent_destroy_refuses_naming_the_resource_and_destroys_nothing() {
    let root = Root::new(PROTECTED_ROOT);
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    tf.apply(minutes(1)).unwrap();

    let err = tf.plan_destroy(&root.path("p"), minutes(1)).unwrap_err();
    assert!(matches!(&err, Error::PreventDestroy { addresses, .. } if addresses == &["terraform_data.keep"]), "{err:?}");
    let message = err.to_string();
    assert!(message.starts_with("`terraform plan -destroy -out="), "{message}");
    assert!(message.ends_with("refused: terraform_data.keep set lifecycle.prevent_destroy"), "{message}");

    let err = tf.destroy(minutes(1)).unwrap_err();
    assert!(matches!(&err, Error::PreventDestroy { addresses, .. } if addresses == &["terraform_data.keep"]), "{err:?}");
    assert_eq!(pulled_addresses(&tf), ["terraform_data.keep", "terraform_data.other"]);
}

#[test]
fn a_malformed_root_fails_init_with_terraform_s_error_and_the_command() {
    let root = Root::new("resource \"terraform_data\" \"x\" {\n");
    let err = root.terraform().init(minutes(1)).unwrap_err();
    let Error::Failed { code, summary, stderr, command, .. } = &err else { panic!("{err:?}") };
    assert_eq!((*code, command.as_str()), (1, "terraform init"));
    assert!(summary.contains("Unclosed configuration block"), "{summary}");
    assert!(stderr.contains("main.tf line 1"), "{stderr}");
    let message = err.to_string();
    assert!(message.starts_with("`terraform init` in "), "{message}");
    assert!(message.contains("failed with exit code 1: Terraform encountered problems during initialisation"), "{message}");
}

#[test]
fn progress_is_streamed_and_the_transcript_records_every_command() {
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    let log = root.path("artifacts/terraform.log");
    let tf = root.terraform().transcript(&log);
    let mut lines = Vec::new();
    let mut progress = |stream, line: &str| lines.push((stream, line.to_owned()));
    tf.init(minutes(1).progress(&mut progress)).unwrap();
    assert!(lines.contains(&(Stream::Stdout, "Terraform has been successfully initialized!".to_owned())), "{lines:?}");
    tf.apply(minutes(1)).unwrap();
    tf.state_pull(minutes(1)).unwrap();

    let transcript = std::fs::read_to_string(&log).unwrap();
    assert!(transcript.starts_with("$ terraform init  # in "), "{transcript}");
    assert!(transcript.contains("Terraform has been successfully initialized!\n"));
    assert!(transcript.contains("$ terraform apply -auto-approve  # in "));
    assert!(transcript.contains("Apply complete! Resources: 5 added, 0 changed, 0 destroyed.\n"));
    assert!(transcript.contains("$ terraform state pull"));
    assert!(!transcript.contains("\"lineage\""), "the state's JSON stays out of the transcript");
    assert_eq!(transcript.matches("\n# exit 0 after ").count(), 3, "{transcript}");
}

#[test]
fn variables_reach_the_plan_and_secrets_in_terraform_env_are_redacted() {
    let root = Root::new(
        r#"
variable "greeting" { type = string }
variable "token" {
  type      = string
  sensitive = true
  default   = "unset"
}
resource "terraform_data" "say" {
  input = var.greeting
  provisioner "local-exec" {
    command = "echo token is $TOKEN"
  }
}
output "greeting" { value = terraform_data.say.output }
"#,
    );
    let mut config = root.config();
    config.vars.insert("greeting".into(), "bonjour".into());
    config.env.insert("TOKEN".into(), "s3cret-token-value".into());
    let log = root.path("terraform.log");
    let tf = Terraform::new(&config).transcript(&log);
    tf.init(minutes(1)).unwrap();
    let mut streamed = String::new();
    let mut progress = |_, line: &str| streamed.push_str(line);
    let ran = tf.apply(minutes(1).progress(&mut progress));
    assert_eq!(ran.unwrap().added, 1);
    let outputs = tf.output(minutes(1)).unwrap();
    assert_eq!(outputs["greeting"].value, "bonjour");
    let transcript = std::fs::read_to_string(&log).unwrap();
    assert!(transcript.contains("token is [REDACTED:TOKEN]"), "{transcript}");
    assert!(!transcript.contains("s3cret-token-value") && !streamed.contains("s3cret-token-value"));
}

#[test]
fn a_sensitive_output_is_not_shown_by_debug() {
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    tf.apply(minutes(1)).unwrap();
    let outputs = tf.output(minutes(1)).unwrap();
    assert_eq!(outputs["token"].value, "not-for-eyes");
    assert!(outputs["token"].sensitive);
    assert!(!format!("{outputs:?}").contains("not-for-eyes"));
}

#[test]
fn a_command_over_its_budget_is_terminated_and_named() {
    let root = Root::new(
        r#"
resource "terraform_data" "slow" {
  provisioner "local-exec" {
    command = "sleep 30"
  }
}
"#,
    );
    let tf = root.terraform();
    tf.init(minutes(1)).unwrap();
    let err = tf.apply(Run::within(Duration::from_millis(1500))).unwrap_err();
    assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
    assert!(err.to_string().starts_with("`terraform apply -auto-approve` in "), "{err}");
    assert!(err.to_string().ends_with("did not finish within 1s 500ms"), "{err}");
}

#[test]
fn version_names_the_binary_and_its_version() {
    let root = Root::new("");
    let version = root.terraform().version(minutes(1)).unwrap();
    assert!(version.version.starts_with("1."), "{version:?}");
    assert_eq!(version.line("/usr/bin/terraform"), format!("terraform v{}", version.version));
}

#[test]
fn a_missing_binary_is_named_with_its_env_yaml_key() {
    let root = Root::new("");
    let mut config = root.config();
    config.binary = "no-such-tofu".into();
    let err = Terraform::new(&config).version(minutes(1)).unwrap_err();
    assert_eq!(err.to_string(), "cannot run `no-such-tofu` (terraform.binary in env.yaml)");
}

#[test]
fn an_unwritable_transcript_stops_before_terraform_runs() {
    let root = Root::new(PROTECTED_ROOT);
    std::fs::write(root.path("file"), "").unwrap();
    let err = root.terraform().transcript(root.path("file/terraform.log")).init(minutes(1)).unwrap_err();
    assert!(matches!(err, Error::Transcript { .. }), "{err:?}");
    assert!(!root.path("tf-data").exists(), "init never ran");
}

/// A CLI configuration terraform announces on every init and plan: a development override of a
/// provider nobody uses.
const DEV_OVERRIDES_TERRAFORMRC: &str =
    "provider_installation {\n  dev_overrides {\n    \"example.invalid/vixens/never\" = \"/nonexistent\"\n  }\n  direct {}\n}\n";

#[test]
fn terraform_runs_with_the_data_dir_and_the_user_s_cli_configuration() {
    // A module makes init write `modules/modules.json` into the data dir.
    let root = Root::new(ROOT_WITH_MODULE).with_module("m", MODULE_WITH_FOR_EACH);
    assert!(!root.config().process_env().contains_key("TF_CLI_CONFIG_FILE"), "the harness never sets the CLI configuration");
    std::fs::write(root.path("terraformrc"), DEV_OVERRIDES_TERRAFORMRC).unwrap();
    let mut config = root.config();
    config.env.insert("TF_CLI_CONFIG_FILE".into(), root.path("terraformrc").display().to_string());
    let mut output = String::new();
    let mut progress = |_, line: &str| output.push_str(line);
    Terraform::new(&config).init(minutes(1).progress(&mut progress)).unwrap();
    assert!(root.path("tf-data").is_dir(), "TF_DATA_DIR is used");
    assert!(!root.path("root/.terraform").exists());
    assert!(output.contains("Provider development overrides are in effect"), "the user's CLI configuration is read:\n{output}");
}

#[test]
fn the_summary_line_counts_every_kind() {
    assert_eq!(parse_counts(" 0 added, 0 changed, 3 destroyed."), Summary { destroyed: 3, ..Summary::default() });
    assert_eq!(
        parse_counts(" 1 imported, 2 added, 0 changed, 0 destroyed, 4 forgotten."),
        Summary { imported: 1, added: 2, forgotten: 4, ..Summary::default() }
    );
}

#[test]
fn prevent_destroy_addresses_survive_line_wrapping() {
    let stderr = "Error: Instance cannot be destroyed\n\n  on main.tf line 1:\n\nResource\nmodule.storage.synology_lun.data[\"a\"] has\nlifecycle.prevent_destroy set, but the plan\n";
    assert_eq!(prevent_destroy_addresses(stderr), [r#"module.storage.synology_lun.data["a"]"#]);
    assert!(prevent_destroy_addresses("Error: something else\n").is_empty());
}

#[test]
fn an_error_summary_prefers_terraform_s_headlines() {
    assert_eq!(error_summary("\nError: A\n\n  detail\n\nError: B\n"), "A; B");
    assert_eq!(error_summary("panic: boom\n\n"), "panic: boom");
    assert_eq!(error_summary(""), "(nothing on stderr)");
}

#[test]
fn relative_plan_paths_resolve_against_the_current_directory_not_the_root() {
    let here = std::env::current_dir().unwrap();
    assert_eq!(absolute(Path::new("x.tfplan")), here.join("x.tfplan"));
}

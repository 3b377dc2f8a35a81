# The lab environment's root module (dev-shaped: 3 control planes), shaped like the homelab's
# terraform/environments/<env>/: one module call, the S3 backend on the NAS's MinIO, outputs.
#
# The state lives in the bucket terraform-state-lab of the lab NAS, which terraform never
# creates: start the NAS first (it makes the bucket once, as the homelab's was made by hand),
# then give terraform its endpoint and keys in the environment:
#
#   vixens-lab nas up --nas-dir NAS --bucket terraform-state-lab   # prints AWS_ENDPOINT_URL_S3=...
#   export AWS_ENDPOINT_URL_S3=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
#   terraform -chdir=lab/terraform/environments/lab init && terraform ... apply
#
# Keys in the environment, never in -backend-config, which would write them to .terraform/.

terraform {
  # The s3 backend's `use_lockfile` appeared in 1.10.
  required_version = ">= 1.10"

  backend "s3" {
    bucket = "terraform-state-lab"
    key    = "terraform.tfstate"
    region = "us-east-1"
    # MinIO: path-style addressing, and no AWS account, STS or instance metadata to ask.
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
    skip_s3_checksum            = true
    # A NAS that is down fails the command at once instead of after 18 s of retries.
    max_retries = 1
    # A lock object (terraform.tfstate.tflock, written with If-None-Match) while a command runs.
    # The homelab's backend does not lock; the lab does, so that a lock an interrupted command
    # leaves behind shows.
    use_lockfile = true
  }
}

module "lab" {
  source = "../../modules/lab"

  name           = "lab"
  control_planes = 3
  workers        = 0
  lab_bin        = var.lab_bin
  state_dir      = local.state_dir
  nas_dir        = local.nas_dir
  output_dir     = local.output_dir
  gitops_repo    = var.gitops_repo
  overlay        = var.overlay
  app_count      = var.app_count
  argocd_version = var.argocd_version
  time_scale     = var.time_scale
  faults         = var.faults
}

locals {
  faults = [for f in split(",", var.faults) : trimspace(f) if trimspace(f) != ""]
  # Without -var, a by-hand run keeps its lab in this workspace's target/ folder, and writes
  # kubeconfig-lab and talosconfig-lab into this folder, as the homelab does.
  by_hand    = abspath("${path.module}/../../../../target/vixens/terraform-by-hand/lab")
  state_dir  = var.state_dir != "" ? var.state_dir : "${local.by_hand}/state"
  nas_dir    = var.nas_dir != "" ? var.nas_dir : "${local.by_hand}/nas"
  output_dir = var.output_dir != "" ? var.output_dir : abspath(path.module)
}

# The `protected-delete` fault: a NAS LUN managed by terraform, the mistake the destroy guard
# exists for. In the homelab, LUNs are created by the CSI driver and never belong to terraform;
# if one slips into the root module, `terraform destroy` would delete it. Destroying this
# resource really deletes the LUN of the claim on the NAS, so a guard that lets it through loses
# data, and the protected inventory check after destroy notices.
resource "terraform_data" "nas_iscsi_lun" {
  count = contains(local.faults, "protected-delete") ? 1 : 0

  input = {
    lab_bin = var.lab_bin
    nas_dir = local.nas_dir
    claim   = var.protected_lun
  }

  provisioner "local-exec" {
    when    = destroy
    command = "\"$LAB_BIN\" nas delete-lun --nas-dir \"$NAS_DIR\" --claim \"$CLAIM\""
    environment = {
      LAB_BIN = self.input.lab_bin
      NAS_DIR = self.input.nas_dir
      CLAIM   = self.input.claim
    }
  }

  depends_on = [module.lab]
}

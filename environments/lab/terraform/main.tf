# The lab's root module: provisions a simulated Vixens homelab on this machine with nothing but
# terraform's built-in `terraform_data` resource and local-exec, so it works offline
# (TF_CLI_CONFIG_FILE=/dev/null, no provider download).
#
#   create  -> `vixens-lab up`   (returns once the lab's Kubernetes API serves)
#   destroy -> `vixens-lab down` (stops the lab; the NAS folder is never touched)
#
# Several labs can use this one root at once: give each its own TF_DATA_DIR (env.yaml's
# `terraform.data-dir`) and its own state file through `-backend-config path=...`. The lab's
# env.yaml puts the state in the NAS's state bucket, as the homelab keeps it in MinIO.

terraform {
  # terraform_data appeared in 1.4.
  required_version = ">= 1.4"

  backend "local" {}
}

locals {
  faults = [for f in split(",", var.faults) : trimspace(f) if trimspace(f) != ""]
  # Without -var, `terraform -chdir=environments/lab/terraform apply` puts its lab in this
  # workspace's target/ folder, beside the labs the harness brings up.
  by_hand   = abspath("${path.module}/../../../target/vixens/terraform-by-hand")
  state_dir = var.state_dir != "" ? var.state_dir : "${local.by_hand}/state"
  nas_dir   = var.nas_dir != "" ? var.nas_dir : "${local.by_hand}/nas"
}

resource "terraform_data" "lab" {
  # What destroy needs: a destroy-time provisioner may only read `self`.
  input = {
    lab_bin   = var.lab_bin
    state_dir = local.state_dir
  }

  # Any change of shape recreates the lab (down, then up).
  triggers_replace = [var.name, var.control_planes, var.workers, var.app_count, var.time_scale, local.nas_dir, var.faults]

  provisioner "local-exec" {
    command = "exec \"$LAB_BIN\" up --state-dir \"$STATE_DIR\" --name \"$NAME\" --nodes \"$CONTROL_PLANES\" --workers \"$WORKERS\" --nas-dir \"$NAS_DIR\" --time-scale \"$TIME_SCALE\" $APP_COUNT_ARGS"
    environment = {
      LAB_BIN           = var.lab_bin
      STATE_DIR         = local.state_dir
      NAME              = var.name
      CONTROL_PLANES    = var.control_planes
      WORKERS           = var.workers
      NAS_DIR           = local.nas_dir
      TIME_SCALE        = var.time_scale
      APP_COUNT_ARGS    = var.app_count > 0 ? "--app-count ${var.app_count}" : ""
      # The faults come from this variable only, so that one value drives both the lab and the
      # resources below.
      VIXENS_LAB_FAULTS = var.faults
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "exec \"$LAB_BIN\" down --state-dir \"$STATE_DIR\""
    environment = {
      LAB_BIN   = self.input.lab_bin
      STATE_DIR = self.input.state_dir
    }
  }
}

# The `protected-delete` fault: a NAS LUN managed by terraform, the mistake the destroy guard
# exists for. In the homelab, LUNs are created by the CSI driver and never belong to terraform;
# if one slips into the root module, `terraform destroy` would delete it. Destroying this
# resource really deletes the LUN file, so a guard that lets it through loses data, and the
# protected inventory check after destroy notices.
resource "terraform_data" "nas_iscsi_lun" {
  count = contains(local.faults, "protected-delete") ? 1 : 0

  input = {
    lun = "${local.nas_dir}/luns/${var.protected_lun}.img"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "rm -f \"$LUN\""
    environment = {
      LUN = self.input.lun
    }
  }

  depends_on = [terraform_data.lab]
}

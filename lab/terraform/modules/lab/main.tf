# The lab module: a simulated Vixens cluster on this machine, provisioned with nothing but
# terraform's built-in `terraform_data` resource and local-exec, so it works offline (no
# provider to download, whatever the CLI configuration). It stands in for the homelab's
# modules/environment (talos, cilium, argocd).
#
#   create  -> `vixens-lab up`   (returns once the lab's Kubernetes API serves), then the new
#              kubeconfig and talosconfig are written to `output_dir`, as the homelab writes
#              ./kubeconfig-<env> and ./talosconfig-<env>
#   destroy -> `vixens-lab down` (stops the lab; the NAS is never touched), and those files go
#
# Every apply of a recreated lab mints a new CA, admin credentials, Talos credentials and
# ServiceAccount signing key: copies of the previous files stop working.

locals {
  kubeconfig  = "${var.output_dir}/kubeconfig-${var.name}"
  talosconfig = "${var.output_dir}/talosconfig-${var.name}"
}

resource "terraform_data" "lab" {
  # What destroy needs: a destroy-time provisioner may only read `self`.
  input = {
    lab_bin     = var.lab_bin
    state_dir   = var.state_dir
    kubeconfig  = local.kubeconfig
    talosconfig = local.talosconfig
  }

  # Any change of shape recreates the lab (down, then up).
  triggers_replace = [var.name, var.control_planes, var.workers, var.app_count, var.time_scale, var.nas_dir, var.faults, var.gitops_repo, var.overlay, var.argocd_version, var.output_dir]

  provisioner "local-exec" {
    command = <<-EOT
      set -e
      if [ -n "$GITOPS_REPO" ]; then set -- --gitops-repo "$GITOPS_REPO" --overlay "$OVERLAY"
      elif [ "$APP_COUNT" -gt 0 ]; then set -- --app-count "$APP_COUNT"
      else set --
      fi
      "$LAB_BIN" up --state-dir "$STATE_DIR" --name "$NAME" --nodes "$CONTROL_PLANES" --workers "$WORKERS" --nas-dir "$NAS_DIR" --time-scale "$TIME_SCALE" --argocd-version "$ARGOCD_VERSION" "$@"
      mkdir -p "$OUTPUT_DIR"
      cp "$STATE_DIR/kubeconfig" "$KUBECONFIG_OUT" && chmod 600 "$KUBECONFIG_OUT"
      cp "$STATE_DIR/talosconfig" "$TALOSCONFIG_OUT" && chmod 600 "$TALOSCONFIG_OUT"
    EOT
    environment = {
      LAB_BIN         = var.lab_bin
      STATE_DIR       = var.state_dir
      NAME            = var.name
      CONTROL_PLANES  = var.control_planes
      WORKERS         = var.workers
      NAS_DIR         = var.nas_dir
      TIME_SCALE      = var.time_scale
      ARGOCD_VERSION  = var.argocd_version
      GITOPS_REPO     = var.gitops_repo
      OVERLAY         = var.overlay != "" ? var.overlay : var.name
      APP_COUNT       = var.app_count
      OUTPUT_DIR      = var.output_dir
      KUBECONFIG_OUT  = local.kubeconfig
      TALOSCONFIG_OUT = local.talosconfig
      # The faults come from this variable only, so that one value drives both the lab and the
      # root's resources.
      VIXENS_LAB_FAULTS = var.faults
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "\"$LAB_BIN\" down --state-dir \"$STATE_DIR\" && rm -f \"$KUBECONFIG_OUT\" \"$TALOSCONFIG_OUT\""
    environment = {
      LAB_BIN         = self.input.lab_bin
      STATE_DIR       = self.input.state_dir
      KUBECONFIG_OUT  = self.input.kubeconfig
      TALOSCONFIG_OUT = self.input.talosconfig
    }
  }
}

variable "lab_bin" {
  description = "The vixens-lab binary: a path, or a name found on PATH."
  type        = string
}

variable "name" {
  description = "The cluster (environment) name: nodes are <name>-controlplane-N and <name>-worker-N."
  type        = string
}

variable "state_dir" {
  description = "The lab's state folder (lab.json, bin/talosctl, bin/iscsiadm). Absolute."
  type        = string
}

variable "nas_dir" {
  description = "The lab NAS folder (iSCSI LUNs, MinIO buckets): it survives destroy. Absolute."
  type        = string
}

variable "output_dir" {
  description = "Where kubeconfig-<name> and talosconfig-<name> are written. Absolute."
  type        = string
}

variable "control_planes" {
  description = "Control-plane nodes."
  type        = number
}

variable "workers" {
  description = "Worker nodes."
  type        = number
}

variable "gitops_repo" {
  description = "The GitOps repository Argo CD reads the app tree from; empty for the lab's built-in tree."
  type        = string
}

variable "overlay" {
  description = "The overlay of gitops_repo (argocd/overlays/<overlay>); empty: the name."
  type        = string
}

variable "app_count" {
  description = "Without gitops_repo: 0 for the built-in tree, or N generated apps (scale tests)."
  type        = number
}

variable "argocd_version" {
  description = "The Argo CD release the lab behaves as: 3 (3.x) or 2.10."
  type        = string
}

variable "time_scale" {
  description = "Multiplies every simulated delay."
  type        = number
}

variable "faults" {
  description = "VIXENS_LAB_FAULTS, comma-separated (see vixens-lab's faults)."
  type        = string
}

variable "lab_bin" {
  description = "The vixens-lab binary: a path, or a name found on PATH."
  type        = string
  default     = "vixens-lab"
}

variable "state_dir" {
  description = "The lab's state folder. Absolute; empty: target/vixens/terraform-by-hand/<env>/state of this workspace."
  type        = string
  default     = ""
}

variable "nas_dir" {
  description = "The lab NAS folder (LUNs, MinIO buckets): it survives destroy. Absolute; empty: target/vixens/terraform-by-hand/<env>/nas."
  type        = string
  default     = ""
}

variable "output_dir" {
  description = "Where kubeconfig-<env> and talosconfig-<env> are written. Absolute; empty: this folder, as the homelab writes them."
  type        = string
  default     = ""
}

variable "gitops_repo" {
  description = "The GitOps repository Argo CD reads the app tree from (Vixens' layout); empty for the lab's built-in tree."
  type        = string
  default     = ""
}

variable "overlay" {
  description = "The overlay of gitops_repo; empty: the environment's name."
  type        = string
  default     = ""
}

variable "app_count" {
  description = "Without gitops_repo: 0 for the built-in tree, or N generated apps."
  type        = number
  default     = 0
}

variable "argocd_version" {
  description = "The Argo CD release the lab behaves as: 3 (3.x) or 2.10."
  type        = string
  default     = "3"
}

variable "time_scale" {
  description = "Multiplies every simulated delay: 1 bootstraps the built-in tree in about 5 seconds."
  type        = number
  default     = 1
}

variable "faults" {
  description = "VIXENS_LAB_FAULTS, comma-separated (see vixens-lab's faults): passed to the lab, and `protected-delete` adds a protected storage resource."
  type        = string
  default     = ""
}

variable "protected_lun" {
  description = "The claim whose LUN the protected-delete fault puts under terraform's management."
  type        = string
  default     = "vaultwarden-data"
}

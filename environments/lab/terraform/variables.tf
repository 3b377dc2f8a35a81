variable "lab_bin" {
  description = "The vixens-lab binary: a path, or a name found on PATH."
  type        = string
  default     = "vixens-lab"
}

variable "state_dir" {
  description = "The lab's state folder (kubeconfig, talosconfig, lab.json, bin/talosctl). Absolute; empty: target/vixens/terraform-by-hand/state of this workspace."
  type        = string
  default     = ""
}

variable "nas_dir" {
  description = "The lab's NAS folder (iSCSI LUNs, state bucket): it survives destroy. Absolute; empty: target/vixens/terraform-by-hand/nas of this workspace."
  type        = string
  default     = ""
}

variable "name" {
  description = "The cluster name: nodes are <name>-controlplane-N and <name>-worker-N."
  type        = string
  default     = "lab"
}

variable "control_planes" {
  description = "Control-plane nodes (3, as the homelab's dev and prod)."
  type        = number
  default     = 3
}

variable "workers" {
  description = "Worker nodes (0 in dev, 2 in prod)."
  type        = number
  default     = 0
}

variable "app_count" {
  description = "0 for the default app tree (modelled on the homelab's dev), or N generated apps."
  type        = number
  default     = 0
}

variable "time_scale" {
  description = "Multiplies every simulated delay: 1 bootstraps the default tree in about 5 seconds."
  type        = number
  default     = 1
}

variable "faults" {
  description = "VIXENS_LAB_FAULTS, comma-separated (see vixens-lab's faults): passed to the lab, and `protected-delete` adds a protected storage resource."
  type        = string
  default     = ""
}

variable "protected_lun" {
  description = "The LUN the protected-delete fault puts under terraform's management."
  type        = string
  default     = "vaultwarden-data"
}

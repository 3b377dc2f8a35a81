# Named like the homelab's level-1 outputs.

output "kubeconfig_path" {
  description = "The admin kubeconfig this apply wrote (kubeconfig-<env>): new credentials on every recreate."
  value       = module.lab.kubeconfig_path
}

output "talosconfig_path" {
  description = "The talosconfig this apply wrote (talosconfig-<env>): new credentials on every recreate."
  value       = module.lab.talosconfig_path
}

output "cluster_endpoint" {
  description = "The Kubernetes API URL (null while the lab is not running)."
  value       = module.lab.cluster_endpoint
}

output "tools_path" {
  description = "The folder of the talosctl and iscsiadm stand-ins, to put first on PATH."
  value       = module.lab.tools_path
}

output "nas_dir" {
  description = "The lab NAS folder: LUN records under dsm/luns/, MinIO buckets under buckets/."
  value       = local.nas_dir
}

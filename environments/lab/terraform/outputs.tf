# Named like the homelab's level-1 outputs.

output "kubeconfig_path" {
  description = "The admin kubeconfig."
  value       = "${local.state_dir}/kubeconfig"
  depends_on  = [terraform_data.lab]
}

output "kubeconfig_readonly_path" {
  description = "A kubeconfig whose token may only get, list and watch."
  value       = "${local.state_dir}/kubeconfig-readonly"
  depends_on  = [terraform_data.lab]
}

output "talosconfig_path" {
  description = "The talosconfig for the talosctl stand-in."
  value       = "${local.state_dir}/talosconfig"
  depends_on  = [terraform_data.lab]
}

output "talosctl_path" {
  description = "The folder holding the talosctl stand-in, to put first on PATH."
  value       = "${local.state_dir}/bin"
  depends_on  = [terraform_data.lab]
}

output "cluster_endpoint" {
  description = "The Kubernetes API URL (null while the lab is not running)."
  # Read through the resource's output, which is unknown until the lab is created: the file is
  # then read after `vixens-lab up` wrote it, not while planning.
  value = try(jsondecode(file("${terraform_data.lab.output.state_dir}/lab.json")).api_url, null)
}

output "nas_dir" {
  description = "The NAS folder: LUNs under luns/, the state bucket under buckets/."
  value       = local.nas_dir
}

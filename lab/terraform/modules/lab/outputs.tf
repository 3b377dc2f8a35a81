output "kubeconfig_path" {
  description = "The admin kubeconfig this apply wrote (new credentials on every recreate)."
  value       = local.kubeconfig
  depends_on  = [terraform_data.lab]
}

output "talosconfig_path" {
  description = "The talosconfig this apply wrote (new credentials on every recreate)."
  value       = local.talosconfig
  depends_on  = [terraform_data.lab]
}

output "cluster_endpoint" {
  description = "The Kubernetes API URL (null while the lab is not running)."
  # Read through the resource's output, unknown until the lab is created: the file is then
  # read after `vixens-lab up` wrote it, not while planning.
  value = try(jsondecode(file("${terraform_data.lab.output.state_dir}/lab.json")).api_url, null)
}

output "tools_path" {
  description = "The folder of the talosctl and iscsiadm stand-ins, to put first on PATH."
  value       = "${var.state_dir}/bin"
  depends_on  = [terraform_data.lab]
}

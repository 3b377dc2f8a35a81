//! `vixens-lab`: a simulated Vixens homelab on one machine.

fn main() -> std::process::ExitCode {
    vixens_lab::cli::main()
}

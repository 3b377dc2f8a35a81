//! The shared suites (fresh cluster validation, destroy safety, documented commands),
//! instantiated for the environment described by this package's `env.yaml`.

fn main() -> std::process::ExitCode {
    vixens_suites::main(env!("CARGO_MANIFEST_DIR"))
}

//! Output for people: tracing setup for the binaries, and (later) the release report.

/// Sets up `tracing` output on stderr: `RUST_LOG` filters (default `info`), and
/// `VIXENS_LOG_FORMAT=json` switches to JSON lines for CI.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = if std::env::var("VIXENS_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.without_time().try_init()
    };
}

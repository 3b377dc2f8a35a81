//! env.yaml, stage one: the file read offline into a typed model ([`file::EnvFile`]) whose every
//! value knows its line, column and bytes ([`yaml`], [`de`]); `${VAR}` expansion ([`vars`]);
//! every problem of a file collected as a located diagnostic ([`error`]); finding an environment
//! by name ([`resolve`]). Stage two, which gives the values their meaning and builds the drivers,
//! is `vixens_ops::env`. Nothing here contacts a host or compiles a Kubernetes client.

pub mod de;
pub mod error;
pub mod file;
pub mod resolve;
pub mod vars;
pub mod yaml;

pub use resolve::{ResolveError, resolve, resolve_from};

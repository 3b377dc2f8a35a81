//! Simulated Argo CD. Placeholder body until the simulation lands.

use crate::spec::LabSpec;
use crate::store::Store;

/// Starts the Argo CD bootstrap of `spec`'s app tree in `store`. Must be called inside a tokio
/// runtime.
pub fn start(spec: &LabSpec, store: Store) {
    let _ = (spec, store);
}

//! Integration tests of the lab: kube-rs and kubectl against its API, the talosctl stand-in, faults.

//! Tests of the `vixens` command line.

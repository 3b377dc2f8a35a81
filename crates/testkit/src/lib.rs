//! Test-only helpers for the harness's own tests.

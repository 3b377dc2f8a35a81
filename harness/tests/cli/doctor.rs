//! `vixens doctor`: the preflight, against env.yaml fixtures.

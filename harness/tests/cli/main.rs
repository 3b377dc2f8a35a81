//! Tests of the `vixens` command line.

mod adr;
mod convergence;
mod doctor;
mod env;
mod promote;
mod report;
mod workflows;

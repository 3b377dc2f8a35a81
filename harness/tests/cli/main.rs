//! Tests of the `vixens` command line.

mod adr;
mod commands;
mod convergence;
mod doctor;
mod env;
mod logs;
mod promote;
mod report;
mod workflows;

//! Tests of the `vixens` command line.

mod adr;
mod doctor;
mod env;
mod promote;
mod report;

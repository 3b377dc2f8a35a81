//! Tests of the `vixens` command line.

mod adr;
mod promote;
mod report;

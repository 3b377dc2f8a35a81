//! Tests of the `vixens` command line.

mod promote;
mod report;

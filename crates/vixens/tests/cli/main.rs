//! Tests of the `vixens` command line.

mod adr;
mod check_plan;
mod commands;
mod convergence;
mod credentials;
mod cycle;
mod destroy;
mod docs;
mod doctor;
mod env;
mod inputs;
mod lease;
mod logs;
mod promote;
mod promotion_on_the_lab;
mod report;
mod storage;
mod up;
mod wait;
mod workflows;

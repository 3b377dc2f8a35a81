//! Reporters of [`super::CycleEvent`]s: [`Terminal`] progress for people and nextest's captured
//! output, and the evidence [`Ledger`]. Each matches every event variant.

mod ledger;
mod terminal;

pub use ledger::Ledger;
pub use terminal::Terminal;

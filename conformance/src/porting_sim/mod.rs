//! The number-porting hub simulator (issue 12).
pub mod clock;
mod donor;
mod hub;
mod port;
mod timetable;
mod zone;

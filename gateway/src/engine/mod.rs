//! The order engine: a pure state machine (`machine`) and its tokio driver.
pub mod machine;

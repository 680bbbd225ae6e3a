//! `CliError`: why a `simgw` command failed.

use crate::admin;
use crate::app::StartError;

/// Why an admin command failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Start-up of the store or keys failed.
    #[error("{0}")]
    Start(#[from] StartError),
    /// The change was refused or failed.
    #[error("{0}")]
    Admin(#[from] admin::AdminError),
    /// An argument is invalid.
    #[error("{0}")]
    Usage(String),
}

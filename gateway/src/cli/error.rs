//! `CliError`: why a `simgw` command failed. `main` prints it after `error: ` and exits 1,
//! so every message names what to change: an argument, a file, a running process.

use crate::admin::AdminError;
use crate::app::StartError;
use crate::config::ConfigError;
use crate::import::ImportError;
use crate::store::StoreError;
use std::path::PathBuf;

/// Why a command failed; the message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration file is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store, keys, TLS material, southbound clients or listeners could not be set up.
    #[error(transparent)]
    Start(#[from] StartError),
    /// An administrative change or a store read failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// An offline command found the data dir held by a running `simgw serve`.
    #[error(
        "the data dir {} is in use by a running simgw; stop it first (admin commands work offline)",
        .0.display()
    )]
    InUse(PathBuf),
    /// One argument's value is invalid.
    #[error("{arg}: {problem}")]
    Arg {
        /// The argument as typed (`--plmn`, or `--product` with its value).
        arg: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The arguments do not combine into a command; the message says which to give.
    #[error("{0}")]
    Usage(String),
    /// The thing an argument names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The input was checked and refused; the message lists every finding and what to change.
    #[error("{0}")]
    Refused(String),
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A file is not a profile package.
    #[error("{}: not a valid profile package: {source}", path.display())]
    NotAPackage {
        /// The file.
        path: PathBuf,
        /// What the decoder found.
        source: sim_profiles::profile::ProfileError,
    },
    /// A template could not take the given values.
    #[error("{what}: {source}")]
    Personalise {
        /// The template, or the card being written.
        what: String,
        /// The element or field that refused.
        source: sim_profiles::profile::ProfileError,
    },
    /// A card's keys could not be decrypted or opened; the message names the card and the
    /// key, never its value.
    #[error("{0}")]
    CardKeys(String),
    /// Transport keys or a batch file could not be used.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// An import was refused or failed part-way; nothing of it is in the store.
    #[error("nothing was imported: {0}")]
    NotImported(ImportError),
    /// A batch file's framing is unusable (missing columns, unreadable header).
    #[error(transparent)]
    Batch(#[from] sim_profiles::batch::BatchError),
    /// The sandbox file named by `--sandbox-file` is absent.
    #[error(
        "{}: {source}; give --base-url, --api-key and --ca-cert, or run `simgw serve --sandbox` first",
        path.display()
    )]
    NoSandboxFile {
        /// The path.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file named by `--sandbox-file` is not a sandbox.json.
    #[error("{}: not a sandbox.json: {source}", path.display())]
    NotASandboxFile {
        /// The path.
        path: PathBuf,
        /// What the JSON parser found.
        source: serde_json::Error,
    },
    /// The HTTPS client could not be built (CA certificate unusable).
    #[error(transparent)]
    Http(#[from] adapters::http::HttpError),
    /// A running gateway could not be reached, or refused the request.
    #[error("{url}: {problem}")]
    Api {
        /// The URL called.
        url: String,
        /// What went wrong (connection, HTTP status and the problem's detail).
        problem: String,
    },
    /// The activation has no activation code to show.
    #[error(
        "activation {id} has no activation code (status `{status}`): only active eSIM orders have one"
    )]
    NoActivationCode {
        /// The activation id.
        id: String,
        /// Its status.
        status: String,
    },
    /// A QR code could not be rendered.
    #[error(transparent)]
    Qr(#[from] crate::qr::QrError),
    /// `simgw sandbox reset` was pointed at a data dir that is not a sandbox's.
    #[cfg(feature = "sandbox")]
    #[error(
        "{} has no sandbox.json, so it is not a sandbox's data dir; nothing was deleted \
         (give the --data-dir or --config that `simgw serve --sandbox` used)",
        .0.display()
    )]
    NotASandbox(PathBuf),
    /// `--sandbox` was given to a build without the simulators.
    #[cfg(not(feature = "sandbox"))]
    #[error(
        "--sandbox: this simgw was built without the sandbox (cargo feature `sandbox`); \
         build it with default features, or configure a real HLR ([hlr] url or --hlr)"
    )]
    SandboxNotBuilt,
    /// The PostgreSQL store could not be opened or migrated (the message never shows the
    /// URL's password).
    #[error(transparent)]
    Database(#[from] crate::store::postgres::OpenError),
    /// The benchmark could not run.
    #[cfg(feature = "sandbox")]
    #[error(transparent)]
    Bench(#[from] crate::bench::BenchError),
}

impl CliError {
    /// An invalid value of argument `arg`.
    pub(super) fn arg(arg: impl Into<String>, problem: impl std::fmt::Display) -> Self {
        Self::Arg {
            arg: arg.into(),
            problem: problem.to_string(),
        }
    }

    /// A failure reading or writing `path`, for `map_err`.
    pub(super) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        Self::Admin(e.into())
    }
}

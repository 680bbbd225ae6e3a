//! The store terminal (issue 13, docs/terminal.md): the page store staff sell with,
//! served by the gateway itself. This module holds its pure parts: the embedded assets
//! and their security headers, the session cookies, clerk PIN hashing, and the records the
//! store keeps (pairing codes, device generations, clerk credentials, recent sales). The
//! HTTP handlers are in `api::terminal` (the page's calls) and `api::terminal_devices`
//! (the operator's pairing and revoke).

pub mod assets;
pub mod cookie;
pub mod pin;
pub mod records;

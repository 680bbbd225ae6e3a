//! A simulator of the ID card reader service on a store terminal (`docs/terminal.md`, "The
//! ID card reader service"): the small local HTTP service vendors' SDKs put in front of a
//! certified 2nd-generation ID card reader and its camera. The terminal page calls it
//! from the browser, so it answers CORS and Private Network Access preflights. Plain HTTP
//! on loopback, like the real ones.
//!
//! | Request | Body in | Answer |
//! |---|---|---|
//! | `GET /v1/card` | | `200` the card (JSON, below); `404 {"code": "no_card"}` |
//! | `POST /v1/face-match` | anything (not read) | `200 {"transaction_id", "score", "liveness"}` (a fresh id each time); `404 {"code": "no_card"}` |
//! | `PUT /control/card` | a card | `204`: places it on the reader (replacing any) |
//! | `DELETE /control/card` | | `204`: takes the card off |
//! | `PUT /control/face-match` | `{"score"?: 0.0–1.0, "liveness"?: bool}` | `204`: what face matches answer from now on (a member left out: 0.93, live) |
//! | `POST /control/reset` | | `204`: back to the configured card and face match |
//!
//! The card: `{"reader_serial", "name", "id_type", "id_number", "nationality", "sex",
//! "birth_date", "address", "issuer", "valid_from", "valid_until"}`, all strings. Placing
//! one needs `name` and `id_number`; `birth_date` and `sex` default to what an
//! 18-character number carries, the rest to the default card (张三, resident ID
//! `11010519491231002X`, `CHN`, this reader's serial). Values are kept as given, so a
//! test can place an expired or malformed card. Control errors are `400 {"code":
//! "invalid_request", "detail"}`, the detail naming the member.
//!
//! Every answer carries `Vary: Origin`, and `Access-Control-Allow-Origin` echoing an
//! allowed `Origin` (any `https` origin; `http` on `127.0.0.1`, `localhost`, `[::1]`). A
//! request from any other origin gets `403 {"code": "origin_not_allowed"}`. `OPTIONS`
//! preflights get `204` with `Access-Control-Allow-Methods: GET, POST, PUT, DELETE`,
//! `Access-Control-Allow-Headers: content-type`, and
//! `Access-Control-Allow-Private-Network: true` when asked for it. Bodies over 64 KiB
//! get `413 {"code": "body_too_large"}`.
//!
//! Architecture invariant: the holder's name, ID number and address never reach a log
//! line or a `Debug` (log lines name the route and the status only).
//!
//! Code map: `card` the card and its JSON; `cors` the pure cross-origin rules;
//! `simulator` the shared state and routing; `control` the control API; `handle` the
//! in-process controls; `config` the settings.

mod card;
mod config;
mod control;
mod cors;
mod handle;
mod simulator;

pub use card::{Card, Private, TEST_ID_NUMBER};
pub use config::{DEFAULT_READER_SERIAL, FaceMatchSetting, IdReaderSimConfig, IdReaderSimError};
pub use handle::IdReaderSimHandle;

use crate::common::server;
use simulator::Simulator;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Binds `config.listen` and starts serving; the handle reports the bound address.
pub async fn start(config: IdReaderSimConfig) -> Result<IdReaderSimHandle, IdReaderSimError> {
    config.validate()?;
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| IdReaderSimError::Bind {
                addr: config.listen.to_string(),
                source,
            })?;
    serve(listener, config)
}

/// Serves on an already bound `listener` (`config.listen` is ignored); must be called
/// within a tokio runtime.
pub fn serve(
    listener: TcpListener,
    config: IdReaderSimConfig,
) -> Result<IdReaderSimHandle, IdReaderSimError> {
    config.validate()?;
    let addr = listener
        .local_addr()
        .map_err(|source| IdReaderSimError::Bind {
            addr: "the given listener".into(),
            source,
        })?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let sim = Arc::new(Simulator::new(&config));
    tracing::info!(%addr, "ID card reader simulator listening");
    let task = server::spawn(listener, None, Arc::clone(&sim), stop_rx, "id-reader");
    Ok(IdReaderSimHandle::new(sim, addr, stop_tx, task))
}

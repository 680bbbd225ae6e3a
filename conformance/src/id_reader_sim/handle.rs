//! [`IdReaderSimHandle`]: the in-process view of a running reader, for placing cards,
//! setting the face match and shutdown (the same controls as the `/control/` API).

use super::card::Card;
use super::config::FaceMatchSetting;
use super::simulator::Simulator;
use crate::common::control::Control;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A cheaply cloneable handle to a running reader. It runs until
/// [`IdReaderSimHandle::shutdown`] or until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct IdReaderSimHandle {
    sim: Arc<Simulator>,
    addr: SocketAddr,
    control: Arc<Control>,
}

impl IdReaderSimHandle {
    pub(crate) fn new(
        sim: Arc<Simulator>,
        addr: SocketAddr,
        stop: watch::Sender<bool>,
        task: JoinHandle<()>,
    ) -> Self {
        Self {
            sim,
            addr,
            control: Arc::new(Control::new(stop, task, "id-reader")),
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://addr` (the page appends `/v1/card`, `/v1/face-match`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The reader's serial.
    pub fn reader_serial(&self) -> &str {
        self.sim.reader_serial()
    }

    /// The card on the reader.
    pub fn card(&self) -> Option<Card> {
        self.sim.card()
    }

    /// Places `card` on the reader; `None` takes it off.
    pub fn set_card(&self, card: Option<Card>) {
        self.sim.set_card(card);
    }

    /// Sets what the face match answers.
    pub fn set_face_match(&self, setting: FaceMatchSetting) {
        self.sim.set_face_match(setting);
    }

    /// Back to the configured card and face match.
    pub fn reset(&self) {
        self.sim.reset();
    }

    /// How many face matches were answered.
    pub fn face_matches(&self) -> u64 {
        self.sim.face_matches()
    }

    /// Stops accepting and waits for connections to finish. Idempotent.
    pub async fn shutdown(&self) {
        self.control.shutdown().await;
    }
}

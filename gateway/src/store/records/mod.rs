//! Records held by the store. They are serialised as JSON values inside redb tables; a
//! field added later must be `#[serde(default)]` so old records keep decoding.

mod activation;
mod backend_status;
mod compliance;
mod compliance_rows;
mod esim;
mod events;
mod handset;
mod inventory;
mod order_audit;
mod port;
mod ported_number;
mod public_event;
mod reverify;
mod subscription;
mod tenant;
mod tenant_memo;
mod webhook;

pub use activation::*;
pub use backend_status::*;
pub use compliance::*;
pub use compliance_rows::*;
pub use esim::*;
pub use events::*;
pub use handset::*;
pub use inventory::*;
pub use order_audit::*;
pub use port::*;
pub use ported_number::*;
pub use public_event::*;
pub use reverify::*;
pub use subscription::*;
pub use tenant::*;
pub use tenant_memo::*;
pub use webhook::*;

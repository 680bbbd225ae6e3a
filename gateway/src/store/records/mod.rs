//! Records held by the store. They are serialised as JSON values inside redb tables; a
//! field added later must be `#[serde(default)]` so old records keep decoding.

mod activation;
mod esim;
mod events;
mod inventory;
mod subscription;
mod tenant;

pub use activation::*;
pub use esim::*;
pub use events::*;
pub use inventory::*;
pub use subscription::*;
pub use tenant::*;

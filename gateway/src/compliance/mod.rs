//! Real-name and anti-fraud compliance, the pure core: the typed subscriber (its ID
//! document model, `IdType`, `IdNumber`, `PersonName` and the number rules, is
//! `adapters::identity`'s, shared with the verifier and its simulator), the keyed ID hash, the per-market policy table, the create-commit decision,
//! velocity windows, risk rules, re-verification and the tamper-evident audit chain.
//! Nothing here does IO or reads a clock: time is an input (Unix milliseconds). The store,
//! the engine and the API call these functions and persist what they decide.

pub mod audit;
pub mod blocklist;
pub mod channel;
pub mod checks;
pub mod handset;
pub mod id_hash;
pub mod markets;
pub mod overrides;
pub mod policy;
pub mod refusal;
pub mod report;
pub mod reverify;
pub mod risk;
pub mod subscriber;
pub mod velocity;

pub use channel::{ChannelRef, Registration, RegistryView, StoreChannel};
pub use checks::{
    CreateRequest, Decision, ReadPlan, Reads, SimKind, SubscriberInput, decide, plan,
};
pub use id_hash::{IdHash, IdHasher};
pub use markets::Market;
pub use overrides::{PolicyError, PolicyOverride, resolve};
pub use policy::{ChannelKind, Policy};
pub use refusal::Refusal;
pub use subscriber::{Capture, CaptureMethod, Evidence, FaceMatch, Subscriber};

//! Domain types of the HLR boundary. These are not wire types: each dialect maps them.

use sim_profiles::{Imsi, Key128, Msisdn};

/// How the subscriber key reaches the AUC.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum KiMaterial {
    /// Ki in clear (the AUC stores it as is). Debug prints `***`.
    Clear(Key128),
    /// Ki encrypted under the host's transport key; the AUC decrypts it internally.
    Encrypted {
        /// The vendor ciphertext, passed through unchanged.
        ciphertext: Key128,
        /// CAI3G `a4ind`: the A4 transport-decryption algorithm selector.
        a4ind: u8,
        /// CAI3G `adkey`: the transport-key index.
        adkey: u16,
    },
}

/// Authentication data for one card.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AuthData {
    /// The subscriber key, clear or transport-encrypted.
    pub ki: KiMaterial,
    /// Per-card OPc, for dialects that carry it (OsmoHLR); CAI3G hosts keep OP in the AUC.
    pub opc: Option<Key128>,
    /// CAI3G `fsetind`: the AUC function set (algorithm/OP selection), host-specific.
    pub fsetind: u8,
}

/// Host-specific HLR service profile chosen by the product.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HlrProfile {
    /// CAI3G `profileId`: the HLR subscriber template.
    pub profile_id: u32,
}

/// Operator barring flags (suspend/resume). OsmoHLR has only CS/PS network access: any
/// barring disables both, and it reads back as barred only when both are disabled.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Barring {
    /// Operator barring of outgoing calls (CAI3G `obo`).
    pub outgoing: bool,
    /// Operator barring of incoming calls (CAI3G `obi`).
    pub incoming: bool,
}

/// Everything needed to provision one subscriber.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SubscriberSpec {
    /// The card's IMSI (the AUC and HLR key).
    pub imsi: Imsi,
    /// The subscriber's number. `None` provisions the authentication side only (a SIM
    /// swap's new card before the number moves to it); such a subscriber holds no number.
    pub msisdn: Option<Msisdn>,
    /// Authentication data for the AUC.
    pub auth: AuthData,
    /// HLR service profile.
    pub profile: HlrProfile,
    /// Initial barring (normally none). CAI3G keeps barring on the HLR subscription, so
    /// with no MSISDN it is applied only once a later `provision` adds the number.
    pub barring: Barring,
}

/// What `provision` found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProvisionOutcome {
    /// Everything was created now.
    Created,
    /// At least one object already existed with equal data: a repeated step, or a number
    /// filled into a subscriber provisioned earlier without one.
    AlreadyPresent,
}

/// What `deprovision` found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeprovisionOutcome {
    /// At least one object was deleted now.
    Deleted,
    /// Nothing was there.
    NotPresent,
    /// An object exists with data that differ from the spec; it was left in place and
    /// needs an operator's attention.
    LeftForeign,
}

/// The AUC entry as read back. Hosts may not return the key.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct AucState {
    /// The key material, if the host returns it.
    pub ki: Option<KiMaterial>,
    /// Function set indicator, if returned.
    pub fsetind: Option<u8>,
}

/// The HLR entry as read back. OsmoHLR always has one for an existing subscriber (with
/// `msisdn: None` when it holds no number); CAI3G has none while no number is attached.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HlrState {
    /// The MSISDN on the subscription.
    pub msisdn: Option<Msisdn>,
    /// The profile id.
    pub profile_id: Option<u32>,
    /// Current barring.
    pub barring: Barring,
}

/// A subscriber as read back from the host.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SubscriberState {
    /// The IMSI queried.
    pub imsi: Imsi,
    /// The AUC entry, if present.
    pub auc: Option<AucState>,
    /// The HLR entry, if present.
    pub hlr: Option<HlrState>,
}

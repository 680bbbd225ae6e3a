//! How a request writes its ICCIDs (reference §3): some SM-DP+s, mostly pre-v2.2, know
//! only the 20-character form, so padding a 19-digit ICCID with `F` is a per-peer setting.

use serde::{Serialize, Serializer};
use sim_profiles::Iccid;

/// The written form of ICCIDs in request bodies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IccidForm {
    /// The canonical digits (19 or 20), as stored.
    #[default]
    Canonical,
    /// A 19-digit ICCID gets a trailing `F` (20 characters); 20-digit ones are unchanged.
    FPadded,
}

/// An ICCID serialised in a chosen form.
pub(crate) struct WireIccid<'a>(pub(crate) &'a Iccid, pub(crate) IccidForm);

impl Serialize for WireIccid<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let digits = self.0.as_str();
        match self.1 {
            IccidForm::FPadded if digits.len() == 19 => s.serialize_str(&format!("{digits}F")),
            _ => s.serialize_str(digits),
        }
    }
}

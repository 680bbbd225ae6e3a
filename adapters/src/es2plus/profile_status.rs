//! The profile status hook. SGP.22 v2 ES2+ has no status query: the operator learns a
//! profile's state only from HandleDownloadProgressInfo. Some SM-DP+ vendors offer a
//! query of their own (a portal API, a report); reconciliation asks through this trait, so
//! each vendor's query is one implementation and the gateway never learns its protocol.

use super::BoxFuture;
use sim_profiles::Iccid;
use std::collections::BTreeMap;

/// A profile's state at the SM-DP+, in SGP.22's names (§3.1.1's profile states).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProfileState {
    /// In the SM-DP+'s inventory, not reserved.
    Available,
    /// Reserved by DownloadOrder without an EID.
    Allocated,
    /// Reserved and bound to an EID.
    Linked,
    /// Confirmed, not downloadable yet.
    Confirmed,
    /// Downloadable.
    Released,
    /// The bound profile package reached the device.
    Downloaded,
    /// The eUICC reported a successful installation.
    Installed,
    /// The download ended in an error.
    Error,
    /// Never to be used again.
    Unavailable,
    /// A state this vendor names otherwise (kept as sent, for the report).
    Other(String),
}

impl ProfileState {
    /// Every named state.
    pub const NAMED: [ProfileState; 9] = [
        Self::Available,
        Self::Allocated,
        Self::Linked,
        Self::Confirmed,
        Self::Released,
        Self::Downloaded,
        Self::Installed,
        Self::Error,
        Self::Unavailable,
    ];

    /// The state's SGP.22 name, e.g. `Released`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Available => "Available",
            Self::Allocated => "Allocated",
            Self::Linked => "Linked",
            Self::Confirmed => "Confirmed",
            Self::Released => "Released",
            Self::Downloaded => "Downloaded",
            Self::Installed => "Installed",
            Self::Error => "Error",
            Self::Unavailable => "Unavailable",
            Self::Other(s) => s,
        }
    }

    /// Parses a state name, ignoring ASCII case; any other name is `Other`.
    pub fn parse(s: &str) -> Self {
        Self::NAMED
            .into_iter()
            .find(|n| n.as_str().eq_ignore_ascii_case(s))
            .unwrap_or_else(|| Self::Other(s.to_owned()))
    }
}

/// Why a status query gave no answer (the message never holds profile secrets).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("profile status query failed: {0}")]
pub struct ProfileStatusError(pub String);

/// A vendor's profile status query.
pub trait ProfileStatus: Send + Sync {
    /// Where the states come from, for reports (e.g. `smdp-sim admin`).
    fn source(&self) -> &'static str;

    /// The states of `iccids` at the SM-DP+; an ICCID missing from the answer is one
    /// the SM-DP+ does not know.
    fn states<'a>(
        &'a self,
        iccids: &'a [Iccid],
    ) -> BoxFuture<'a, Result<BTreeMap<Iccid, ProfileState>, ProfileStatusError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_kept() {
        for s in ProfileState::NAMED {
            assert_eq!(ProfileState::parse(s.as_str()), s);
            assert_eq!(ProfileState::parse(&s.as_str().to_ascii_lowercase()), s);
        }
        let other = ProfileState::parse("Disabled");
        assert_eq!(other, ProfileState::Other("Disabled".into()));
        assert_eq!(other.as_str(), "Disabled");
    }
}

//! Who sells: a store channel (store → clerk → terminal, and the ID reader of a card-reader
//! capture) or an online one, and what the channel registry says about each member. The
//! registry itself lives in the store; this is the view a decision reads.

use super::policy::ChannelKind;

/// The channel of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelRef {
    /// A physical store.
    Store(StoreChannel),
    /// An online channel, or an order without `channel`.
    Online,
}

/// A store channel's members as the order names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreChannel {
    /// The store id (`channel.store_id`).
    pub store: String,
    /// The clerk id (`channel.staff_id`).
    pub clerk: Option<String>,
    /// The terminal id (`channel.terminal_id`).
    pub terminal: Option<String>,
}

impl ChannelRef {
    /// The channel of a request's `channel` members: a store channel when `kind` is
    /// `store` or a `store_id` is given, online otherwise. Empty strings count as absent.
    pub fn from_request(
        kind: Option<&str>,
        store_id: Option<&str>,
        staff_id: Option<&str>,
        terminal_id: Option<&str>,
    ) -> Self {
        let given = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        let store = given(store_id);
        if kind == Some("online") || (kind != Some("store") && store.is_none()) {
            return Self::Online;
        }
        Self::Store(StoreChannel {
            store: store.unwrap_or_default(),
            clerk: given(staff_id),
            terminal: given(terminal_id),
        })
    }

    /// Store or online.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Store(_) => ChannelKind::Store,
            Self::Online => ChannelKind::Online,
        }
    }

    /// The device velocity counts against: the terminal, else the ID reader.
    pub fn device<'a>(&'a self, reader: Option<&'a str>) -> Option<(Member, &'a str)> {
        match self {
            Self::Store(s) => s
                .terminal
                .as_deref()
                .map(|t| (Member::Terminal, t))
                .or(reader.map(|r| (Member::Reader, r))),
            Self::Online => None,
        }
    }
}

/// A member of a store channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Member {
    /// The store.
    Store,
    /// The clerk.
    Clerk,
    /// The terminal.
    Terminal,
    /// The ID-card reader.
    Reader,
}

impl Member {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Store => "store",
            Self::Clerk => "clerk",
            Self::Terminal => "terminal",
            Self::Reader => "reader",
        }
    }

    /// The request field that names it.
    pub fn field(self) -> &'static str {
        match self {
            Self::Store => "channel.store_id",
            Self::Clerk => "channel.staff_id",
            Self::Terminal => "channel.terminal_id",
            Self::Reader => "subscriber.capture.reader_serial",
        }
    }
}

/// What the registry says about one member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Registration {
    /// Not in the registry (or not under this store).
    #[default]
    NotRegistered,
    /// Registered and enabled.
    Enabled,
    /// Turned off by an operator (the kill switch).
    Disabled,
    /// Frozen after a velocity breach, until an operator lifts it.
    Frozen,
}

impl Registration {
    /// Stable name (`enabled`, `disabled`, `frozen`, `not_registered`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "enabled",
            Self::Disabled => "disabled",
            Self::Frozen => "frozen",
            Self::NotRegistered => "not_registered",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Enabled,
            Self::Disabled,
            Self::Frozen,
            Self::NotRegistered,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

impl Member {
    /// Every member kind.
    pub const ALL: [Self; 4] = [Self::Store, Self::Clerk, Self::Terminal, Self::Reader];

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The registry's answer for every member of a store channel. The store looks members
/// up under the order's store (a clerk or a terminal of another store is not registered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryView {
    /// The store.
    pub store: Registration,
    /// The clerk.
    pub clerk: Registration,
    /// The terminal.
    pub terminal: Registration,
    /// The ID reader (only looked at for a card-reader capture).
    pub reader: Registration,
}

impl RegistryView {
    /// One member's registration.
    pub fn get(&self, m: Member) -> Registration {
        match m {
            Member::Store => self.store,
            Member::Clerk => self.clerk,
            Member::Terminal => self.terminal,
            Member::Reader => self.reader,
        }
    }
}

/// A channel member a velocity breach freezes (`channel_frozen` event).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FreezeTarget {
    /// Which member.
    pub member: Member,
    /// The store it belongs to.
    pub store: String,
    /// Its id (the store id again for the store itself).
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_from_request_members() {
        assert_eq!(
            ChannelRef::from_request(None, None, None, None),
            ChannelRef::Online
        );
        assert_eq!(
            ChannelRef::from_request(Some("online"), Some("S"), None, None),
            ChannelRef::Online
        );
        assert_eq!(
            ChannelRef::from_request(None, Some(""), Some("C1"), None),
            ChannelRef::Online
        );
        let store = ChannelRef::from_request(None, Some("SZ-0042"), Some("C1"), Some("T7"));
        assert_eq!(
            store,
            ChannelRef::Store(StoreChannel {
                store: "SZ-0042".into(),
                clerk: Some("C1".into()),
                terminal: Some("T7".into())
            })
        );
        assert_eq!(store.kind(), ChannelKind::Store);
        assert_eq!(store.device(Some("R-1")), Some((Member::Terminal, "T7")));
        // A store kind without a store id is a store channel naming no store: the
        // registry check refuses it rather than treating it as online.
        let nameless = ChannelRef::from_request(Some("store"), None, None, None);
        assert_eq!(nameless.kind(), ChannelKind::Store);
        assert_eq!(nameless.device(Some("R-1")), Some((Member::Reader, "R-1")));
        assert_eq!(ChannelRef::Online.device(Some("R-1")), None);
    }

    #[test]
    fn members_name_their_fields() {
        let v = RegistryView {
            store: Registration::Enabled,
            reader: Registration::Frozen,
            ..Default::default()
        };
        assert_eq!(v.get(Member::Store), Registration::Enabled);
        assert_eq!(v.get(Member::Clerk), Registration::NotRegistered);
        assert_eq!(v.get(Member::Reader), Registration::Frozen);
        assert_eq!(Member::Clerk.field(), "channel.staff_id");
        assert_eq!(Member::Reader.as_str(), "reader");
    }
}

//! CAI3G wire values. These mirror the XML one to one; the HLR domain types live in
//! `crate::hlr` and are mapped by the client, not here.

use super::ns;
use sim_profiles::{Imsi, Key128, Msisdn};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A CAI3G operation (one SOAP body element and one SOAPAction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Session control: open a session.
    Login,
    /// Session control: close a session.
    Logout,
    /// Provisioning: create an MO.
    Create,
    /// Provisioning: read an MO.
    Get,
    /// Provisioning: modify an MO.
    Set,
    /// Provisioning: remove an MO.
    Delete,
}

impl Operation {
    /// All operations, for look-ups and tests.
    pub const ALL: [Operation; 6] = [
        Self::Login,
        Self::Logout,
        Self::Create,
        Self::Get,
        Self::Set,
        Self::Delete,
    ];

    /// The SOAPAction value without quotes, e.g. `CAI3G#Create`.
    pub fn soap_action(self) -> &'static str {
        match self {
            Self::Login => "CAI3G#Login",
            Self::Logout => "CAI3G#Logout",
            Self::Create => "CAI3G#Create",
            Self::Get => "CAI3G#Get",
            Self::Set => "CAI3G#Set",
            Self::Delete => "CAI3G#Delete",
        }
    }

    /// Recognises a SOAPAction header value, quoted (as SOAP 1.1 wants) or not.
    pub fn from_soap_action(value: &str) -> Option<Self> {
        let v = value.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        Self::ALL.into_iter().find(|op| op.soap_action() == v)
    }

    /// The request body element's local name.
    pub fn element(self) -> &'static str {
        match self {
            Self::Login => "Login",
            Self::Logout => "Logout",
            Self::Create => "Create",
            Self::Get => "Get",
            Self::Set => "Set",
            Self::Delete => "Delete",
        }
    }

    /// The response body element's local name.
    pub fn response_element(self) -> &'static str {
        match self {
            Self::Login => "LoginResponse",
            Self::Logout => "LogoutResponse",
            Self::Create => "CreateResponse",
            Self::Get => "GetResponse",
            Self::Set => "SetResponse",
            Self::Delete => "DeleteResponse",
        }
    }
}

/// The managed-object types this adapter provisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MoKind {
    /// `Subscription@…/GsmHlr/`: the HLR subscription.
    GsmHlr,
    /// `Subscription@…/GsmAuc/`: the AUC (authentication) entry.
    GsmAuc,
}

impl MoKind {
    /// The MO's namespace URI.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::GsmHlr => ns::GSM_HLR,
            Self::GsmAuc => ns::GSM_AUC,
        }
    }

    /// The `MOType` text, `Subscription@<namespace>`.
    pub fn mo_type(self) -> &'static str {
        match self {
            Self::GsmHlr => "Subscription@http://schemas.ericsson.com/ema/UserProvisioning/GsmHlr/",
            Self::GsmAuc => "Subscription@http://schemas.ericsson.com/ema/UserProvisioning/GsmAuc/",
        }
    }

    /// Short name for logs and operation labels, e.g. `GsmAuc`.
    pub fn name(self) -> &'static str {
        match self {
            Self::GsmHlr => "GsmHlr",
            Self::GsmAuc => "GsmAuc",
        }
    }

    /// Recognises an `MOType` value (surrounding whitespace ignored).
    pub fn from_mo_type(value: &str) -> Option<Self> {
        let v = value.trim();
        [Self::GsmHlr, Self::GsmAuc]
            .into_iter()
            .find(|k| k.mo_type() == v)
    }

    /// Recognises an MO namespace URI.
    pub fn from_namespace(uri: &str) -> Option<Self> {
        [Self::GsmHlr, Self::GsmAuc]
            .into_iter()
            .find(|k| k.namespace() == uri)
    }
}

/// The CAI3G SOAP header values. Kept as text: peers send non-numeric transaction ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// `SessionId`, required on provisioning calls.
    pub session_id: Option<String>,
    /// `TransactionId` (we send digits).
    pub transaction_id: Option<String>,
    /// `SequenceId` (we send `baseSequenceId + n`).
    pub sequence_id: Option<String>,
}

/// A login password: prints as `***` and is zeroised on drop.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: String) -> Self {
        Self(password)
    }

    /// The clear password, for the encoder only. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The wire form of the GsmAuc `ki` / `a4ind` / `adkey` elements.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KiWire {
    /// Ki in clear: only `ki` is sent.
    Clear(Key128),
    /// Ki encrypted under a transport key: `ki`, `a4ind` and `adkey` are sent.
    Encrypted {
        /// The vendor ciphertext, passed through unchanged.
        ciphertext: Key128,
        /// The A4 transport-decryption algorithm selector.
        a4ind: u8,
        /// The transport-key index.
        adkey: u16,
    },
}

/// A GsmAuc subscription (create/set content, or a complete Get answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AucSubscription {
    /// The key.
    pub imsi: Imsi,
    /// The subscriber key.
    pub ki: KiWire,
    /// The AUC function set (algorithm and OP selection).
    pub fsetind: u8,
}

/// A GsmHlr subscription (create/set content, or a Get answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlrSubscription {
    /// The IMSI.
    pub imsi: Imsi,
    /// The MSISDN.
    pub msisdn: Msisdn,
    /// The HLR subscriber profile (template).
    pub profile_id: u32,
    /// Operator barring of outgoing calls.
    pub obo: bool,
    /// Operator barring of incoming calls.
    pub obi: bool,
}

/// The `MOAttributes` content of a Create or Set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoBody {
    /// A GsmAuc subscription.
    Auc(AucSubscription),
    /// A GsmHlr subscription.
    Hlr(HlrSubscription),
    /// A GsmHlr Set of the MSISDN alone (the number change): the subscription's other
    /// attributes stay as the host has them, so the change needs no Get first.
    HlrMsisdn {
        /// The subscription's IMSI (a key: never changed).
        imsi: Imsi,
        /// Its new MSISDN.
        msisdn: Msisdn,
    },
}

impl MoBody {
    /// Which MO this body writes.
    pub fn kind(&self) -> MoKind {
        match self {
            Self::Auc(_) => MoKind::GsmAuc,
            Self::Hlr(_) | Self::HlrMsisdn { .. } => MoKind::GsmHlr,
        }
    }

    /// The IMSI the body is keyed on.
    pub fn imsi(&self) -> &Imsi {
        match self {
            Self::Auc(a) => &a.imsi,
            Self::Hlr(h) => &h.imsi,
            Self::HlrMsisdn { imsi, .. } => imsi,
        }
    }

    /// The `MOId` naming this object by every key the body has (what a Create carries,
    /// and a Set that changes no key).
    pub fn id(&self) -> MoId {
        match self {
            Self::Auc(a) => MoId::by_imsi(MoKind::GsmAuc, a.imsi.clone()),
            Self::Hlr(h) => MoId {
                kind: MoKind::GsmHlr,
                imsi: Some(h.imsi.clone()),
                msisdn: Some(h.msisdn.clone()),
            },
            Self::HlrMsisdn { imsi, msisdn } => MoId {
                kind: MoKind::GsmHlr,
                imsi: Some(imsi.clone()),
                msisdn: Some(msisdn.clone()),
            },
        }
    }
}

/// An MO identity (`MOType` + `MOId`) for Get and Delete. At least one key must be set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoId {
    /// Which MO.
    pub kind: MoKind,
    /// The IMSI key.
    pub imsi: Option<Imsi>,
    /// The MSISDN key (GsmHlr only).
    pub msisdn: Option<Msisdn>,
}

impl MoId {
    /// An identity by IMSI.
    pub fn by_imsi(kind: MoKind, imsi: Imsi) -> Self {
        Self {
            kind,
            imsi: Some(imsi),
            msisdn: None,
        }
    }

    /// A GsmHlr identity by MSISDN.
    pub fn hlr_by_msisdn(msisdn: Msisdn) -> Self {
        Self {
            kind: MoKind::GsmHlr,
            imsi: None,
            msisdn: Some(msisdn),
        }
    }
}

/// A CAI3G request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `Login{userId, pwd}`.
    Login {
        /// The provisioning user.
        user_id: String,
        /// Its password.
        pwd: Password,
    },
    /// `Logout{sessionId}`.
    Logout {
        /// The session to close.
        session_id: String,
    },
    /// `Create` of a subscription.
    Create(MoBody),
    /// `Get` of a subscription.
    Get(MoId),
    /// `Set` of a subscription: `id` (`MOId`) names the object as it is now, `body`
    /// (`setSubscription`) holds its attributes after the Set. They agree on every key,
    /// except that a GsmHlr Set may carry a new MSISDN: the number change (`MOId` with
    /// the IMSI and the current MSISDN, `setSubscription` with the new one).
    Set {
        /// The object as addressed now.
        id: MoId,
        /// Its new attributes.
        body: MoBody,
    },
    /// `Delete` of a subscription.
    Delete(MoId),
}

impl Request {
    /// A Set of `body` addressed by its own keys (no key changes).
    pub fn set(body: MoBody) -> Self {
        Self::Set {
            id: body.id(),
            body,
        }
    }

    /// The operation this request performs.
    pub fn operation(&self) -> Operation {
        match self {
            Self::Login { .. } => Operation::Login,
            Self::Logout { .. } => Operation::Logout,
            Self::Create(_) => Operation::Create,
            Self::Get(_) => Operation::Get,
            Self::Set { .. } => Operation::Set,
            Self::Delete(_) => Operation::Delete,
        }
    }

    /// The MO kind addressed, for provisioning operations.
    pub fn mo_kind(&self) -> Option<MoKind> {
        match self {
            Self::Login { .. } | Self::Logout { .. } => None,
            Self::Create(b) | Self::Set { body: b, .. } => Some(b.kind()),
            Self::Get(id) | Self::Delete(id) => Some(id.kind),
        }
    }
}

/// What a Get returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GetResult {
    /// A complete GsmAuc entry.
    Auc(AucSubscription),
    /// A GsmHlr subscription.
    Hlr(HlrSubscription),
    /// A GsmAuc entry the host returned without its key or function set (hosts may
    /// withhold the key). The decoder yields this only when at least one field is absent.
    AucPartial {
        /// The IMSI.
        imsi: Imsi,
        /// The key, if returned.
        ki: Option<KiWire>,
        /// The function set, if returned.
        fsetind: Option<u8>,
    },
}

/// A SOAP fault with its CAI3G detail, flattened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cai3gFault {
    /// The SOAP `faultcode` without prefix, e.g. `Server` or `Client`.
    pub soap_faultcode: String,
    /// The SOAP `faultstring`.
    pub faultstring: String,
    /// `Cai3gFault/faultcode`.
    pub cai3g_code: Option<String>,
    /// `Cai3gFault/faultreason/reasonText` (several joined with `"; "`).
    pub reason: Option<String>,
    /// `Cai3gFault/faultrole`, e.g. `MF` or `NEF`.
    pub role: Option<String>,
    /// `PGFault/errorcode`.
    pub pg_code: Option<String>,
    /// `PGFault/errormessage`.
    pub pg_message: Option<String>,
    /// `UserProvisioningFault/respCode`.
    pub resp_code: Option<String>,
    /// `UserProvisioningFault/respDescription`.
    pub resp_description: Option<String>,
}

impl Cai3gFault {
    /// The codes in extraction order (PG, respCode, CAI3G, SOAP), absent or empty ones skipped.
    pub fn code_chain(&self) -> Vec<&str> {
        [
            self.pg_code.as_deref(),
            self.resp_code.as_deref(),
            self.cai3g_code.as_deref(),
            Some(self.soap_faultcode.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .collect()
    }

    /// The most specific message, in the same order as the codes.
    pub fn best_message(&self) -> &str {
        [
            self.pg_message.as_deref(),
            self.resp_description.as_deref(),
            self.reason.as_deref(),
        ]
        .into_iter()
        .flatten()
        .find(|m| !m.is_empty())
        .unwrap_or(&self.faultstring)
    }
}

/// A CAI3G response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// `LoginResponse{sessionId, baseSequenceId}`.
    Login {
        /// The new session.
        session_id: String,
        /// The first sequence id of the session.
        base_sequence_id: u64,
    },
    /// `LogoutResponse`.
    Logout,
    /// `CreateResponse`.
    Create,
    /// `GetResponse` with the MO's attributes.
    Get(GetResult),
    /// `SetResponse`.
    Set,
    /// `DeleteResponse`.
    Delete,
    /// A SOAP fault (HTTP 500).
    Fault(Cai3gFault),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mo_type_is_subscription_at_namespace() {
        for kind in [MoKind::GsmHlr, MoKind::GsmAuc] {
            assert_eq!(kind.mo_type(), format!("Subscription@{}", kind.namespace()));
            assert_eq!(MoKind::from_mo_type(kind.mo_type()), Some(kind));
            assert_eq!(MoKind::from_namespace(kind.namespace()), Some(kind));
        }
    }

    #[test]
    fn password_debug_is_masked() {
        let p = Password::new("topsecret".into());
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert_eq!(p.expose(), "topsecret");
    }

    #[test]
    fn code_chain_skips_absent_and_empty_codes() {
        let f = Cai3gFault {
            soap_faultcode: "Server".into(),
            pg_code: Some(String::new()),
            cai3g_code: Some("4005".into()),
            ..Cai3gFault::default()
        };
        assert_eq!(f.code_chain(), ["4005", "Server"]);
        assert_eq!(f.best_message(), "");
    }
}

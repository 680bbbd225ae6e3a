//! The canonical encoding of an audit record: deterministic bytes, one encoding per record
//! (fixed field order, big-endian lengths, explicit option tags), so the chain hashes
//! exactly what was decided. Decoding is strict (no trailing bytes, valid UTF-8, known
//! tags) and allocation-free (`RecordRef` borrows the bytes); `to_owned` builds the record.
//!
//! Layout, version 1: `01` · seq u64 · at_ms u64 · actor (key_id str, channel str, store
//! opt, clerk opt, device opt) · subject (order opt, iccid opt, imsi opt, msisdn opt,
//! id_hash opt) · action str · rule opt · policy_version opt · decision u8 · reasons list
//! · evidence list · idempotency_key opt · attrs pair-list. A str is a u32 length and
//! UTF-8; an opt is `00`, or `01` and a str; a list is a u32 count and strs.

/// The encoding version this code writes and reads.
pub const VERSION: u8 = 1;

/// Who acted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Actor {
    /// The API key's id (prefix), or `system` / `cli`.
    pub key_id: String,
    /// `store`, `online`, `operator`, `engine`, `timer`, `cli`.
    pub channel: String,
    /// The store.
    pub store: Option<String>,
    /// The clerk.
    pub clerk: Option<String>,
    /// The device (terminal or reader).
    pub device: Option<String>,
}

/// What it was about. Never an ID number or a name: the keyed ID hash only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// The order.
    pub order_id: Option<String>,
    /// The SIM.
    pub iccid: Option<String>,
    /// The IMSI.
    pub imsi: Option<String>,
    /// The number.
    pub msisdn: Option<String>,
    /// The subscriber's keyed ID hash (`<pepper key id>:<hex>`).
    pub id_hash: Option<String>,
}

/// The decision recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed, passed, done.
    Allow,
    /// Refused, failed.
    Refuse,
    /// A fact with no decision (an operator change, a key rotation).
    #[default]
    Record,
}

impl Outcome {
    fn byte(self) -> u8 {
        match self {
            Self::Allow => 1,
            Self::Refuse => 2,
            Self::Record => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => Self::Allow,
            2 => Self::Refuse,
            3 => Self::Record,
            _ => return None,
        })
    }

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Refuse => "refuse",
            Self::Record => "record",
        }
    }
}

/// One audit record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1; the store assigns it in the commit.
    pub seq: u64,
    /// Server time (Unix ms).
    pub at_ms: u64,
    /// Who.
    pub actor: Actor,
    /// About what.
    pub subject: Subject,
    /// What (`activation.create`, `verification.expire`, `blocklist.add`, …).
    pub action: String,
    /// The rule applied, if one.
    pub rule: Option<String>,
    /// The policy version cited.
    pub policy_version: Option<String>,
    /// The decision.
    pub outcome: Outcome,
    /// Why (problem codes, risk rules, audit reasons).
    pub reasons: Vec<String>,
    /// Evidence references (`face_match:<tx>`, `video:<id>`, `reader:<serial>`).
    pub evidence: Vec<String>,
    /// The request's Idempotency-Key.
    pub idempotency_key: Option<String>,
    /// Anything else, in a fixed order (network outcome, old and new values).
    pub attrs: Vec<(String, String)>,
}

/// Why bytes are not a canonical record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end inside a field.
    #[error("truncated")]
    Truncated,
    /// An encoding version this code does not read.
    #[error("unknown version {0}")]
    Version(u8),
    /// An option tag other than 0 or 1, or an unknown outcome.
    #[error("bad tag")]
    Tag,
    /// A string that is not UTF-8.
    #[error("invalid UTF-8")]
    Utf8,
    /// Bytes after the last field.
    #[error("trailing bytes")]
    Trailing,
}

impl AuditRecord {
    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(256);
        w.push(VERSION);
        w.extend_from_slice(&self.seq.to_be_bytes());
        w.extend_from_slice(&self.at_ms.to_be_bytes());
        let a = &self.actor;
        put_str(&mut w, &a.key_id);
        put_str(&mut w, &a.channel);
        for o in [&a.store, &a.clerk, &a.device] {
            put_opt(&mut w, o.as_deref());
        }
        let s = &self.subject;
        for o in [&s.order_id, &s.iccid, &s.imsi, &s.msisdn, &s.id_hash] {
            put_opt(&mut w, o.as_deref());
        }
        put_str(&mut w, &self.action);
        put_opt(&mut w, self.rule.as_deref());
        put_opt(&mut w, self.policy_version.as_deref());
        w.push(self.outcome.byte());
        put_list(&mut w, self.reasons.iter().map(String::as_str));
        put_list(&mut w, self.evidence.iter().map(String::as_str));
        put_opt(&mut w, self.idempotency_key.as_deref());
        put_len(&mut w, self.attrs.len());
        for (k, v) in &self.attrs {
            put_str(&mut w, k);
            put_str(&mut w, v);
        }
        w
    }

    /// Decodes canonical bytes into an owned record.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        RecordRef::parse(bytes).map(|r| r.to_owned())
    }
}

fn put_len(w: &mut Vec<u8>, n: usize) {
    // Lengths past u32 cannot occur for records this gateway writes (bounded fields).
    w.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let n = b.len().min(u32::MAX as usize);
    put_len(w, n);
    w.extend_from_slice(&b[..n]);
}

fn put_opt(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => w.push(0),
        Some(s) => {
            w.push(1);
            put_str(w, s);
        }
    }
}

fn put_list<'a>(w: &mut Vec<u8>, items: impl ExactSizeIterator<Item = &'a str>) {
    put_len(w, items.len());
    for s in items {
        put_str(w, s);
    }
}

/// A decoded record borrowing its bytes: decoding allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    /// Position in the chain.
    pub seq: u64,
    /// Server time.
    pub at_ms: u64,
    /// Actor: key id, channel, store, clerk, device.
    pub actor: (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    ),
    /// Subject: order, ICCID, IMSI, MSISDN, ID hash.
    pub subject: [Option<&'a str>; 5],
    /// The action.
    pub action: &'a str,
    /// The rule.
    pub rule: Option<&'a str>,
    /// The policy version.
    pub policy_version: Option<&'a str>,
    /// The outcome.
    pub outcome: Outcome,
    /// The reasons.
    pub reasons: StrList<'a>,
    /// The evidence references.
    pub evidence: StrList<'a>,
    /// The Idempotency-Key.
    pub idempotency_key: Option<&'a str>,
    /// The attributes, as a list of alternating keys and values.
    pub attrs: StrList<'a>,
}

/// A validated list of strings inside record bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrList<'a> {
    count: usize,
    bytes: &'a [u8],
}

impl<'a> StrList<'a> {
    /// The strings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let mut r = Reader {
            buf: self.bytes,
            pos: 0,
        };
        // Validated when parsed: every read succeeds.
        (0..self.count).map_while(move |_| r.str().ok())
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<usize, DecodeError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        usize::try_from(u32::from_be_bytes(b)).map_err(|_| DecodeError::Truncated)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.u32()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError::Utf8)
    }

    fn opt(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.str().map(Some),
            _ => Err(DecodeError::Tag),
        }
    }

    /// A list of `count * per` strings (`per` 2 for pairs), validated.
    fn list(&mut self, per: usize) -> Result<StrList<'a>, DecodeError> {
        let count = self.u32()?.checked_mul(per).ok_or(DecodeError::Truncated)?;
        let start = self.pos;
        for _ in 0..count {
            self.str()?;
        }
        Ok(StrList {
            count,
            bytes: &self.buf[start..self.pos],
        })
    }
}

impl<'a> RecordRef<'a> {
    /// Parses and validates canonical bytes without allocating.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let v = r.u8()?;
        if v != VERSION {
            return Err(DecodeError::Version(v));
        }
        let seq = r.u64()?;
        let at_ms = r.u64()?;
        let actor = (r.str()?, r.str()?, r.opt()?, r.opt()?, r.opt()?);
        let subject = [r.opt()?, r.opt()?, r.opt()?, r.opt()?, r.opt()?];
        let action = r.str()?;
        let rule = r.opt()?;
        let policy_version = r.opt()?;
        let outcome = Outcome::from_byte(r.u8()?).ok_or(DecodeError::Tag)?;
        let reasons = r.list(1)?;
        let evidence = r.list(1)?;
        let idempotency_key = r.opt()?;
        let attrs = r.list(2)?;
        if r.pos != bytes.len() {
            return Err(DecodeError::Trailing);
        }
        Ok(Self {
            seq,
            at_ms,
            actor,
            subject,
            action,
            rule,
            policy_version,
            outcome,
            reasons,
            evidence,
            idempotency_key,
            attrs,
        })
    }

    /// The owned record.
    pub fn to_owned(&self) -> AuditRecord {
        let own = |o: Option<&str>| o.map(str::to_owned);
        let (key_id, channel, store, clerk, device) = self.actor;
        let [order_id, iccid, imsi, msisdn, id_hash] = self.subject;
        let attrs: Vec<&str> = self.attrs.iter().collect();
        AuditRecord {
            seq: self.seq,
            at_ms: self.at_ms,
            actor: Actor {
                key_id: key_id.to_owned(),
                channel: channel.to_owned(),
                store: own(store),
                clerk: own(clerk),
                device: own(device),
            },
            subject: Subject {
                order_id: own(order_id),
                iccid: own(iccid),
                imsi: own(imsi),
                msisdn: own(msisdn),
                id_hash: own(id_hash),
            },
            action: self.action.to_owned(),
            rule: own(self.rule),
            policy_version: own(self.policy_version),
            outcome: self.outcome,
            reasons: self.reasons.iter().map(str::to_owned).collect(),
            evidence: self.evidence.iter().map(str::to_owned).collect(),
            idempotency_key: own(self.idempotency_key),
            attrs: attrs
                .chunks_exact(2)
                .map(|kv| (kv[0].to_owned(), kv[1].to_owned()))
                .collect(),
        }
    }
}

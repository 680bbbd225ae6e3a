//! Sans-IO Osmocom CTRL codec: IPA framing and the GET/SET request/reply grammar.
//!
//! A frame is `[len_hi, len_lo, 0xEE, 0x00, payload...]` where the big-endian length
//! counts the extension byte (`0x00`, CTRL) plus the ASCII payload (reference §4.3).

/// IPA protocol byte for Osmocom extensions ("OSMO").
pub const IPA_PROTO_OSMO: u8 = 0xEE;
/// IPA OSMO extension byte for CTRL.
pub const IPA_EXT_CTRL: u8 = 0x00;
/// Largest payload a frame can carry (the 16-bit length also counts the extension byte).
pub const MAX_PAYLOAD: usize = u16::MAX as usize - 1;
/// Default payload limit of [`FrameDecoder::new`]: CTRL replies are a few hundred bytes.
pub const DEFAULT_MAX_PAYLOAD: usize = 16 * 1024;

const HEADER_LEN: usize = 3;

/// Why bytes could not be framed or parsed. Never echoes payload text (it may hold keys).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The payload is longer than the limit.
    #[error("frame payload of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// The announced or given payload length.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// The frame's length field is zero, so it lacks the extension byte.
    #[error("empty IPA frame")]
    Empty,
    /// The IPA protocol byte is not OSMO (`0xEE`).
    #[error("unexpected IPA protocol 0x{0:02x}")]
    Protocol(u8),
    /// The OSMO extension byte is not CTRL (`0x00`).
    #[error("unexpected IPA OSMO extension 0x{0:02x}")]
    Extension(u8),
    /// The payload does not follow the CTRL grammar.
    #[error("malformed CTRL message: {0}")]
    Grammar(&'static str),
}

/// Frames one CTRL payload.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, CodecError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(CodecError::TooLong {
            len: payload.len(),
            max: MAX_PAYLOAD,
        });
    }
    let len = u16::try_from(payload.len() + 1).map_err(|_| CodecError::TooLong {
        len: payload.len(),
        max: MAX_PAYLOAD,
    })?;
    let mut out = Vec::with_capacity(payload.len() + HEADER_LEN + 1);
    out.extend_from_slice(&len.to_be_bytes());
    out.push(IPA_PROTO_OSMO);
    out.push(IPA_EXT_CTRL);
    out.extend_from_slice(payload);
    Ok(out)
}

/// Incremental frame decoder: push bytes as they arrive, pop complete payloads.
///
/// After an error the stream is out of sync; the caller drops the connection.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    max_payload: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl FrameDecoder {
    /// A decoder that rejects payloads longer than `max_payload`.
    pub fn new(max_payload: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_payload,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete payload, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, CodecError> {
        let (Some(&hi), Some(&lo), Some(&proto)) =
            (self.buf.first(), self.buf.get(1), self.buf.get(2))
        else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if proto != IPA_PROTO_OSMO {
            return Err(CodecError::Protocol(proto));
        }
        if len == 0 {
            return Err(CodecError::Empty);
        }
        let payload_len = len - 1;
        if payload_len > self.max_payload {
            return Err(CodecError::TooLong {
                len: payload_len,
                max: self.max_payload,
            });
        }
        if let Some(&ext) = self.buf.get(HEADER_LEN) {
            if ext != IPA_EXT_CTRL {
                return Err(CodecError::Extension(ext));
            }
        }
        let total = HEADER_LEN + len;
        if self.buf.len() < total {
            return Ok(None);
        }
        let payload = self.buf.get(HEADER_LEN + 1..total).map(<[u8]>::to_vec);
        self.buf.drain(..total);
        Ok(payload)
    }
}

/// A CTRL request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET <id> <var>`.
    Get {
        /// Client-chosen id, echoed in the reply.
        id: u64,
        /// The variable, e.g. `subscriber.by-imsi-001010000000001.info`.
        var: String,
    },
    /// `SET <id> <var> <value>`.
    Set {
        /// Client-chosen id, echoed in the reply.
        id: u64,
        /// The variable.
        var: String,
        /// The value (may hold key material: never log it).
        value: String,
    },
}

impl Request {
    /// The request's id.
    pub fn id(&self) -> u64 {
        match self {
            Self::Get { id, .. } | Self::Set { id, .. } => *id,
        }
    }

    /// The request's variable name.
    pub fn var(&self) -> &str {
        match self {
            Self::Get { var, .. } | Self::Set { var, .. } => var,
        }
    }

    /// The wire text. Variables must not contain whitespace.
    pub fn encode(&self) -> Result<String, CodecError> {
        if !is_token(self.var()) {
            return Err(CodecError::Grammar("variable must be a non-empty token"));
        }
        Ok(match self {
            Self::Get { id, var } => format!("GET {id} {var}"),
            Self::Set { id, var, value } => format!("SET {id} {var} {value}"),
        })
    }

    /// Parses a request (the server side; used by tests and proxies).
    pub fn parse(payload: &[u8]) -> Result<Self, CodecError> {
        let text = std::str::from_utf8(payload).map_err(|_| CodecError::Grammar("not UTF-8"))?;
        let (verb, rest) = text
            .split_once(' ')
            .ok_or(CodecError::Grammar("missing id"))?;
        let (id, rest) = split_id(rest)?;
        match verb {
            "GET" => {
                if !is_token(rest) {
                    return Err(CodecError::Grammar("GET takes one variable"));
                }
                Ok(Self::Get {
                    id,
                    var: rest.to_owned(),
                })
            }
            "SET" => {
                let (var, value) = rest
                    .split_once(' ')
                    .ok_or(CodecError::Grammar("SET without value"))?;
                if !is_token(var) {
                    return Err(CodecError::Grammar("missing variable"));
                }
                Ok(Self::Set {
                    id,
                    var: var.to_owned(),
                    value: value.to_owned(),
                })
            }
            _ => Err(CodecError::Grammar("unknown request verb")),
        }
    }
}

/// A CTRL message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `GET_REPLY <id> <var> <value>`.
    GetReply {
        /// The request's id.
        id: u64,
        /// The variable.
        var: String,
        /// The value (may hold key material: never log it).
        value: String,
    },
    /// `SET_REPLY <id> <var> <value>`.
    SetReply {
        /// The request's id.
        id: u64,
        /// The variable.
        var: String,
        /// The value (`OK`, or e.g. the new subscriber's database id).
        value: String,
    },
    /// `ERROR <id> <reason>`; `id` is `None` when the server could not read one.
    Error {
        /// The request's id, if the server echoed a number.
        id: Option<u64>,
        /// The server's reason text.
        reason: String,
    },
    /// An unsolicited `TRAP`: ignored by the client.
    Trap {
        /// The variable.
        var: String,
        /// The value.
        value: String,
    },
}

impl Reply {
    /// The id a pending request is matched by, if any.
    pub fn id(&self) -> Option<u64> {
        match self {
            Self::GetReply { id, .. } | Self::SetReply { id, .. } => Some(*id),
            Self::Error { id, .. } => *id,
            Self::Trap { .. } => None,
        }
    }

    /// The wire text (the server side; used by tests).
    pub fn encode(&self) -> String {
        match self {
            Self::GetReply { id, var, value } => format!("GET_REPLY {id} {var} {value}"),
            Self::SetReply { id, var, value } => format!("SET_REPLY {id} {var} {value}"),
            Self::Error {
                id: Some(id),
                reason,
            } => format!("ERROR {id} {reason}"),
            Self::Error { id: None, reason } => format!("ERROR err {reason}"),
            Self::Trap { var, value } => format!("TRAP 0 {var} {value}"),
        }
    }

    /// Parses one reply payload.
    pub fn parse(payload: &[u8]) -> Result<Self, CodecError> {
        let text = std::str::from_utf8(payload).map_err(|_| CodecError::Grammar("not UTF-8"))?;
        let (verb, rest) = text
            .split_once(' ')
            .ok_or(CodecError::Grammar("missing id"))?;
        if verb == "ERROR" {
            let (id, reason) = rest.split_once(' ').unwrap_or((rest, ""));
            return Ok(Self::Error {
                id: id.parse().ok(),
                reason: reason.to_owned(),
            });
        }
        let (id, rest) = split_id(rest)?;
        // The value may be empty or start with a newline (`info` lists): keep it verbatim.
        let (var, value) = rest.split_once(' ').unwrap_or((rest, ""));
        if !is_token(var) {
            return Err(CodecError::Grammar("missing variable"));
        }
        let (var, value) = (var.to_owned(), value.to_owned());
        match verb {
            "GET_REPLY" => Ok(Self::GetReply { id, var, value }),
            "SET_REPLY" => Ok(Self::SetReply { id, var, value }),
            "TRAP" => Ok(Self::Trap { var, value }),
            _ => Err(CodecError::Grammar("unknown reply verb")),
        }
    }
}

/// Splits `<id> <rest>`; the id is a decimal integer.
fn split_id(rest: &str) -> Result<(u64, &str), CodecError> {
    let (id, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let id = id.parse().map_err(|_| CodecError::Grammar("bad id"))?;
    Ok((id, rest))
}

/// A non-empty string without whitespace.
fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_reference_example() {
        let payload = b"SET 1 subscriber.create 001010000000001";
        assert_eq!(payload.len(), 39);
        let frame = encode_frame(payload).expect("encodes");
        assert_eq!(frame.get(..4), Some(&[0x00, 0x28, 0xEE, 0x00][..]));
        assert_eq!(frame.get(4..), Some(&payload[..]));
    }

    #[test]
    fn decoder_rejects_foreign_protocol_and_oversize() {
        let mut d = FrameDecoder::new(8);
        d.push(&[0x00, 0x02, 0xFE, 0x00, 0x00]);
        assert_eq!(d.next_frame(), Err(CodecError::Protocol(0xFE)));
        let mut d = FrameDecoder::new(8);
        d.push(&[0x00, 0x20, 0xEE]);
        assert!(matches!(d.next_frame(), Err(CodecError::TooLong { .. })));
        let mut d = FrameDecoder::new(8);
        d.push(&[0x00, 0x00, 0xEE]);
        assert_eq!(d.next_frame(), Err(CodecError::Empty));
        let mut d = FrameDecoder::new(8);
        d.push(&[0x00, 0x02, 0xEE, 0x05]);
        assert_eq!(d.next_frame(), Err(CodecError::Extension(0x05)));
    }

    #[test]
    fn parses_observed_replies() {
        let cases: &[(&str, Reply)] = &[
            (
                "SET_REPLY 1 subscriber.create 1",
                Reply::SetReply {
                    id: 1,
                    var: "subscriber.create".into(),
                    value: "1".into(),
                },
            ),
            (
                "GET_REPLY 3 subscriber.by-imsi-1.info \nid\t1\nimsi\t1",
                Reply::GetReply {
                    id: 3,
                    var: "subscriber.by-imsi-1.info".into(),
                    value: "\nid\t1\nimsi\t1".into(),
                },
            ),
            (
                "ERROR 6 No such subscriber.",
                Reply::Error {
                    id: Some(6),
                    reason: "No such subscriber.".into(),
                },
            ),
            (
                "ERROR err Command parser error.",
                Reply::Error {
                    id: None,
                    reason: "Command parser error.".into(),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&Reply::parse(text.as_bytes()).expect(text), want, "{text}");
        }
    }
}

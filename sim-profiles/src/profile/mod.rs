//! The TCA eUICC Profile Package (v3.3.1) codec: a package is a plain concatenation of
//! DER `ProfileElement`s. Elements this crate reads or changes are typed; every other
//! element is kept as raw DER and written back byte for byte, so any vendor template
//! passes through unchanged. Pure functions over bytes: no IO, no panics on any input.

mod acc;
mod aka;
mod der;
mod element;
mod end;
mod error;
mod files;
mod header;
pub mod inspect;
mod keys;
mod oid;
mod package;
mod pe_header;
pub mod personalise;
mod pin;
pub mod template;
mod test_keys;
mod tlv;
pub mod validate;

pub use acc::Acc;
pub use aka::{
    ALGORITHM_MILENAGE, AkaAlgorithm, AkaParameter, AlgoConfiguration, AlgoParameter, AlgoView,
    DEFAULT_NUMBER_OF_KECCAK, DEFAULT_ROTATION, DEFAULT_SQN_AGE_LIMIT, DEFAULT_SQN_DELTA,
    DEFAULT_SQN_OPTIONS, DEFAULT_XORING, SQN_INIT_LEN, algorithm_name,
};
pub use element::{
    ProfileElement, RawPe, TAG_AKA_PARAMETER, TAG_END, TAG_HEADER, TAG_MF, TAG_PIN_CODES,
    TAG_PUK_CODES, TAG_USIM, alternative_name,
};
pub use end::End;
pub use error::ProfileError;
pub use files::{MfElement, UsimElement};
pub use header::{MandatoryServices, ProfileHeader, decode_iccid, encode_iccid};
pub use inspect::{inspect, pin_reference_name, puk_reference_name};
pub use keys::{AkaSlot, aka_slots};
pub use oid::ObjectId;
pub use package::Package;
pub use pe_header::PeHeader;
pub use personalise::{Personalisation, personalise};
pub use pin::{
    DEFAULT_PIN_ATTEMPTS, DEFAULT_PIN_ATTRIBUTES, DEFAULT_PUK_ATTEMPTS, PinCodes, PinCodesContent,
    PinConfiguration, PukCodes, PukConfiguration, pad_code,
};
pub use template::{TEMPLATE_ICCID, TEMPLATE_IMSI, TEMPLATE_PROFILE_TYPE, builtin_template};
pub use test_keys::{TestKey, test_keys, well_known_key};
pub use tlv::{
    RawElement, Tlv, context_number, context_tag, encode_tlv, push_tlv, read_tlv, split_package,
};
pub use validate::{Finding, validate, validate_elements};

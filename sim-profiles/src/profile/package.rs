//! A whole unprotected profile package: the ordered elements, header first and End last.

use super::element::ProfileElement;
use super::error::ProfileError;
use super::files::{MfElement, UsimElement};
use super::header::ProfileHeader;
use super::tlv::Reader;
use std::collections::HashSet;

/// A decoded package. Its elements satisfy the framing rules checked by
/// [`Package::from_elements`]; encoding gives back the decoded bytes exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    elements: Vec<ProfileElement>,
}

impl Package {
    /// Decodes a package (concatenated DER elements) and checks its framing rules.
    pub fn decode(input: &[u8]) -> Result<Self, ProfileError> {
        let mut reader = Reader::new(input, 0);
        let mut elements = Vec::new();
        while let Some(tlv) = reader.next_tlv()? {
            elements.push(ProfileElement::decode_tlv(&tlv)?);
        }
        Self::from_elements(elements)
    }

    /// Wraps elements after checking: a header first and only there, an End last and only
    /// there, and unique PE `identification` values.
    pub fn from_elements(elements: Vec<ProfileElement>) -> Result<Self, ProfileError> {
        check(&elements)?;
        Ok(Self { elements })
    }

    /// The package's DER: the concatenation of its elements.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for e in &self.elements {
            e.encode_into(&mut out);
        }
        out
    }

    /// The elements, in order.
    pub fn elements(&self) -> &[ProfileElement] {
        &self.elements
    }

    /// The elements, in order, giving up the checked wrapper.
    pub fn into_elements(self) -> Vec<ProfileElement> {
        self.elements
    }

    /// The profile header.
    pub fn header(&self) -> Option<&ProfileHeader> {
        self.elements.iter().find_map(|e| match e {
            ProfileElement::Header(h) => Some(h),
            _ => None,
        })
    }

    /// The first PE-MF.
    pub fn mf(&self) -> Option<&MfElement> {
        self.elements.iter().find_map(|e| match e {
            ProfileElement::Mf(m) => Some(m),
            _ => None,
        })
    }

    /// The first PE-MF, mutably (its PE header cannot change through it).
    pub fn mf_mut(&mut self) -> Option<&mut MfElement> {
        self.elements.iter_mut().find_map(|e| match e {
            ProfileElement::Mf(m) => Some(m),
            _ => None,
        })
    }

    /// The first PE-USIM.
    pub fn usim(&self) -> Option<&UsimElement> {
        self.elements.iter().find_map(|e| match e {
            ProfileElement::Usim(u) => Some(u),
            _ => None,
        })
    }

    /// The first PE-USIM, mutably (its PE header cannot change through it).
    pub fn usim_mut(&mut self) -> Option<&mut UsimElement> {
        self.elements.iter_mut().find_map(|e| match e {
            ProfileElement::Usim(u) => Some(u),
            _ => None,
        })
    }
}

fn check(elements: &[ProfileElement]) -> Result<(), ProfileError> {
    let is_header = |e: &ProfileElement| matches!(e, ProfileElement::Header(_));
    match elements.first() {
        None => return Err(ProfileError::Empty),
        Some(first) if !is_header(first) => {
            return Err(match elements.iter().position(is_header) {
                Some(index) => ProfileError::HeaderNotFirst { index },
                None => ProfileError::MissingHeader,
            });
        }
        Some(_) => {}
    }
    let mut ids = HashSet::new();
    let mut seen_end = false;
    for (index, e) in elements.iter().enumerate().skip(1) {
        if seen_end {
            return Err(ProfileError::ElementAfterEnd { index });
        }
        match e {
            ProfileElement::Header(_) => return Err(ProfileError::DuplicateHeader { index }),
            ProfileElement::End(_) => seen_end = true,
            _ => {}
        }
        if let Some(h) = e.pe_header() {
            if !ids.insert(h.identification) {
                return Err(ProfileError::DuplicateIdentification {
                    id: h.identification,
                });
            }
        }
    }
    if seen_end {
        Ok(())
    } else {
        Err(ProfileError::MissingEnd)
    }
}

//! The handset a line is used in, as the host operator's network reports it (an EIR
//! check, or the IMEI on its usage records): the IMEI's parts and the forms a blocklist
//! entry may take, and what a report means to the risk rules (`risk::LineEvent::ImeiSeen`).
//!
//! An IMEI (3GPP TS 23.003 §6.2) is 14 digits that name the handset, the type allocation
//! code (TAC, 8 digits: the model) and the serial number, followed by a Luhn check digit
//! (15 digits) or, as an IMEISV, by a two-digit software version (16 digits). The network
//! sends the check digit as 0, so the 14 digits are what identifies a handset: two
//! reports name the same handset when their first 14 digits agree.

/// A reported IMEI: 14 (no check digit), 15 or 16 (IMEISV) decimal digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imei(String);

impl Imei {
    /// Parses 14 to 16 decimal digits; `None` otherwise. A 15th digit is not checked
    /// (the network reports it as 0).
    pub fn parse(s: &str) -> Option<Self> {
        ((14..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(s.to_owned()))
    }

    /// The digits as reported.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 14 digits that name the handset (TAC and serial number).
    pub fn body(&self) -> &str {
        &self.0[..14]
    }

    /// The type allocation code: the first 8 digits, naming the model (not the handset).
    pub fn tac(&self) -> &str {
        &self.0[..8]
    }

    /// The values a blocklist entry for this handset may hold: the IMEI as reported, its
    /// 14 digits, and the 15-digit IMEI with its check digit (an IMEISV entry matches only
    /// that software version).
    pub fn blocklist_forms(&self) -> Vec<String> {
        let body = self.body();
        let mut forms = vec![
            self.0.clone(),
            body.to_owned(),
            format!("{body}{}", check_digit(body)),
        ];
        forms.sort();
        forms.dedup();
        forms
    }
}

/// The Luhn check digit of an IMEI's 14 digits (TS 23.003 Annex B).
pub fn check_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b.wrapping_sub(b'0'));
            // Every second digit, counting from the first, is doubled.
            if i % 2 == 1 {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

/// What a report changes, given the handset the line was last reported in (its keyed
/// MAC and whether it was blocklisted then): `None` when nothing changed (the same
/// handset, blocklisted or not as before), so a feed that repeats itself writes nothing.
/// Otherwise whether it is another handset (the first report is the line's baseline, not
/// a change) and whether it is blocklisted now.
pub fn seen(last: Option<(&str, bool)>, mac: &str, blocked: bool) -> Option<Seen> {
    match last {
        Some((m, was_blocked)) if m == mac && was_blocked == blocked => None,
        Some((m, _)) => Some(Seen {
            changed: m != mac,
            blocked,
        }),
        None => Some(Seen {
            changed: false,
            blocked,
        }),
    }
}

/// A report that changes something (see [`seen`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Another handset than the last reported.
    pub changed: bool,
    /// The IMEI is on a blocklist in force.
    pub blocked: bool,
}

impl Seen {
    /// The risk event of this report; a handset that stopped being blocklisted hits
    /// nothing.
    pub fn event(self) -> super::risk::LineEvent {
        super::risk::LineEvent::ImeiSeen {
            blocked: self.blocked,
            changed: self.changed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parts_and_forms() {
        // TS 23.003 Annex B's example: 49015420323751 has check digit 8.
        assert_eq!(check_digit("49015420323751"), '8');
        let i = Imei::parse("4901542032375100").expect("imeisv");
        assert_eq!((i.body(), i.tac()), ("49015420323751", "49015420"));
        assert_eq!(
            i.blocklist_forms(),
            ["49015420323751", "4901542032375100", "490154203237518"]
        );
        // The network's 15 digits end in 0; the forms still hold the checked one.
        let n = Imei::parse("490154203237510").expect("imei");
        assert!(n.blocklist_forms().contains(&"490154203237518".to_owned()));
        assert_eq!(
            Imei::parse("49015420323751")
                .expect("14")
                .blocklist_forms()
                .len(),
            2
        );
        for bad in [
            "",
            "4901542032375",
            "49015420323751000",
            "49015420323751a",
            "４９",
        ] {
            assert_eq!(Imei::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn what_a_report_changes() {
        assert_eq!(seen(Some(("a", false)), "a", false), None);
        assert_eq!(seen(Some(("a", true)), "a", true), None);
        let s = |changed, blocked| Some(Seen { changed, blocked });
        assert_eq!(seen(None, "a", false), s(false, false), "the baseline");
        assert_eq!(seen(None, "a", true), s(false, true));
        assert_eq!(seen(Some(("a", false)), "b", false), s(true, false));
        // Blocklisted since the last report, or no longer.
        assert_eq!(seen(Some(("a", false)), "a", true), s(false, true));
        assert_eq!(seen(Some(("a", true)), "a", false), s(false, false));
    }

    proptest! {
        #[test]
        fn a_checked_imei_passes_luhn(body in "[0-9]{14}") {
            let full = format!("{body}{}", check_digit(&body));
            // Luhn over all 15 digits: doubling every second digit from the right.
            let sum: u32 = full.bytes().rev().enumerate().map(|(i, b)| {
                let d = u32::from(b - b'0');
                if i % 2 == 1 { let x = d * 2; x / 10 + x % 10 } else { d }
            }).sum();
            prop_assert_eq!(sum % 10, 0);
            let i = Imei::parse(&full).expect("parse");
            prop_assert_eq!(i.body(), body.as_str());
            prop_assert!(i.blocklist_forms().contains(&body));
        }
    }
}

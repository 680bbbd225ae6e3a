//! The porting rule table: one row per market, as data, like `compliance::markets`. Every
//! value cites the reference (`porting-and-compliance.md`, §1.1 to §1.6) or says it is our
//! choice. The operator's configuration (`[porting.<market>]`) may move the times of day and
//! the working hours of a row; `MarketPorting` holds the row with those applied.

use super::calendar::BusinessHours;
use super::credential::CredentialKind;
use super::local_time::{HOUR_MS, MINUTE_MS, Zone};
use super::portability::BlockClass;
use crate::compliance::markets::Market;

/// When the number moves to us, counted from the order's submission (processing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CutoverRule {
    /// At the next full local hour strictly after processing (China, §1.1 step 4, *press*).
    NextFullHour,
    /// On a working day D at this local minute, the earliest D whose lock is still ahead
    /// (UK §1.2, US §1.3, EU §1.4: one working day).
    WorkingDayAt {
        /// Local minute of the day the cutover is scheduled for.
        minute: u16,
    },
}

/// The point after which the order can no longer be cancelled or changed (§1.6: "the
/// pivot is the lock").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockRule {
    /// Locked as soon as it is processed: a Chinese port is done in one visit (§1.5 "n/a").
    AtSubmission,
    /// At this local minute of the working day before the cutover day (D-1).
    PreviousWorkingDayAt {
        /// Local minute of the day of D-1.
        minute: u16,
    },
}

/// What the order promises as its completion time (`promised_at`, §1.6), from its cutover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionRule {
    /// Done at the cutover itself.
    AtCutover,
    /// Done within this long after the cutover, in elapsed time.
    Within {
        /// Milliseconds after the cutover.
        ms: u64,
    },
    /// Done by the close of working hours on the cutover day.
    EndOfWorkingDay,
}

/// How long the donor (us, in a port-out) has to answer a port-out request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerDeadline {
    /// This long after the request, in elapsed time.
    Elapsed {
        /// Milliseconds.
        ms: u64,
    },
    /// This much working time after the request (working hours of working days only).
    WorkingTime {
        /// Milliseconds of working time.
        ms: u64,
    },
}

/// A market's port-out rules (the gateway's MVNO is the donor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortOutRules {
    /// How long we have to accept or reject a request: a stored timer (§1.6 "hub response
    /// deadline").
    pub answer: AnswerDeadline,
    /// Days that must have passed since the number's last port (China: 120, §1.1
    /// condition 5, counted from the last port, not from joining the network).
    pub min_days_since_last_port: Option<u32>,
}

/// One market's porting rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortingRules {
    /// The market of this row.
    pub market: Market,
    /// E.164 country code a number of this market starts with (`None`: not checked).
    pub country_code: Option<&'static str>,
    /// The zone local times of this row are in.
    pub zone: Zone,
    /// Working hours of a working day.
    pub hours: BusinessHours,
    /// The credential a port-in needs.
    pub credential: CredentialKind,
    /// How long a credential is valid after the donor issued it (`None`: no expiry).
    pub credential_validity_ms: Option<u64>,
    /// When the cutover happens.
    pub cutover: CutoverRule,
    /// When the order locks.
    pub lock: LockRule,
    /// What completion the order promises.
    pub completion: CompletionRule,
    /// The cancel acknowledgement windows (initial, final) after which an unanswered
    /// cancel becomes a conflict (`None`: a cancel before the lock is final at once).
    pub cancel_ack_windows_ms: Option<[u64; 2]>,
    /// A requested cutover day may be at most this many days after submission (0: a
    /// requested day is not accepted). 30 in the working-day markets: the UK PAC's
    /// validity (§1.2), and our choice elsewhere.
    pub max_days_ahead: u16,
    /// Port-out rules (`None`: we do not act as donor in this market).
    pub port_out: Option<PortOutRules>,
    /// A temporary number is issued with the new SIM until the cutover (§1.6 `Draft`:
    /// "a temporary MSISDN may be reserved").
    pub temporary_number: bool,
    /// Number blocks never portable, as E.164 prefixes, unless configured otherwise.
    pub default_non_portable: &'static [(&'static str, BlockClass)],
}

impl PortingRules {
    /// The default row of a market.
    pub fn of(market: Market) -> &'static Self {
        match market {
            Market::Cn => &CN,
            Market::Uk => &UK,
            Market::Us => &US,
            Market::EuFr => &EU_FR,
            Market::EuGeneric => &EU_GENERIC,
        }
    }
}

const fn hours(open: u16, close: u16) -> BusinessHours {
    match BusinessHours::new(open, close) {
        Some(h) => h,
        None => panic!("business hours out of order"),
    }
}

/// 09:00 to 18:00 local: our choice for every market (no source gives hub hours); the
/// operator may set its own (`business_hours`).
const OFFICE_HOURS: BusinessHours = hours(9 * 60, 18 * 60);

/// Two working hours to answer a port-out: our choice (the request must be answered well
/// before the D-1 lock, and no source gives the hubs' deadline).
const TWO_WORKING_HOURS: AnswerDeadline = AnswerDeadline::WorkingTime { ms: 2 * HOUR_MS };

/// The blocks §1.1 lists as never portable, as the gateway stores numbers (E.164 digits
/// with the country code). The carriers' lists end in "etc.", so this is configuration.
const CN_NON_PORTABLE: &[(&str, BlockClass)] = &[
    // Mobile resale (MVNO) blocks, §1.1 and §2.7.
    ("86170", BlockClass::Mvno),
    ("86171", BlockClass::Mvno),
    ("86162", BlockClass::Mvno),
    ("86165", BlockClass::Mvno),
    ("86167", BlockClass::Mvno),
    // Satellite mobile, §1.1.
    ("861349", BlockClass::Satellite),
    ("86174", BlockClass::Satellite),
    // Dedicated IoT blocks, §1.1.
    ("86140", BlockClass::Iot),
    ("86141", BlockClass::Iot),
    ("86142", BlockClass::Iot),
    ("86143", BlockClass::Iot),
    ("86144", BlockClass::Iot),
    ("86146", BlockClass::Iot),
    ("86148", BlockClass::Iot),
    ("86149", BlockClass::Iot),
    ("861064", BlockClass::Iot),
];

/// China (携号转网, §1.1, §1.5): the 授权码 is valid 1 h; the port takes effect at the next
/// full hour after the gaining operator processes it, in one visit, so there is nothing
/// to cancel after submission; no temporary number (a new SIM is issued and the port
/// completes within the hour); 120 days since the last port before porting out again.
/// Port-out: §1.1 lets only basic operators port, so for an MVNO this applies to numbers
/// from the host's ordinary ranges, through the host (*inference*; §1.6 lists port-out for
/// UK/EU/US only, while §1.1's conditions apply to every mainland number); the answer
/// deadline of 15 min is our choice (the port completes within the hour).
static CN: PortingRules = PortingRules {
    market: Market::Cn,
    country_code: Some("86"),
    zone: Zone::CHINA,
    hours: OFFICE_HOURS,
    credential: CredentialKind::CnAuthCode,
    credential_validity_ms: Some(HOUR_MS),
    cutover: CutoverRule::NextFullHour,
    lock: LockRule::AtSubmission,
    completion: CompletionRule::AtCutover,
    cancel_ack_windows_ms: None,
    max_days_ahead: 0,
    port_out: Some(PortOutRules {
        answer: AnswerDeadline::Elapsed { ms: 15 * MINUTE_MS },
        min_days_since_last_port: Some(120),
    }),
    temporary_number: false,
    default_non_portable: CN_NON_PORTABLE,
};

/// UK (Ofcom text-to-switch, §1.2, §1.5): PAC valid 30 days; the switch completes within
/// one working day; the hub locks the request at 17:00 on the working day before the port
/// (one vendor: 18:00, so `lock_time` is configurable); cancel or postpone until then.
/// Our choices: the cutover is scheduled for 09:00 on the port day and promised by the
/// close of that working day; a requested day at most 30 days ahead (the PAC's validity);
/// a temporary number until the port (§1.6).
static UK: PortingRules = PortingRules {
    market: Market::Uk,
    country_code: Some("44"),
    zone: Zone::UK,
    hours: OFFICE_HOURS,
    credential: CredentialKind::UkPac,
    credential_validity_ms: Some(30 * 24 * HOUR_MS),
    cutover: CutoverRule::WorkingDayAt { minute: 9 * 60 },
    lock: LockRule::PreviousWorkingDayAt { minute: 17 * 60 },
    completion: CompletionRule::EndOfWorkingDay,
    cancel_ack_windows_ms: None,
    max_days_ahead: 30,
    port_out: Some(PortOutRules {
        answer: TWO_WORKING_HOURS,
        min_days_since_last_port: None,
    }),
    temporary_number: true,
    default_non_portable: &[],
};

/// US (§1.3, §1.5): account number and PIN, no code and so no validity. We implement the
/// simple port with a firm order confirmation (FOC) on the next business day (FCC 09-41:
/// one business day) at 09:00 Eastern (our choice), promised within the 2.5 h wireless
/// target after it (*secondary tutorial*). The lock is NANC 012's conflict restriction
/// window, 12:00 on the business day before the due date, after which the old provider
/// can no longer dispute; one provider's "no cancel within 48 h of FOC" is that
/// provider's rule, not implemented. A cancel's two concurrence windows are 9 h each
/// (NANC 388). Port-out answer: one business hour, NANC's short T1 timer (§1.3, "about
/// 1 h"; counting it in business hours is our choice). Eastern time for the whole market
/// and a temporary number until the port are our choices.
static US: PortingRules = PortingRules {
    market: Market::Us,
    country_code: Some("1"),
    zone: Zone::US_EASTERN,
    hours: OFFICE_HOURS,
    credential: CredentialKind::UsAccountPin,
    credential_validity_ms: None,
    cutover: CutoverRule::WorkingDayAt { minute: 9 * 60 },
    lock: LockRule::PreviousWorkingDayAt { minute: 12 * 60 },
    completion: CompletionRule::Within {
        ms: 2 * HOUR_MS + 30 * MINUTE_MS,
    },
    cancel_ack_windows_ms: Some([9 * HOUR_MS, 9 * HOUR_MS]),
    max_days_ahead: 30,
    port_out: Some(PortOutRules {
        answer: AnswerDeadline::WorkingTime { ms: HOUR_MS },
        min_days_since_last_port: None,
    }),
    temporary_number: true,
    default_non_portable: &[],
};

/// France (§1.4): the RIO, valid while the line is active (no expiry); activation within
/// one working day (EECC Art. 106(1)); the recipient may cancel until "GO Portability"
/// (GOP), sent on D-1. GOP's time of day is not in the sources: 17:00 is our
/// (conservative) choice, configurable. Cutover at 09:00 on D and no temporary number are
/// our choices.
static EU_FR: PortingRules = PortingRules {
    market: Market::EuFr,
    country_code: Some("33"),
    zone: Zone::CENTRAL_EUROPE,
    hours: OFFICE_HOURS,
    credential: CredentialKind::FrRio,
    credential_validity_ms: None,
    cutover: CutoverRule::WorkingDayAt { minute: 9 * 60 },
    lock: LockRule::PreviousWorkingDayAt { minute: 17 * 60 },
    completion: CompletionRule::EndOfWorkingDay,
    cancel_ack_windows_ms: None,
    max_days_ahead: 30,
    port_out: Some(PortOutRules {
        answer: TWO_WORKING_HOURS,
        min_days_since_last_port: None,
    }),
    temporary_number: false,
    default_non_portable: &[],
};

/// Other EU states (§1.4): one working day (EECC Art. 106(1)); credentials are national,
/// so only a generic shape is checked. Our choices: Central European Time (member states
/// in other zones need their own market), the France-like D-1 17:00 lock, 09:00 cutover,
/// no country-code check, no temporary number.
static EU_GENERIC: PortingRules = PortingRules {
    market: Market::EuGeneric,
    country_code: None,
    zone: Zone::CENTRAL_EUROPE,
    hours: OFFICE_HOURS,
    credential: CredentialKind::NationalCode,
    credential_validity_ms: None,
    cutover: CutoverRule::WorkingDayAt { minute: 9 * 60 },
    lock: LockRule::PreviousWorkingDayAt { minute: 17 * 60 },
    completion: CompletionRule::EndOfWorkingDay,
    cancel_ack_windows_ms: None,
    max_days_ahead: 30,
    port_out: Some(PortOutRules {
        answer: TWO_WORKING_HOURS,
        min_days_since_last_port: None,
    }),
    temporary_number: false,
    default_non_portable: &[],
};

#[cfg(test)]
mod tests {
    use super::*;

    /// One row's expected values, in the order of the list.
    struct Row {
        credential: CredentialKind,
        validity_h: Option<u64>,
        cutover: CutoverRule,
        lock: LockRule,
        completion: CompletionRule,
        cancel_ack_h: Option<[u64; 2]>,
        port_out: Option<(AnswerDeadline, Option<u32>)>,
        temporary_number: bool,
        zone: &'static str,
        country: Option<&'static str>,
    }

    fn check(market: Market, want: Row) {
        let r = PortingRules::of(market);
        assert_eq!(r.market, market);
        assert_eq!(r.credential, want.credential, "{market:?}");
        assert_eq!(
            r.credential_validity_ms,
            want.validity_h.map(|h| h * HOUR_MS),
            "{market:?}"
        );
        assert_eq!(r.cutover, want.cutover, "{market:?}");
        assert_eq!(r.lock, want.lock, "{market:?}");
        assert_eq!(r.completion, want.completion, "{market:?}");
        assert_eq!(
            r.cancel_ack_windows_ms,
            want.cancel_ack_h.map(|w| w.map(|h| h * HOUR_MS)),
            "{market:?}"
        );
        assert_eq!(
            r.port_out.map(|p| (p.answer, p.min_days_since_last_port)),
            want.port_out,
            "{market:?}"
        );
        assert_eq!(r.temporary_number, want.temporary_number, "{market:?}");
        assert_eq!(r.zone.name, want.zone, "{market:?}");
        assert_eq!(r.country_code, want.country, "{market:?}");
        assert_eq!(r.hours, OFFICE_HOURS, "{market:?}");
    }

    const D1_0900: CutoverRule = CutoverRule::WorkingDayAt { minute: 540 };

    #[test]
    fn every_row() {
        check(
            Market::Cn,
            Row {
                credential: CredentialKind::CnAuthCode,
                validity_h: Some(1),
                cutover: CutoverRule::NextFullHour,
                lock: LockRule::AtSubmission,
                completion: CompletionRule::AtCutover,
                cancel_ack_h: None,
                port_out: Some((AnswerDeadline::Elapsed { ms: 15 * MINUTE_MS }, Some(120))),
                temporary_number: false,
                zone: "Asia/Shanghai",
                country: Some("86"),
            },
        );
        check(
            Market::Uk,
            Row {
                credential: CredentialKind::UkPac,
                validity_h: Some(30 * 24),
                cutover: D1_0900,
                lock: LockRule::PreviousWorkingDayAt { minute: 1020 },
                completion: CompletionRule::EndOfWorkingDay,
                cancel_ack_h: None,
                port_out: Some((TWO_WORKING_HOURS, None)),
                temporary_number: true,
                zone: "Europe/London",
                country: Some("44"),
            },
        );
        check(
            Market::Us,
            Row {
                credential: CredentialKind::UsAccountPin,
                validity_h: None,
                cutover: D1_0900,
                lock: LockRule::PreviousWorkingDayAt { minute: 720 },
                completion: CompletionRule::Within { ms: 9_000_000 },
                cancel_ack_h: Some([9, 9]),
                port_out: Some((AnswerDeadline::WorkingTime { ms: HOUR_MS }, None)),
                temporary_number: true,
                zone: "America/New_York",
                country: Some("1"),
            },
        );
        check(
            Market::EuFr,
            Row {
                credential: CredentialKind::FrRio,
                validity_h: None,
                cutover: D1_0900,
                lock: LockRule::PreviousWorkingDayAt { minute: 1020 },
                completion: CompletionRule::EndOfWorkingDay,
                cancel_ack_h: None,
                port_out: Some((TWO_WORKING_HOURS, None)),
                temporary_number: false,
                zone: "Europe/Paris",
                country: Some("33"),
            },
        );
        check(
            Market::EuGeneric,
            Row {
                credential: CredentialKind::NationalCode,
                validity_h: None,
                cutover: D1_0900,
                lock: LockRule::PreviousWorkingDayAt { minute: 1020 },
                completion: CompletionRule::EndOfWorkingDay,
                cancel_ack_h: None,
                port_out: Some((TWO_WORKING_HOURS, None)),
                temporary_number: false,
                zone: "Europe/Paris",
                country: None,
            },
        );
    }

    #[test]
    fn rows_are_consistent() {
        for m in Market::ALL {
            let r = PortingRules::of(m);
            // A next-full-hour cutover locks at submission, a working-day one on D-1.
            match (r.cutover, r.lock) {
                (CutoverRule::NextFullHour, LockRule::AtSubmission) => {
                    assert_eq!(r.max_days_ahead, 0, "{m:?}");
                }
                (CutoverRule::WorkingDayAt { minute }, LockRule::PreviousWorkingDayAt { .. }) => {
                    assert!(
                        (r.hours.open()..r.hours.close()).contains(&minute),
                        "{m:?}: the cutover is within working hours"
                    );
                    assert!(r.max_days_ahead > 0, "{m:?}");
                }
                other => panic!("{m:?}: cutover and lock do not fit: {other:?}"),
            }
            for (prefix, _) in r.default_non_portable {
                let cc = r.country_code.unwrap_or("");
                assert!(
                    prefix.starts_with(cc) && prefix.len() > cc.len(),
                    "{m:?} {prefix}"
                );
                assert!(prefix.bytes().all(|b| b.is_ascii_digit()), "{m:?} {prefix}");
            }
        }
    }

    #[test]
    fn china_lists_every_block_of_section_1_1() {
        let cn = PortingRules::of(Market::Cn).default_non_portable;
        let of = |class| {
            cn.iter()
                .filter(|(_, c)| *c == class)
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            of(BlockClass::Mvno),
            ["86170", "86171", "86162", "86165", "86167"]
        );
        assert_eq!(of(BlockClass::Satellite), ["861349", "86174"]);
        assert_eq!(of(BlockClass::Iot).len(), 9);
        // §2.7: 166 is an ordinary Unicom block, not resale.
        assert!(!cn.iter().any(|(p, _)| "86166".starts_with(p)));
    }
}

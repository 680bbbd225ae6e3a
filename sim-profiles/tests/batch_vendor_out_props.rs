//! Vendor `.out` properties: files generated independently of the writer, with a random
//! column order, a random subset of the optional columns and random quirks (CRLF, `F`
//! padding, missing Luhn digit, lower-case hex, comma or whitespace separators, blank
//! lines), parse back to their cards; `write_vendor_out` round-trips; arbitrary or mutated
//! text never panics; and Debug never shows a key.

use proptest::prelude::*;
use sim_profiles::batch::{
    BatchHeader, CardRecord, KeyField, ParseOptions, ParseReport, SecretDigits, parse_vendor_out,
    parse_vendor_out_bytes, write_vendor_out,
};
use sim_profiles::{Iccid, Key128, Plmn};

fn plmn(s: &str) -> Plmn {
    s.parse().expect("test PLMN")
}

fn tenant() -> ParseOptions {
    ParseOptions {
        plmn: Some(plmn("00101")),
        iccid_len: None,
        skip_duplicate_check: false,
    }
}

/// Neither the report's Debug nor any reject's Display shows a key: no run of 32 hex
/// characters with a letter in it (an EID is 32 digits), and none of the records' keys.
fn assert_no_key_in_debug(report: &ParseReport) {
    let debug = format!("{report:?}");
    let shown: String = report.rejects.iter().map(|r| format!("{r}\n")).collect();
    for text in [&debug, &shown] {
        let hex_runs = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .filter(|run| run.len() >= 32 && !run.bytes().all(|b| b.is_ascii_digit()))
            .count();
        assert!(hex_runs == 0, "hex run in {text}");
        for rec in &report.records {
            for k in [&rec.ki, &rec.opc, &rec.op].into_iter().flatten() {
                let hex = k.key().expose_hex();
                assert!(!text.contains(&hex), "key in clear in {text}");
                assert!(
                    !text.contains(&hex.to_lowercase()),
                    "key in clear in {text}"
                );
            }
        }
    }
}

/// The invented data of one card; uniqueness comes from the card's index.
#[derive(Debug, Clone)]
struct Card {
    ki: [u8; 16],
    opc: [u8; 16],
    op: [u8; 16],
    pin1: String,
    puk1: String,
    pin2: String,
    puk2: String,
    adm1: String,
    acc: u16,
    msisdn: String,
}

fn card_data() -> impl Strategy<Value = Card> {
    (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        "[0-9]{4,8}",
        "[0-9]{8}",
        "[0-9]{4,8}",
        "[0-9]{8}",
        "[0-9]{8}",
        any::<u16>(),
        "[1-9][0-9]{9,12}",
    )
        .prop_map(
            |(ki, opc, op, pin1, puk1, pin2, puk2, adm1, acc, msisdn)| Card {
                ki,
                opc,
                op,
                pin1,
                puk1,
                pin2,
                puk2,
                adm1,
                acc,
                msisdn,
            },
        )
}

const OPTIONAL: [&str; 10] = [
    "PIN1", "PUK1", "PIN2", "PUK2", "ADM1", "KI", "OPC", "OP", "ACC", "MSISDN",
];

/// ICCID, IMSI and a random subset of the optional columns, in random order.
fn columns() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(OPTIONAL.to_vec(), 0..=OPTIONAL.len()).prop_flat_map(|mut cols| {
        cols.push("ICCID");
        cols.push("IMSI");
        Just(cols).prop_shuffle()
    })
}

#[derive(Debug, Clone)]
struct Quirks {
    crlf: bool,
    f_pad: bool,
    drop_luhn: bool,
    lower_hex: bool,
    commas: bool,
    /// 19 or 20.
    iccid_len: usize,
    /// Tell the parser the issuer's ICCID length.
    configure_len: bool,
    /// A blank line before each row.
    blank_lines: bool,
}

fn quirks() -> impl Strategy<Value = Quirks> {
    (
        any::<[bool; 7]>(),
        prop_oneof![Just(19usize), Just(20usize)],
    )
        .prop_map(
            |(
                [
                    crlf,
                    f_pad,
                    drop_luhn,
                    lower_hex,
                    commas,
                    configure_len,
                    blank_lines,
                ],
                iccid_len,
            )| Quirks {
                crlf,
                f_pad,
                drop_luhn,
                lower_hex,
                commas,
                iccid_len,
                configure_len,
                blank_lines,
            },
        )
}

fn payload(i: usize, iccid_len: usize) -> String {
    // 18 or 19 digits: "8947" + index.
    format!("8947{i:0width$}", width = iccid_len - 5)
}

fn imsi_of(i: usize) -> String {
    format!("24201{i:010}")
}

/// The record the parser should return for card `i` under `columns`.
fn expected_record(i: usize, c: &Card, columns: &[&str], q: &Quirks, line: usize) -> CardRecord {
    let mut rec = CardRecord {
        line,
        iccid: Iccid::from_payload(&payload(i, q.iccid_len)).expect("payload"),
        imsi: imsi_of(i).parse().expect("imsi"),
        ki: None,
        opc: None,
        op: None,
        pin1: None,
        puk1: None,
        pin2: None,
        puk2: None,
        adm1: None,
        acc: None,
        extra: Vec::new(),
    };
    for col in columns {
        match *col {
            "KI" => rec.ki = Some(KeyField::Clear(Key128::from_bytes(c.ki))),
            "OPC" => rec.opc = Some(KeyField::Clear(Key128::from_bytes(c.opc))),
            "OP" => rec.op = Some(KeyField::Clear(Key128::from_bytes(c.op))),
            "PIN1" => rec.pin1 = SecretDigits::new(&c.pin1),
            "PUK1" => rec.puk1 = SecretDigits::new(&c.puk1),
            "PIN2" => rec.pin2 = SecretDigits::new(&c.pin2),
            "PUK2" => rec.puk2 = SecretDigits::new(&c.puk2),
            "ADM1" => rec.adm1 = SecretDigits::new(&c.adm1),
            "ACC" => rec.acc = Some(c.acc),
            "MSISDN" => rec.extra.push(("MSISDN".into(), c.msisdn.clone())),
            _ => {}
        }
    }
    rec
}

fn hex(bytes: &[u8], lower: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if lower {
                format!("{b:02x}")
            } else {
                format!("{b:02X}")
            }
        })
        .collect()
}

/// A `.out` file written independently of `write_vendor_out`, with quirks; returns the
/// text, the options to parse it with, and the records it must give.
fn generate(
    cards: &[Card],
    columns: &[&str],
    q: &Quirks,
) -> (String, ParseOptions, Vec<CardRecord>) {
    let eol = if q.crlf { "\r\n" } else { "\n" };
    let mut lines = vec![
        "*HEADER DESCRIPTION".to_owned(),
        "Customer : PROP TEST".to_owned(),
        format!("Quantity : {}", cards.len()),
        "*INPUT VARIABLES".to_owned(),
        "var_In:".to_owned(),
        format!(" ICCID: {}", payload(0, q.iccid_len)),
        "*OUTPUT VARIABLES".to_owned(),
        format!("var_Out: {}", columns.join("/")),
    ];
    let mut records = Vec::new();
    for (i, c) in cards.iter().enumerate() {
        if q.blank_lines {
            lines.push(String::new());
        }
        let full = Iccid::from_payload(&payload(i, q.iccid_len)).expect("payload");
        let mut iccid = if q.drop_luhn {
            payload(i, q.iccid_len)
        } else {
            full.as_str().to_owned()
        };
        if q.f_pad {
            iccid.push(if q.lower_hex { 'f' } else { 'F' });
        }
        let values: Vec<String> = columns
            .iter()
            .map(|col| match *col {
                "ICCID" => iccid.clone(),
                "IMSI" => imsi_of(i),
                "KI" => hex(&c.ki, q.lower_hex),
                "OPC" => hex(&c.opc, q.lower_hex),
                "OP" => hex(&c.op, q.lower_hex),
                "PIN1" => c.pin1.clone(),
                "PUK1" => c.puk1.clone(),
                "PIN2" => c.pin2.clone(),
                "PUK2" => c.puk2.clone(),
                "ADM1" => c.adm1.clone(),
                "ACC" => hex(&c.acc.to_be_bytes(), q.lower_hex),
                "MSISDN" => c.msisdn.clone(),
                _ => String::new(),
            })
            .collect();
        lines.push(values.join(if q.commas { "," } else { " " }));
        records.push(expected_record(i, c, columns, q, lines.len()));
    }
    let mut text = lines.join(eol);
    text.push_str(eol);
    // A payload without Luhn digit is only unambiguous at 18 digits, or when configured.
    let configure = q.configure_len || (q.drop_luhn && q.iccid_len == 20);
    let opts = ParseOptions {
        plmn: Some(plmn("24201")),
        iccid_len: configure.then_some(q.iccid_len),
        skip_duplicate_check: false,
    };
    (text, opts, records)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_files_with_quirks_parse_back(
        cards in prop::collection::vec(card_data(), 1..12),
        columns in columns(),
        q in quirks(),
    ) {
        let (text, opts, want) = generate(&cards, &columns, &q);
        let report = parse_vendor_out(&text, &opts);
        prop_assert!(report.is_ok(), "{:?}", report);
        let report = report.expect("checked");
        prop_assert_eq!(&report.rejects, &[]);
        prop_assert_eq!(&report.records, &want);
        prop_assert_eq!(report.header.quantity, Some(cards.len() as u64));
        assert_no_key_in_debug(&report);
    }

    #[test]
    fn writer_round_trips(
        cards in prop::collection::vec(card_data(), 0..12),
        columns in columns(),
        iccid_len in prop_oneof![Just(19usize), Just(20usize)],
        encrypted in any::<bool>(),
    ) {
        let q = Quirks { crlf: false, f_pad: false, drop_luhn: false, lower_hex: false,
            commas: false, iccid_len, configure_len: false, blank_lines: false };
        let mut fields = vec![
            ("Customer".to_owned(), "PROP TEST".to_owned()),
            ("Quantity".to_owned(), cards.len().to_string()),
        ];
        if encrypted {
            fields.push(("Transport_key".to_owned(), "5".to_owned()));
        }
        let header = BatchHeader::from_fields(fields).expect("header");
        let mut want: Vec<CardRecord> = cards
            .iter()
            .enumerate()
            .map(|(i, c)| expected_record(i, c, &columns, &q, 0))
            .collect();
        if encrypted {
            for rec in &mut want {
                for k in [&mut rec.ki, &mut rec.opc, &mut rec.op] {
                    *k = k.take().map(|f| KeyField::Encrypted(f.key().clone()));
                }
            }
        }
        let text = write_vendor_out(&header, &columns, &want);
        let var_out = text.lines().position(|l| l.starts_with("var_Out")).expect("var_Out line");
        for (i, rec) in want.iter_mut().enumerate() {
            rec.line = var_out + 2 + i;
        }
        let report = parse_vendor_out(&text, &ParseOptions::default()).expect("parse");
        prop_assert_eq!(&report.header, &header);
        prop_assert_eq!(&report.rejects, &[]);
        prop_assert_eq!(&report.records, &want);
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        "[ -~\\r\\n\\t]{0,300}",
        "(var_out: ?[A-Za-z1_/ ]{0,40}\\n|[0-9A-Fa-f ,*:]{0,60}\\n|Quantity ?: ?[0-9]{0,3}\\n){0,12}",
    ]) {
        for opts in [ParseOptions::default(), tenant(), ParseOptions { plmn: None, iccid_len: Some(20), skip_duplicate_check: false }] {
            if let Ok(report) = parse_vendor_out(&text, &opts) {
                let lines = text.split('\n').count();
                prop_assert!(report.records.iter().all(|r| (1..=lines).contains(&r.line)));
                prop_assert!(report.rejects.iter().all(|r| (1..=lines).contains(&r.line)));
            }
            let _ = parse_vendor_out_bytes(text.as_bytes(), &opts);
        }
    }

    #[test]
    fn mutated_files_never_panic_or_show_keys(
        cards in prop::collection::vec(card_data(), 1..6),
        columns in columns(),
        q in quirks(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let (text, opts, _) = generate(&cards, &columns, &q);
        let mut bytes = text.into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
        }
        if let Ok(report) = parse_vendor_out_bytes(&bytes, &opts) {
            assert_no_key_in_debug(&report);
        }
    }
}

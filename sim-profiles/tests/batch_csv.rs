//! pySim-style CSV batches (reference §7): named, reordered, quoted columns; reject
//! reasons on their own lines; file-level errors; and properties (generated files with
//! random columns, quoting and line endings parse back to their cards; arbitrary text
//! never panics; Debug never shows a key).

use proptest::prelude::*;
use sim_profiles::batch::{
    BatchError, BatchHeader, CardRecord, CsvParser, KeyField, ParseOptions, ParseReport, Reject,
    RejectReason, SecretDigits, parse_csv, parse_csv_bytes,
};
use sim_profiles::{IdentError, Key128};

const CARDS: &str = include_str!("fixtures/cards.csv");

fn key(hex: &str) -> Key128 {
    Key128::from_hex(hex).expect("test key")
}

fn digits(s: &str) -> Option<SecretDigits> {
    Some(SecretDigits::new(s).expect("test digits"))
}

fn card(line: usize, iccid: &str, imsi: &str) -> CardRecord {
    CardRecord {
        line,
        iccid: iccid.parse().expect("test ICCID"),
        imsi: imsi.parse().expect("test IMSI"),
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
    }
}

fn parse(text: &str) -> ParseReport {
    let report = parse_csv(text, &ParseOptions::default()).expect("file-level parse");
    assert_no_key_in_debug(&report);
    report
}

/// No run of 32 hex characters with a letter in it (a key; an EID is 32 digits) in the
/// report's Debug or the rejects' Display.
fn assert_no_key_in_debug(report: &ParseReport) {
    let shown = format!(
        "{report:?}{}",
        report
            .rejects
            .iter()
            .map(|r| format!("{r}\n"))
            .collect::<String>()
    );
    let hex_runs = shown
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|run| run.len() >= 32 && !run.bytes().all(|b| b.is_ascii_digit()))
        .count();
    assert!(hex_runs == 0, "hex run in {shown}");
}

#[test]
fn fixture_with_quotes_and_reordered_columns() {
    let report = parse(CARDS);
    assert_eq!(report.rejects, []);
    assert_eq!(report.header, BatchHeader::default());

    let mut first = card(2, "8988211000000530082", "001010000000201");
    first.ki = Some(KeyField::Clear(key("6A0F2B3C4D5E6F708192A3B4C5D6E7F8")));
    first.opc = Some(KeyField::Clear(key("39D7B9E8B0A68F6D8F9B8B4B1E3D2C10")));
    first.acc = Some(0x0002);
    first.adm1 = digits("47110815");
    first.pin1 = digits("1234");
    first.puk1 = digits("12345678");
    first.extra = vec![
        ("msisdn".into(), "+4790000201".into()),
        ("name".into(), "Shop \"North\", Oslo".into()),
    ];

    let mut second = card(3, "8988211000000530108", "001010000000202");
    second.ki = Some(KeyField::Clear(key("A1B2C3D4E5F60718293A4B5C6D7E8F90")));
    second.opc = Some(KeyField::Clear(key("90B8D5E7F6A1B2C3D4E5F60718293A4B")));
    second.acc = Some(0x0004);
    second.adm1 = digits("47110816");
    second.pin1 = digits("4321");
    second.puk1 = digits("87654321");
    second.extra = vec![
        ("msisdn".into(), String::new()),
        ("name".into(), "plain".into()),
    ];
    assert_eq!(report.records, [first, second]);
}

#[test]
fn streaming_gives_the_same_report_as_whole_text() {
    let mut parser = CsvParser::new(&ParseOptions::default()).expect("options");
    for line in CARDS.lines() {
        parser.push_line(line).expect("line");
    }
    assert_eq!(parser.finish().expect("finish"), parse(CARDS));
}

#[test]
fn pysim_minimal_personalisation_csv() {
    let text = "iccid,imsi,mcc,mnc,smsp,ki,opc,acc,pin_adm\n\
                8988211000000530082,001010000000201,001,01,,\
                6a0f2b3c4d5e6f708192a3b4c5d6e7f8,39d7b9e8b0a68f6d8f9b8b4b1e3d2c10,0002,3131313131313131\n";
    let report = parse(text);
    let rec = &report.records[0];
    assert_eq!(rec.adm1, digits("11111111"));
    assert_eq!(
        rec.ki,
        Some(KeyField::Clear(key("6A0F2B3C4D5E6F708192A3B4C5D6E7F8")))
    );
    let extra: Vec<&str> = rec.extra.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(extra, ["mcc", "mnc", "smsp"]);
}

#[test]
fn encrypted_and_secret_columns() {
    let text = "ICCID;IMSI;EKI;KIC1;SCP02_ENC_1;adm2;EID\r\n\
                8988211000000530082;001010000000201;6A0F2B3C4D5E6F708192A3B4C5D6E7F8;\
                00112233445566778899AABBCCDDEEFF;FFEEDDCCBBAA99887766554433221100;12345678;\
                89049032123451234512345678901235\r\n";
    let report = parse(text);
    let rec = &report.records[0];
    assert_eq!(
        rec.ki,
        Some(KeyField::Encrypted(key("6A0F2B3C4D5E6F708192A3B4C5D6E7F8")))
    );
    // OTA and SCP keys and other ADM codes are dropped; the EID is kept.
    assert_eq!(
        rec.extra,
        [("EID".into(), "89049032123451234512345678901235".into())]
    );
}

#[test]
fn bom_crlf_blank_lines_and_tabs() {
    let text = "\u{feff}iccid\timsi\tacc\r\n\r\n8988211000000530082\t001010000000201\t0002\r\n\r\n";
    let report = parse(text);
    let mut want = card(3, "8988211000000530082", "001010000000201");
    want.acc = Some(2);
    assert_eq!(report.records, [want]);
}

#[test]
fn bytes_with_invalid_utf8() {
    let text = b"iccid,imsi,name\n8988211000000530082,001010000000201,Caf\xe9\n";
    let report = parse_csv_bytes(text, &ParseOptions::default()).expect("parse");
    assert_eq!(report.records[0].extra[0].1, "Caf\u{fffd}");
}

// ---------------------------------------------------------------------------------------
// Rejects, each alone after a good row and then all in one file.

const HEADER: &str = "iccid,imsi,ki,pin1,acc,name";
const GOOD: &str =
    "8988211000000530082,001010000000201,6A0F2B3C4D5E6F708192A3B4C5D6E7F8,1234,0002,x";

fn bad_rows() -> Vec<(String, RejectReason)> {
    let iccid = |n: u8| format!("8988211000000540{n:02}");
    let imsi = |n: u8| format!("0010100000003{n:02}");
    let ki = "6A0F2B3C4D5E6F708192A3B4C5D6E7F8";
    let row = |n: u8, tail: &str| format!("{},{},{tail}", iccid(n), imsi(n));
    let column = |c: &str| c.to_owned();
    vec![
        (
            row(1, &format!("{ki},1234,0002")),
            RejectReason::WrongFieldCount {
                expected: 6,
                got: 5,
            },
        ),
        (
            row(2, &format!("{ki},1234,0002,\"open")),
            RejectReason::BadQuoting,
        ),
        (
            row(3, &format!("{ki},1234,0002,\"closed\"trailing")),
            RejectReason::BadQuoting,
        ),
        (
            row(4, &format!("{ki},1234,0002,st\"ray")),
            RejectReason::BadQuoting,
        ),
        (
            format!(",{},{ki},1234,0002,x", imsi(5)),
            RejectReason::BadIccid(IdentError::Empty { kind: "ICCID" }),
        ),
        (
            format!("89000123456789012342,{},{ki},1234,0002,x", imsi(6)),
            RejectReason::BadLuhn,
        ),
        (
            format!("{},\"\",{ki},1234,0002,x", iccid(7)),
            RejectReason::BadImsi(IdentError::Empty { kind: "IMSI" }),
        ),
        (
            row(8, "6A0F2B3C4D5E6F708192A3B4C5D6E7F,1234,0002,x"),
            RejectReason::BadKeyLength {
                column: column("ki"),
            },
        ),
        (
            row(9, "6A0F2B3C4D5E6F708192A3B4C5D6E7FZ,1234,0002,x"),
            RejectReason::BadHex {
                column: column("ki"),
            },
        ),
        (
            row(10, &format!("{ki},123456789,0002,x")),
            RejectReason::BadDigits {
                column: column("pin1"),
            },
        ),
        (
            row(11, &format!("{ki},1234,00002,x")),
            RejectReason::BadHex {
                column: column("acc"),
            },
        ),
        (
            format!("8988211000000530082,{},{ki},1234,0002,x", imsi(12)),
            RejectReason::DuplicateIccid { first_line: 2 },
        ),
        (
            format!("{},001010000000201,{ki},1234,0002,x", iccid(13)),
            RejectReason::DuplicateImsi { first_line: 2 },
        ),
    ]
}

fn check(bad: &str, reason: &RejectReason) {
    let report = parse(&format!("{HEADER}\n{GOOD}\n{bad}\n"));
    assert_eq!(report.records.len(), 1, "{bad}");
    assert_eq!(
        report.rejects,
        [Reject {
            line: 3,
            reason: reason.clone()
        }],
        "{bad}"
    );
}

#[test]
fn each_reject_reason_alone() {
    for (bad, reason) in bad_rows() {
        check(&bad, &reason);
    }
}

#[test]
fn every_rejected_line_is_reported() {
    let table = bad_rows();
    let mut text = format!("{HEADER}\n{GOOD}\n\n");
    let mut want = Vec::new();
    for (i, (bad, reason)) in table.iter().enumerate() {
        text.push_str(bad);
        text.push('\n');
        want.push(Reject {
            line: 4 + i,
            reason: reason.clone(),
        });
    }
    let report = parse(&text);
    assert_eq!(report.rejects, want);
    assert_eq!(report.records.len(), 1);
}

#[test]
fn plmn_option_applies_to_csv() {
    let opts = ParseOptions {
        plmn: Some("00102".parse().expect("PLMN")),
        iccid_len: None,
        skip_duplicate_check: false,
    };
    let report = parse_csv(&format!("{HEADER}\n{GOOD}\n"), &opts).expect("parse");
    assert_eq!(
        report.rejects,
        [Reject {
            line: 2,
            reason: RejectReason::ImsiOutsidePlmn
        }]
    );
}

#[test]
fn file_level_errors() {
    let cases: Vec<(&str, BatchError)> = vec![
        ("", BatchError::MissingHeaderRow),
        ("\r\n  \n", BatchError::MissingHeaderRow),
        (
            "imsi,ki\n",
            BatchError::MissingColumn {
                column: "ICCID",
                line: 1,
            },
        ),
        (
            "\nICCID,KI\n",
            BatchError::MissingColumn {
                column: "IMSI",
                line: 2,
            },
        ),
        (",,\n", BatchError::NoColumns { line: 1 }),
        ("iccid,\"imsi\n", BatchError::MalformedHeaderRow { line: 1 }),
        (
            "iccid,imsi,adm1,pin_adm\n",
            BatchError::DuplicateColumn {
                column: "pin_adm".into(),
                line: 1,
            },
        ),
        (
            "iccid,imsi,ki,eki\n",
            BatchError::DuplicateColumn {
                column: "eki".into(),
                line: 1,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            parse_csv(text, &ParseOptions::default()),
            Err(want),
            "{text:?}"
        );
    }
    let bad_opts = ParseOptions {
        plmn: None,
        iccid_len: Some(21),
        skip_duplicate_check: false,
    };
    assert_eq!(
        parse_csv(CARDS, &bad_opts),
        Err(BatchError::InvalidIccidLength { len: 21 })
    );
}

// ---------------------------------------------------------------------------------------
// Properties.

#[derive(Debug, Clone)]
struct Card {
    ki: [u8; 16],
    opc: [u8; 16],
    pin1: String,
    puk1: String,
    adm1: String,
    acc: u16,
    name: String,
}

fn card_data() -> impl Strategy<Value = Card> {
    (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        "[0-9]{4,8}",
        "[0-9]{8}",
        "[0-9]{8}",
        any::<u16>(),
        // Names with the characters quoting exists for.
        "[a-zA-Z ,\"]{0,12}",
    )
        .prop_map(|(ki, opc, pin1, puk1, adm1, acc, name)| Card {
            ki,
            opc,
            pin1,
            puk1,
            adm1,
            acc,
            name,
        })
}

const OPTIONAL: [&str; 6] = ["ki", "opc", "pin1", "puk1", "adm1", "acc"];

fn columns() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(OPTIONAL.to_vec(), 0..=OPTIONAL.len()).prop_flat_map(|mut cols| {
        cols.extend(["iccid", "imsi", "name"]);
        Just(cols).prop_shuffle()
    })
}

/// RFC 4180 quoting.
fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('"', "\"\""))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_csv_parses_back(
        cards in prop::collection::vec((card_data(), any::<u8>()), 1..10),
        columns in columns(),
        crlf in any::<bool>(),
        upper_header in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let header: Vec<String> = columns
            .iter()
            .map(|c| if upper_header { c.to_uppercase() } else { (*c).to_owned() })
            .collect();
        let mut text = header.join(",") + eol;
        let mut want = Vec::new();
        for (i, (c, quote_mask)) in cards.iter().enumerate() {
            let iccid = sim_profiles::Iccid::from_payload(&format!("8947{i:014}")).expect("payload");
            let imsi = format!("24201{i:010}");
            let mut rec = card(i + 2, iccid.as_str(), &imsi);
            let mut values = Vec::new();
            for (j, col) in columns.iter().enumerate() {
                let name = &header[j];
                let v = match *col {
                    "iccid" => iccid.as_str().to_owned(),
                    "imsi" => imsi.clone(),
                    "ki" => {
                        rec.ki = Some(KeyField::Clear(Key128::from_bytes(c.ki)));
                        hex(&c.ki)
                    }
                    "opc" => {
                        rec.opc = Some(KeyField::Clear(Key128::from_bytes(c.opc)));
                        hex(&c.opc)
                    }
                    "pin1" => { rec.pin1 = digits(&c.pin1); c.pin1.clone() }
                    "puk1" => { rec.puk1 = digits(&c.puk1); c.puk1.clone() }
                    "adm1" => { rec.adm1 = digits(&c.adm1); c.adm1.clone() }
                    "acc" => { rec.acc = Some(c.acc); format!("{:04X}", c.acc) }
                    _ => {
                        rec.extra.push((name.clone(), c.name.trim().to_owned()));
                        c.name.clone()
                    }
                };
                // Names with a comma or quote must be quoted; others randomly.
                let must = v.contains([',', '"']) || v.trim() != v;
                values.push(if must || quote_mask & (1 << (j % 8)) != 0 { quote(&v) } else { v });
            }
            text.push_str(&values.join(","));
            text.push_str(eol);
            want.push(rec);
        }
        let report = parse_csv(&text, &ParseOptions::default()).expect("parse");
        prop_assert_eq!(&report.rejects, &[]);
        prop_assert_eq!(&report.records, &want);
        assert_no_key_in_debug(&report);
    }

    #[test]
    fn arbitrary_text_never_panics(text in prop_oneof![
        any::<String>(),
        "[ -~\\r\\n\\t]{0,300}",
        "(iccid,imsi(,ki|,acc|,pin1)*\\n)?([0-9A-Fa-f\",; ]{0,50}\\r?\\n){0,10}",
    ]) {
        for opts in [ParseOptions::default(), ParseOptions { plmn: None, iccid_len: Some(19), skip_duplicate_check: false }] {
            if let Ok(report) = parse_csv(&text, &opts) {
                let lines = text.split('\n').count();
                prop_assert!(report.records.iter().all(|r| (1..=lines).contains(&r.line)));
                prop_assert!(report.rejects.iter().all(|r| (1..=lines).contains(&r.line)));
                assert_no_key_in_debug(&report);
            }
            let _ = parse_csv_bytes(text.as_bytes(), &opts);
        }
    }
}

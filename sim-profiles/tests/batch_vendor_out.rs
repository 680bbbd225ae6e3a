//! Vendor `.out` batch files (reference §6): the §6.1 example, every reject reason on its
//! own line, the tolerated variations, file-level errors and a 10,000-card file. The
//! properties are in `batch_vendor_out_props.rs`.

use sim_profiles::batch::{
    BatchError, BatchHeader, CardRecord, KeyField, ParseOptions, ParseReport, Reject, RejectReason,
    SecretDigits, VendorOutParser, parse_vendor_out, parse_vendor_out_bytes, write_vendor_out,
};
use sim_profiles::{Iccid, IdentError, Imsi, Key128, Plmn};

const EXAMPLE: &str = include_str!("fixtures/example_6_1.out");
const TRANSPORT: &str = include_str!("fixtures/transport_key.out");

fn key(hex: &str) -> Key128 {
    Key128::from_hex(hex).expect("test key")
}

fn digits(s: &str) -> Option<SecretDigits> {
    Some(SecretDigits::new(s).expect("test digits"))
}

fn plmn(s: &str) -> Plmn {
    s.parse().expect("test PLMN")
}

/// A record with only the identities set.
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

fn parse(text: &str, opts: &ParseOptions) -> ParseReport {
    let report = parse_vendor_out(text, opts).expect("file-level parse");
    assert_no_key_in_debug(&report);
    report
}

/// Neither the report's Debug nor any reject's Display shows a key: no run of 32 hex
/// characters with a letter in it, and none of the records' keys.
fn assert_no_key_in_debug(report: &ParseReport) {
    let debug = format!("{report:?}");
    let shown: String = report.rejects.iter().map(|r| format!("{r}\n")).collect();
    for text in [&debug, &shown] {
        let hex_runs = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .filter(|run| run.len() >= 32 && !run.bytes().all(|b| b.is_ascii_digit()))
            .count();
        assert!(hex_runs == 0, "hex run in {text}");
    }
    // Exact search too, on reports small enough for it to stay cheap.
    for rec in report.records.iter().take(50) {
        for k in [&rec.ki, &rec.opc, &rec.op].into_iter().flatten() {
            let hex = k.key().expose_hex();
            for text in [&debug, &shown] {
                assert!(!text.contains(&hex), "key in clear in {text}");
                assert!(
                    !text.contains(&hex.to_lowercase()),
                    "key in clear in {text}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The §6.1 example.

#[test]
fn example_6_1_parses_to_three_cards() {
    let report = parse(EXAMPLE, &ParseOptions::default());
    assert_eq!(report.rejects, []);
    let h = &report.header;
    assert_eq!(h.quantity, Some(3));
    assert_eq!(h.batch_id.as_deref(), Some("EXM0105A"));
    assert_eq!(h.profile_type.as_deref(), Some("EXM_USIM_V1"));
    assert_eq!(h.transport_key_index, None);
    assert_eq!(h.plmn, None);
    let keys: Vec<&str> = h.fields.iter().map(|(k, _)| k.as_str()).collect();
    // The var_In block ("ICCID: …", "IMSI: …") is not header.
    assert_eq!(
        keys,
        [
            "Customer",
            "ProfileType",
            "Order Date",
            "Batch No",
            "Quantity",
            "Graph_ref"
        ]
    );
    assert_eq!(h.fields[0].1, "EXAMPLE MVNO LTD");

    let expected = [
        (
            19,
            "8986990999000001013",
            "001010000000101",
            ["5419", "65815337", "2411", "61253416", "82253445"],
            "17DB7564FC02DB7EAAB1C92164C6F0AA",
            "390F61FC0D05462E3C421C3B14B33EA2",
            0x0002,
        ),
        (
            20,
            "8986990999000001021",
            "001010000000102",
            ["7104", "27528639", "6263", "49554152", "49829693"],
            "97A397BACBAE3D9B27160B1FCE7E7B91",
            "AD4D5D692C16CAD741DC9619CC30215F",
            0x0004,
        ),
        (
            21,
            "8986990999000001039",
            "001010000000103",
            ["4677", "14490771", "3917", "78038923", "72485560"],
            "68C4E56F63C21C6EBB5B50CB27BEC27D",
            "83DE5F1AD033D28ECD2B9F00F70BBA0D",
            0x0008,
        ),
    ];
    assert_eq!(report.records.len(), expected.len());
    for (rec, (line, iccid, imsi, [pin1, puk1, pin2, puk2, adm1], ki, opc, acc)) in
        report.records.iter().zip(expected)
    {
        let mut want = card(line, iccid, imsi);
        want.pin1 = digits(pin1);
        want.puk1 = digits(puk1);
        want.pin2 = digits(pin2);
        want.puk2 = digits(puk2);
        want.adm1 = digits(adm1);
        want.ki = Some(KeyField::Clear(key(ki)));
        want.opc = Some(KeyField::Clear(key(opc)));
        want.acc = Some(acc);
        assert_eq!(rec, &want);
        // ACC = 1 << last IMSI digit (how the example was built).
        let last = imsi.bytes().last().map_or(0, |b| b - b'0');
        assert_eq!(rec.acc, Some(1 << last));
    }
    let debug = format!("{report:?}");
    assert!(debug.contains("Key128(***)") && debug.contains("SecretDigits(***)"));
    assert!(!debug.contains("65815337"), "PUK in clear: {debug}");
}

#[test]
fn streaming_gives_the_same_report_as_whole_text() {
    let mut parser = VendorOutParser::new(&ParseOptions::default()).expect("options");
    for line in EXAMPLE.lines() {
        parser.push_line(line).expect("line");
    }
    let streamed = parser.finish().expect("finish");
    assert_eq!(streamed, parse(EXAMPLE, &ParseOptions::default()));
}

#[test]
fn parsed_example_round_trips_through_the_writer() {
    let opts = ParseOptions::default();
    let report = parse(EXAMPLE, &opts);
    let columns = [
        "ICCID", "IMSI", "PIN1", "PUK1", "PIN2", "PUK2", "ADM1", "KI", "OPC", "ACC",
    ];
    let text = write_vendor_out(&report.header, &columns, &report.records);
    let again = parse(&text, &opts);
    assert_eq!(again.header, report.header);
    assert_eq!(again.rejects, []);
    assert_eq!(without_lines(again.records), without_lines(report.records));
}

fn without_lines(mut records: Vec<CardRecord>) -> Vec<CardRecord> {
    for r in &mut records {
        r.line = 0;
    }
    records
}

// ---------------------------------------------------------------------------------------
// Rejects: one table, each row checked alone (after a good row, on line 3) and then all
// together in one file, where every bad line must be reported with its own line number.

const COLUMNS: &str = "var_out: ICCID/IMSI/PIN1/PUK1/KI/OPC/ACC/MSISDN";
const NAMES: [&str; 8] = [
    "ICCID", "IMSI", "PIN1", "PUK1", "KI", "OPC", "ACC", "MSISDN",
];
const KI: &str = "17DB7564FC02DB7EAAB1C92164C6F0AA";
const OPC: &str = "390F61FC0D05462E3C421C3B14B33EA2";
/// Row 0 of the `COLUMNS` layout, with the identities of the §6.1 example's first card.
const GOOD: &str = "8986990999000001013F 001010000000101 1234 12345678 \
                    17DB7564FC02DB7EAAB1C92164C6F0AA 390F61FC0D05462E3C421C3B14B33EA2 0002 4790000101";

/// A good row of the `COLUMNS` layout with identities unique to `n`, then `column` set to
/// `value` (no column matches `""`).
fn row_with(n: usize, column: &str, value: &str) -> String {
    let mut fields = [
        // Complete 19-digit ICCIDs like GOOD's: a file writes all its ICCIDs one way.
        format!(
            "{}F",
            Iccid::from_payload(&format!("8986990999000002{n:02}")).expect("payload")
        ),
        format!("0010100000002{n:02}"),
        "1234".into(),
        "12345678".into(),
        KI.into(),
        OPC.into(),
        "0002".into(),
        "4790000101".into(),
    ];
    if let Some(f) = NAMES
        .iter()
        .position(|c| *c == column)
        .and_then(|i| fields.get_mut(i))
    {
        *f = value.to_owned();
    }
    fields.join(" ")
}

fn bad_rows() -> Vec<(String, RejectReason)> {
    use RejectReason as R;
    let col = |c: &str| c.to_owned();
    let iccid = |e| R::BadIccid(e);
    let imsi = |e| R::BadImsi(e);
    let len = |kind, expected, got| IdentError::Length {
        kind,
        expected,
        got,
    };
    let count = |got| R::WrongFieldCount { expected: 8, got };
    vec![
        ("8986990999000001021F 001010000000102 1234".into(), count(3)),
        (row_with(1, "MSISDN", "4790000101 extra"), count(9)),
        (
            row_with(2, "ICCID", "89869909990000010X1F"),
            iccid(IdentError::NotDigits { kind: "ICCID" }),
        ),
        (
            row_with(3, "ICCID", "89869909990000011"),
            iccid(len("ICCID", "18 to 20", 17)),
        ),
        (row_with(4, "ICCID", "89000123456789012342"), R::BadLuhn),
        (
            row_with(5, "IMSI", "0010100000001041"),
            imsi(len("IMSI", "6 to 15", 16)),
        ),
        (
            row_with(6, "IMSI", "00101000000010X"),
            imsi(IdentError::NotDigits { kind: "IMSI" }),
        ),
        (row_with(7, "IMSI", "001020000000106"), R::ImsiOutsidePlmn),
        (
            row_with(8, "KI", "17DB7564FC02DB7EAAB1C92164C6F0AG"),
            R::BadHex { column: col("KI") },
        ),
        (
            row_with(9, "OPC", "390F61FC0D05462E3C421C3B14B33E"),
            R::BadKeyLength { column: col("OPC") },
        ),
        (
            row_with(10, "PIN1", "12a4"),
            R::BadDigits {
                column: col("PIN1"),
            },
        ),
        (
            row_with(11, "PIN1", "123"),
            R::BadDigits {
                column: col("PIN1"),
            },
        ),
        (
            row_with(12, "PUK1", "1234567"),
            R::BadDigits {
                column: col("PUK1"),
            },
        ),
        (
            row_with(13, "ACC", "00G2"),
            R::BadHex { column: col("ACC") },
        ),
        (
            row_with(14, "ACC", "+002"),
            R::BadHex { column: col("ACC") },
        ),
        // GOOD's ICCID, written without F, and GOOD's IMSI.
        (
            row_with(15, "ICCID", "8986990999000001013"),
            R::DuplicateIccid { first_line: 3 },
        ),
        (
            row_with(16, "IMSI", "001010000000101"),
            R::DuplicateImsi { first_line: 3 },
        ),
    ]
}

fn tenant() -> ParseOptions {
    ParseOptions {
        plmn: Some(plmn("00101")),
        iccid_len: None,
        skip_duplicate_check: false,
    }
}

/// A `.out` file of just the `COLUMNS` line (line 2) and `rows` (from line 3).
fn file(rows: &[&str]) -> String {
    let mut text = format!("*OUTPUT VARIABLES\n{COLUMNS}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

/// A file with the good row (line 3) and `bad` (line 4) gives one record and `reason`.
fn check(bad: &str, reason: &RejectReason) {
    let report = parse(&file(&[GOOD, bad]), &tenant());
    assert_eq!(report.records.len(), 1, "{bad}");
    let want = Reject {
        line: 4,
        reason: reason.clone(),
    };
    assert_eq!(report.rejects, [want], "{bad}");
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
    // Good rows between the bad ones, so line numbers are not consecutive.
    let mut rows = vec![GOOD.to_owned()];
    let mut want = Vec::new();
    for (i, (bad, reason)) in table.iter().enumerate() {
        rows.push(row_with(50 + i, "", ""));
        rows.push(bad.clone());
        // rows[0] is on line 3.
        want.push(Reject {
            line: 2 + rows.len(),
            reason: reason.clone(),
        });
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    let report = parse(&file(&refs), &tenant());
    assert_eq!(report.rejects, want);
    assert_eq!(report.records.len(), table.len() + 1);
}

#[test]
fn a_copy_of_a_rejected_row_is_still_a_duplicate() {
    let bad_key = row_with(1, "KI", "XX");
    let report = parse(&file(&[&bad_key, &bad_key]), &tenant());
    let ki_length = RejectReason::BadKeyLength {
        column: "KI".into(),
    };
    let duplicate = RejectReason::DuplicateIccid { first_line: 3 };
    assert_eq!(
        report.rejects,
        [
            Reject {
                line: 3,
                reason: ki_length
            },
            Reject {
                line: 4,
                reason: duplicate
            },
        ]
    );
}

#[test]
fn reject_messages_name_the_column_but_never_the_value() {
    let bad = row_with(1, "KI", "17DB7564FC02DB7EAAB1C92164C6F0AG");
    let report = parse(&file(&[&bad]), &tenant());
    let shown = report.rejects[0].to_string();
    assert_eq!(shown, "line 3: column KI is not valid hexadecimal");
    assert!(!format!("{report:?}").contains("17DB7564"));
}

// ---------------------------------------------------------------------------------------
// Tolerated variations.

#[test]
fn crlf_blank_lines_lower_hex_missing_luhn_trailing_f_and_commas() {
    let text = "\u{feff}HEADER DESCRIPTION\r\n\r\n\
        quantity:3\r\n\
        ****\r\n\
        INPUT VARIABLES\r\n\
        var_In:\r\n ICCID: 898699099900000101\r\n\
        *OUTPUT VARIABLES\r\n\
        var_out : ICCID / IMSI / KI / ACC\r\n\
        \r\n\
        898699099900000101 001010000000101 17db7564fc02db7eaab1c92164c6f0aa 0002\r\n\
        \r\n\
        898699099900000102f,001010000000102,97A397BACBAE3D9B27160B1FCE7E7B91,0004,\r\n\
        \t898699099900000103F\t001010000000103   68c4E56F63C21C6EBB5B50CB27BEC27D 000a  \r\n\
        ***************\r\n\
        *END\r\n";
    let report = parse(text, &ParseOptions::default());
    assert_eq!(report.rejects, []);
    assert_eq!(report.header.quantity, Some(3));
    assert_eq!(report.header.fields, [("quantity".into(), "3".into())]);
    let want: Vec<CardRecord> = [
        (11, "8986990999000001013", "001010000000101", KI, 2),
        (
            13,
            "8986990999000001021",
            "001010000000102",
            "97A397BACBAE3D9B27160B1FCE7E7B91",
            4,
        ),
        (
            14,
            "8986990999000001039",
            "001010000000103",
            "68C4E56F63C21C6EBB5B50CB27BEC27D",
            10,
        ),
    ]
    .into_iter()
    .map(|(line, iccid, imsi, ki, acc)| {
        let mut c = card(line, iccid, imsi);
        c.ki = Some(KeyField::Clear(key(ki)));
        c.acc = Some(acc);
        c
    })
    .collect();
    assert_eq!(report.records, want);
}

#[test]
fn transport_key_header_makes_keys_encrypted() {
    let report = parse(TRANSPORT, &ParseOptions::default());
    assert_eq!(report.rejects, []);
    let h = &report.header;
    assert_eq!(
        (h.quantity, h.transport_key_index, h.batch_id.as_deref()),
        (Some(2), Some(11), Some("EXM0212B"))
    );
    assert_eq!(h.profile_type.as_deref(), Some("EXM_USIM_ENC"));
    assert_eq!(h.plmn, Some(plmn("24201")));
    let first = &report.records[0];
    assert_eq!(
        first.iccid,
        Iccid::from_payload("894701000000000010").expect("payload")
    );
    assert_eq!(first.line, 14);
    assert_eq!(
        first.ki,
        Some(KeyField::Encrypted(key("0F1E2D3C4B5A69788796A5B4C3D2E1F0")))
    );
    assert_eq!(
        first.opc,
        Some(KeyField::Encrypted(key("00112233445566778899AABBCCDDEEFF")))
    );
    // MSISDN is kept; KIC1 (an OTA key) is dropped.
    assert_eq!(first.extra, [("MSISDN".into(), "4790000001".into())]);
    assert!(!format!("{report:?}").contains("7D2B0C6A"));
}

/// The KI column of a one-card file with the given header line.
fn ki_with_header(header: &str, column: &str) -> Option<KeyField> {
    let text = format!(
        "{header}\nvar_out: ICCID/IMSI/{column}\n8986990999000001013 001010000000101 {KI}\n"
    );
    parse(&text, &ParseOptions::default()).records[0].ki.clone()
}

#[test]
fn key_columns_clear_or_encrypted() {
    let clear = Some(KeyField::Clear(key(KI)));
    let encrypted = Some(KeyField::Encrypted(key(KI)));
    let cases = [
        ("Customer : X", "KI", &clear),
        ("Transport_key : 11", "KI", &encrypted),
        ("TRANSPORT KEY : 11", "Ki", &encrypted),
        ("OP Key Index : 3", "KI", &encrypted),
        // Index 0 means no encryption (reference §6.3).
        ("Transport_key : 0", "KI", &clear),
        // EKI is ciphertext whatever the header says.
        ("Customer : X", "EKI", &encrypted),
        ("Transport_key : 0", "EKI", &encrypted),
    ];
    for (header, column, want) in cases {
        assert_eq!(&ki_with_header(header, column), want, "{header} / {column}");
    }
}

#[test]
fn header_keys_match_tolerantly() {
    let check = |lines: &[&str], quantity, tki, batch: Option<&str>, plmn_: Option<&str>| {
        let fields = lines
            .iter()
            .map(|l| {
                let (k, v) = l.split_once(':').expect("test line");
                (k.trim().to_owned(), v.trim().to_owned())
            })
            .collect();
        let h = BatchHeader::from_fields(fields).expect("header");
        assert_eq!(h.quantity, quantity, "{lines:?}");
        assert_eq!(h.transport_key_index, tki, "{lines:?}");
        assert_eq!(h.batch_id.as_deref(), batch, "{lines:?}");
        assert_eq!(h.plmn, plmn_.map(plmn), "{lines:?}");
    };
    check(&["Quantity : 10"], Some(10), None, None, None);
    check(&["Quanitity : 10"], Some(10), None, None, None);
    check(
        &["QUANTITY: 10", "Quantity : 99"],
        Some(10),
        None,
        None,
        None,
    );
    check(&["Batch No : B1"], None, None, Some("B1"), None);
    check(&["Batch: B2"], None, None, Some("B2"), None);
    check(&["batch_no : B3"], None, None, Some("B3"), None);
    check(&["Transport_key : 11"], None, Some(11), None, None);
    check(&["OP Key Index : 7"], None, Some(7), None, None);
    check(&["MCC.MNC : 242.01"], None, None, None, Some("24201"));
    check(&["MCC/MNC : 302/361"], None, None, None, Some("302361"));
    check(&["Quantity :"], None, None, None, None);

    for bad in [
        "Quantity : 3 cards",
        "Quantity : +3",
        "Transport_key : 70000",
        "MCC.MNC : 24",
    ] {
        let (k, v) = bad.split_once(':').expect("test line");
        let err = BatchHeader::from_fields(vec![(k.trim().into(), v.trim().into())]);
        assert_eq!(
            err,
            Err(BatchError::BadHeaderValue {
                key: k.trim().into()
            }),
            "{bad}"
        );
    }
}

#[test]
fn configured_iccid_length_instead_of_guessing() {
    // 8986990999000001013 is Luhn-valid, so without configuration it is a full ICCID;
    // with a 20-digit issuer it is the payload of 89869909990000010138.
    let cases: [(&str, Option<usize>, Result<&str, RejectReason>); 7] = [
        ("8986990999000001013", None, Ok("8986990999000001013")),
        ("8986990999000001013", Some(19), Ok("8986990999000001013")),
        ("8986990999000001013F", Some(20), Ok("89869909990000010138")),
        ("898699099900000101", Some(19), Ok("8986990999000001013")),
        ("89869909990000010138", Some(20), Ok("89869909990000010138")),
        ("89869909990000010139", Some(20), Err(RejectReason::BadLuhn)),
        (
            "89869909990000010138",
            Some(19),
            Err(RejectReason::BadIccid(IdentError::Length {
                kind: "ICCID",
                expected: "19 (configured), or 18 without the check digit",
                got: 20,
            })),
        ),
    ];
    for (input, len, want) in cases {
        let text = format!("var_out: ICCID/IMSI\n{input} 001010000000101\n");
        let opts = ParseOptions {
            plmn: None,
            iccid_len: len,
            skip_duplicate_check: false,
        };
        let report = parse(&text, &opts);
        let got = match (report.records.first(), report.rejects.first()) {
            (Some(r), None) => Ok(r.iccid.as_str().to_owned()),
            (None, Some(r)) => Err(r.reason.clone()),
            _ => panic!("one record or one reject for {input}"),
        };
        assert_eq!(got, want.map(str::to_owned), "{input} with {len:?}");
    }
}

#[test]
fn ef_coded_iccid_and_imsi_and_ascii_hex_codes() {
    let imsi: Imsi = "001010000000101".parse().expect("IMSI");
    let ef_imsi: String = imsi
        .to_ef_bytes()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let text = format!(
        "var_out: ICCID/IMSI/PIN1/ADM1\n\
         989444999999990971f1 {ef_imsi} 31323334FFFFFFFF 3838383838383838\n\
         8949449999999990023 001010000000102 3132FFFFFFFFFFFF 31FF3131FFFFFFFF\n"
    );
    let report = parse(&text, &ParseOptions::default());
    let first = &report.records[0];
    assert_eq!(first.iccid.as_str(), "8949449999999990171");
    assert_eq!(first.imsi, imsi);
    assert_eq!(first.pin1, digits("1234"));
    assert_eq!(first.adm1, digits("88888888"));
    // "12" is too short for a PIN.
    assert_eq!(
        report.rejects,
        [Reject {
            line: 3,
            reason: RejectReason::BadDigits {
                column: "PIN1".into()
            }
        }]
    );
}

#[test]
fn empty_values_in_comma_rows_are_absent() {
    let text = "var_out: ICCID/IMSI/KI/PIN1/ACC\n\
                8986990999000001013,001010000000101,,,\n";
    let report = parse(text, &ParseOptions::default());
    assert_eq!(
        report.records,
        [card(2, "8986990999000001013", "001010000000101")]
    );
}

#[test]
fn imsi1_stands_in_for_imsi_and_ser_nb_for_iccid() {
    let text = "var_Out: Ser_nb/IMSI1/IMSI2\n8986990999000001013 001010000000101 001010000000901\n";
    let report = parse(text, &ParseOptions::default());
    let mut want = card(2, "8986990999000001013", "001010000000101");
    want.extra = vec![("IMSI2".into(), "001010000000901".into())];
    assert_eq!(report.records, [want]);
}

#[test]
fn unknown_and_secret_columns_are_dropped() {
    // A vendor's own name for a key must not land in `extra` (and so in logs).
    let text = format!(
        "var_out: ICCID/IMSI/OP_C_X/KIC1/KID2/ADM2/SYSPIN/PRINT_1/EID\n\
         8986990999000001013 001010000000101 {KI} {KI} {KI} 12345678 1234 ABC \
         89049032123451234512345678901235\n"
    );
    let report = parse(&text, &ParseOptions::default());
    assert_eq!(
        report.records[0].extra,
        [
            ("PRINT_1".into(), "ABC".into()),
            ("EID".into(), "89049032123451234512345678901235".into()),
        ]
    );
}

#[test]
fn bytes_with_latin1_header() {
    let mut bytes = b"Customer : Soci\xe9t\xe9 X\nQuantity : 1\nvar_out: ICCID/IMSI\n".to_vec();
    bytes.extend_from_slice(b"8986990999000001013 001010000000101\n");
    let report = parse_vendor_out_bytes(&bytes, &ParseOptions::default()).expect("parse");
    assert_eq!(report.records.len(), 1);
    assert_eq!(report.header.fields[0].1, "Soci\u{fffd}t\u{fffd} X");
}

// ---------------------------------------------------------------------------------------
// File-level errors.

#[test]
fn file_level_errors() {
    let row = "8986990999000001013 001010000000101 00";
    let cases: Vec<(String, BatchError)> = vec![
        (format!("Quantity : 1\n{row}\n"), BatchError::MissingVarOut),
        (String::new(), BatchError::MissingVarOut),
        ("var_out:\n".into(), BatchError::NoColumns { line: 1 }),
        ("var_out: / /\n".into(), BatchError::NoColumns { line: 1 }),
        (
            "\nvar_out: IMSI/KI\n".into(),
            BatchError::MissingColumn {
                column: "ICCID",
                line: 2,
            },
        ),
        (
            "var_out: ICCID/KI\n".into(),
            BatchError::MissingColumn {
                column: "IMSI",
                line: 1,
            },
        ),
        (
            "var_out: ICCID/IMSI/KI/EKI\n".into(),
            BatchError::DuplicateColumn {
                column: "EKI".into(),
                line: 1,
            },
        ),
        (
            "var_out: ICCID/IMSI/ICCID\n".into(),
            BatchError::DuplicateColumn {
                column: "ICCID".into(),
                line: 1,
            },
        ),
        (
            format!("Quantity : 2\nvar_out: ICCID/IMSI/ACC\n{row}\n"),
            BatchError::QuantityMismatch {
                expected: 2,
                found: 1,
            },
        ),
        (
            format!("Quantity : 0\nvar_out: ICCID/IMSI/ACC\n{row}\n"),
            BatchError::QuantityMismatch {
                expected: 0,
                found: 1,
            },
        ),
        (
            "Quantity : three\nvar_out: ICCID/IMSI\n".into(),
            BatchError::BadHeaderValue {
                key: "Quantity".into(),
            },
        ),
        (
            "var_out: ICCID/IMSI\nvar_Out: ICCID/IMSI\n".into(),
            BatchError::MultipleVarOut {
                first_line: 1,
                line: 2,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            parse_vendor_out(&text, &ParseOptions::default()),
            Err(want),
            "{text:?}"
        );
    }
    let bad_opts = ParseOptions {
        plmn: None,
        iccid_len: Some(18),
        skip_duplicate_check: false,
    };
    assert_eq!(
        parse_vendor_out(EXAMPLE, &bad_opts),
        Err(BatchError::InvalidIccidLength { len: 18 })
    );
}

#[test]
fn quantity_counts_rejected_rows_too() {
    let text = "Quantity : 2\nvar_out: ICCID/IMSI\n8986990999000001013 001010000000101\nbad row\n";
    let report = parse(text, &ParseOptions::default());
    assert_eq!(report.records.len(), 1);
    assert_eq!(report.rejects.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Scale: a generated 10,000-card file (correctness only).

#[test]
fn ten_thousand_cards() {
    let n = 10_000u32;
    let mut text = format!("Quantity : {n}\nTransport_key : 2\nvar_out: ICCID/IMSI/KI/ACC\n");
    for i in 0..n {
        let payload = format!("8947010{i:011}");
        text.push_str(&format!(
            "{payload}F 24201{i:010} {:032X} {:04X}\n",
            u128::from(i) * 0x0101_0101,
            1u16 << (i % 10)
        ));
    }
    let report = parse(&text, &ParseOptions::default());
    assert_eq!(report.rejects, []);
    assert_eq!(report.records.len(), 10_000);
    for (i, rec) in (0..n).zip(&report.records) {
        assert_eq!(rec.line, usize::try_from(i).expect("small") + 4);
        let payload = format!("8947010{i:011}");
        assert_eq!(rec.iccid, Iccid::from_payload(&payload).expect("payload"));
        assert_eq!(rec.imsi.as_str(), format!("24201{i:010}"));
        let ki = Key128::from_bytes((u128::from(i) * 0x0101_0101).to_be_bytes());
        assert_eq!(rec.ki, Some(KeyField::Encrypted(ki)));
        assert_eq!(rec.acc, Some(1 << (i % 10)));
    }
}

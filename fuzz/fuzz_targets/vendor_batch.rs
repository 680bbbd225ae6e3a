//! The vendor batch parsers (`.out` and CSV): any bytes give a report or a typed error,
//! never a panic, whatever the parse options.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_profiles::Plmn;
use sim_profiles::batch::{ParseOptions, parse_csv_bytes, parse_vendor_out_bytes};
use std::sync::OnceLock;

fn options() -> &'static [ParseOptions] {
    static OPTIONS: OnceLock<Vec<ParseOptions>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let plmn: Plmn = "00101".parse().expect("fixed PLMN");
        vec![
            ParseOptions::default(),
            ParseOptions {
                plmn: Some(plmn),
                iccid_len: Some(19),
                skip_duplicate_check: false,
            },
            ParseOptions {
                plmn: None,
                iccid_len: Some(20),
                skip_duplicate_check: true,
            },
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    for opts in options() {
        let _ = parse_vendor_out_bytes(data, opts);
        let _ = parse_csv_bytes(data, opts);
    }
});

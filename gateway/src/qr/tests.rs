//! Every rendering is scanned back with an independent decoder (rqrr) and must give the
//! input byte for byte; the SVG and terminal forms are also read back to the module grid.

use super::*;
use adapters::es2plus::ActivationCode;
use proptest::prelude::*;

/// The reference's four Activation Code shapes, as QR content.
fn reference_examples() -> Vec<String> {
    let base = || ActivationCode::new("SMDP.EXAMPLE.NET", "K7QF-M3XH-8PZ2-R9DW").expect("ac");
    vec![
        base().to_qr_string(),
        base().with_cc_required(true).expect("cc").to_qr_string(),
        base()
            .with_oid("1.3.6.1.4.1.99999.1")
            .expect("oid")
            .to_qr_string(),
        base()
            .with_oid("1.3.6.1.4.1.99999.1")
            .expect("oid")
            .with_cc_required(true)
            .expect("cc")
            .to_qr_string(),
    ]
}

/// Scans a greyscale image; exactly one symbol must be found.
fn scan(w: usize, h: usize, pixel: impl FnMut(usize, usize) -> u8) -> (rqrr::MetaData, Vec<u8>) {
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, pixel);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR symbol");
    let mut out = Vec::new();
    let meta = grids[0].decode_to(&mut out).expect("decodes");
    (meta, out)
}

/// Decodes our PNG with the `png` crate and checks its geometry.
fn png_pixels(bytes: &[u8]) -> (usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    assert_eq!(info.width, info.height);
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "expanded from 1 bit");
    let w = info.width as usize;
    buf.truncate(info.line_size * info.height as usize);
    assert_eq!(info.line_size, w);
    (w, buf)
}

/// Scans our PNG of `text`, returning the decoder's metadata and bytes.
fn scan_png(text: &str) -> (rqrr::MetaData, Vec<u8>) {
    let (w, px) = png_pixels(&qr_png(text).expect("png"));
    scan(w, w, |x, y| px[y * w + x])
}

/// Upscales a module grid to pixels and scans it.
fn scan_modules(m: &Modules) -> Vec<u8> {
    let k = 4;
    let w = m.size() * k;
    scan(w, w, |x, y| if m.is_dark(x / k, y / k) { 0 } else { 255 }).1
}

/// Reads the SVG's viewBox and path back into a module grid (our own output format).
fn svg_modules(svg: &str) -> Modules {
    let after = |key: &str| {
        let start = svg.find(key).expect(key) + key.len();
        &svg[start..start + svg[start..].find('"').expect("closing quote")]
    };
    assert!(svg.contains(r#"shape-rendering="crispEdges""#));
    assert_eq!(svg.matches("<path").count(), 1, "one path");
    let view: Vec<usize> = after("viewBox=\"")
        .split(' ')
        .map(|v| v.parse().expect("number"))
        .collect();
    let size = view[2];
    assert_eq!(view, [0, 0, size, size]);
    let mut dark = vec![false; size * size];
    for rect in after(" d=\"").split('z').filter(|r| !r.is_empty()) {
        // M{x} {y}h{run}v1h-{run}
        let rest = rect.strip_prefix('M').expect("M");
        let (xy, rest) = rest.split_once('h').expect("h");
        let (x, y) = xy.split_once(' ').expect("x y");
        let (run, back) = rest.split_once("v1h-").expect("v1h-");
        assert_eq!(run, back, "closed rectangle");
        let (x, y, run): (usize, usize, usize) = (
            x.parse().expect("x"),
            y.parse().expect("y"),
            run.parse().expect("run"),
        );
        for cell in &mut dark[y * size + x..y * size + x + run] {
            assert!(!*cell, "rectangles do not overlap");
            *cell = true;
        }
    }
    Modules { size, dark }
}

/// Reads the half-block text back into a module grid.
fn terminal_modules(text: &str, size: usize) -> Modules {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), size.div_ceil(2));
    let mut dark = vec![false; size * size];
    for (row, line) in lines.iter().enumerate() {
        assert_eq!(line.chars().count(), size);
        for (x, ch) in line.chars().enumerate() {
            let (top_dark, bottom_dark) = match ch {
                '█' => (false, false),
                '▀' => (false, true),
                '▄' => (true, false),
                ' ' => (true, true),
                other => panic!("unexpected glyph {other:?}"),
            };
            dark[2 * row * size + x] = top_dark;
            if 2 * row + 1 < size {
                dark[(2 * row + 1) * size + x] = bottom_dark;
            } else {
                assert!(!bottom_dark, "the half row below the symbol is light");
            }
        }
    }
    Modules { size, dark }
}

fn has_quiet_zone(m: &Modules) -> bool {
    let n = m.size();
    (0..n).all(|i| {
        (0..QUIET_ZONE_MODULES).all(|q| {
            !m.is_dark(i, q)
                && !m.is_dark(q, i)
                && !m.is_dark(i, n - 1 - q)
                && !m.is_dark(n - 1 - q, i)
        })
    })
}

#[test]
fn reference_examples_scan_back_exactly_at_level_m() {
    for text in reference_examples() {
        assert!(text.starts_with("LPA:1$SMDP.EXAMPLE.NET$K7QF-M3XH-8PZ2-R9DW"));
        let (meta, bytes) = scan_png(&text);
        assert_eq!(bytes, text.as_bytes(), "{text}");
        assert_eq!(meta.ecc_level, 0, "format bits 00 are level M");
    }
}

#[test]
fn upper_case_ac_uses_the_dense_alphanumeric_mode() {
    // 64 characters: alphanumeric mode fits version 4 at level M (90 characters), byte
    // mode would need version 5 (4-M holds 62 bytes).
    let text = &reference_examples()[3];
    assert_eq!(text.len(), 64);
    let (meta, bytes) = scan_png(text);
    assert_eq!(bytes, text.as_bytes());
    assert_eq!(meta.version.0, 4);
    assert_eq!(
        Modules::encode(text).expect("qr").size(),
        33 + 2 * QUIET_ZONE_MODULES
    );
    // Lower case needs byte mode for those segments but still round-trips exactly.
    for lower in [
        text.to_lowercase(),
        text.replace("SMDP.EXAMPLE.NET", "smdp.example.net"),
    ] {
        assert_eq!(scan_png(&lower).1, lower.as_bytes());
    }
}

#[test]
fn longest_activation_code_scans_back() {
    let mid_len = 255 - "1$SMDP.EXAMPLE.NET$".len();
    let mid: String = "K7QFM3XH8PZ2R9DW-".chars().cycle().take(mid_len).collect();
    let text = ActivationCode::new("SMDP.EXAMPLE.NET", &mid)
        .expect("ac")
        .to_qr_string();
    assert_eq!(text.len(), 4 + 255);
    assert_eq!(scan_png(&text).1, text.as_bytes());
}

#[test]
fn png_has_the_quiet_zone_and_scale() {
    let text = &reference_examples()[0];
    let m = Modules::encode(text).expect("qr");
    assert!(has_quiet_zone(&m));
    let (w, px) = png_pixels(&qr_png(text).expect("png"));
    assert_eq!(w, m.size() * PNG_PIXELS_PER_MODULE);
    let border = QUIET_ZONE_MODULES * PNG_PIXELS_PER_MODULE;
    for y in 0..w {
        for x in 0..w {
            let module_dark = m.is_dark(x / PNG_PIXELS_PER_MODULE, y / PNG_PIXELS_PER_MODULE);
            assert_eq!(px[y * w + x] == 0, module_dark, "pixel {x},{y}");
            if x < border || y < border || x >= w - border || y >= w - border {
                assert_ne!(px[y * w + x], 0, "quiet zone pixel {x},{y}");
            }
        }
    }
}

#[test]
fn svg_is_the_same_module_grid_and_scans_back() {
    for text in reference_examples() {
        let svg = qr_svg(&text).expect("svg");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let from_svg = svg_modules(&svg);
        assert_eq!(from_svg, Modules::encode(&text).expect("qr"));
        assert!(has_quiet_zone(&from_svg));
        assert_eq!(scan_modules(&from_svg), text.as_bytes());
    }
}

#[test]
fn terminal_text_is_the_same_module_grid_and_scans_back() {
    let text = &reference_examples()[3];
    let m = Modules::encode(text).expect("qr");
    let shown = qr_terminal(text).expect("terminal");
    let back = terminal_modules(&shown, m.size());
    assert_eq!(back, m);
    assert_eq!(scan_modules(&back), text.as_bytes());
    // The first two lines are quiet zone only: full light blocks.
    assert!(shown.lines().take(2).all(|l| l.chars().all(|c| c == '█')));
}

#[test]
fn text_over_the_limit_is_refused_without_echoing_it() {
    let long = "A".repeat(MAX_QR_TEXT_BYTES + 1);
    let err = Err(QrError::TooLong {
        len: MAX_QR_TEXT_BYTES + 1,
        limit: MAX_QR_TEXT_BYTES,
    });
    assert_eq!(qr_png(&long).map(|_| ()), err);
    assert_eq!(qr_svg(&long).map(|_| ()), err);
    assert_eq!(qr_terminal(&long).map(|_| ()), err);
    assert!(!format!("{:?}", qr_png(&long)).contains("AAAA"));
    // Exactly the limit, in the least dense mode, still fits.
    let max = "a".repeat(MAX_QR_TEXT_BYTES);
    assert_eq!(scan_png(&max).1, max.as_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_ac_alphabet_string_round_trips(text in "[0-9A-Z$.:-]{0,300}") {
        prop_assert_eq!(scan_png(&text).1, text.as_bytes());
    }

    #[test]
    fn mixed_case_printable_ascii_round_trips(text in "[ -~]{1,120}") {
        prop_assert_eq!(scan_png(&text).1, text.as_bytes());
    }
}

//! QR codes for Activation Codes (`LPA:1$…`), as PNG, SVG or terminal text. Pure functions:
//! the text is encoded byte for byte at error-correction level M, the encoder picks the
//! densest mode per segment (an upper-case AC is all QR-alphanumeric), and every rendering
//! has a 4-module quiet zone. Errors never quote the text: an AC is a bearer credential.

use qrcode::{Color, EcLevel, QrCode};

/// The longest text accepted, in bytes (an AC is at most 259 with its `LPA:` prefix).
pub const MAX_QR_TEXT_BYTES: usize = 1000;
/// The light border around the symbol, in modules (ISO/IEC 18004 asks for 4).
pub const QUIET_ZONE_MODULES: usize = 4;
/// PNG pixels per module.
pub const PNG_PIXELS_PER_MODULE: usize = 8;

/// Why a QR code could not be produced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text exceeds [`MAX_QR_TEXT_BYTES`].
    #[error("QR text is {len} bytes; the limit is {limit}")]
    TooLong {
        /// The text's length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The encoder refused the text (does not happen within the limit).
    #[error("QR encoding failed: {0}")]
    Encode(String),
    /// Writing the PNG failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// The symbol's modules, quiet zone included: `size × size`, row-major, `true` = dark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Modules {
    size: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// Encodes `text` (level M, densest modes) and surrounds it with the quiet zone.
    pub(crate) fn encode(text: &str) -> Result<Self, QrError> {
        if text.len() > MAX_QR_TEXT_BYTES {
            return Err(QrError::TooLong {
                len: text.len(),
                limit: MAX_QR_TEXT_BYTES,
            });
        }
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| QrError::Encode(e.to_string()))?;
        let width = code.width();
        let size = width + 2 * QUIET_ZONE_MODULES;
        let mut dark = vec![false; size * size];
        for (i, color) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % width, i / width);
            let at = (y + QUIET_ZONE_MODULES) * size + x + QUIET_ZONE_MODULES;
            if let Some(cell) = dark.get_mut(at) {
                *cell = color == Color::Dark;
            }
        }
        Ok(Self { size, dark })
    }

    /// Modules per side, quiet zone included.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Whether the module at column `x`, row `y` is dark; outside the symbol is light.
    pub(crate) fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size && y < self.size && self.dark.get(y * self.size + x) == Some(&true)
    }
}

/// A 1-bit greyscale PNG, [`PNG_PIXELS_PER_MODULE`] pixels per module.
pub fn qr_png(text: &str) -> Result<Vec<u8>, QrError> {
    let m = Modules::encode(text)?;
    let px = m.size() * PNG_PIXELS_PER_MODULE;
    let side = u32::try_from(px).map_err(|_| QrError::Png("image too large".into()))?;
    let stride = px.div_ceil(8);
    // 1-bit greyscale: a set bit is white.
    let mut data = vec![0u8; stride * px];
    for (y, row) in data.chunks_exact_mut(stride).enumerate() {
        for x in 0..px {
            let light = !m.is_dark(x / PNG_PIXELS_PER_MODULE, y / PNG_PIXELS_PER_MODULE);
            if let (true, Some(byte)) = (light, row.get_mut(x / 8)) {
                *byte |= 0x80 >> (x % 8);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let png_err = |e: png::EncodingError| QrError::Png(e.to_string());
    let mut writer = encoder.write_header().map_err(png_err)?;
    writer.write_image_data(&data).map_err(png_err)?;
    writer.finish().map_err(png_err)?;
    Ok(out)
}

/// An SVG: a white square and one black `<path>` of module rectangles (one per horizontal
/// run), one user unit per module, `shape-rendering="crispEdges"`.
pub fn qr_svg(text: &str) -> Result<String, QrError> {
    use std::fmt::Write as _;
    let m = Modules::encode(text)?;
    let n = m.size();
    let px = n * PNG_PIXELS_PER_MODULE;
    let mut d = String::new();
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !m.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while m.is_dark(x, y) {
                x += 1;
            }
            let run = x - start;
            // Writing to a String cannot fail.
            let _ = write!(d, "M{start} {y}h{run}v1h-{run}z");
        }
    }
    Ok(format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{px}" height="{px}" "#,
            r#"viewBox="0 0 {n} {n}" shape-rendering="crispEdges">"#,
            r##"<rect width="{n}" height="{n}" fill="#ffffff"/>"##,
            r##"<path fill="#000000" d="{d}"/></svg>"##,
            "\n"
        ),
        px = px,
        n = n,
        d = d
    ))
}

/// Terminal text: each character is two modules stacked (Unicode half blocks), quiet zone
/// included, one line per two rows. Light modules are drawn and dark ones left blank, for
/// the usual light-on-dark terminal; on a dark-on-light terminal use [`qr_png`] or
/// [`qr_svg`], as the code would print inverted.
pub fn qr_terminal(text: &str) -> Result<String, QrError> {
    let m = Modules::encode(text)?;
    let n = m.size();
    let mut out = String::with_capacity((n + 1) * n.div_ceil(2) * 3);
    for y in (0..n).step_by(2) {
        for x in 0..n {
            // The row below the last one is quiet zone too: light.
            let top_light = !m.is_dark(x, y);
            let bottom_light = y + 1 >= n || !m.is_dark(x, y + 1);
            out.push(match (top_light, bottom_light) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests;

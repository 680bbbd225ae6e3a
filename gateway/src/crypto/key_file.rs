//! Key files: one `<key id> <64 hex>` line per key, the last one current, written 0600 in
//! a private directory and replaced atomically when a key is added. The data key
//! (`crypto::Keyring`) and the ID pepper (`compliance::IdHasher`) are kept so; each
//! parses the lines itself.

use super::{create_private_dir, hex, write_private};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;
use zeroize::Zeroizing;

/// Why a key file could not be read or extended (the caller names the file).
#[derive(Debug)]
pub enum KeyFileError {
    /// IO on the file.
    Io(std::io::Error),
    /// The file's text is not what the caller's parser accepts.
    Malformed,
    /// The system random source failed.
    Random,
}

/// A fresh key line, `<prefix>-<8 hex> <64 hex>\n`.
pub fn new_line(prefix: &str) -> Result<Zeroizing<String>, KeyFileError> {
    let rng = SystemRandom::new();
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(key.as_mut()).map_err(|_| KeyFileError::Random)?;
    let mut id = [0u8; 4];
    rng.fill(&mut id).map_err(|_| KeyFileError::Random)?;
    Ok(Zeroizing::new(format!(
        "{prefix}-{} {}\n",
        hex(&id),
        hex(key.as_ref())
    )))
}

/// The file's text, creating it (0600, in a 0700 directory) with one fresh key if absent.
pub fn read_or_create(path: &Path, prefix: &str) -> Result<Zeroizing<String>, KeyFileError> {
    if !path.exists() {
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(KeyFileError::Io)?;
        }
        write_private(path, new_line(prefix)?.as_bytes()).map_err(KeyFileError::Io)?;
    }
    Ok(Zeroizing::new(
        std::fs::read_to_string(path).map_err(KeyFileError::Io)?,
    ))
}

/// Appends a fresh key to the file, whose current text `valid` must accept, through a
/// temporary file renamed over it; returns the new key's id.
pub fn append(
    path: &Path,
    prefix: &str,
    valid: impl Fn(&str) -> bool,
) -> Result<String, KeyFileError> {
    let mut text = Zeroizing::new(std::fs::read_to_string(path).map_err(KeyFileError::Io)?);
    if !valid(&text) {
        return Err(KeyFileError::Malformed);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let line = new_line(prefix)?;
    text.push_str(&line);
    let tmp = path.with_extension("tmp");
    write_private(&tmp, text.as_bytes()).map_err(KeyFileError::Io)?;
    std::fs::rename(&tmp, path).map_err(KeyFileError::Io)?;
    Ok(line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

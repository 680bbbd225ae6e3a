//! SIM batch import (`simgw inventory import`): parse a vendor file, refuse it whole with
//! every bad line listed, or decrypt transport-encrypted keys, derive OPc from OP, seal
//! under the data key and load it in committed chunks as one staged batch. Clear keys live
//! only in zeroised memory between the parser and the sealer.

use crate::admin::{NewSim, seal_sim};
use crate::config::{Config, TransportKeyConfig};
use crate::crypto::{CryptoError, Keyring, hex, sha256};
use crate::store::{BatchRecord, BatchStatus, ImportStart, Store, StoreError};
use sim_profiles::batch::{self, BatchError, CardRecord, KeyField, ParseOptions, Reject};
use sim_profiles::transport::{Aes128Ecb, FsCbc, TransportCipher, TransportKeys};
use sim_profiles::{Key128, milenage};

/// Cards per committed chunk.
pub const CHUNK: usize = 5_000;

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Gemalto/IDEMIA-style `.out`.
    VendorOut,
    /// CSV with named columns.
    Csv,
}

impl Format {
    /// Parses `vendor-out` or `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vendor-out" => Some(Self::VendorOut),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::VendorOut => "vendor-out",
            Self::Csv => "csv",
        }
    }
}

/// Why an import was refused or failed. Nothing was loaded in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file as a whole is unusable.
    #[error("the file cannot be imported: {0}")]
    File(#[from] BatchError),
    /// These lines are wrong; fix them and import the whole file again.
    #[error("{} line(s) rejected; nothing was imported", .0.len())]
    Rejected(Vec<Reject>),
    /// Keys are encrypted but no usable transport key is configured.
    #[error("{0}")]
    TransportKey(String),
    /// The tenant does not exist.
    #[error("tenant `{0}` does not exist")]
    UnknownTenant(String),
    /// The store failed (a partial batch is rolled back at the next start or import).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The outcome of a successful import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// Loaded now.
    Loaded(BatchRecord),
    /// The same file was imported before; nothing changed.
    AlreadyImported(BatchRecord),
}

/// Loads one transport key file as a cipher (`aes128-ecb` or `fs-cbc`).
pub fn load_cipher(
    index: u16,
    cipher: &str,
    key_file: &std::path::Path,
) -> Result<Box<dyn TransportCipher>, ImportError> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(key_file).map_err(|e| {
        ImportError::TransportKey(format!(
            "transport key {index}: {}: {e}",
            key_file.display()
        ))
    })?);
    let raw = zeroize::Zeroizing::new(crate::crypto::unhex(text.trim()).ok_or_else(|| {
        ImportError::TransportKey(format!(
            "transport key {index}: {} must hold the key in hex",
            key_file.display()
        ))
    })?);
    Ok(match cipher {
        "fs-cbc" => Box::new(
            FsCbc::new(&raw)
                .map_err(|e| ImportError::TransportKey(format!("transport key {index}: {e}")))?,
        ),
        _ => {
            let k: [u8; 16] = raw.as_slice().try_into().map_err(|_| {
                ImportError::TransportKey(format!(
                    "transport key {index}: aes128-ecb needs a 16-byte key"
                ))
            })?;
            Box::new(Aes128Ecb::new(&Key128::from_bytes(k)))
        }
    })
}

/// Loads the configured transport keys.
pub fn transport_keys(configs: &[TransportKeyConfig]) -> Result<TransportKeys, ImportError> {
    let mut keys = TransportKeys::new();
    for c in configs {
        let cipher = load_cipher(c.index, &c.cipher, &c.key_file)?;
        keys.insert(c.index, cipher)
            .map_err(|e| ImportError::TransportKey(e.to_string()))?;
    }
    Ok(keys)
}

/// Turns a parsed card into clear keys: decrypts transport-encrypted fields and derives
/// OPc from OP. Returns `None` with a reason for cards the importer cannot use.
fn clear_keys(card: &CardRecord, index: Option<u16>, tk: &TransportKeys) -> Result<NewSim, String> {
    let open = |f: &KeyField| -> Result<Key128, String> {
        if !f.is_encrypted() {
            return Ok(f.key().clone());
        }
        let index =
            index.ok_or("keys are encrypted but the header names no transport key index")?;
        tk.decrypt_key(index, f.key()).map_err(|e| e.to_string())
    };
    let ki = open(card.ki.as_ref().ok_or("no Ki column value")?)?;
    let opc = match (&card.opc, &card.op) {
        (Some(opc), _) => Some(open(opc)?),
        (None, Some(op)) => Some(milenage::opc(&ki, &open(op)?)),
        (None, None) => None,
    };
    Ok(NewSim {
        iccid: card.iccid.clone(),
        imsi: card.imsi.clone(),
        ki,
        opc,
    })
}

/// One file to import.
pub struct ImportJob<'a> {
    /// Owning tenant.
    pub tenant: &'a str,
    /// File format.
    pub format: Format,
    /// File name, for the record.
    pub source: &'a str,
    /// File contents.
    pub bytes: &'a [u8],
}

/// Imports a file. `progress(done, total)` is called after each chunk; `max_chunks` stops
/// early, leaving the batch unfinished (tests use it to simulate a crash between chunks).
pub fn import(
    store: &dyn Store,
    keys: &Keyring,
    config: &Config,
    job: &ImportJob<'_>,
    mut progress: impl FnMut(u64, u64),
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    let ImportJob {
        tenant,
        format,
        source,
        bytes,
    } = *job;
    let t = store
        .tenant(tenant)?
        .ok_or_else(|| ImportError::UnknownTenant(tenant.to_owned()))?;
    // The same file (same bytes) is the same batch: if it is in, nothing else matters.
    let file_sha256 = hex(&sha256(bytes));
    let batch_id = format!("bat_{}", &file_sha256[..24]);
    if let Some(b) = store.batch(&batch_id)? {
        if b.status == BatchStatus::Complete {
            return Ok(Imported::AlreadyImported(b));
        }
    }
    let opts = ParseOptions {
        plmn: Some(t.plmn.clone()),
        iccid_len: None,
    };
    let report = match format {
        Format::VendorOut => batch::parse_vendor_out_bytes(bytes, &opts)?,
        Format::Csv => batch::parse_csv_bytes(bytes, &opts)?,
    };
    let mut rejects = report.rejects;
    // Duplicates against the store are rejects too, with their line numbers.
    for c in &report.records {
        let (iccid, imsi) = store.existing(c.iccid.as_str(), c.imsi.as_str())?;
        if iccid || imsi {
            rejects.push(Reject {
                line: c.line,
                reason: batch::RejectReason::AlreadyInInventory,
            });
        }
    }
    let tk = transport_keys(&config.transport_keys)?;
    let index = report.header.transport_key_index.filter(|i| *i != 0);
    let mut sims = Vec::with_capacity(report.records.len());
    let mut key_errors = Vec::new();
    for c in &report.records {
        match clear_keys(c, index, &tk) {
            Ok(s) => sims.push(s),
            Err(reason) => key_errors.push(format!("line {}: {reason}", c.line)),
        }
    }
    if !key_errors.is_empty() {
        // One message per distinct problem: a missing transport key fails every line alike.
        key_errors
            .dedup_by(|a, b| a.split_once(": ").map(|x| x.1) == b.split_once(": ").map(|x| x.1));
        return Err(ImportError::TransportKey(key_errors.join("; ")));
    }
    if !rejects.is_empty() {
        rejects.sort_by_key(|r| r.line);
        return Err(ImportError::Rejected(rejects));
    }
    let batch = BatchRecord {
        id: batch_id,
        tenant: tenant.to_owned(),
        file_sha256,
        source: source.to_owned(),
        format: format.name().to_owned(),
        vendor_batch: report.header.batch_id.clone(),
        transport_key_index: index,
        cards: sims.len() as u64,
        status: BatchStatus::Importing,
        started_at_ms: crate::clock::Clock::new().now_ms(),
    };
    if let ImportStart::AlreadyComplete(b) = store.import_begin(&batch)? {
        return Ok(Imported::AlreadyImported(b));
    }
    let total = sims.len() as u64;
    let mut done = 0u64;
    for (n, chunk) in sims.chunks(CHUNK).enumerate() {
        if max_chunks.is_some_and(|m| n >= m) {
            return Err(ImportError::Store(StoreError::Closed));
        }
        let records = chunk
            .iter()
            .map(|s| seal_sim(keys, tenant, &batch.id, s))
            .collect::<Result<Vec<_>, _>>()?;
        store.import_chunk(&batch.id, &records)?;
        done += chunk.len() as u64;
        progress(done, total);
    }
    Ok(Imported::Loaded(store.import_finish(
        &batch.id,
        crate::clock::Clock::new().now_ms(),
    )?))
}

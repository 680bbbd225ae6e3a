//! SIM batch import (`simgw inventory import`): parse a vendor file, refuse it whole with
//! every bad line listed, or decrypt transport-encrypted keys, derive OPc from OP, seal
//! under the data key and load it in committed chunks as one staged batch. Clear keys live
//! only in zeroised memory between the parser and the sealer.

use crate::admin::{NewSim, seal_sim};
use crate::config::{Config, TransportKeyConfig};
use crate::crypto::{CryptoError, Keyring, hex, sha256};
use crate::store::{BatchRecord, BatchStatus, Clash, ImportStart, Store, StoreError};
use sim_profiles::batch::{self, BatchError, CardRecord, KeyField, ParseOptions, Reject};
use sim_profiles::transport::{Aes128Ecb, FsCbc, TransportCipher, TransportKeys};
use sim_profiles::{Key128, milenage};

pub mod report;

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
    const ALL: [Self; 2] = [Self::VendorOut, Self::Csv];

    /// Parses `vendor-out` or `csv` (the API's `format` parameter; the CLI's `--format`
    /// reaches the same names through `ValueEnum`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }
    /// The format's one name, on the command line, in the API and in batch records.
    pub fn name(self) -> &'static str {
        match self {
            Self::VendorOut => "vendor-out",
            Self::Csv => "csv",
        }
    }
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()))
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
pub(crate) fn clear_keys(
    card: &CardRecord,
    index: Option<u16>,
    tk: &TransportKeys,
) -> Result<NewSim, String> {
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

/// One file to import, already in memory (API uploads, tests).
pub struct ImportJob<'a> {
    /// Owning tenant.
    pub tenant: &'a str,
    /// File format.
    pub format: Format,
    /// File name, for the record.
    pub source: &'a str,
    /// File contents.
    pub bytes: &'a [u8],
    /// The cards are eSIM profiles of this SM-DP+ profile type.
    pub esim_profile_type: Option<&'a str>,
    /// The issuer's ICCID length (19 or 20), if known; otherwise the file's own form rules.
    pub iccid_length: Option<usize>,
}

/// A batch file on disk to import.
#[derive(Clone, Copy)]
pub struct FileJob<'a> {
    /// Owning tenant.
    pub tenant: &'a str,
    /// File format.
    pub format: Format,
    /// The file.
    pub path: &'a std::path::Path,
    /// The cards are eSIM profiles of this SM-DP+ profile type.
    pub esim_profile_type: Option<&'a str>,
    /// The issuer's ICCID length (19 or 20), if known; otherwise the file's own form rules.
    pub iccid_length: Option<usize>,
}

/// Imports a file held in memory. See [`import_reader`].
pub async fn import(
    store: &dyn Store,
    keys: &Keyring,
    config: &Config,
    job: &ImportJob<'_>,
    progress: impl FnMut(u64, u64),
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    let sha = hex(&sha256(job.bytes));
    let mut reader = job.bytes;
    let total = job.bytes.len() as u64;
    import_reader(
        store,
        keys,
        config,
        &Input {
            tenant: job.tenant,
            format: job.format,
            source: job.source,
            sha256: &sha,
            total,
            esim_profile_type: job.esim_profile_type,
            iccid_length: job.iccid_length,
        },
        &mut reader,
        progress,
        max_chunks,
    )
    .await
}

/// Imports a file from disk, streaming: one pass hashes it (the batch identity), a second
/// parses it; memory holds one chunk of cards plus the duplicate index, never the file.
pub async fn import_file(
    store: &dyn Store,
    keys: &Keyring,
    config: &Config,
    file: &FileJob<'_>,
    progress: impl FnMut(u64, u64),
) -> Result<Imported, ImportError> {
    let FileJob {
        tenant,
        format,
        path,
        esim_profile_type,
        iccid_length,
    } = *file;
    use std::io::Read;
    let io = |e: std::io::Error| ImportError::TransportKey(format!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let total = file.metadata().map_err(io)?.len();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    let sha = hex(ctx.finish().as_ref());
    let mut reader =
        std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).map_err(io)?);
    let source = path.display().to_string();
    import_reader(
        store,
        keys,
        config,
        &Input {
            tenant,
            format,
            source: &source,
            sha256: &sha,
            total,
            esim_profile_type,
            iccid_length,
        },
        &mut reader,
        progress,
        None,
    )
    .await
}

/// What [`import_reader`] needs besides the bytes.
pub struct Input<'a> {
    /// Owning tenant.
    pub tenant: &'a str,
    /// File format.
    pub format: Format,
    /// File name, for the record.
    pub source: &'a str,
    /// SHA-256 (hex) of the whole file: the batch identity.
    pub sha256: &'a str,
    /// File size in bytes (progress).
    pub total: u64,
    /// The cards are eSIM profiles of this SM-DP+ profile type.
    pub esim_profile_type: Option<&'a str>,
    /// The issuer's ICCID length (19 or 20), if known (reference §1.4).
    pub iccid_length: Option<usize>,
}

impl Input<'_> {
    /// `bat_` + 24 hex digits of SHA-256(tenant, NUL, file SHA-256): the same file is the
    /// same batch for one tenant, and another tenant's upload of it is a new batch whose
    /// cards clash (it never finds, replays or rolls back the first tenant's batch).
    pub fn batch_id(&self) -> String {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(self.tenant.as_bytes());
        ctx.update(&[0]);
        ctx.update(self.sha256.as_bytes());
        format!("bat_{}", &hex(ctx.finish().as_ref())[..24])
    }

    /// The id batches had before ids were scoped to the tenant (file hash only): a store
    /// written then still answers a re-import of such a batch by its own tenant.
    fn legacy_batch_id(&self) -> String {
        format!("bat_{}", self.sha256.get(..24).unwrap_or(self.sha256))
    }

    /// This tenant's complete batch of this file, if it was imported before.
    async fn imported_before(&self, store: &dyn Store) -> Result<Option<BatchRecord>, StoreError> {
        for id in [self.batch_id(), self.legacy_batch_id()] {
            if let Some(b) = store.batch(&id).await? {
                if b.tenant == self.tenant && b.status == BatchStatus::Complete {
                    return Ok(Some(b));
                }
            }
        }
        Ok(None)
    }
}

/// The two incremental parsers behind one face (also used by `simgw profile build-batch`).
pub(crate) enum Parser {
    VendorOut(batch::VendorOutParser),
    Csv(batch::CsvParser),
}

impl Parser {
    pub(crate) fn new(format: Format, opts: &ParseOptions) -> Result<Self, BatchError> {
        Ok(match format {
            Format::VendorOut => Self::VendorOut(batch::VendorOutParser::new(opts)?),
            Format::Csv => Self::Csv(batch::CsvParser::new(opts)?),
        })
    }
    /// The header's transport key index (0 means keys in clear).
    pub(crate) fn key_index(&self) -> Option<u16> {
        self.header()
            .and_then(|h| h.transport_key_index)
            .filter(|i| *i != 0)
    }
    fn vendor_batch(&self) -> Option<String> {
        self.header().and_then(|h| h.batch_id.clone())
    }
    pub(crate) fn push_line(&mut self, l: &str) -> Result<(), BatchError> {
        match self {
            Self::VendorOut(p) => p.push_line(l),
            Self::Csv(p) => p.push_line(l),
        }
    }
    pub(crate) fn pending(&self) -> usize {
        match self {
            Self::VendorOut(p) => p.pending(),
            Self::Csv(p) => p.pending(),
        }
    }
    pub(crate) fn drain(&mut self) -> Vec<CardRecord> {
        match self {
            Self::VendorOut(p) => p.drain_records(),
            Self::Csv(p) => p.drain_records(),
        }
    }
    fn header(&self) -> Option<&batch::BatchHeader> {
        match self {
            Self::VendorOut(p) => p.header(),
            Self::Csv(_) => None,
        }
    }
    pub(crate) fn finish(self) -> Result<batch::ParseReport, BatchError> {
        match self {
            Self::VendorOut(p) => p.finish(),
            Self::Csv(p) => p.finish(),
        }
    }
}

/// The import in progress: the staged batch and what went wrong so far.
struct Run<'a> {
    store: &'a dyn Store,
    keys: &'a Keyring,
    tk: TransportKeys,
    input: &'a Input<'a>,
    /// [`Input::batch_id`], computed once.
    batch_id: String,
    batch: Option<BatchRecord>,
    /// The same tenant's import of the same file completed while this one was parsing.
    replayed: Option<BatchRecord>,
    rejects: Vec<Reject>,
    key_errors: Vec<String>,
    cards: u64,
    chunks: usize,
    max_chunks: Option<usize>,
}

impl Run<'_> {
    /// Seals and stages one chunk; clashes and key problems become rejects.
    async fn flush(
        &mut self,
        records: Vec<CardRecord>,
        index: Option<u16>,
        vendor_batch: Option<String>,
    ) -> Result<(), ImportError> {
        if records.is_empty() {
            return Ok(());
        }
        if self.batch.is_none() {
            self.begin(index, vendor_batch).await?;
        }
        if self.replayed.is_some() {
            return Ok(());
        }
        // Every good row is staged even after an error: the batch stays invisible and is
        // rolled back at the end, and staged rows are what later duplicates are found against.
        let mut sealed = Vec::with_capacity(records.len());
        for c in &records {
            match clear_keys(c, index, &self.tk) {
                Ok(sim) => {
                    let mut rec = seal_sim(self.keys, self.input.tenant, &self.batch_id, &sim)?;
                    rec.esim_profile_type = self.input.esim_profile_type.map(str::to_owned);
                    sealed.push((rec, c.line));
                }
                Err(reason) => self.key_errors.push(format!("line {}: {reason}", c.line)),
            }
        }
        if self.max_chunks.is_some_and(|m| self.chunks >= m) {
            // Test hook: behave like a crash between chunks (the batch stays `importing`).
            return Err(ImportError::Store(StoreError::Closed));
        }
        let batch_id = self
            .batch
            .as_ref()
            .map(|b| b.id.clone())
            .unwrap_or_default();
        let clashes = self.store.import_chunk(&batch_id, &sealed).await?;
        self.cards += (sealed.len() - clashes.len()) as u64;
        self.chunks += 1;
        for (i, clash) in clashes {
            let reason = match clash {
                Clash::IccidInInventory => batch::RejectReason::IccidInInventory,
                Clash::ImsiInInventory => batch::RejectReason::ImsiInInventory,
                Clash::DuplicateIccid { first_line } => {
                    batch::RejectReason::DuplicateIccid { first_line }
                }
                Clash::DuplicateImsi { first_line } => {
                    batch::RejectReason::DuplicateImsi { first_line }
                }
            };
            self.rejects.push(Reject {
                line: sealed[i].1,
                reason,
            });
        }
        Ok(())
    }

    /// Records the batch as importing (invisible until it completes).
    async fn begin(
        &mut self,
        index: Option<u16>,
        vendor_batch: Option<String>,
    ) -> Result<(), ImportError> {
        let b = BatchRecord {
            id: self.batch_id.clone(),
            tenant: self.input.tenant.to_owned(),
            file_sha256: self.input.sha256.to_owned(),
            source: self.input.source.to_owned(),
            format: self.input.format.name().to_owned(),
            vendor_batch,
            transport_key_index: index,
            cards: 0,
            status: BatchStatus::Importing,
            started_at_ms: crate::clock::Clock::new().now_ms(),
            esim_profile_type: self.input.esim_profile_type.map(str::to_owned),
        };
        match self.store.import_begin(&b).await? {
            ImportStart::Started => self.batch = Some(b),
            ImportStart::AlreadyComplete(done) => self.replayed = Some(done),
        }
        Ok(())
    }

    async fn abort(&self) -> Result<(), ImportError> {
        if let Some(b) = &self.batch {
            self.store.import_abort(&b.id).await?;
        }
        Ok(())
    }
}

/// Imports one file read line by line: cards are parsed, their keys decrypted or derived,
/// sealed and written in committed chunks of [`CHUNK`] as a staged batch that stays
/// invisible until its last commit. Any bad line (or clash with the store) aborts the batch
/// after the whole file has been read, so the report names every bad line. `progress`
/// gets (bytes read, total bytes); `max_chunks` stops early like a crash (tests).
pub async fn import_reader(
    store: &dyn Store,
    keys: &Keyring,
    config: &Config,
    input: &Input<'_>,
    reader: &mut dyn std::io::BufRead,
    mut progress: impl FnMut(u64, u64),
    max_chunks: Option<usize>,
) -> Result<Imported, ImportError> {
    let t = store
        .tenant(input.tenant)
        .await?
        .ok_or_else(|| ImportError::UnknownTenant(input.tenant.to_owned()))?;
    // The same file (same bytes) for the same tenant is the same batch: if it is in,
    // nothing else matters. For another tenant it is a new batch, refused card by card.
    let batch_id = input.batch_id();
    if let Some(b) = input.imported_before(store).await? {
        return Ok(Imported::AlreadyImported(b));
    }
    // Duplicates are found against the staged batch in the store, so memory stays bounded.
    let opts = ParseOptions {
        plmn: Some(t.plmn.clone()),
        iccid_len: input.iccid_length,
        skip_duplicate_check: true,
    };
    let mut parser = Parser::new(input.format, &opts)?;
    let mut run = Run {
        store,
        keys,
        tk: transport_keys(&config.transport_keys)?,
        input,
        batch_id: batch_id.clone(),
        batch: None,
        replayed: None,
        rejects: Vec::new(),
        key_errors: Vec::new(),
        cards: 0,
        chunks: 0,
        max_chunks,
    };
    let result = async {
        let mut line = Vec::new();
        let mut read = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| ImportError::TransportKey(format!("reading the file: {e}")))?;
            if n == 0 {
                break;
            }
            read += n as u64;
            let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line));
            parser.push_line(&text)?;
            if parser.pending() >= CHUNK {
                let (index, vendor) = (parser.key_index(), parser.vendor_batch());
                run.flush(parser.drain(), index, vendor).await?;
                progress(read, input.total);
                if run.replayed.is_some() {
                    return Ok(());
                }
            }
        }
        let index = parser.key_index();
        let report = parser.finish()?;
        run.rejects.extend(report.rejects);
        run.flush(report.records, index, report.header.batch_id.clone())
            .await?;
        progress(input.total, input.total);
        Ok(())
    }
    .await;
    if let Err(e) = result {
        if !matches!(e, ImportError::Store(StoreError::Closed)) {
            run.abort().await?;
        }
        return Err(e);
    }
    if let Some(b) = run.replayed.take() {
        return Ok(Imported::AlreadyImported(b));
    }
    if !run.key_errors.is_empty() {
        run.abort().await?;
        let mut errs = std::mem::take(&mut run.key_errors);
        // One message per distinct problem: a missing transport key fails every line alike.
        errs.dedup_by(|a, b| a.split_once(": ").map(|x| x.1) == b.split_once(": ").map(|x| x.1));
        return Err(ImportError::TransportKey(errs.join("; ")));
    }
    if !run.rejects.is_empty() {
        run.abort().await?;
        let mut rejects = std::mem::take(&mut run.rejects);
        rejects.sort_by_key(|r| r.line);
        return Err(ImportError::Rejected(rejects));
    }
    if run.batch.is_none() {
        // An empty (but valid) file: record it so re-importing it is a no-op too.
        run.begin(None, None).await?;
        if let Some(b) = run.replayed.take() {
            return Ok(Imported::AlreadyImported(b));
        }
    }
    let batch_id = run.batch.take().map(|b| b.id).unwrap_or(batch_id);
    Ok(Imported::Loaded(
        store
            .import_finish(&batch_id, run.cards, crate::clock::Clock::new().now_ms())
            .await?,
    ))
}

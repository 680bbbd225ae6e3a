//! What a shared-database backend reports to the metrics page at scrape time
//! (`Store::backend_status`): its connection pool and its event sequencer's backlog.

/// A backend's state, read now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendStatus {
    /// The connection pool.
    pub pool: PoolStatus,
    /// The sequencer's backlog; `None` when it could not be read (no connection within
    /// the scrape's short wait, or the database failed).
    pub sequencer: Option<SequencerStatus>,
}

/// A connection pool's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections it opens.
    pub max_size: usize,
    /// Connections open now, idle or in use.
    pub size: usize,
    /// Of those, idle.
    pub idle: usize,
    /// Checkouts waiting for a connection.
    pub waiting: usize,
}

/// How far the event sequencer is behind, as the database shows it now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequencerStatus {
    /// Public events (webhooks, `GET /v1/events`) committed and not yet numbered.
    pub public: u64,
    /// Audit events (the order event log) committed and not yet numbered.
    pub audit: u64,
    /// Compliance audit records committed and not yet linked into the chain.
    pub compliance_audit: u64,
    /// How long the oldest of those has waited, ms, from its transaction's start (0 when
    /// none waits).
    pub lag_ms: u64,
    /// Whether this node holds the sequencer's lease now.
    pub lease_held: bool,
}

//! TEMPORARY (replaced within this change): the `StoreAdmin` methods not yet written for
//! PostgreSQL refuse instead of pretending.

use super::PgStore;
use crate::crypto::Keyring;
use crate::store::dump::{DumpPage, DumpRow, DumpTable};
use crate::store::{RewrapReport, StoreError};

fn pending(what: &str) -> StoreError {
    StoreError::Backend(format!("{what} is not available on PostgreSQL yet"))
}

impl PgStore {
    #[allow(missing_docs)]
    pub async fn rewrap(
        &self,
        _keys: &Keyring,
        _chunk: usize,
        _max_chunks: Option<u64>,
    ) -> Result<RewrapReport, StoreError> {
        Err(pending("key rotation"))
    }

    #[allow(missing_docs)]
    pub async fn sealed_key_usage(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        Err(pending("key usage"))
    }

    #[allow(missing_docs)]
    pub async fn dump_page(
        &self,
        _table: DumpTable,
        _cursor: Option<&str>,
        _limit: usize,
    ) -> Result<DumpPage, StoreError> {
        Err(pending("dump"))
    }

    #[allow(missing_docs)]
    pub async fn load_rows(&self, _table: DumpTable, _rows: &[DumpRow]) -> Result<(), StoreError> {
        Err(pending("load"))
    }

    #[allow(missing_docs)]
    pub async fn finish_load(&self) -> Result<(), StoreError> {
        Err(pending("load"))
    }
}

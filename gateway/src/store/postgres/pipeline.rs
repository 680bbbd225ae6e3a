//! Writes of one transaction sent together: statements whose parameters depend on no
//! answer of each other are issued at once on the transaction's connection, which
//! pipelines them (one round trip instead of one each); PostgreSQL still runs them one
//! after another, in the order they were sent. Every one is awaited to the end, so none is
//! left half-sent when the transaction commits or rolls back.
//!
//! When one fails, PostgreSQL refuses every statement after it in the transaction with
//! "current transaction is aborted" (25P02), and those answers may be the first ones a
//! join sees: the error returned is the one that is not such a refusal (a serialization
//! failure, which the transaction runner retries, or a constraint), so that pipelining
//! changes no outcome.

use super::retry::{TxError, TxResult};
use std::future::Future;
use tokio_postgres::error::SqlState;

/// Whether `e` is PostgreSQL refusing a statement after an earlier one failed.
fn refused_after_failure(e: &TxError) -> bool {
    matches!(e, TxError::Db(d) if d.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION))
}

/// The error that caused the others: the first that is not a refusal after a failure.
fn cause(first: TxError, rest: impl IntoIterator<Item = Option<TxError>>) -> TxError {
    if !refused_after_failure(&first) {
        return first;
    }
    rest.into_iter()
        .flatten()
        .find(|e| !refused_after_failure(e))
        .unwrap_or(first)
}

/// `a` and `b`, sent together.
pub async fn both<A, B>(
    a: impl Future<Output = TxResult<A>>,
    b: impl Future<Output = TxResult<B>>,
) -> TxResult<(A, B)> {
    match tokio::join!(a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), b) => Err(cause(e, [b.err()])),
        (Ok(_), Err(e)) => Err(e),
    }
}

/// `a`, `b` and `c`, sent together.
pub async fn three<A, B, C>(
    a: impl Future<Output = TxResult<A>>,
    b: impl Future<Output = TxResult<B>>,
    c: impl Future<Output = TxResult<C>>,
) -> TxResult<(A, B, C)> {
    match tokio::join!(a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (Err(e), b, c) => Err(cause(e, [b.err(), c.err()])),
        (Ok(_), Err(e), c) => Err(cause(e, [c.err()])),
        (Ok(_), Ok(_), Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[tokio::test]
    async fn all_run_to_the_end_and_the_first_error_is_returned() {
        let done = std::sync::atomic::AtomicU32::new(0);
        let ok = |v: u32| {
            let done = &done;
            async move {
                tokio::task::yield_now().await;
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok::<_, TxError>(v)
            }
        };
        let failed = async { Err::<u32, _>(TxError::Store(StoreError::Conflict("o".into()))) };
        assert_eq!(three(ok(1), ok(2), ok(3)).await.ok(), Some((1, 2, 3)));
        let out = three(ok(1), failed, ok(3)).await;
        assert!(matches!(out, Err(TxError::Store(StoreError::Conflict(_)))));
        // Both neighbours of the failure ran to their end, too.
        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 5);
        assert!(matches!(
            both(ok(1), async { Err::<u32, _>(TxError::Contended) }).await,
            Err(TxError::Contended)
        ));
    }
}

//! The one CAI3G session shared by all concurrent calls. Login is single-flight: callers
//! that arrive while a Login is in flight wait for it and share its outcome, success or
//! failure. After a failed Login the host is not asked again for a pause that doubles
//! with each failure (1 s up to 60 s): callers in that window share the failure, so
//! orders retrying a refused password cannot lock the account, however many there are.

use crate::hlr::HlrError;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A logged-in session.
#[derive(Debug)]
pub(crate) struct Session {
    /// The host's `sessionId`.
    pub(crate) id: String,
    base_sequence_id: u64,
    sent: AtomicU64,
    opened: Instant,
}

impl Session {
    /// A session opened at `opened`.
    pub(crate) fn new(id: String, base_sequence_id: u64, opened: Instant) -> Self {
        Self {
            id,
            base_sequence_id,
            sent: AtomicU64::new(0),
            opened,
        }
    }

    /// The next `SequenceId`: `baseSequenceId + n` for the n-th call (n from 1).
    pub(crate) fn next_sequence_id(&self) -> u64 {
        let n = self.sent.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.base_sequence_id.wrapping_add(n)
    }
}

/// True if `session` may serve another call at `now` (it is younger than `refresh`).
pub(crate) fn is_fresh(session: &Session, now: Instant, refresh: Option<Duration>) -> bool {
    refresh.is_none_or(|max| now.saturating_duration_since(session.opened) < max)
}

/// First pause after a failed Login; it doubles with each further failure.
pub(crate) const LOGIN_BACKOFF: Duration = Duration::from_secs(1);
/// Longest pause between Logins that keep failing.
const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// The last Login failure and when the host may be asked again.
struct LoginFailure {
    error: HlrError,
    not_before: Instant,
    /// Consecutive failed Logins.
    streak: u32,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Session>>,
    last_failure: Option<LoginFailure>,
}

/// Holds the current session and serialises logins.
pub(crate) struct SessionSlot {
    state: Mutex<State>,
    /// Completed login attempts; lets a waiter tell whether a Login finished while it
    /// waited for the lock.
    attempts: AtomicU64,
    refresh: Option<Duration>,
    login_backoff: Duration,
}

/// The pause after the `streak`-th consecutive failed Login: `first` doubled per further
/// failure, at most [`LOGIN_BACKOFF_MAX`] (or `first`, if that is longer).
fn login_pause(first: Duration, streak: u32) -> Duration {
    let doubled = first.saturating_mul(1u32 << streak.saturating_sub(1).min(16));
    doubled.min(LOGIN_BACKOFF_MAX.max(first))
}

impl SessionSlot {
    /// An empty slot; sessions older than `refresh` are replaced before use.
    pub(crate) fn new(refresh: Option<Duration>) -> Self {
        Self {
            state: Mutex::new(State::default()),
            attempts: AtomicU64::new(0),
            refresh,
            login_backoff: LOGIN_BACKOFF,
        }
    }

    /// The same slot with `first` as the pause after a failed Login (doubling from there).
    pub(crate) fn with_login_backoff(mut self, first: Duration) -> Self {
        self.login_backoff = first;
        self
    }

    /// The current session, logging in with `login` if there is none (or it is stale).
    /// The lock is held across the Login only, never across a provisioning call. A stale
    /// session is replaced without a Logout: calls in flight may still be using it, and
    /// the host expires it on its own. Time comes from `now` (read before and after the
    /// Login), never from a clock of this module's own, so tests drive it.
    pub(crate) async fn get<N, F, Fut>(&self, now: N, login: F) -> Result<Arc<Session>, HlrError>
    where
        N: Fn() -> Instant,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(String, u64), HlrError>>,
    {
        let seen = self.attempts.load(Ordering::Acquire);
        let mut state = self.state.lock().await;
        let asked_at = now();
        if let Some(s) = state
            .current
            .as_ref()
            .filter(|s| is_fresh(s, asked_at, self.refresh))
        {
            return Ok(s.clone());
        }
        if let Some(failed) = &state.last_failure {
            // Waiters share the Login that just failed; later callers the pause after it.
            if self.attempts.load(Ordering::Acquire) != seen || asked_at < failed.not_before {
                return Err(failed.error.clone());
            }
        }
        let result = login().await;
        self.attempts.fetch_add(1, Ordering::Release);
        match result {
            Ok((id, base)) => {
                let session = Arc::new(Session::new(id, base, now()));
                state.current = Some(session.clone());
                state.last_failure = None;
                Ok(session)
            }
            Err(e) => {
                let streak = state.last_failure.as_ref().map_or(0, |f| f.streak) + 1;
                state.current = None;
                state.last_failure = Some(LoginFailure {
                    error: e.clone(),
                    not_before: now() + login_pause(self.login_backoff, streak),
                    streak,
                });
                Err(e)
            }
        }
    }

    /// Drops `failed` if it is still the current session (a concurrent caller may
    /// already have replaced it, and that newer session must survive).
    pub(crate) async fn invalidate(&self, failed: &Arc<Session>) {
        let mut state = self.state.lock().await;
        if state
            .current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, failed))
        {
            state.current = None;
        }
    }

    /// Removes and returns the current session (for Logout).
    pub(crate) async fn take(&self) -> Option<Arc<Session>> {
        self.state.lock().await.current.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlr::FaultClass;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn sequence_ids_start_after_the_base_and_increase() {
        let s = Session::new("s".into(), 5000, Instant::now());
        assert_eq!([s.next_sequence_id(), s.next_sequence_id()], [5001, 5002]);
        let wrap = Session::new("s".into(), u64::MAX, Instant::now());
        assert_eq!(wrap.next_sequence_id(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn freshness_follows_the_refresh_interval() {
        let s = Session::new("s".into(), 0, Instant::now());
        let min = Duration::from_secs(60);
        assert!(is_fresh(&s, Instant::now(), None));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(is_fresh(&s, Instant::now(), Some(min)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!is_fresh(&s, Instant::now(), Some(min)));
        assert!(is_fresh(&s, Instant::now(), None));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_login() {
        let slot = Arc::new(SessionSlot::new(None));
        let logins = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (slot, logins) = (slot.clone(), logins.clone());
                tokio::spawn(async move {
                    slot.get(Instant::now, || async {
                        logins.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(("s1".to_owned(), 10))
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("task").expect("session").id, "s1");
        }
        assert_eq!(logins.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_share_a_failed_login_instead_of_retrying() {
        let slot = Arc::new(SessionSlot::new(None));
        let logins = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (slot, logins) = (slot.clone(), logins.clone());
                tokio::spawn(async move {
                    slot.get(Instant::now, || async {
                        logins.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(HlrError::new(
                            FaultClass::Authentication,
                            "CAI3G Login",
                            "refused",
                        ))
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            let err = t.await.expect("task").expect_err("refused");
            assert_eq!(err.class, FaultClass::Authentication);
        }
        assert_eq!(logins.load(Ordering::SeqCst), 1);
        // A caller after the pause tries again.
        tokio::time::advance(LOGIN_BACKOFF).await;
        let s = slot
            .get(Instant::now, || async { Ok(("s2".to_owned(), 0)) })
            .await
            .expect("session");
        assert_eq!(s.id, "s2");
    }

    #[tokio::test(start_paused = true)]
    async fn failed_logins_are_spaced_by_a_doubling_pause_until_one_succeeds() {
        let slot = SessionSlot::new(None);
        let logins = AtomicUsize::new(0);
        let refuse = || async {
            logins.fetch_add(1, Ordering::SeqCst);
            Err::<(String, u64), _>(HlrError::new(
                FaultClass::Authentication,
                "CAI3G Login",
                "refused",
            ))
        };
        let step = Duration::from_millis(100);
        // Every 100 ms for 3.9 s, callers want a session: the host sees a Login at 0 s,
        // 1 s (pause 1 s) and 3 s (pause 2 s), and the next would be at 7 s.
        for _ in 0..40 {
            let err = slot.get(Instant::now, refuse).await.expect_err("refused");
            assert!(err.retryable());
            tokio::time::advance(step).await;
        }
        assert_eq!(logins.load(Ordering::SeqCst), 3);
        tokio::time::advance(Duration::from_secs(3)).await;
        let s = slot
            .get(Instant::now, || async { Ok(("ok".to_owned(), 0)) })
            .await
            .expect("the host lets us in again");
        assert_eq!(s.id, "ok");
        // Success resets the streak: the next failure pauses 1 s again.
        slot.invalidate(&s).await;
        let _ = slot.get(Instant::now, refuse).await;
        tokio::time::advance(LOGIN_BACKOFF).await;
        let _ = slot.get(Instant::now, refuse).await;
        assert_eq!(logins.load(Ordering::SeqCst), 5);
        assert_eq!(login_pause(LOGIN_BACKOFF, 40), LOGIN_BACKOFF_MAX);
        assert_eq!(login_pause(Duration::ZERO, 3), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn invalidate_only_drops_the_failed_session() {
        let slot = SessionSlot::new(None);
        let old = slot
            .get(Instant::now, || async { Ok(("old".to_owned(), 0)) })
            .await
            .expect("old");
        slot.invalidate(&old).await;
        let new = slot
            .get(Instant::now, || async { Ok(("new".to_owned(), 0)) })
            .await
            .expect("new");
        // A late caller still holding `old` must not drop `new`.
        slot.invalidate(&old).await;
        let again = slot
            .get(Instant::now, || async { Ok(("other".to_owned(), 0)) })
            .await
            .expect("same");
        assert!(Arc::ptr_eq(&new, &again));
        assert_eq!(slot.take().await.map(|s| s.id.clone()), Some("new".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn stale_sessions_are_replaced() {
        let slot = SessionSlot::new(Some(Duration::from_secs(540)));
        let first = slot
            .get(Instant::now, || async { Ok(("a".to_owned(), 0)) })
            .await
            .expect("a");
        tokio::time::advance(Duration::from_secs(539)).await;
        let same = slot
            .get(Instant::now, || async { Ok(("b".to_owned(), 0)) })
            .await
            .expect("a");
        assert!(Arc::ptr_eq(&first, &same));
        tokio::time::advance(Duration::from_secs(1)).await;
        let next = slot
            .get(Instant::now, || async { Ok(("c".to_owned(), 0)) })
            .await
            .expect("c");
        assert_eq!(next.id, "c");
    }
}

//! The store contract: what every `Store` method means, written once against
//! `&dyn StoreAdmin` and run against every backend, so that a backend that passes is a
//! drop-in for the embedded one (issue 11).
//!
//! Each case is an `async fn` in one of the area modules below, taking either
//! `&dyn StoreAdmin` or, when it must share the store between tasks or reopen it,
//! `&mut Backend`. [`suite!`] turns every case into one `#[tokio::test]` per backend:
//! `embedded::activation::replay_returns_the_first_order`, `memory::…`, and so on.
//! Adding a backend is one line at the bottom of this file.
//!
//! Clocks are values the cases choose (`now_ms`), never the wall clock; nothing sleeps.

#[path = "../common/mod.rs"]
mod common;

mod fixture;

mod activation;
mod admin;
mod advance;
mod close;
mod compliance;
mod concurrency;
mod esim;
mod events;
mod extras;
mod handset;
mod imports;
mod lifecycle;
mod line_changes;
mod order_audit;
mod outbox;
mod pool;
mod port_out;
mod ported_number;
mod ports;
mod reverify;
mod subscriptions;
mod terminal;
mod verified_first;
mod webhooks;

use adapters::hlr::BoxFuture;
use gateway::metrics::Metrics;
use gateway::store::StoreAdmin;
use gateway::store::embedded::RedbStore;
use std::future::Future;
use std::sync::Arc;

/// One backend under test: the store, and how to reopen its data as a restarted process
/// would.
pub struct Backend {
    store: Arc<dyn StoreAdmin>,
    reopen: Option<Reopen>,
    /// Whatever must outlive the store (its directory, a database server).
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

/// Closes nothing; opens the backend's data again.
type Reopen = Box<dyn Fn() -> BoxFuture<'static, Arc<dyn StoreAdmin>> + Send + Sync>;

impl Backend {
    /// The store.
    pub fn store(&self) -> &dyn StoreAdmin {
        self.store.as_ref()
    }

    /// The store, to share with spawned tasks.
    pub fn shared(&self) -> Arc<dyn StoreAdmin> {
        self.store.clone()
    }

    /// Closes the store and opens its data again, as a restart would. `false` (the store
    /// only closed) for a backend whose data does not outlive it.
    pub async fn reopen(&mut self) -> bool {
        self.store.close().await;
        match &self.reopen {
            Some(open) => {
                self.store = open().await;
                true
            }
            None => false,
        }
    }
}

/// The embedded backend: redb on disk in a temporary directory, group commit.
pub async fn embedded() -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    let open = move || -> BoxFuture<'static, Arc<dyn StoreAdmin>> {
        let path = path.clone();
        Box::pin(async move {
            let store = RedbStore::open(&path, 16, 64, Arc::new(Metrics::default()))
                .expect("open the embedded store");
            Arc::new(store) as Arc<dyn StoreAdmin>
        })
    };
    Backend {
        store: open().await,
        reopen: Some(Box::new(open)),
        _keep: Box::new(dir),
    }
}

/// The in-memory backend: the same redb code on an in-memory file, each write committed
/// on the caller's task. Nothing outlives it.
pub async fn memory() -> Backend {
    let store = RedbStore::in_memory(Arc::new(Metrics::default())).expect("in-memory store");
    Backend {
        store: Arc::new(store),
        reopen: None,
        _keep: Box::new(()),
    }
}

/// What a case takes from the backend: the store, or the whole handle.
pub trait Arg<'a> {
    /// Borrows it from the backend.
    fn from_backend(b: &'a mut Backend) -> Self;
}

impl<'a> Arg<'a> for &'a dyn StoreAdmin {
    fn from_backend(b: &'a mut Backend) -> Self {
        b.store.as_ref()
    }
}

impl<'a> Arg<'a> for &'a mut Backend {
    fn from_backend(b: &'a mut Backend) -> Self {
        b
    }
}

/// Runs one case on a backend, whichever of the two arguments it takes.
pub async fn run<'a, A: Arg<'a>, F: Future<Output = ()>>(
    b: &'a mut Backend,
    case: impl FnOnce(A) -> F,
) {
    case(A::from_backend(b)).await;
}

/// One `#[tokio::test]` per case, opening a fresh store with `$open` (an async fn
/// returning a [`Backend`]). The list of cases is here once.
macro_rules! suite {
    ($open:path) => {
        suite!(@areas $open;
            admin {
                tenants_replace_and_list,
                api_keys_resolve_by_hash_for_known_tenants,
                meta_values_round_trip,
                a_loaded_inventory_is_counted_and_readable,
                inventory_loads_are_all_or_nothing,
                number_blocks_never_overlap,
                the_internal_event_log_is_gap_free,
            }
            activation {
                create_reserves_a_sim_and_a_number,
                replay_returns_the_first_order_and_another_body_is_refused,
                an_expired_or_pruned_key_creates_anew,
                business_rejections_change_nothing,
                get_order_is_tenant_scoped,
                an_esim_order_takes_a_profile_of_its_type,
                an_unfinished_import_is_invisible_to_activation,
                a_create_can_record_the_first_call_as_sent,
            }
            advance {
                a_stale_version_conflicts_and_changes_nothing,
                activation_to_active_opens_the_line,
                failure_releases_the_sim_and_the_number,
                inflight_orders_are_the_unfinished_ones,
            }
            concurrency {
                concurrent_activations_never_share_a_sim_or_a_number,
                concurrent_reservations_never_hold_a_number_twice,
                one_idempotency_key_sent_at_once_creates_one_order,
                one_chosen_number_sent_at_once_goes_to_one_order,
                one_line_takes_one_lifecycle_order_at_once,
                concurrent_sales_at_one_store_all_go_through,
            }
            ports {
                a_port_in_runs_on_a_temporary_number_or_waits_and_never_takes_ours,
                a_parked_port_leaves_flight_and_wakes_at_its_deadline,
                port_items_are_recorded_once_and_wake_a_parked_port,
                a_port_item_applied_on_arrival_parks_or_wakes_in_one_commit,
                a_batch_of_port_items_is_received_in_order,
                consecutive_items_of_a_batch_move_a_parked_port_in_one_write,
                applying_items_parks_the_order_unless_another_waits,
                a_completed_port_opens_its_line_on_the_ported_number,
                a_port_item_that_completes_a_parked_port_ends_it_on_arrival,
            }
            port_out {
                a_completed_port_out_ends_the_line_and_the_number_leaves_for_good,
                a_ported_out_number_is_not_held_again,
                a_credential_is_recorded_on_the_live_line_only,
                a_ported_in_number_leaves_with_its_line,
            }
            ported_number {
                a_ported_in_number_goes_back_to_its_range_holder_and_may_come_again,
                a_number_ported_out_of_our_pool_comes_home_on_a_port_back,
            }
            pool {
                a_reservation_holds_a_number_idempotently,
                an_activation_uses_a_reservation_once,
                lapsed_holds_return_at_their_deadline,
                quarantine_ages_and_can_be_released_early,
                golden_numbers_only_when_chosen,
                the_sequential_policy_takes_the_lowest_free_number,
                the_random_policy_takes_free_ordinary_numbers,
                a_clerk_pages_free_numbers_and_releases_a_hold,
            }
            imports {
                a_batch_becomes_stock_only_when_finished,
                chunk_clashes_name_their_position_and_first_line,
                abort_removes_what_the_batch_wrote,
                recover_imports_removes_unfinished_batches,
                beginning_again_restarts_an_unfinished_batch,
                batch_sims_pages_in_iccid_order,
                an_esim_batch_enters_stock_when_finished,
                inventory_breakdown_counts_per_pool_and_batch,
            }
            esim {
                notifications_apply_once_and_say_what_they_did,
                a_released_order_expires_at_its_deadline,
                a_downloaded_order_never_expires,
            }
            subscriptions {
                a_line_is_found_by_its_number_within_its_tenant,
                pages_follow_subscription_ids_and_stay_stable_under_inserts,
                pages_filter_by_state_and_card,
            }
            lifecycle {
                a_lifecycle_order_makes_the_line_busy,
                lifecycle_rejections_change_nothing,
                a_lifecycle_create_can_record_the_first_step_as_sent,
            }
            line_changes {
                a_completed_suspend_and_resume_change_the_line,
                a_number_change_and_a_termination_complete,
                a_failed_swap_returns_its_card,
            }
            events {
                public_events_page_by_tenant_sequence,
                write_paths_publish_in_their_commit,
                low_stock_is_published_once_per_crossing,
            }
            webhooks {
                endpoints_are_created_listed_and_deleted_per_tenant,
                rotating_a_secret_keeps_the_old_one_until_it_expires,
            }
            outbox {
                deliveries_queue_per_subject_and_record_attempts,
                giving_up_disables_the_endpoint,
                an_endpoint_enabled_again_takes_new_events_only,
                redelivery_queues_an_event_again,
                deleting_an_endpoint_drops_its_deliveries,
                a_commit_with_deliveries_wakes_the_dispatcher,
            }
            extras {
                the_admin_listings_read_what_the_store_holds,
                rotation_reseals_every_sealed_value,
            }
            compliance {
                one_id_opens_five_lines_and_a_failed_one_stops_counting,
                a_terminated_line_stops_counting,
                tenants_of_one_enterprise_share_the_count_and_others_do_not,
                twenty_concurrent_orders_for_one_id_give_exactly_five_lines,
                a_velocity_breach_refuses_and_freezes_the_clerk,
                the_registry_gates_store_channels,
                a_blocklisted_id_is_refused_until_its_entry_ends,
                an_id_entry_outside_its_lifetimes_is_refused,
                validation_reserves_and_counts_nothing,
                the_audit_chain_holds_every_decision_and_verifies,
                a_replay_is_not_checked_again,
                the_chain_continues_after_a_reopen,
                the_compliance_tables_are_dumped,
                velocity_buckets_count_and_leave_their_window,
            }
            reverify {
                a_flagged_line_opens_pending_with_its_deadline_indexed,
                the_deadline_suspends_once_and_waits_for_a_busy_line,
                an_operators_regulatory_hold_outlasts_a_passed_verification,
                a_failed_results_suspend_is_ordered_again,
                results_clear_suspend_or_resume_and_refusals_change_nothing,
                the_deadline_survives_a_reopen,
            }
            handset {
                a_new_or_blocklisted_handset_flags_the_line,
                the_handset_of_the_sale_is_the_baseline,
            }
            order_audit {
                lifecycle_orders_are_audited_where_the_line_was_sold,
                a_swap_under_the_sim_swap_rule_flags_its_line,
                a_failed_timer_suspend_is_ordered_again,
            }
            terminal {
                a_swap_writes_only_over_what_was_read,
            }
            verified_first {
                a_precheck_writes_nothing_and_a_create_records_the_decision_asked_before,
            }
            close {
                a_closed_store_refuses_calls,
                acknowledged_writes_survive_a_reopen,
                a_notification_stays_a_duplicate_after_a_reopen,
            }
        );
    };
    (@areas $open:path; $($area:ident { $($case:ident),* $(,)? })*) => {
        $(
            mod $area {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                    async fn $case() {
                        let mut backend = $open().await;
                        $crate::run(&mut backend, $crate::$area::$case).await;
                    }
                )*
            }
        )*
    };
}

mod embedded {
    suite!(crate::embedded);
}

mod memory {
    suite!(crate::memory);
}

/// The PostgreSQL backend: a private server for this test (`common::postgres`), a fresh
/// database, `PgStore::open` on it (migrated, its sequencer running); reopening opens
/// another `PgStore` on the same database once `close` released the pool.
pub async fn postgres() -> Backend {
    let pg = common::postgres::PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = pg.create_db("contract").await.expect("create database");
    let config = gateway::config::StoreConfig {
        backend: gateway::config::StoreBackend::Postgres,
        url: Some(gateway::config::DbUrl::new(&url)),
        pool_size: 8,
        ..gateway::config::StoreConfig::default()
    };
    let open = move || -> BoxFuture<'static, Arc<dyn StoreAdmin>> {
        let config = config.clone();
        Box::pin(async move {
            gateway::store::postgres::PgStore::open(&config)
                .await
                .expect("open the PostgreSQL store") as Arc<dyn StoreAdmin>
        })
    };
    Backend {
        store: open().await,
        reopen: Some(Box::new(open)),
        _keep: Box::new(pg),
    }
}

mod postgres {
    suite!(crate::postgres);
}

/// The 10,000-allocation case of `port_out`, on the in-memory backend only (the same
/// redb code as the embedded backend; on disk it would be 20,000 fsyncs).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_allocations_never_take_a_ported_out_number() {
    let mut backend = memory().await;
    run(
        &mut backend,
        port_out::ten_thousand_allocations_never_take_a_ported_out_number,
    )
    .await;
}

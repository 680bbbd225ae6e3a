//! The `random` number policy is uniform over a tenant's free numbers, however its blocks
//! lie: blocks far apart in number space, of very different sizes and of different
//! lengths each give numbers in proportion to what they have free, spread evenly inside.
//! Chi-square bounds at p = 0.001 over a fixed seed: reproducible, and far outside the
//! bound for a policy that favours the number after a gap.

use gateway::metrics::Metrics;
use gateway::numbers::NumberPolicy;
use gateway::store::StoreAdmin;
use gateway::store::embedded::RedbStore;
use gateway::store::{AdminChange, NewReservation, Product, ReservationOutcome, Store, Tenant};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// (label, first number, size): gaps of millions of numbers between them, one of another
/// length.
const BLOCKS: [(&str, u64, u64); 4] = [
    ("small", 8_613_800_000_000, 100),
    ("medium", 8_613_850_000_000, 1_000),
    ("large", 8_613_900_000_000, 10_000),
    ("uk", 447_700_900_000, 500),
];
const DRAWS: usize = 2_000;
/// χ² critical values at p = 0.001 for 3 and 9 degrees of freedom.
const CHI2_3: f64 = 16.27;
const CHI2_9: f64 = 27.88;

/// SplitMix64: a fixed, well-mixed sequence of u64s.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn chi2(observed: &[u64], expected: &[f64]) -> f64 {
    observed
        .iter()
        .zip(expected)
        .map(|(o, e)| (*o as f64 - e).powi(2) / e)
        .sum()
}

async fn seeded(dir: &Path) -> Arc<RedbStore> {
    let store = RedbStore::open(dir, 16, 64, Arc::new(Metrics::default())).expect("store");
    let mut t = Tenant::new(
        "t",
        "t",
        "00101".parse().expect("plmn"),
        BTreeMap::from([("p".to_owned(), Product::new(1))]),
    );
    t.number_policy = NumberPolicy::Random;
    // No golden numbers, so every block has exactly its size free.
    t.golden_rules.clear();
    let mut changes = vec![AdminChange::PutTenant(t)];
    for (label, first, size) in BLOCKS {
        changes.push(AdminChange::AddNumbers {
            tenant: "t".into(),
            block: label.into(),
            first: first.to_string().parse().expect("msisdn"),
            count: size,
        });
    }
    gateway::admin::apply(&store, AdminChange::Batch(changes))
        .await
        .expect("seed");
    Arc::new(store)
}

/// Reserves `count` automatic numbers with random values from a fixed seed; returns them
/// in order. Requests go in rounds of 100 so the writer commits each round at once: tasks
/// of the current-thread runtime first run in spawn order and each sends its command at
/// once, so the writer applies them in that order and the draws are the same on every run.
async fn draw(store: &Arc<RedbStore>, count: usize) -> Vec<u64> {
    let mut seed = 0x005E_ED0F_B10C_u64;
    let mut out = Vec::with_capacity(count);
    for round in 0..count.div_ceil(100) {
        let mut tasks = Vec::new();
        for n in round * 100..count.min(round * 100 + 100) {
            let (store, random) = (store.clone(), splitmix(&mut seed));
            tasks.push(tokio::spawn(async move {
                store
                    .create_reservation(NewReservation {
                        tenant: "t".into(),
                        idempotency_key: format!("k{n}"),
                        body_hash: format!("h{n}"),
                        id: format!("nres_{n}"),
                        msisdn: None,
                        ttl_ms: 3_600_000,
                        now_ms: 0,
                        random,
                    })
                    .await
                    .expect("reserve")
            }));
        }
        for task in tasks {
            let outcome = task.await.expect("task");
            let ReservationOutcome::Created(r) = outcome else {
                panic!("{outcome:?}");
            };
            out.push(r.msisdn.as_str().parse().expect("digits"));
        }
    }
    out
}

#[tokio::test]
async fn random_allocation_is_uniform_over_free_numbers_across_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = seeded(dir.path()).await;
    let mut per_block = [0u64; BLOCKS.len()];
    let mut deciles = [[0u64; 10]; BLOCKS.len()];
    for m in draw(&store, DRAWS).await {
        let (i, (_, first, size)) = BLOCKS
            .iter()
            .enumerate()
            .find(|(_, (_, first, size))| (*first..first + size).contains(&m))
            .expect("a number of one of the blocks");
        per_block[i] += 1;
        deciles[i][((m - first) * 10 / size) as usize] += 1;
    }

    let total: u64 = BLOCKS.iter().map(|b| b.2).sum();
    let expected: Vec<f64> = BLOCKS
        .iter()
        .map(|b| DRAWS as f64 * b.2 as f64 / total as f64)
        .collect();
    let across = chi2(&per_block, &expected);
    assert!(
        across < CHI2_3,
        "blocks not drawn in proportion to their free numbers: χ² = {across:.1}, got {per_block:?}, expected {expected:.1?}"
    );
    // Within each block with enough draws to judge (≥ 5 expected per decile).
    for (i, (label, _, _)) in BLOCKS.iter().enumerate() {
        if expected[i] < 50.0 {
            continue;
        }
        let e = vec![per_block[i] as f64 / 10.0; 10];
        let within = chi2(&deciles[i], &e);
        assert!(
            within < CHI2_9,
            "block {label} not spread evenly: χ² = {within:.1} over deciles {:?}",
            deciles[i]
        );
    }
}

/// A store written before the free tree existed gets it built when opened, and then draws
/// exactly as a store that always had it.
#[tokio::test]
async fn a_store_without_the_free_tree_gets_it_built_at_open() {
    reopened_draws_as_a_new_store(|txn| {
        assert!(
            txn.delete_table(TREE).expect("drop tree"),
            "the tree existed"
        );
        flags(txn, &[]);
    })
    .await;
}

/// A store whose tree has the first shape (a level for the last digit too, flagged
/// `free_tree_built` only) gets it rebuilt when opened: exactly the rows of a new store.
#[tokio::test]
async fn a_tree_of_the_first_shape_is_rebuilt_at_open() {
    reopened_draws_as_a_new_store(|txn| {
        let mut tree = txn.open_table(TREE).expect("tree");
        // One node one level below the present bottom, as the first shape had them.
        tree.insert(("t", 12, 13, "861380000000"), 10)
            .expect("deep node");
        flags(txn, &["free_tree_built"]);
    })
    .await;
}

const TREE: redb::TableDefinition<(&str, u8, u8, &str), u64> =
    redb::TableDefinition::new("free_tree");
const META: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");

/// Leaves exactly `set` of the tree's build flags.
fn flags(txn: &redb::WriteTransaction, set: &[&str]) {
    let mut meta = txn.open_table(META).expect("meta");
    for flag in ["free_tree_built", "free_tree_built_2"] {
        meta.remove(flag).expect("flag");
    }
    for flag in set {
        meta.insert(*flag, b"1".as_slice()).expect("flag");
    }
}

/// Every row of the tree table.
fn tree_rows(dir: &Path) -> Vec<(String, u8, u8, String, u64)> {
    use redb::{ReadableDatabase, ReadableTable};
    let db = redb::Database::create(dir.join("simgw.redb")).expect("redb");
    let txn = db.begin_read().expect("read");
    let tree = txn.open_table(TREE).expect("tree");
    tree.iter()
        .expect("iter")
        .map(|r| {
            let (k, v) = r.expect("row");
            let (t, d, w, p) = k.value();
            (t.to_owned(), d, w, p.to_owned(), v.value())
        })
        .collect()
}

/// Seeds two stores alike, turns the second into an older layout with `age`, reopens it,
/// and checks that its tree and its draws are those of the first.
async fn reopened_draws_as_a_new_store(age: impl FnOnce(&redb::WriteTransaction)) {
    let always = tempfile::tempdir().expect("tempdir");
    let store = seeded(always.path()).await;
    let expected = draw(&store, 300).await;
    store.close().await;
    drop(store);
    let expected_rows = tree_rows(always.path());

    let dir = tempfile::tempdir().expect("tempdir");
    let store = seeded(dir.path()).await;
    store.close().await;
    drop(store);
    {
        let db = redb::Database::create(dir.path().join("simgw.redb")).expect("redb");
        let txn = db.begin_write().expect("txn");
        age(&txn);
        txn.commit().expect("commit");
    }
    let reopened = Arc::new(
        RedbStore::open(dir.path(), 16, 64, Arc::new(Metrics::default())).expect("reopen"),
    );
    let got = draw(&reopened, 300).await;
    reopened.close().await;
    drop(reopened);
    assert_eq!(
        tree_rows(dir.path()),
        expected_rows,
        "the tree as a new store has it"
    );
    let first_difference = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        first_difference,
        None,
        "draws differ from a store that always had the tree (from draw {first_difference:?}: {:?} instead of {:?})",
        got.get(first_difference.unwrap_or(0)..)
            .map(|s| &s[..s.len().min(5)]),
        expected
            .get(first_difference.unwrap_or(0)..)
            .map(|s| &s[..s.len().min(5)]),
    );
}

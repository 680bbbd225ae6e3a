use super::*;

const T: Table = Table::new("things");
const U: Table = Table::new("others");

fn put(t: Table, k: &str, v: u32) -> Change {
    Change::put(t, k, &v).expect("json")
}

/// Both tables' records.
type Both = (Vec<(String, u32)>, Vec<(String, u32)>);

fn load_all(f: &StateFile) -> Both {
    (f.load(T).expect("load"), f.load(U).expect("load"))
}

#[test]
fn records_and_counters_survive_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sims").join("x.state");
    let f = StateFile::open(&path).expect("open");
    assert!(!f.resumed());
    assert!(f.load::<u32>(T).expect("load").is_empty());
    let changes = [
        put(T, "a", 1),
        put(T, "b", 2),
        StateFile::set_counter("n", 7),
    ];
    f.commit(&changes).expect("commit");
    f.commit(&[Change::delete(T, "a")]).expect("delete");
    drop(f);
    let f = StateFile::open(&path).expect("reopen");
    assert!(f.resumed());
    assert_eq!(f.load::<u32>(T).expect("load"), vec![("b".to_owned(), 2)]);
    assert_eq!(f.counter("n").expect("counter"), 7);
    assert_eq!(f.counter("never").expect("counter"), 0);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("dir")), 0o700);
    }
}

#[test]
fn a_record_that_does_not_decode_is_named_not_quoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let f = StateFile::open(&path).expect("open");
    f.commit(&[Change::put(T, "k", &"secret-ish").expect("json")])
        .expect("commit");
    let err = f.load::<u32>(T).expect_err("a string is not a u32");
    let msg = err.to_string();
    assert!(msg.contains("things/k"), "{msg}");
    assert!(!msg.contains("secret-ish"), "{msg}");
}

#[test]
fn a_second_open_of_the_same_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let f = StateFile::open(&path).expect("open");
    assert!(StateFile::open(&path).is_err());
    drop(f);
    assert!(StateFile::open(&path).is_ok(), "free once closed");
}

#[test]
fn a_file_of_another_format_is_refused_not_misread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let other = b"redb\x1a\x0a\xa9\x0d\x0a and more";
    std::fs::write(&path, other).expect("write");
    let err = StateFile::open(&path).expect_err("another format");
    assert!(matches!(err, StateFileError::Format { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), other, "left as it was");
}

#[test]
fn a_file_killed_while_being_created_starts_afresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    std::fs::write(&path, &MAGIC[..5]).expect("write");
    let f = StateFile::open(&path).expect("open");
    assert!(!f.resumed());
    f.commit(&[put(T, "a", 1)]).expect("commit");
    drop(f);
    let f = StateFile::open(&path).expect("reopen");
    assert_eq!(f.load::<u32>(T).expect("load"), vec![("a".to_owned(), 1)]);
}

#[test]
fn a_commit_cut_short_by_a_kill_is_dropped_and_later_ones_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let f = StateFile::open(&path).expect("open");
    f.commit(&[put(T, "a", 1)]).expect("commit");
    f.commit(&[put(T, "b", 2)]).expect("commit");
    drop(f);
    // The second frame as a kill in the middle of its write leaves it: cut short. And a
    // frame whose bytes were damaged reads the same.
    let whole = std::fs::read(&path).expect("read");
    for damage in [Damage::Cut, Damage::Flip] {
        let mut bytes = whole.clone();
        match damage {
            Damage::Cut => bytes.truncate(bytes.len() - 3),
            Damage::Flip => *bytes.last_mut().expect("byte") ^= 1,
        }
        std::fs::write(&path, &bytes).expect("write");
        let f = StateFile::open(&path).expect("reopen");
        assert_eq!(f.load::<u32>(T).expect("load"), vec![("a".to_owned(), 1)]);
        // Appends go after the last whole frame, so they are read back.
        f.commit(&[put(T, "c", 3)]).expect("commit");
        drop(f);
        let f = StateFile::open(&path).expect("reopen");
        assert_eq!(
            f.load::<u32>(T).expect("load"),
            vec![("a".to_owned(), 1), ("c".to_owned(), 3)],
            "{damage:?}"
        );
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    Cut,
    Flip,
}

#[test]
fn the_journal_is_rewritten_once_it_grows_and_keeps_what_it_holds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let f = StateFile::open(&path).expect("open");
    let big = "x".repeat(1_000);
    f.commit(&[Change::put(U, "big", &big).expect("json")])
        .expect("commit");
    // Far more appended than held: the file stays near its compaction bound.
    for i in 0..5_000u32 {
        f.commit(&[put(T, "k", i), StateFile::set_counter("n", u64::from(i))])
            .expect("commit");
    }
    let len = std::fs::metadata(&path).expect("meta").len();
    assert!(len <= COMPACT_MIN + 1_000, "{len} bytes");
    // Appending goes on in the rewritten file, and a reopen reads all of it.
    f.commit(&[put(T, "last", 1)]).expect("commit");
    drop(f);
    let f = StateFile::open(&path).expect("reopen");
    assert_eq!(
        f.load::<u32>(T).expect("load"),
        vec![("k".to_owned(), 4_999), ("last".to_owned(), 1)]
    );
    assert_eq!(
        f.load::<String>(U).expect("load"),
        vec![("big".to_owned(), big)]
    );
    assert_eq!(f.counter("n").expect("counter"), 4_999);
    assert!(
        StateFile::open(&path).is_err(),
        "the rewritten file is locked too"
    );
}

#[test]
fn a_rewrite_that_fails_loses_nothing_and_is_tried_again_later() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let len = || std::fs::metadata(&path).expect("meta").len();
    // The rewrite's new file cannot be created while a directory has its name.
    let blocker = dir.path().join("x.state.new");
    std::fs::create_dir(&blocker).expect("mkdir");
    let f = StateFile::open(&path).expect("open");
    let big = "x".repeat(1_000);
    let put = |i: u32| {
        f.commit(&[Change::put(T, "k", &format!("{big}{i}")).expect("json")])
            .expect("a commit does not fail with its rewrite");
    };
    // Past the point of a rewrite, which fails: every commit is still kept.
    let mut i = 0;
    while len() <= COMPACT_MIN + 10_000 {
        i += 1;
        put(i);
    }
    std::fs::remove_dir(&blocker).expect("rmdir");
    // Tried again once another COMPACT_MIN is appended (not at every commit).
    let grown = len();
    while len() >= grown {
        i += 1;
        put(i);
        assert!(len() <= grown + COMPACT_MIN + 2_000, "never rewritten");
    }
    assert!(len() < 10_000, "rewritten: {} bytes", len());
    drop(f);
    let f = StateFile::open(&path).expect("reopen");
    assert_eq!(
        f.load::<String>(T).expect("load"),
        vec![("k".to_owned(), format!("{big}{i}"))]
    );
}

#[test]
fn a_batch_leaves_the_last_change_of_each_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.state");
    let f = StateFile::open(&path).expect("open");
    f.commit(&[put(T, "gone", 1), put(U, "kept", 1)])
        .expect("commit");
    f.commit(&[
        put(T, "a", 1),
        put(U, "a", 10),
        put(T, "a", 2),
        Change::delete(T, "gone"),
        put(T, "b", 1),
        Change::delete(T, "b"),
        Change::delete(U, "kept"),
        put(U, "kept", 3),
        put(T, "gone", 4),
        Change::delete(T, "gone"),
    ])
    .expect("commit");
    let want = (
        vec![("a".to_owned(), 2)],
        vec![("a".to_owned(), 10), ("kept".to_owned(), 3)],
    );
    assert_eq!(load_all(&f), want);
    drop(f);
    let f = StateFile::open(&path).expect("reopen");
    assert_eq!(load_all(&f), want, "read back from the file");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// One commit of a batch leaves the file as committing its changes one by one, in
    /// memory and read back from the file.
    #[test]
    fn a_batch_is_the_same_as_its_changes_one_by_one(
        ops in proptest::collection::vec((0..2u8, 0..4u8, proptest::option::of(0..50u32)), 1..40)
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a.state"), dir.path().join("b.state"));
        let batched = StateFile::open(&a).expect("open");
        let single = StateFile::open(&b).expect("open");
        let changes: Vec<Change> = ops
            .iter()
            .map(|&(t, k, v)| {
                let (t, k) = (if t == 0 { T } else { U }, format!("k{k}"));
                match v {
                    Some(v) => put(t, &k, v),
                    None => Change::delete(t, k),
                }
            })
            .collect();
        batched.commit(&changes).expect("commit");
        for c in &changes {
            single.commit(std::slice::from_ref(c)).expect("commit");
        }
        let want = load_all(&single);
        proptest::prop_assert_eq!(&load_all(&batched), &want);
        drop((batched, single));
        for path in [a, b] {
            let f = StateFile::open(&path).expect("reopen");
            proptest::prop_assert_eq!(&load_all(&f), &want);
        }
    }
}

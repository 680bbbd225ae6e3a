//! Versioned schema migrations, embedded in the binary. `schema_migrations` records each
//! applied version; each migration runs in its own transaction together with its
//! `schema_migrations` row, so it is applied entirely or not at all. Applying is
//! idempotent and safe when several nodes start at once: the row is inserted first, and a
//! node that finds it inserted by another skips that migration. A database whose schema is
//! newer than this binary knows is refused: an older node must not write to it.

use tokio_postgres::Client;

/// The migrations, oldest first: (version, name, SQL). Versions are 1, 2, 3, … in order.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (
        2,
        "heap_only_updates",
        include_str!("migrations/0002_heap_only_updates.sql"),
    ),
    (
        3,
        "orders_inflight",
        include_str!("migrations/0003_orders_inflight.sql"),
    ),
    (
        4,
        "compliance",
        include_str!("migrations/0004_compliance.sql"),
    ),
    (5, "reverify", include_str!("migrations/0005_reverify.sql")),
    (6, "ports", include_str!("migrations/0006_ports.sql")),
    (7, "terminal", include_str!("migrations/0007_terminal.sql")),
    (
        8,
        "sims_room",
        include_str!("migrations/0008_sims_room.sql"),
    ),
    (
        9,
        "fan_out_cursor",
        include_str!("migrations/0009_fan_out_cursor.sql"),
    ),
    (
        10,
        "log_batches",
        include_str!("migrations/0010_log_batches.sql"),
    ),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Why the schema could not be brought to [`SCHEMA_VERSION`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    /// The database was migrated by a newer simgw.
    #[error(
        "the database schema is at version {found}, newer than this simgw knows ({known}): run a simgw at least as new as the one that migrated it"
    )]
    Newer {
        /// The database's version.
        found: i32,
        /// This binary's.
        known: i32,
    },
    /// The database refused a statement.
    #[error("schema migration {version} failed: {message}")]
    Failed {
        /// The migration (0: reading the version).
        version: i32,
        /// SQLSTATE and message.
        message: String,
    },
}

fn failed(version: i32) -> impl Fn(tokio_postgres::Error) -> MigrateError {
    move |e| MigrateError::Failed {
        version,
        message: match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        },
    }
}

/// The highest applied version (0 for an empty database).
pub async fn current_version(client: &Client) -> Result<i32, MigrateError> {
    const CREATE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
                              version       INT PRIMARY KEY,
                              name          TEXT NOT NULL,
                              applied_at_ms BIGINT NOT NULL
                          )";
    if let Err(e) = client.batch_execute(CREATE).await {
        // Two nodes creating it at the same moment: PostgreSQL may refuse the second
        // `IF NOT EXISTS` on one of its catalogs' unique indexes (the table's, or its row
        // type's: 42710); by then the table exists.
        let raced = e.code().is_some_and(|c| {
            use tokio_postgres::error::SqlState;
            *c == SqlState::UNIQUE_VIOLATION
                || *c == SqlState::DUPLICATE_TABLE
                || *c == SqlState::DUPLICATE_OBJECT
        });
        if !raced {
            return Err(failed(0)(e));
        }
        client.batch_execute(CREATE).await.map_err(failed(0))?;
    }
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(failed(0))?;
    Ok(row.get::<_, i32>(0))
}

/// Applies every migration the database lacks; returns the version it is at afterwards.
pub async fn migrate(client: &mut Client) -> Result<i32, MigrateError> {
    let found = current_version(client).await?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::Newer {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for &(version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > found) {
        let tx = client.transaction().await.map_err(failed(version))?;
        let now = i64::try_from(crate::clock::Clock::new().now_ms()).unwrap_or(i64::MAX);
        // Claims the version first: a node migrating at the same time waits here, then
        // finds the row and skips.
        let claimed = tx
            .execute(
                "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (version) DO NOTHING",
                &[&version, &name, &now],
            )
            .await
            .map_err(failed(version))?;
        if claimed == 0 {
            continue;
        }
        tx.batch_execute(sql).await.map_err(failed(version))?;
        tx.commit().await.map_err(failed(version))?;
        tracing::info!(version, name, "applied schema migration");
    }
    current_version(client).await
}

/// Checks the database is at exactly this binary's version (a read; no change).
pub async fn check(client: &Client) -> Result<(), MigrateError> {
    let found = current_version(client).await?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::Newer {
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found < SCHEMA_VERSION {
        return Err(MigrateError::Failed {
            version: found + 1,
            message: "not applied (run `simgw db migrate`)".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one() {
        for (i, (v, name, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i as i32 + 1, "{name}");
            assert!(!sql.trim().is_empty(), "{name}");
        }
        assert_eq!(SCHEMA_VERSION, MIGRATIONS.len() as i32);
    }

    #[test]
    fn the_schema_stays_within_what_cockroachdb_speaks() {
        for (_, name, sql) in MIGRATIONS {
            let code: String = sql
                .lines()
                .map(|l| l.split("--").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
                .to_ascii_uppercase();
            for banned in [
                "SERIAL",
                "SEQUENCE",
                "PG_ADVISORY",
                "NOTIFY",
                "LISTEN",
                "REFERENCES",
                "TRIGGER",
                "INHERITS",
                "EXCLUDE",
                "TIMESTAMPTZ",
            ] {
                assert!(!code.contains(banned), "{name} uses {banned}");
            }
        }
    }
}

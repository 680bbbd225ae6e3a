-- The store terminal (issue 13): pairing codes (by keyed MAC), device generations, clerk
-- credentials (Argon2id hashes) and recent sales, each a JSON record under (tenant, key),
-- written by compare-and-swap (`ComplianceChange::TerminalSwap`).
CREATE TABLE terminal_records (
    tenant TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BYTEA NOT NULL,
    PRIMARY KEY (tenant, key)
);

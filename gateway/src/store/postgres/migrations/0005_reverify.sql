-- Second real-person verification (issue 15): the lines waiting for it, by due time (the
-- line's deadline; a minute later again for a line whose deadline passed while another
-- order was in flight on it). The embedded store's REVERIFY_DUE. A line's verification
-- itself is in its document (`subscriptions.doc`, `verification`); this table is derived
-- from it (copy_derive.rs) and only ever holds a few rows per line.
CREATE TABLE reverify_due (
    due_ms       BIGINT NOT NULL,
    subscription TEXT NOT NULL,
    PRIMARY KEY (due_ms, subscription)
);

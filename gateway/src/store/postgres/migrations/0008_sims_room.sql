-- A SIM's state changes (reserved, active, retired) rewrite its row (`doc` holds the sealed
-- card record). With the 30 % of each page that fillfactor 70 kept free, a page of ~16
-- cards ran out of room before PostgreSQL pruned the old versions, so about 4 in 10 state
-- changes were not heap-only: each wrote entries into `sims_pkey` and the IMSI index, on
-- the pages every create and completion had read (SIRead), and made them fail to
-- serialize. Pages written from now on keep 60 % free; existing pages keep their fill
-- until rewritten (a `VACUUM FULL sims` or the copy of `simgw db copy` rewrites them).
ALTER TABLE sims SET (fillfactor = 40);

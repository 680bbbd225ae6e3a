-- The sequencer queues webhook deliveries in a transaction of its own after numbering
-- (`sequencer.rs`), from a cursor: the last global public event number whose deliveries
-- are queued. Every event numbered before this version had its deliveries queued as it
-- was numbered, so the cursor starts at the last number given.
INSERT INTO event_seq (name, last)
    SELECT 'fanned_out', last FROM event_seq WHERE name = 'public'
    ON CONFLICT (name) DO NOTHING;

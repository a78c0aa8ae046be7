-- Where a new audit sequencer resumes (issue #13, growth). Each batch of links records the
-- horizon the sequencer continues from after it (io.refundbroker.audit.AuditSequencer): every
-- event of a transaction with a smaller id was linked when the batch committed. A sequencer that
-- takes the lead reads the head link's horizon instead of scanning the whole trail for unlinked
-- events (38 to 48 s with 5,000,000 events, during which nothing is linked). Links made before
-- this column (and links inserted by hand) carry NULL: the next leader then scans from the start,
-- as before. The horizon is not part of the link's hash: a wrong one can only delay linking (the
-- events stay unlinked and are counted by GET /v1/audit/verify as unlinkedEvents), never change
-- the chain, and a sequencer ignores a horizon beyond its own snapshot.
ALTER TABLE audit_links ADD COLUMN horizon bigint CHECK (horizon >= 0);

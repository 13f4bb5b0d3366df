-- The gap-safe read horizon no longer waits for transactions that can never append events
-- (ADR 0011). A transaction that appends events after another write must first call
-- events_lock_for_append(), which takes `events` in ROW EXCLUSIVE mode before the transaction
-- has a transaction id; a single statement that writes events (an INSERT, or a CTE with
-- one) takes that lock before it executes anyway. So a transaction that holds a transaction
-- id without that lock never appends events, and readers may look past it.

-- The transaction id below which every event a reader can see is final: the oldest
-- transaction in flight at the caller's snapshot that may still append events, else the
-- snapshot's xmax. A transaction in flight is passed over only when it is proven a
-- bystander: pg_locks shows it with its transaction id and without `events` held for
-- writing, AND it is still in progress after pg_locks was read. The second half matters: at
-- commit, PostgreSQL marks the transaction done first and releases its locks after, the
-- `events` lock (a fast-path lock) before its transaction id lock, so a committing writer
-- can show up without its `events` lock for a moment; it is then no longer in progress.
-- Everything else in flight (a writer, one that ended since the snapshot, a prepared
-- transaction) counts. pg_locks names transaction ids in 32 bits; those in flight are
-- within 2^31 of each other, so the low 32 bits identify them.
-- On a hot standby pg_locks does not show the primary's transactions (and the snapshot's
-- running ids are not in pg_snapshot_xip there), so it falls back to the snapshot's xmin.
CREATE FUNCTION events_horizon() RETURNS xid8 LANGUAGE plpgsql STABLE AS $$
-- STABLE, so it runs on the caller's snapshot: the one its scan of `events` sees. plpgsql,
-- not sql: it keeps its query plans for the session (measured: 0.09 ms a call, against 0.5
-- ms for one query as a SQL function, which is planned on every call). Two statements, run
-- in order: pg_locks is read before the transactions are asked whether they still run.
DECLARE
  bystanders bigint[];
BEGIN
  IF pg_is_in_recovery() THEN
    RETURN pg_snapshot_xmin(pg_current_snapshot());
  END IF;
  WITH locks AS MATERIALIZED (
    SELECT locktype, transactionid::text::bigint AS xid32, virtualtransaction, relation, database, mode
    FROM pg_locks
    WHERE granted AND locktype IN ('transactionid', 'relation')
  )
  SELECT coalesce(array_agg(t.xid32), '{}') INTO bystanders FROM locks t
  WHERE t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock'
    AND NOT EXISTS (
      SELECT 1 FROM locks r
      WHERE r.locktype = 'relation' AND r.virtualtransaction = t.virtualtransaction
        AND r.relation = 'events'::regclass AND r.mode = 'RowExclusiveLock'
        AND r.database = (SELECT oid FROM pg_database WHERE datname = current_database()));
  RETURN (
    SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))
    FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE NOT (x::text::bigint % 4294967296 = ANY (bystanders) AND pg_xact_status(x) = 'in progress')
  );
END $$;

-- Both functions below also make the transaction commit synchronously, whatever its
-- session says (lease sessions commit asynchronously): an event is durable before any
-- reader can see it, as PostgreSQL shows a synchronous commit only once it is flushed.

-- Call first in a transaction that will append events after other writes.
CREATE FUNCTION events_lock_for_append() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF pg_current_xact_id_if_assigned() IS NOT NULL
     AND current_setting('storeflow.events_locked', true) IS DISTINCT FROM 'on' THEN
    RAISE EXCEPTION 'events_lock_for_append() must come before the transaction''s first write'
      USING ERRCODE = 'SF002';
  END IF;
  LOCK TABLE events IN ROW EXCLUSIVE MODE;
  PERFORM set_config('storeflow.events_locked', 'on', true);
  PERFORM set_config('synchronous_commit', 'on', true);
END $$;

-- True when this transaction may append events now: it called events_lock_for_append()
-- or appended before, or it has written nothing yet (the INSERT calling this took the lock
-- before it writes, and the transaction keeps it). Raises otherwise, so a writer that
-- forgot the lock fails instead of being read past.
CREATE FUNCTION events_may_append() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('storeflow.events_locked', true) = 'on' THEN
    RETURN true;
  END IF;
  IF pg_current_xact_id_if_assigned() IS NULL THEN
    PERFORM set_config('storeflow.events_locked', 'on', true);
    PERFORM set_config('synchronous_commit', 'on', true);
    RETURN true;
  END IF;
  RAISE EXCEPTION 'a transaction that wrote before appending events must call events_lock_for_append() first'
    USING ERRCODE = 'SF002';
END $$;

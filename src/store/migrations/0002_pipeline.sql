-- The event pipeline: durable subscriptions with gap-safe checkpoints, retry state, dead
-- letters, operator requests (replays, dead-letter retries) the lease holder carries out.

ALTER TABLE users ADD COLUMN platform_admin boolean NOT NULL DEFAULT false;

CREATE TABLE subscriptions (
  name             text PRIMARY KEY,
  checkpoint_tx    xid8 NOT NULL DEFAULT '0',
  checkpoint_pos   bigint NOT NULL DEFAULT 0,
  paused           boolean NOT NULL DEFAULT false,
  handled_count    bigint NOT NULL DEFAULT 0,
  failure_count    bigint NOT NULL DEFAULT 0,
  -- The event being retried (at most one: a subscription is ordered), its attempts so far.
  retry_event_id   uuid,
  retry_attempts   integer NOT NULL DEFAULT 0,
  retry_first_at   timestamptz,
  retry_error      text,
  next_retry_at    timestamptz,
  last_handled_at  timestamptz,
  holder           text,
  heartbeat_at     timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dead_letters (
  id                bigserial PRIMARY KEY,
  subscription      text NOT NULL,
  event_id          uuid NOT NULL,
  event_position    bigint NOT NULL,
  event_name        text NOT NULL,
  stream            text NOT NULL,
  merchant_id       bigint,
  store_id          bigint,
  error             text NOT NULL,
  attempts          integer NOT NULL,
  first_failed_at   timestamptz NOT NULL,
  last_failed_at    timestamptz NOT NULL,
  -- parked -> (retry requested) -> retried | parked again; or discarded
  status            text NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'retry_requested', 'retried', 'discarded')),
  resolved_at       timestamptz,
  resolved_by       bigint,
  resolution_reason text
);
CREATE UNIQUE INDEX dead_letters_open ON dead_letters (subscription, event_id) WHERE status IN ('parked', 'retry_requested');
CREATE INDEX dead_letters_by_status ON dead_letters (status, id);

-- A replay of a filtered range of the log to one subscription, carried out by whoever holds
-- that subscription's lease, so replays never run beside the live subscription.
CREATE TABLE replay_jobs (
  id            bigserial PRIMARY KEY,
  subscription  text NOT NULL,
  names         text[],
  stream        text,
  from_time     timestamptz,
  until_time    timestamptz,
  cursor_tx     xid8 NOT NULL DEFAULT '0',
  cursor_pos    bigint NOT NULL DEFAULT 0,
  total         bigint NOT NULL,
  done          bigint NOT NULL DEFAULT 0,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
  error         text,
  requested_by  bigint,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX replay_jobs_open ON replay_jobs (subscription, id) WHERE status IN ('pending', 'running');

CREATE INDEX events_occurred_at ON events (occurred_at);
CREATE INDEX events_name_position ON events (name, position);

-- Projection kept by the `store-counters` subscription; rebuildable by replay.
CREATE TABLE store_order_counts (
  store_id bigint NOT NULL,
  status   text NOT NULL,
  count    bigint NOT NULL,
  PRIMARY KEY (store_id, status)
);
CREATE TABLE store_orders_per_hour (
  store_id bigint NOT NULL,
  hour     timestamptz NOT NULL,
  count    bigint NOT NULL,
  PRIMARY KEY (store_id, hour)
);

-- Operator actions on the pipeline (dead letters, replays) are audited even when they span
-- merchants, so an audit row need not name one.
ALTER TABLE audit_log ALTER COLUMN merchant_id DROP NOT NULL;

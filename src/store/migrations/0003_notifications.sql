-- Consumers of the event log that reach people and systems: in-app notifications, the
-- merchants' notification settings, their webhook endpoints and ONE delivery outbox for
-- everything that leaves the database (email, webhooks, SMS, push). Subscribers write
-- outbox rows in the transaction that moves their checkpoint; the delivery worker sends
-- them later, so a slow mail server or webhook receiver never holds back the pipeline.

-- In-app notifications, one row per recipient. Unique per (user, source event, kind): a
-- replay of the source event finds its rows already there and adds none.
CREATE TABLE notifications (
  id              bigserial PRIMARY KEY,
  merchant_id     bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
  store_id        bigint REFERENCES stores(id) ON DELETE CASCADE,
  user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind            text NOT NULL,
  title           text NOT NULL,
  body            text NOT NULL,
  link            text,
  source_event_id uuid NOT NULL,
  created_at      timestamptz NOT NULL,
  read_at         timestamptz,
  UNIQUE (user_id, source_event_id, kind)
);
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- Which events send which email, per merchant. Missing keys (and a missing row) mean the
-- defaults in src/reactions/notification-settings.ts, so new settings need no migration.
CREATE TABLE merchant_notification_settings (
  merchant_id bigint PRIMARY KEY REFERENCES merchants(id) ON DELETE CASCADE,
  settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A merchant's webhook receivers. The secret signs every delivery (HMAC-SHA256); it is
-- shown once on creation. Removing an endpoint only deactivates it, so its delivery
-- history stays readable for audit.
CREATE TABLE webhook_endpoints (
  id          bigserial PRIMARY KEY,
  merchant_id bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
  url         text NOT NULL,
  secret      text NOT NULL,
  event_types text[] NOT NULL CHECK (cardinality(event_types) >= 1),
  description text,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  removed_at  timestamptz
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id) WHERE active;

-- The outbox. One row per message per target; `attempts` counts claims, so an attempt cut
-- short by a crash still counts. A worker claims a due row by pushing `next_attempt_at`
-- past the attempt's timeout (FOR UPDATE SKIP LOCKED, no lock held while sending), so
-- several nodes can work the table and a row whose worker died becomes due again.
CREATE TABLE deliveries (
  id              bigserial PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('email', 'webhook', 'sms', 'push')),
  merchant_id     bigint REFERENCES merchants(id) ON DELETE CASCADE,
  -- email address, phone number, device token or the endpoint's URL when enqueued
  target          text NOT NULL,
  endpoint_id     bigint REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  payload         jsonb NOT NULL,
  source_event_id uuid NOT NULL,
  event_name      text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'parked', 'cancelled')),
  last_error      text,
  first_failed_at timestamptz,
  created_at      timestamptz NOT NULL,
  delivered_at    timestamptz,
  updated_at      timestamptz NOT NULL,
  CHECK ((kind = 'webhook') = (endpoint_id IS NOT NULL))
);
-- Re-delivery of a source event (a retry or a replay of the subscription) never enqueues
-- the same message twice: webhooks are unique per endpoint, the rest per target.
CREATE UNIQUE INDEX deliveries_once ON deliveries (kind, (COALESCE(endpoint_id::text, target)), source_event_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id) WHERE endpoint_id IS NOT NULL;
CREATE INDEX deliveries_parked_source ON deliveries (source_event_id) WHERE status = 'parked';

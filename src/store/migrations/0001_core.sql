-- StoreFlow core schema: tenancy, catalog, orders with immutable snapshots, audit log and
-- the event log. Runs unchanged on PostgreSQL and PGlite. Forward-only: never edit a
-- migration that has shipped; add the next number.

CREATE TABLE merchants (
  id         bigserial PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stores (
  id                 bigserial PRIMARY KEY,
  merchant_id        bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
  name               text NOT NULL,
  currency           char(3) NOT NULL,
  notification_email text,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stores_merchant ON stores (merchant_id);

CREATE TABLE users (
  id              bigserial PRIMARY KEY,
  merchant_id     bigint NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
  email           text NOT NULL,
  name            text NOT NULL,
  password_hash   text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- Failed sign-ins are counted per email address, whether or not a user has it, so a locked
-- account and an unknown address answer alike and the lock tells nobody which emails exist.
CREATE TABLE login_throttle (
  email_key    text PRIMARY KEY,
  failures     integer NOT NULL,
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL
);

CREATE TABLE store_memberships (
  user_id  bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  store_id bigint NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
  role     text NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
  PRIMARY KEY (user_id, store_id)
);
CREATE INDEX store_memberships_store ON store_memberships (store_id);

-- Only hashes of session and API tokens are stored: a database leak yields no credentials.
CREATE TABLE sessions (
  id           bigserial PRIMARY KEY,
  token_hash   text NOT NULL UNIQUE,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id           bigserial PRIMARY KEY,
  token_hash   text NOT NULL UNIQUE,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

CREATE TABLE products (
  id          bigserial PRIMARY KEY,
  store_id    bigint NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
  name        text NOT NULL,
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  currency    char(3) NOT NULL,
  active      boolean NOT NULL DEFAULT true,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_store ON products (store_id, id);

CREATE TABLE shipping_methods (
  store_id    bigint NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
  code        text NOT NULL,
  name        text NOT NULL,
  price_minor bigint NOT NULL CHECK (price_minor >= 0),
  active      boolean NOT NULL DEFAULT true,
  PRIMARY KEY (store_id, code)
);

CREATE TABLE orders (
  id                  bigserial PRIMARY KEY,
  public_id           text NOT NULL UNIQUE,
  merchant_id         bigint NOT NULL REFERENCES merchants(id),
  store_id            bigint NOT NULL REFERENCES stores(id),
  fulfilment_type     text NOT NULL CHECK (fulfilment_type IN ('pickup', 'shipping')),
  status              text NOT NULL CHECK (status IN ('pending', 'accepted', 'in_progress', 'packing', 'ready',
                        'shipped', 'completed', 'delivered', 'cancelled', 'rejected')),
  shipping_status     text CHECK (shipping_status IN ('pending', 'shipped', 'delivered')),
  customer_name       text NOT NULL,
  customer_email      text NOT NULL,
  customer_phone      text,
  shipping_address    jsonb,
  shipping_method     text,
  subtotal_minor      bigint NOT NULL CHECK (subtotal_minor >= 0),
  shipping_cost_minor bigint NOT NULL CHECK (shipping_cost_minor >= 0),
  total_minor         bigint NOT NULL CHECK (total_minor >= 0),
  currency            char(3) NOT NULL,
  tracking_code       text,
  tracking_url        text,
  accepted_at         timestamptz,
  ready_at            timestamptz,
  completed_at        timestamptz,
  cancelled_at        timestamptz,
  rejected_at         timestamptz,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  version             integer NOT NULL CHECK (version >= 1),
  idempotency_key     text,
  idempotency_hash    text,
  CHECK ((fulfilment_type = 'shipping') = (shipping_status IS NOT NULL)),
  CHECK (fulfilment_type = 'pickup' OR (shipping_address IS NOT NULL AND shipping_method IS NOT NULL))
);
-- The seed's two indexes: active-order filtering and the store operations board.
CREATE INDEX idx_orders_status ON orders (status);
CREATE INDEX idx_orders_store_status ON orders (store_id, status, created_at);
CREATE UNIQUE INDEX orders_idempotency ON orders (store_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE order_items (
  id               bigserial PRIMARY KEY,
  order_id         bigint NOT NULL REFERENCES orders(id),
  product_id       bigint NOT NULL,
  name             text NOT NULL,
  unit_price_minor bigint NOT NULL CHECK (unit_price_minor >= 0),
  quantity         integer NOT NULL CHECK (quantity > 0),
  line_total_minor bigint NOT NULL CHECK (line_total_minor >= 0)
);
CREATE INDEX order_items_order ON order_items (order_id);

-- Snapshots are frozen at checkout (seed 002 §11). The application never changes them; the
-- database refuses it too, so no future code path or manual UPDATE can rewrite history.
CREATE FUNCTION orders_snapshot_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.public_id IS DISTINCT FROM OLD.public_id
     OR NEW.merchant_id IS DISTINCT FROM OLD.merchant_id
     OR NEW.store_id IS DISTINCT FROM OLD.store_id
     OR NEW.fulfilment_type IS DISTINCT FROM OLD.fulfilment_type
     OR NEW.customer_name IS DISTINCT FROM OLD.customer_name
     OR NEW.customer_email IS DISTINCT FROM OLD.customer_email
     OR NEW.customer_phone IS DISTINCT FROM OLD.customer_phone
     OR NEW.shipping_address IS DISTINCT FROM OLD.shipping_address
     OR NEW.shipping_method IS DISTINCT FROM OLD.shipping_method
     OR NEW.subtotal_minor IS DISTINCT FROM OLD.subtotal_minor
     OR NEW.shipping_cost_minor IS DISTINCT FROM OLD.shipping_cost_minor
     OR NEW.total_minor IS DISTINCT FROM OLD.total_minor
     OR NEW.currency IS DISTINCT FROM OLD.currency
     OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key
     OR NEW.idempotency_hash IS DISTINCT FROM OLD.idempotency_hash THEN
    RAISE EXCEPTION 'order % snapshot is immutable', OLD.id USING ERRCODE = 'SF001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_snapshot_immutable BEFORE UPDATE ON orders
  FOR EACH ROW EXECUTE FUNCTION orders_snapshot_guard();

CREATE FUNCTION order_items_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'order items are immutable' USING ERRCODE = 'SF001';
END $$;
CREATE TRIGGER order_items_immutable BEFORE UPDATE OR DELETE ON order_items
  FOR EACH ROW EXECUTE FUNCTION order_items_guard();

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  merchant_id bigint NOT NULL,
  store_id    bigint,
  user_id     bigint,
  entity      text NOT NULL,
  entity_id   text NOT NULL,
  action      text NOT NULL,
  meta        jsonb NOT NULL DEFAULT '{}'::jsonb,
  request_id  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE INDEX audit_log_store ON audit_log (store_id, id);

-- The event log. `position` is the global append order; `transaction_id` is the writing
-- transaction, so readers can stop below the oldest transaction still in flight and never
-- skip an event that commits late (DESIGN.md §3).
CREATE TABLE events (
  position       bigserial PRIMARY KEY,
  id             uuid NOT NULL UNIQUE,
  name           text NOT NULL,
  version        integer NOT NULL,
  stream         text NOT NULL,
  stream_version integer NOT NULL CHECK (stream_version >= 1),
  occurred_at    timestamptz NOT NULL,
  source         text NOT NULL,
  merchant_id    bigint,
  store_id       bigint,
  metadata       jsonb NOT NULL,
  payload        jsonb NOT NULL,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  UNIQUE (stream, stream_version)
);
CREATE INDEX events_gap_safe ON events (transaction_id, position);
CREATE INDEX events_store ON events (store_id, transaction_id, position);

-- ThrillGate: operators' wallet definitions, the credits it owes players (wins), and the debits it took (contributions).

-- One definition per brand may be enabled. definition holds the normalised document without the secret, which is
-- kept AES-GCM sealed (Wallets:EncryptionKey) and never returned.
create table wallets (
    id          text primary key,
    operator_id text        not null,
    brand_id    text        not null,
    definition  jsonb       not null,
    secret      bytea       not null,
    enabled     boolean     not null default true,
    version     int         not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create unique index wallets_enabled_brand on wallets (operator_id, brand_id) where enabled;

-- A win to pay (the CreditWin command), keyed by the win: a redelivered command finds its row and pays nothing twice.
-- transaction_id is derived from the win id, so every attempt, re-drive and restart sends the same wallet transaction.
-- state: queued (to send) → paid, or pending (retries exhausted; re-driven with backoff until the wallet acknowledges),
-- or failed (refused by a no-retry rule, or no wallet: owed until an operator re-drives it).
create table credits (
    win_id                uuid primary key,
    transaction_id        text        not null unique,
    instance_id           uuid        not null,
    pot_id                text        not null,
    operator_id           text        not null,
    brand_id              text        not null,
    player_id             text        not null,
    currency              text        not null,
    amount                numeric     not null,
    gameround_id          text        null,
    state                 text        not null default 'queued' check (state in ('queued', 'pending', 'paid', 'failed')),
    attempts              int         not null default 0,
    next_attempt_at       timestamptz not null default now(),
    last_status           int         null,
    last_code             text        null,
    last_error            text        null,
    wallet_transaction_id text        null,
    -- The W3C trace context the command arrived in: every attempt to pay the win continues that trace.
    trace_parent          text        null,
    created_at            timestamptz not null default now(),
    paid_at               timestamptz null
);
create index credits_due on credits (next_attempt_at) where state in ('queued', 'pending');

-- Debits taken for contributions and their cancellations; a cancel the wallet did not acknowledge is re-driven. A
-- cancel may come for a debit this service never recorded (it was taken before a restart): what is unknown stays null.
create table debits (
    transaction_id text primary key,
    operator_id    text        not null,
    brand_id       text        not null,
    player_id      text        null,
    currency       text        null,
    amount         numeric     null,
    state          text        not null check (state in ('debited', 'failed', 'cancel_pending', 'cancelled')),
    attempts       int         not null default 0,
    next_attempt_at timestamptz null,
    last_error     text        null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create index debits_cancel_due on debits (next_attempt_at) where state = 'cancel_pending';

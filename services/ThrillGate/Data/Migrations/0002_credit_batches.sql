-- Batch credits (issue 8: community payouts, raffle prizes): a CreditBatch command is one credit_batches row and one credits
-- row per item (win_id holds the item's payout id), all written with the inbox row. The sender pays a batch's queued
-- items in one transaction_batch call when the wallet has one; an item left unpaid is re-driven on its own afterwards,
-- with the same transaction id.
create table credit_batches (
    batch_id             uuid primary key,
    batch_transaction_id text        not null unique,
    kind                 text        not null check (kind in ('community', 'raffle')),
    instance_id          uuid        not null,
    operator_id          text        not null,
    brand_id             text        not null,
    gameround_id         text        null,
    created_at           timestamptz not null default now()
);

alter table credits
    add column batch_id uuid null references credit_batches (batch_id),
    add column kind text not null default 'win' check (kind in ('win', 'community', 'raffle'));
-- A raffle prize belongs to no pot.
alter table credits alter column pot_id drop not null;
create index credits_batch on credits (batch_id) where batch_id is not null;

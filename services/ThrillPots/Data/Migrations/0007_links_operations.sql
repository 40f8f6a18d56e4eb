-- Issue 8, linked jackpots (v2) and operations: instance links, seed boosts, model-switch transfers.

-- Directed links (spec §14.2, §16): a v2 contribution to from_instance is also applied to to_instance (one level only:
-- to_instance's own links are not followed). instances.linked_instance keeps the link given at instantiation (shown on the
-- instance document); this table is what propagation reads, and what the link/unlink admin calls change.
create table instance_links (
    from_instance uuid        not null references instances (id),
    to_instance   uuid        not null references instances (id),
    created_at    timestamptz not null default now(),
    primary key (from_instance, to_instance),
    check (from_instance <> to_instance)
);
create index instance_links_to on instance_links (to_instance);
insert into instance_links (from_instance, to_instance)
select linked_instance, id from instances where linked_instance is not null on conflict do nothing;

-- Operator seed boosts (spec §7.3): money in, one row per pot credited, kept in pots.seed_boost until a reseed spends it.
create table seed_boosts (
    id          uuid primary key,
    request_id  uuid        not null,
    instance_id uuid        not null references instances (id),
    pot_id      text        not null,
    amount      numeric     not null check (amount > 0),
    reason      text        null,
    actor_sub   text        null,
    created_at  timestamptz not null default now()
);
create index seed_boosts_instance on seed_boosts (instance_id, pot_id);

-- Model switching (spec §21.4): what each source pot gave each target pot. amount = value + reseed_fund + seed_boost moved;
-- reconciliation counts it out of the source pot and into the target pot.
create table pot_transfers (
    id              uuid primary key,
    switch_id       uuid        not null,
    source_instance uuid        not null references instances (id),
    source_pot      text        not null,
    target_instance uuid        not null references instances (id),
    target_pot      text        not null,
    value           numeric     not null,
    reseed_fund     numeric     not null,
    seed_boost      numeric     not null,
    amount          numeric     not null,
    created_at      timestamptz not null default now()
);
create index pot_transfers_source on pot_transfers (source_instance, source_pot);
create index pot_transfers_target on pot_transfers (target_instance, target_pot);

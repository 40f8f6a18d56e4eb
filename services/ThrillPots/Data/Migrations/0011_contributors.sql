-- Each player's totals per instance, so that a lifetime leaderboard and a HighestLifetimeContributor community payout read
-- one row per player and a short tail of the ledger instead of aggregating the instance's whole ledger (≈ 6 s at 3 million
-- rows). contributors holds exactly the instance's ledger rows up to instances.totals_through; the rows after it (the
-- tail, seconds of them) are read from the ledger through (instance_id, created_at). The instance's writer moves the mark
-- forward now and then, folding the rows it passes, under the instance's lock (Contributions/InstanceWriter.cs,
-- "Contributor totals"). Keeping totals per batch instead cost ≈ 13 µs of PostgreSQL's time per contribution when the
-- batch's players differ, most of what the ledger row itself costs.
alter table instances add column totals_through timestamptz not null default '-infinity';

create table contributors (
    instance_id     uuid        not null,
    brand_id        text        not null,
    player_id       text        not null,
    contributions   bigint      not null,
    value           numeric     not null,
    first_at        timestamptz not null,
    last_at         timestamptz not null,
    -- the currency of the player's latest contribution: where a community payout is credited
    player_currency text        not null,
    primary key (instance_id, brand_id, player_id)
);

-- The ledger as it stands, up to 5 s before each instance's latest row: a batch in flight while this runs has a later time.
with marks as (
    select instance_id, max(created_at) - interval '5 seconds' as through from contributions group by instance_id),
marked as (
    update instances i set totals_through = m.through from marks m where i.id = m.instance_id)
insert into contributors (instance_id, brand_id, player_id, contributions, value, first_at, last_at, player_currency)
select c.instance_id, c.brand_id, c.player_id, count(*), sum(c.value), min(c.created_at), max(c.created_at),
       (array_agg(c.player_currency order by c.created_at desc, c.id desc))[1]
from contributions c join marks m on m.instance_id = c.instance_id
where c.created_at <= m.through
group by c.instance_id, c.brand_id, c.player_id;

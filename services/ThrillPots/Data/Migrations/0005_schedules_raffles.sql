-- Raffles (issue 8, spec thrillpots-engine.md §9). Schedules need no table: instances.schedule (0001) holds them.

-- One row per raffle period that took part: created 'open' by the writer with the period's first contribution, resolved by
-- the writer at the period's end ('drawn', or 'no_tickets' when nobody held a ticket: the pool carries over). Its id is the
-- draw id of the period's payouts.
create table raffle_draws (
    id             uuid primary key,
    instance_id    uuid        not null references instances (id),
    pot_id         text        not null,
    period_start   timestamptz not null,
    period_end     timestamptz not null,
    status         text        not null default 'open' check (status in ('open', 'drawn', 'no_tickets')),
    pool           numeric     null,
    paid           numeric     null,
    total_tickets  bigint      null,
    places         jsonb       null,
    resolved_at    timestamptz null,
    created_at     timestamptz not null default now(),
    unique (instance_id, period_start)
);
-- The ticker's sweep: open periods whose end has come.
create index raffle_draws_due on raffle_draws (period_end) where status = 'open';

-- A player's tickets in one period; accumulated_cost is what was paid toward the next ticket, total_cost all that counted.
create table raffle_tickets (
    instance_id      uuid        not null references instances (id),
    period_start     timestamptz not null,
    period_end       timestamptz not null,
    brand_id         text        not null,
    player_id        text        not null,
    player_currency  text        not null,
    ticket_count     bigint      not null default 0,
    accumulated_cost numeric     not null default 0,
    total_cost       numeric     not null default 0,
    updated_at       timestamptz not null default now(),
    primary key (instance_id, period_start, brand_id, player_id)
);
create index raffle_tickets_player on raffle_tickets (brand_id, player_id);

alter table payouts add constraint payouts_draw_fk foreign key (draw_id) references raffle_draws (id);

-- What the ticker last announced as JackpotUpdateEvent.status ("Closed" outside a schedule's windows), so a window opening
-- or closing is announced at once.
alter table tickers add column status text null;

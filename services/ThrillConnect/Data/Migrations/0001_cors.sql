-- Per-brand origin allow-lists (spec §2.2 CORS admin): they govern REST CORS and the WebSocket Origin check.
create table cors_rules (
    owner_id   text        not null,
    pattern    text        not null,
    match_mode text        not null check (match_mode in ('Exact', 'Prefix', 'Suffix', 'Regex')),
    created_at timestamptz not null default now(),
    primary key (owner_id, pattern)
);

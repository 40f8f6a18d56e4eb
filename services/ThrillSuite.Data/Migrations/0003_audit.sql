-- Every admin write of a service, in the transaction of the change (ServiceDefaults' Audit). owner_id null = a
-- system-wide resource.
create table audit_log (
    id             bigint generated always as identity primary key,
    at             timestamptz not null default now(),
    actor_sub      text        not null,
    actor_username text        null,
    action         text        not null,
    resource_type  text        not null,
    resource_id    text        not null,
    owner_id       text        null,
    before         jsonb       null,
    after          jsonb       null
);
create index audit_log_resource on audit_log (resource_id, id);

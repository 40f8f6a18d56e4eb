-- Thrill-ID registry: organisations, accounts, OAuth clients, refresh tokens, revoked access tokens, signing keys.
create table organisations (
    id         text primary key,
    units      text[]      not null default '{}',
    enabled    boolean     not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table accounts (
    id                     uuid primary key,
    username               text        not null,
    password_hash          text        null,
    account_type           text        not null check (account_type in ('User', 'Service')),
    org_id                 text        not null references organisations (id),
    unit_id                text        null,
    permissions            jsonb       not null default '[]',
    enabled                boolean     not null default true,
    trusted                boolean     not null default false,
    created_on             timestamptz not null default now(),
    last_logged_in         timestamptz null,
    pending_password_reset boolean     not null default false,
    failed_logins          int         not null default 0,
    locked_until           timestamptz null
);
create unique index accounts_username on accounts (lower(username));
create index accounts_org on accounts (org_id);

create table oauth_clients (
    client_id   text primary key,
    account_id  uuid        not null references accounts (id),
    secret_hash text        not null,
    enabled     boolean     not null default true,
    created_at  timestamptz not null default now()
);
create index oauth_clients_account on oauth_clients (account_id);

-- Only a SHA-256 of each refresh token is stored. A family is one login's chain of rotations.
create table refresh_tokens (
    token_hash  text primary key,
    family_id   uuid        not null,
    account_id  uuid        not null references accounts (id),
    client_id   text        null references oauth_clients (client_id),
    scope       text        not null,
    issued_at   timestamptz not null default now(),
    expires_at  timestamptz not null,
    used_at     timestamptz null,
    revoked_at  timestamptz null
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_account on refresh_tokens (account_id);

create table revoked_access_tokens (
    jti        text primary key,
    expires_at timestamptz not null
);

create table signing_keys (
    kid                   text primary key,
    algorithm             text        not null,
    private_key_encrypted bytea       not null,
    public_jwk            jsonb       not null,
    created_at            timestamptz not null default now(),
    activated_at          timestamptz null,
    retired_at            timestamptz null,
    published_until       timestamptz null
);

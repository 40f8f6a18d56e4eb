-- Forgot-password: one row per account. Only an HMAC of the one-time password is stored (keyed by a key derived from
-- SigningKeys:EncryptionKey, salted per row). otp_hash is null when no reset is pending (used, voided or never started);
-- the row stays for the per-account start limit (starts_in_window since window_started_at).
create table password_resets (
    account_id        uuid primary key references accounts (id) on delete cascade,
    otp_hash          text        null,
    expires_at        timestamptz null,
    attempts          int         not null default 0,
    window_started_at timestamptz not null,
    starts_in_window  int         not null
);

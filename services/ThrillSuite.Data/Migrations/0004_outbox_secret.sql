-- A message carrying a secret (a one-time password): the relay blanks its body once it is published, so the secret does not
-- stay in the table until the retention clean-up.
alter table outbox_messages add column secret boolean not null default false;

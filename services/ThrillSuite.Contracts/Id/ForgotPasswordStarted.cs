namespace ThrillSuite.Contracts.Id;

/// <summary>
/// A password reset was requested for an existing account (spec §1 "start forgot-password"): BitBridge mails the one-time
/// password. <see cref="OrgId"/> and <see cref="UnitId"/> place it for dispatcher selection. Published by Thrill-ID through
/// its outbox, in the transaction of <c>POST /accounts/password/forgot</c>, when the username names an enabled User account.
/// <see cref="Otp"/> is the plain one-time password (Thrill-ID stores only its HMAC); <see cref="ExpiresAt"/> and
/// <see cref="Timestamp"/> are epoch milliseconds.
/// </summary>
public sealed record ForgotPasswordStarted(string Username, string Otp, string OrgId, string? UnitId, long ExpiresAt, long Timestamp);

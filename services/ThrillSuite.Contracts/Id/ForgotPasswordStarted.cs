namespace ThrillSuite.Contracts.Id;

/// <summary>
/// A password reset was requested for an existing account (spec §1 "start forgot-password"): BitBridge mails the one-time
/// password. <see cref="OrgId"/> and <see cref="UnitId"/> place it for dispatcher selection. Not yet published: Thrill-ID has
/// no forgot-password flow (see services/BitBridge/README.md).
/// </summary>
public sealed record ForgotPasswordStarted(string Username, string Otp, string OrgId, string? UnitId, long ExpiresAt, long Timestamp);

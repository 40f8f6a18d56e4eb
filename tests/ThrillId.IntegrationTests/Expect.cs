namespace ThrillId.IntegrationTests;

/// <summary>The contract's error shapes, asserted the same way everywhere.</summary>
public static class Expect
{
    /// <summary>An RFC 7807 problem document with <paramref name="status"/>.</summary>
    public static void Problem(Reply reply, HttpStatusCode status, string? what = null)
    {
        var context = (what is null ? "" : what + ": ") + reply;
        Assert.That(reply.Status, Is.EqualTo(status), context);
        Assert.That(reply.ContentType, Does.StartWith("application/problem+json"), context);
        Assert.That(reply.TryJson(out var json) && json.ValueKind == JsonValueKind.Object, Is.True, "problem body is a JSON object: " + context);
        if (json.TryGetProperty("status", out var s)) Assert.That(s.GetInt32(), Is.EqualTo((int)status), context);
        Assert.That(json.TryGetProperty("title", out _) || json.TryGetProperty("type", out _), Is.True, "problem has a title or type: " + context);
    }

    /// <summary>401 for a missing/invalid/expired token: RFC 6750 challenge and an RFC 7807 body.</summary>
    public static void Unauthorized(Reply reply, string? what = null)
    {
        Problem(reply, HttpStatusCode.Unauthorized, what);
        Assert.That(reply.Header("WWW-Authenticate"), Does.StartWith("Bearer"), "WWW-Authenticate: " + (what ?? "") + " " + reply);
    }

    public static void Forbidden(Reply reply, string? what = null) => Problem(reply, HttpStatusCode.Forbidden, what);

    /// <summary>400 problem whose text names <paramref name="field"/>.</summary>
    public static void BadField(Reply reply, string field, string? what = null)
    {
        Problem(reply, HttpStatusCode.BadRequest, what);
        Assert.That(reply.Body, Does.Contain(field), $"the problem names '{field}': {what} {reply}");
    }

    /// <summary>What a problem says, without the per-request parts (traceId, instance), to compare two answers.</summary>
    public static string ProblemText(Reply reply) => string.Join("|", new[] { "type", "title", "detail", "status" }
        .Select(p => reply.TryJson(out var json) && json.ValueKind == JsonValueKind.Object && json.TryGetProperty(p, out var v) ? v.ToString() : ""));

    /// <summary>An RFC 6749 §5.2 error answer.</summary>
    public static void OAuthError(Reply reply, HttpStatusCode status, string error, string? what = null)
    {
        var context = (what is null ? "" : what + ": ") + reply;
        Assert.That((reply.Status, reply.Error), Is.EqualTo((status, error)), context);
        Assert.That(reply.ContentType, Does.StartWith("application/json"), context);
    }

    /// <summary>RFC 6749 §5.1: token responses are never cached.</summary>
    public static void NoStore(Reply reply) =>
        Assert.That(reply.Header("Cache-Control"), Does.Contain("no-store"), "Cache-Control: " + reply);

    public static void Ok(Reply reply, string? what = null) =>
        Assert.That(reply.Status, Is.EqualTo(HttpStatusCode.OK), (what is null ? "" : what + ": ") + reply);

    public static void Success(Reply reply, string? what = null) =>
        Assert.That((int)reply.Status, Is.InRange(200, 299), (what is null ? "" : what + ": ") + reply);
}

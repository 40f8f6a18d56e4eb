namespace ReferenceWallet.Wallet;

/// <summary>The request body, read once by the filter in front of the endpoints; the signature covers exactly these bytes.</summary>
public static class RequestBody
{
    static readonly object Key = new();

    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContext http, int limit)
    {
        if (http.Request.ContentLength > limit) throw TooLarge(limit);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit) throw TooLarge(limit);
            buffer.Write(chunk, 0, read);
        }
        var body = new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
        http.Items[Key] = body;
        return body;
    }

    /// <summary>The bytes the filter read (and, under /wallet, verified).</summary>
    public static ReadOnlyMemory<byte> Body(this HttpContext http) =>
        http.Items.TryGetValue(Key, out var body) ? (ReadOnlyMemory<byte>)body! : throw new InvalidOperationException("The body was not read by the endpoint filter.");

    static WalletFailure TooLarge(int limit) =>
        new(StatusCodes.Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge, $"The body exceeds {limit} bytes.");
}

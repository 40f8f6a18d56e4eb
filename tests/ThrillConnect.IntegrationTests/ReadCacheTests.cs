using ThrillConnect.Rest;

namespace ThrillConnect.IntegrationTests;

/// <summary>The public reads' cache: one load per key at a time, kept for its time, failures and cancellations not shared.</summary>
public class ReadCacheTests
{
    sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = DateTimeOffset.UnixEpoch;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    [Test]
    public async Task Concurrent_misses_of_a_key_wait_for_one_load_and_the_answer_is_kept_for_its_time()
    {
        var clock = new Clock();
        var cache = new ReadCache(clock);
        var loads = 0;
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string> Load(CancellationToken _)
        {
            Interlocked.Increment(ref loads);
            return release.Task;
        }

        var waiting = Enumerable.Range(0, 50).Select(_ => cache.GetAsync("k", Ttl, Load, CancellationToken.None)).ToList();
        Assert.That(waiting.Any(t => t.IsCompleted), Is.False);
        release.SetResult("answer");
        Assert.That(await Task.WhenAll(waiting), Has.All.EqualTo("answer"));
        Assert.That(loads, Is.EqualTo(1));

        clock.Now += Ttl - TimeSpan.FromMilliseconds(1);
        Assert.That(await cache.GetAsync("k", Ttl, _ => Task.FromResult("newer"), CancellationToken.None), Is.EqualTo("answer"));
        Assert.That(await cache.GetAsync("other", Ttl, _ => Task.FromResult("other"), CancellationToken.None), Is.EqualTo("other"));
        clock.Now += TimeSpan.FromMilliseconds(1);
        Assert.That(await cache.GetAsync("k", Ttl, _ => Task.FromResult("newer"), CancellationToken.None), Is.EqualTo("newer"));
    }

    [Test]
    public async Task A_failed_load_is_not_kept()
    {
        var cache = new ReadCache(new Clock());
        Assert.ThrowsAsync<InvalidOperationException>(() =>
            cache.GetAsync<string>("k", Ttl, _ => Task.FromException<string>(new InvalidOperationException("ThrillPots unavailable")), CancellationToken.None));
        Assert.That(await cache.GetAsync("k", Ttl, _ => Task.FromResult("answer"), CancellationToken.None), Is.EqualTo("answer"));
    }

    [Test]
    public async Task A_caller_that_goes_away_does_not_cancel_the_load_the_others_wait_for()
    {
        var cache = new ReadCache(new Clock());
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var loadToken = new CancellationToken(true);
        Task<string> Load(CancellationToken ct)
        {
            loadToken = ct;
            return release.Task;
        }

        using var gone = new CancellationTokenSource();
        var first = cache.GetAsync("k", Ttl, Load, gone.Token);
        var second = cache.GetAsync("k", Ttl, Load, CancellationToken.None);
        gone.Cancel();
        Assert.ThrowsAsync<TaskCanceledException>(() => first);
        Assert.That(loadToken.CanBeCanceled, Is.False, "the load runs under no caller's token");
        release.SetResult("answer");
        Assert.That(await second, Is.EqualTo("answer"));
        Assert.That(await cache.GetAsync("k", Ttl, _ => Task.FromResult("newer"), CancellationToken.None), Is.EqualTo("answer"), "kept");
    }

    [Test]
    public async Task A_full_cache_starts_again_rather_than_grow()
    {
        var cache = new ReadCache(new Clock(), capacity: 3);
        foreach (var k in new[] { "a", "b", "c" }) await cache.GetAsync(k, Ttl, _ => Task.FromResult(k), CancellationToken.None);
        Assert.That(await cache.GetAsync("d", Ttl, _ => Task.FromResult("d"), CancellationToken.None), Is.EqualTo("d"));
        Assert.That(await cache.GetAsync("a", Ttl, _ => Task.FromResult("reloaded"), CancellationToken.None), Is.EqualTo("reloaded"));
    }
}

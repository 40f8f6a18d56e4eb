using ThrillSuite.Grpc;

namespace ThrillGate.IntegrationTests;

/// <summary>X-Server-Authorization (spec §3.1): the wallet checks it, and ThrillGate reports its refusal as the wallet's.</summary>
public class HmacTests
{
    static ReferenceWallet Wallet => Servers.Wallet;

    [Test]
    public async Task A_wallet_definition_with_the_wrong_secret_is_refused_by_the_wallet()
    {
        var (brand, _, player) = await Wallets.BrandAsync(balance: 20m, configure: d => d["config"]!["secret_key"] = "not-the-wallets-secret");

        var balance = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, player.Id));
        var authenticate = await Wallets.FailsAsync(() => Wallets.AuthenticateAsync(brand, player.Token));

        using (Assert.EnterMultipleScope())
        {
            Assert.That((balance.StatusCode, balance.Trailers.GetValue("wallet-status"), balance.Trailers.GetValue("wallet-code")),
                Is.EqualTo((StatusCode.FailedPrecondition, "401", "INVALID_SIGNATURE")), balance.Message);
            Assert.That(authenticate.StatusCode, Is.EqualTo(StatusCode.Unauthenticated), "a refused authentication is one thing to the caller: " + authenticate.Message);
            Assert.That(authenticate.Trailers.GetValue("wallet-code"), Is.EqualTo("INVALID_SIGNATURE"));
        }
    }

    [Test]
    public async Task The_right_secret_in_another_encoding_is_refused_too()
    {
        // The reference wallet expects lowercase hex: base64 of the same MAC shows that hmac_encoding reaches the header.
        var (brand, _, player) = await Wallets.BrandAsync(configure: d => d["config"]!["hmac_encoding"] = "base64");

        var failure = await Wallets.FailsAsync(() => Wallets.BalanceAsync(brand, player.Id));

        Assert.That((failure.StatusCode, failure.Trailers.GetValue("wallet-status")), Is.EqualTo((StatusCode.FailedPrecondition, "401")), failure.Message);
    }

    [Test]
    public async Task A_debit_refused_for_its_signature_is_cancelled_once_the_secret_is_corrected()
    {
        var brand = Brands.Next();
        var definition = Wallets.Definition(brand, secret: "not-the-wallets-secret");
        var id = await Wallets.CreateAsync(definition);
        var player = await Wallet.NewPlayerAsync(brand, 20m);
        var tx = Wallets.NewTransactionId();

        var failure = await Wallets.FailsAsync(() => Wallets.DebitAsync(player, tx, "5"));
        // The cancel was refused for the same reason: ThrillGate keeps it and re-drives it.
        var stateWhileRefused = await Wallets.DebitStateAsync(tx);
        (await Servers.Gate.PutAsync("/admin/wallets/" + id, Servers.OperatorA, Wallets.Definition(brand, id: id))).Expect(HttpStatusCode.OK);

        await Eventually.TrueAsync(async () => await Wallets.DebitStateAsync(tx) == "cancelled", TimeSpan.FromSeconds(20),
            "the pending cancel to be re-driven with the corrected secret");
        using (Assert.EnterMultipleScope())
        {
            Assert.That((failure.StatusCode, failure.Trailers.GetValue("wallet-status")), Is.EqualTo((StatusCode.FailedPrecondition, "401")), failure.Message);
            Assert.That(stateWhileRefused, Is.EqualTo("cancel_pending"));
            Assert.That((await Wallet.EntryAsync(tx))?.Status, Is.EqualTo("tombstone"), "the cancel reached the wallet: the debit can never land now");
            Assert.That(await Wallet.BalanceAsync(player), Is.EqualTo(20m));
        }
    }
}

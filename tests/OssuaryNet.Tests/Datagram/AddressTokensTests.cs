using OssuaryNet.Datagram;
using Xunit;

namespace OssuaryNet.Tests.Datagram;

/// <summary>Stateless address-validation tokens: bound to address and session id, two epochs alive, time passed in.</summary>
public sealed class AddressTokensTests
{
    /// <summary>A seeded generator, so that runs repeat exactly (the seam the datagram endpoint's tests use).</summary>
    internal sealed class SeededRandom(int seed) : IRandomSource
    {
        private readonly Random _random = new(seed);

        public void Fill(Span<byte> destination) => _random.NextBytes(destination);
    }

    private static readonly byte[] Address = [10, 0, 0, 7, 0x1F, 0x90];
    private static readonly TimeSpan Start = TimeSpan.FromHours(3);

    private static byte[] Mint(AddressTokens tokens, ReadOnlySpan<byte> address, uint session, TimeSpan now)
    {
        byte[] token = new byte[AddressTokens.TokenSize];
        tokens.Mint(address, session, now, token);
        return token;
    }

    [Fact]
    public void ATokenIsBoundToItsAddressAndSessionId()
    {
        using var tokens = new AddressTokens(new SeededRandom(1), Start);
        byte[] token = Mint(tokens, Address, 42, Start);
        Assert.Equal(TokenVerdict.Valid, tokens.Check(token, Address, 42, Start));
        Assert.Equal(TokenVerdict.Forged, tokens.Check(token, Address, 43, Start));
        Assert.Equal(TokenVerdict.Forged, tokens.Check(token, [10, 0, 0, 8, 0x1F, 0x90], 42, Start));
        Assert.Equal(TokenVerdict.Forged, tokens.Check(token, Address.AsSpan(..^1), 42, Start));
        for (int bit = 8; bit < token.Length * 8; bit++) // every bit of the MAC
        {
            byte[] flipped = (byte[])token.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Equal(TokenVerdict.Forged, tokens.Check(flipped, Address, 42, Start));
        }
        Assert.Equal(TokenVerdict.Malformed, tokens.Check(token.AsSpan(..^1), Address, 42, Start));
        Assert.Equal(TokenVerdict.Malformed, tokens.Check(token, new byte[AddressTokens.MaxAddressSize + 1], 42, Start));
    }

    [Fact]
    public void TheCurrentAndPreviousEpochsAreAcceptedOlderOnesAreNot()
    {
        using var tokens = new AddressTokens(new SeededRandom(2), Start);
        byte[] first = Mint(tokens, Address, 1, Start + TimeSpan.FromSeconds(119));
        TimeSpan oneRotation = Start + AddressTokens.Rotation;
        Assert.Equal(TokenVerdict.Valid, tokens.Check(first, Address, 1, oneRotation)); // previous epoch
        byte[] second = Mint(tokens, Address, 1, oneRotation);
        Assert.NotEqual(first[0], second[0]);
        TimeSpan twoRotations = Start + 2 * AddressTokens.Rotation;
        Assert.Equal(TokenVerdict.Expired, tokens.Check(first, Address, 1, twoRotations));
        Assert.Equal(TokenVerdict.Valid, tokens.Check(second, Address, 1, twoRotations));

        // A long silence retires both: a token from just before it is refused.
        byte[] third = Mint(tokens, Address, 1, twoRotations);
        Assert.Equal(TokenVerdict.Expired, tokens.Check(third, Address, 1, twoRotations + 5 * AddressTokens.Rotation));
    }

    [Fact]
    public void AClockThatGoesBackNeverRevivesARetiredSecret()
    {
        using var tokens = new AddressTokens(new SeededRandom(3), Start);
        byte[] old = Mint(tokens, Address, 9, Start);
        Assert.Equal(TokenVerdict.Expired, tokens.Check(old, Address, 9, Start + 3 * AddressTokens.Rotation));
        Assert.Equal(TokenVerdict.Expired, tokens.Check(old, Address, 9, Start)); // now earlier than the last seen
    }

    [Fact]
    public void ATokenFitsTheCookieReplyAndMintingIsDeterministicUnderASeed()
    {
        using var a = new AddressTokens(new SeededRandom(4), Start);
        using var b = new AddressTokens(new SeededRandom(4), Start);
        Assert.Equal(Mint(a, Address, 5, Start), Mint(b, Address, 5, Start));
        Assert.True(AddressTokens.TokenSize <= DatagramPacket.MaxTokenSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Mint(new byte[AddressTokens.MaxAddressSize + 1], 5, Start, new byte[AddressTokens.TokenSize]));
    }
}

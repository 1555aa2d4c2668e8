using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using OssuaryNet.Datagram;
using OssuaryNet.Tests.Datagram.Simulation;

namespace OssuaryNet.Tests.Datagram;

/// <summary>No amplification: before an address is validated, a responder sends it no more bytes than it received from it.</summary>
public sealed class DatagramAmplificationTests
{
    /// <summary>
    /// A victim's address is spoofed by an attacker who replays genuine Initiations (of either pattern, with early data,
    /// repeated) and adds garbage; the victim never answers, so it never validates. Whatever the responder's policy, the
    /// bytes it sends the victim never exceed the bytes "from" the victim.
    /// </summary>
    [Property(MaxTest = 60, Replay = "(20261128,11)")]
    public Property RepliesToAnUnvalidatedAddressAreNoLargerThanWhatItSent()
    {
        Gen<Scenario> scenarios =
            from ik in Gen.Elements(false, true)
            from validation in Gen.Elements(DatagramAddressValidation.UnderLoad, DatagramAddressValidation.Always, DatagramAddressValidation.Never)
            from earlyData in Gen.Choose(0, 600)
            from initiations in Gen.Choose(1, 4)
            from repeats in Gen.Choose(1, 5)
            from garbage in Gen.Choose(0, 5)
            from seed in Gen.Choose(1, 10_000)
            select new Scenario(ik, validation, ik ? earlyData : 0, initiations, repeats, garbage, seed);
        return Prop.ForAll(scenarios.ToArbitrary(), scenario =>
        {
            using var network = new SimulatedNetwork(scenario.Seed);
            SimulatedNode server = network.AddNode("server", o => { o.AcceptConnections = true; o.AddressValidation = scenario.Validation; o.AcceptEarlyData = true; });
            SimulatedNode genuine = network.AddNode("genuine");
            byte[] victim = network.NewAddress();
            var captured = new List<byte[]>();
            network.Tap = p => { if (p.From.SequenceEqual(genuine.Address)) { captured.Add(p.Packet); return false; } return true; };
            for (int i = 0; i < scenario.Initiations; i++)
            {
                genuine.Endpoint.Connect(server.Address, scenario.Ik ? server.Identity.PublicKey : null, network.Now, new byte[scenario.EarlyData]);
                network.RunFor(TimeSpan.FromMilliseconds(30));
            }
            network.Tap = null;
            var random = new Random(scenario.Seed);
            foreach (byte[] initiation in captured)
            {
                for (int r = 0; r < scenario.Repeats; r++)
                {
                    network.Inject(initiation, victim, server.Address);
                }
            }
            for (int g = 0; g < scenario.Garbage; g++)
            {
                byte[] junk = new byte[random.Next(2, 1300)];
                random.NextBytes(junk);
                junk[1] = 1;
                junk[0] = (byte)random.Next(1, 6);
                network.Inject(junk, victim, server.Address);
            }
            network.RunFor(TimeSpan.FromSeconds(30));
            long received = network.Deliveries.Where(p => p.From.SequenceEqual(victim)).Sum(p => (long)p.Packet.Length);
            long sent = network.Wire.Where(p => p.To.SequenceEqual(victim)).Sum(p => (long)p.Packet.Length);
            // Without address validation the responder does answer the victim: the bound is measured, not vacuous.
            bool answers = scenario.Validation != DatagramAddressValidation.Never || sent > 0;
            return (sent <= received && answers).Label($"sent {sent}, received {received}");
        });
    }

    public sealed record Scenario(bool Ik, DatagramAddressValidation Validation, int EarlyData, int Initiations, int Repeats, int Garbage, int Seed);
}

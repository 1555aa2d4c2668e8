// A minimal ASP.NET Core service reachable only through OssuaryNet, by the clients whose keys it is given.
// Usage: HttpService PORT CLIENT-PUBLIC-KEY...   (HttpCaller key prints a caller's key)
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OssuaryNet;
using OssuaryNet.AspNetCore;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

if (args.Length < 2 || !int.TryParse(args[0], out int port))
{
    Console.Error.WriteLine("usage: HttpService PORT CLIENT-PUBLIC-KEY...");
    return 1;
}
OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(ExampleFiles.PathOf("http-service.key")); // made 0600 on first use, under ExampleFiles.Directory
var options = new OssuaryServerOptions
{
    StaticKeyPair = key,
    PeerVerifier = PeerVerifier.Pinned(args[1..].Select(OssuaryPublicKey.Parse).ToArray()), // only these clients
    PostQuantum = OssuaryPostQuantum.Preferred,
};

WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
{
    listen.Protocols = HttpProtocols.Http1;
    listen.UseOssuary(options);
}));
WebApplication app = builder.Build();
app.MapGet("/hello", (HttpContext context) =>
{
    IOssuaryPeerFeature peer = context.GetOssuaryPeer()!; // always set: unverified clients never get here
    return $"hello {peer.Fingerprint}, you came in over {peer.Pattern} with {peer.Suite}\n";
});
Console.WriteLine($"service key {key.PublicKey} ({key.PublicKey.Fingerprint}) on 127.0.0.1:{port}");
await app.RunAsync();
return 0;

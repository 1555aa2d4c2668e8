// An HttpClient whose connections are OssuaryNet channels to a service whose key it pins.
// Usage: HttpCaller key                       prints this caller's public key (give it to HttpService)
//        HttpCaller URL SERVICE-PUBLIC-KEY    e.g. HttpCaller http://127.0.0.1:5080/hello <key HttpService printed>
using OssuaryNet;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(ExampleFiles.PathOf("http-caller.key")); // made 0600 on first use, under ExampleFiles.Directory
if (args is ["key"])
{
    Console.WriteLine(key.PublicKey);
    return 0;
}
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: HttpCaller key | HttpCaller URL SERVICE-PUBLIC-KEY");
    return 1;
}
OssuaryPublicKey service = OssuaryPublicKey.Parse(args[1]);
var options = new OssuaryClientOptions
{
    StaticKeyPair = key,
    PeerVerifier = PeerVerifier.Pinned(service),
    ServerKey = service, // known in advance: IK, one round trip
    PostQuantum = OssuaryPostQuantum.Preferred,
};
using var client = new HttpClient(OssuaryHttp.CreateHandler(options));
Console.Write(await client.GetStringAsync(args[0])); // an http:// URI: the channel, not TLS, protects it
return 0;

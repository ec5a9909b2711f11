using Coffer.KeyStores;

// The XKS suite runs on both crypto backends: each test class above is abstract and runs here once
// per backend, on its own node (a class fixture, or a node per test where the class says so). Test
// names read Coffer.Server.Tests.Xks.Software.EncryptTests.… and Coffer.Server.Tests.Xks.Pkcs11.EncryptTests.…
// On pkcs11 the demo key store and every key store a test makes keep their keys in a new SoftHSM2
// token per node (tests/Coffer.Testing/SoftHsmToken.cs); the HSM outage itself is HsmOutageTests.

namespace Coffer.Server.Tests.Xks.Software
{
    public sealed class AuditTests(SoftwareXksNode node) : Xks.AuditTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class AuditFaultTests() : Xks.AuditFaultTests(KeyStoreBackends.Software);

    public sealed class AuthenticationTests(SoftwareXksNode node) : Xks.AuthenticationTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class DecryptTests(SoftwareXksNode node) : Xks.DecryptTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class EncryptTests(SoftwareXksNode node) : Xks.EncryptTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class HealthTests(SoftwareXksNode node) : Xks.HealthTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class KeyStoreTests(SoftwareXksNode node) : Xks.KeyStoreTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class LifecycleTests(SoftwareXksNode node) : Xks.LifecycleTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class LoggingTests(SoftwareXksNode node) : Xks.LoggingTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class MetadataTests(SoftwareXksNode node) : Xks.MetadataTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class RoutingTests(SoftwareXksNode node) : Xks.RoutingTests(node), IClassFixture<SoftwareXksNode>;

    public sealed class EmptyPrefixKeyStoreTests() : Xks.EmptyPrefixKeyStoreTests(KeyStoreBackends.Software);

    public sealed class InternalErrorTests() : Xks.InternalErrorTests(KeyStoreBackends.Software);

    public sealed class LifecycleClockTests() : Xks.LifecycleClockTests(KeyStoreBackends.Software);

    public sealed class RestartTests() : Xks.RestartTests(KeyStoreBackends.Software);

    public sealed class SealedTests() : Xks.SealedTests(KeyStoreBackends.Software);

    public sealed class ThrottlingTests() : Xks.ThrottlingTests(KeyStoreBackends.Software);
}

namespace Coffer.Server.Tests.Xks.Pkcs11
{
    public sealed class AuditTests(Pkcs11XksNode node) : Xks.AuditTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class AuditFaultTests() : Xks.AuditFaultTests(KeyStoreBackends.Pkcs11);

    public sealed class AuthenticationTests(Pkcs11XksNode node) : Xks.AuthenticationTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class DecryptTests(Pkcs11XksNode node) : Xks.DecryptTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class EncryptTests(Pkcs11XksNode node) : Xks.EncryptTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class HealthTests(Pkcs11XksNode node) : Xks.HealthTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class KeyStoreTests(Pkcs11XksNode node) : Xks.KeyStoreTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class LifecycleTests(Pkcs11XksNode node) : Xks.LifecycleTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class LoggingTests(Pkcs11XksNode node) : Xks.LoggingTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class MetadataTests(Pkcs11XksNode node) : Xks.MetadataTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class RoutingTests(Pkcs11XksNode node) : Xks.RoutingTests(node), IClassFixture<Pkcs11XksNode>;

    public sealed class EmptyPrefixKeyStoreTests() : Xks.EmptyPrefixKeyStoreTests(KeyStoreBackends.Pkcs11);

    public sealed class InternalErrorTests() : Xks.InternalErrorTests(KeyStoreBackends.Pkcs11);

    public sealed class LifecycleClockTests() : Xks.LifecycleClockTests(KeyStoreBackends.Pkcs11);

    public sealed class RestartTests() : Xks.RestartTests(KeyStoreBackends.Pkcs11);

    public sealed class SealedTests() : Xks.SealedTests(KeyStoreBackends.Pkcs11);

    public sealed class ThrottlingTests() : Xks.ThrottlingTests(KeyStoreBackends.Pkcs11);
}

// The shared-node part of the suite once more with the node's storage on PostgreSQL (the second storage
// engine; docs/storage.md): the same XKS answers, audit records and key handling, whichever engine.
namespace Coffer.Server.Tests.Xks.Postgres
{
    public sealed class AuditTests(PostgresXksNode node) : Xks.AuditTests(node), IClassFixture<PostgresXksNode>;

    public sealed class AuthenticationTests(PostgresXksNode node) : Xks.AuthenticationTests(node), IClassFixture<PostgresXksNode>;

    public sealed class DecryptTests(PostgresXksNode node) : Xks.DecryptTests(node), IClassFixture<PostgresXksNode>;

    public sealed class EncryptTests(PostgresXksNode node) : Xks.EncryptTests(node), IClassFixture<PostgresXksNode>;

    public sealed class HealthTests(PostgresXksNode node) : Xks.HealthTests(node), IClassFixture<PostgresXksNode>;

    public sealed class KeyStoreTests(PostgresXksNode node) : Xks.KeyStoreTests(node), IClassFixture<PostgresXksNode>;

    public sealed class LifecycleTests(PostgresXksNode node) : Xks.LifecycleTests(node), IClassFixture<PostgresXksNode>;

    public sealed class LoggingTests(PostgresXksNode node) : Xks.LoggingTests(node), IClassFixture<PostgresXksNode>;

    public sealed class MetadataTests(PostgresXksNode node) : Xks.MetadataTests(node), IClassFixture<PostgresXksNode>;

    public sealed class RoutingTests(PostgresXksNode node) : Xks.RoutingTests(node), IClassFixture<PostgresXksNode>;
}

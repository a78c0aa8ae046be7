package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.refundbroker.testing.ChildBroker;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestBroker;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPki;
import io.refundbroker.testing.TestPostgres;
import io.refundbroker.testing.TlsClient;
import io.refundbroker.testing.TlsClient.Answer;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport: HTTPS with TLS 1.2/1.3 and modern suites only (a TLS 1.1 or CBC-only client hello,
 * written byte by byte, gets an alert instead of a server hello); the server certificate replaced
 * on a file change or on SIGHUP without dropping the listener or open connections; plain HTTP only
 * on loopback unless a proxy terminates TLS; a generated admin token only in a 0600 file.
 */
class TlsTransportIT {
  private static final int ALERT = 21;
  private static final int HANDSHAKE = 22;
  private static final int SERVER_HELLO = 2;

  @TempDir Path dir;

  private TestPki serverCa;
  private TestPki.Issued first;
  private Path certFile;
  private Path keyFile;

  @BeforeEach
  void serverCertificate() throws IOException {
    serverCa = TestPki.newCa("transport test CA");
    first = serverCa.server("refund-broker-first");
    certFile = dir.resolve("server.pem");
    keyFile = dir.resolve("server-key.pem");
    Files.writeString(certFile, first.certificatePem());
    Files.writeString(keyFile, first.keyPem());
  }

  private TestBroker https(String reloadCheck) {
    return TestBroker.builder()
        .env("BROKER_TLS_CERT", certFile.toString())
        .env("BROKER_TLS_KEY", keyFile.toString())
        .env("BROKER_TLS_RELOAD_CHECK", reloadCheck)
        .tlsTrust(serverCa.caPem())
        .start();
  }

  @Test
  void onlyTls12And13WithModernSuitesGetAServerHello() throws IOException {
    try (TestBroker broker = https("0s")) {
      int[] modern = {0xC02B, 0xC02F}; // ECDHE_{ECDSA,RSA}_WITH_AES_128_GCM_SHA256
      int[] legacy = {0xC009, 0xC013, 0x002F}; // ECDHE_*_AES_128_CBC_SHA, RSA_AES_128_CBC_SHA
      int[] weak = {0xC023, 0x009C}; // ECDHE_ECDSA_AES_128_CBC_SHA256, RSA_AES_128_GCM (no PFS)

      int[] tls12 = firstRecord(broker.port(), clientHello(0x0303, modern));
      assertThat(tls12[0])
          .as("TLS 1.2 with an AEAD ECDHE suite: server hello")
          .isEqualTo(HANDSHAKE);
      assertThat(tls12[1]).isEqualTo(SERVER_HELLO);

      int[] tls11 = firstRecord(broker.port(), clientHello(0x0302, legacy));
      assertThat(tls11[0]).as("TLS 1.1: an alert, no server hello").isEqualTo(ALERT);
      assertThat(tls11[1]).as("fatal").isEqualTo(2);

      int[] tls10 = firstRecord(broker.port(), clientHello(0x0301, legacy));
      assertThat(tls10[0]).as("TLS 1.0: an alert").isEqualTo(ALERT);

      int[] cbc = firstRecord(broker.port(), clientHello(0x0303, weak));
      assertThat(cbc[0])
          .as("TLS 1.2 offering only CBC or non-PFS suites: an alert")
          .isEqualTo(ALERT);
      assertThat(cbc[2]).as("handshake_failure").isEqualTo(40);
    }
  }

  @Test
  void aReplacedCertificateIsServedWithoutDroppingTheListenerOrOpenConnections() throws Exception {
    try (LogCapture logs = LogCapture.atTrace();
        TestBroker broker = https("100ms");
        TlsClient kept = TlsClient.anonymous(broker.vertx(), broker.port(), serverCa.caPem())) {
      Answer before = Await.result(kept.get("/health/live", null));
      assertThat(before.serverCertificate().getSerialNumber())
          .isEqualTo(first.certificate().getSerialNumber());

      // A key that does not belong to the certificate: refused, the first certificate stays.
      TestPki.replace(keyFile, serverCa.server("stray").keyPem());
      Poll.until(
          "the mismatched key is refused",
          Duration.ofSeconds(15),
          () -> logs.text().contains("TLS certificate NOT reloaded"));
      assertThat(serialOfNewConnection(broker)).isEqualTo(first.serialHex());

      TestPki.Issued second = serverCa.server("refund-broker-second");
      TestPki.replace(keyFile, second.keyPem());
      TestPki.replace(certFile, second.certificatePem());
      Poll.until(
          "new handshakes present the second certificate",
          Duration.ofSeconds(15),
          () -> second.serialHex().equals(serialOfNewConnection(broker)));

      Answer after = Await.result(kept.get("/health/live", null));
      assertThat(after.result().status()).isEqualTo(200);
      assertThat(after.connection())
          .as("the connection opened before the reload still serves")
          .isSameAs(before.connection());
      assertThat(after.serverCertificate().getSerialNumber())
          .isEqualTo(first.certificate().getSerialNumber());
      assertThat(logs.text()).contains("TLS certificate reloaded");
    }
  }

  @Test
  void sighupReloadsTheCertificateAndTheGeneratedAdminTokenIsOnlyInA0600File() throws Exception {
    TestDatabase db = TestPostgres.newDatabase();
    Path dataDir = Files.createDirectories(dir.resolve("data"));
    Map<String, String> env = new HashMap<>();
    env.put("DATABASE_URL", TestDatabase.environmentValue(db.appUrl()));
    env.put("DATABASE_MIGRATION_URL", TestDatabase.environmentValue(db.ownerUrl()));
    env.put("BROKER_DATA_DIR", dataDir.toString());
    env.put("CREDENTIALS_BACKEND", "local");
    env.put("BROKER_TLS_CERT", certFile.toString());
    env.put("BROKER_TLS_KEY", keyFile.toString());
    env.put("BROKER_TLS_RELOAD_CHECK", "0s");
    env.put("BROKER_SHUTDOWN_GRACE", "2s");
    Vertx vertx = Vertx.vertx();
    try (ChildBroker child = ChildBroker.start(env, Duration.ofSeconds(90));
        TlsClient kept = TlsClient.anonymous(vertx, child.port(), serverCa.caPem())) {
      Path tokenFile = dataDir.resolve("admin-token");
      assertThat(Files.getPosixFilePermissions(tokenFile))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      String token = Files.readString(tokenFile).trim();
      assertThat(child.output())
          .as("the path is printed, the token is not")
          .contains(tokenFile.toAbsolutePath().toString())
          .doesNotContain(token);
      HttpResult admin = Await.result(kept.get("/v1/admin/clients", token)).result();
      assertThat(admin.status()).as("the file's token is the admin's: " + admin).isEqualTo(200);

      Answer before = Await.result(kept.get("/health/live", null));
      TestPki.Issued second = serverCa.server("refund-broker-after-hup");
      TestPki.replace(keyFile, second.keyPem());
      TestPki.replace(certFile, second.certificatePem());
      assertThat(serialOfNewConnection(vertx, child.port()))
          .as("no file watching here: nothing changes before the signal")
          .isEqualTo(first.serialHex());

      child.hangUp();
      Poll.until(
          "new handshakes present the certificate loaded on SIGHUP",
          Duration.ofSeconds(15),
          () -> second.serialHex().equals(serialOfNewConnection(vertx, child.port())));
      Answer after = Await.result(kept.get("/health/live", null));
      assertThat(after.connection()).isSameAs(before.connection());
      assertThat(after.result().status()).isEqualTo(200);
      assertThat(child.process().isAlive()).as("SIGHUP does not end the broker").isTrue();
      assertThat(child.terminate(Duration.ofSeconds(30))).isZero();
    } finally {
      Await.result(vertx.close());
    }
  }

  @Test
  void plainHttpOnAPublicInterfaceRefusesToStart() {
    ChildBroker.Exited exited =
        ChildBroker.runToExit(
            Map.of("BROKER_HTTP_HOST", "0.0.0.0", "BROKER_DATA_DIR", dir.toString()),
            Duration.ofSeconds(60));
    assertThat(exited.code()).as(exited.output()).isEqualTo(2);
    assertThat(exited.output())
        .contains("BROKER_HTTP_HOST")
        .contains("BROKER_TLS_CERT")
        .contains("BROKER_TLS_KEY")
        .contains("BROKER_ALLOW_PLAINTEXT");
  }

  @Test
  void behindATlsTerminatingProxyPlainHttpIsAllowedWithAWarning() {
    try (LogCapture logs = LogCapture.atTrace();
        TestBroker broker =
            TestBroker.builder()
                .env("BROKER_HTTP_HOST", "0.0.0.0")
                .env("BROKER_ALLOW_PLAINTEXT", "true")
                .start()) {
      assertThat(broker.get("/health/live", null).status()).isEqualTo(200);
      assertThat(logs.text())
          .contains("WARN")
          .contains("BROKER_ALLOW_PLAINTEXT=true: serving plain HTTP on a public interface");
    }
  }

  private String serialOfNewConnection(TestBroker broker) {
    return serialOfNewConnection(broker.vertx(), broker.port());
  }

  private String serialOfNewConnection(Vertx vertx, int port) {
    try (TlsClient fresh = TlsClient.anonymous(vertx, port, serverCa.caPem())) {
      return Await.result(fresh.get("/health/live", null))
          .serverCertificate()
          .getSerialNumber()
          .toString(16);
    }
  }

  /**
   * Sends a client hello and reads what comes back first: {record type, handshake type or alert
   * level, alert description}; {-1, …} when the server closed without a word.
   */
  private static int[] firstRecord(int port, byte[] hello) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(hello);
      out.flush();
      DataInputStream in = new DataInputStream(socket.getInputStream());
      try {
        int type = in.readUnsignedByte();
        in.readUnsignedShort(); // record version
        int length = in.readUnsignedShort();
        byte[] fragment = new byte[length];
        in.readFully(fragment);
        int second = fragment.length > 0 ? fragment[0] & 0xff : -1;
        int third = fragment.length > 1 ? fragment[1] & 0xff : -1;
        return new int[] {type, second, third};
      } catch (EOFException closed) {
        return new int[] {-1, -1, -1};
      }
    }
  }

  /**
   * A TLS client hello for {@code version} (0x0303 = TLS 1.2) offering {@code suites}, with the
   * extensions a TLS 1.2 server needs for ECDHE (groups, point formats, signature algorithms).
   */
  private static byte[] clientHello(int version, int[] suites) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    u16(body, version);
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    body.writeBytes(random);
    body.write(0); // no session id
    u16(body, suites.length * 2);
    for (int suite : suites) {
      u16(body, suite);
    }
    body.write(1); // one compression method:
    body.write(0); // null
    ByteArrayOutputStream extensions = new ByteArrayOutputStream();
    extensionWords(extensions, 0x000a, 0x0004, 0x0017, 0x001d); // groups: P-256, X25519
    extensionBytes(extensions, 0x000b, 0x01, 0x00); // ec_point_formats: uncompressed
    extensionWords(extensions, 0x000d, 0x0006, 0x0403, 0x0804, 0x0401); // signature algorithms
    u16(body, extensions.size());
    body.writeBytes(extensions.toByteArray());

    ByteArrayOutputStream handshake = new ByteArrayOutputStream();
    handshake.write(1); // client hello
    u24(handshake, body.size());
    handshake.writeBytes(body.toByteArray());

    ByteArrayOutputStream record = new ByteArrayOutputStream();
    record.write(HANDSHAKE);
    u16(record, 0x0301);
    u16(record, handshake.size());
    record.writeBytes(handshake.toByteArray());
    return record.toByteArray();
  }

  /** An extension whose data is the given 16-bit words. */
  private static void extensionWords(ByteArrayOutputStream out, int type, int... words) {
    u16(out, type);
    u16(out, words.length * 2);
    for (int word : words) {
      u16(out, word);
    }
  }

  /** An extension whose data is the given bytes. */
  private static void extensionBytes(ByteArrayOutputStream out, int type, int... bytes) {
    u16(out, type);
    u16(out, bytes.length);
    for (int b : bytes) {
      out.write(b);
    }
  }

  private static void u16(ByteArrayOutputStream out, int value) {
    out.write((value >> 8) & 0xff);
    out.write(value & 0xff);
  }

  private static void u24(ByteArrayOutputStream out, int value) {
    out.write((value >> 16) & 0xff);
    u16(out, value & 0xffff);
  }
}

package io.refundbroker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.BrokerConfig.ClientAuthMode;
import io.refundbroker.testing.Pem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport and admin-token rules of the configuration: plain HTTP only on loopback unless a
 * proxy terminates TLS, TLS files in pairs, client certificates only with TLS, and admin tokens of
 * at least 32 characters and 128 estimated bits.
 */
class TransportConfigTest {
  @TempDir Path dir;

  private static BrokerConfig parse(Map<String, String> env) {
    return BrokerConfig.fromEnvironment(env);
  }

  private static ConfigException failure(Map<String, String> env) {
    try {
      parse(env);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException for " + env.keySet());
  }

  private Map<String, String> tls() throws IOException {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    byte[] filler = new byte[64];
    new Random(7).nextBytes(filler);
    Files.writeString(cert, Pem.write("CERTIFICATE", filler));
    Files.writeString(key, Pem.write("PRIVATE KEY", filler));
    Map<String, String> env = new HashMap<>();
    env.put("BROKER_TLS_CERT", cert.toString());
    env.put("BROKER_TLS_KEY", key.toString());
    return env;
  }

  @Test
  void withoutTlsTheBrokerListensOnLoopbackOnly() {
    BrokerConfig config = parse(Map.of());
    assertThat(config.http().host()).isEqualTo("127.0.0.1");
    assertThat(config.tls().enabled()).isFalse();
    assertThat(config.tls().clientAuth()).isEqualTo(ClientAuthMode.NONE);
    assertThat(config.tls().clientCertValidity()).isEqualTo(Duration.ofDays(365));
    for (String loopback : new String[] {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
      assertThat(parse(Map.of("BROKER_HTTP_HOST", loopback)).http().host()).isEqualTo(loopback);
    }
  }

  @Test
  void aPublicInterfaceWithoutTlsIsRefusedNamingTheWayOut() {
    for (String host : new String[] {"0.0.0.0", "10.0.0.5", "::", "broker.example"}) {
      ConfigException e = failure(Map.of("BROKER_HTTP_HOST", host));
      assertThat(e.problems())
          .singleElement()
          .asString()
          .startsWith("BROKER_HTTP_HOST ")
          .contains(host)
          .contains("BROKER_TLS_CERT")
          .contains("BROKER_TLS_KEY")
          .contains("BROKER_ALLOW_PLAINTEXT=true");
    }
  }

  @Test
  void aProxyTerminatingTlsAdmitsPlainHttpOnAPublicInterface() {
    BrokerConfig config =
        parse(Map.of("BROKER_HTTP_HOST", "0.0.0.0", "BROKER_ALLOW_PLAINTEXT", "true"));
    assertThat(config.http().host()).isEqualTo("0.0.0.0");
    assertThat(config.tls().allowPlaintext()).isTrue();
  }

  @Test
  void withTlsTheDefaultHostIsEveryInterface() throws IOException {
    BrokerConfig config = parse(tls());
    assertThat(config.tls().enabled()).isTrue();
    assertThat(config.http().host()).isEqualTo("0.0.0.0");
    assertThat(config.tls().reloadCheckInterval()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void tlsFilesComeInPairsAndMustBePem() throws IOException {
    Map<String, String> onlyCert = tls();
    onlyCert.remove("BROKER_TLS_KEY");
    assertThat(failure(onlyCert).getMessage()).contains("BROKER_TLS_KEY is required");

    Map<String, String> missing = tls();
    missing.put("BROKER_TLS_CERT", dir.resolve("nope.pem").toString());
    assertThat(failure(missing).getMessage()).contains("BROKER_TLS_CERT must be a readable PEM");

    Map<String, String> swapped = tls();
    swapped.put("BROKER_TLS_CERT", swapped.get("BROKER_TLS_KEY"));
    assertThat(failure(swapped).getMessage()).contains("BROKER_TLS_CERT").contains("CERTIFICATE");
  }

  @Test
  void clientCertificatesNeedTlsAndAModeOfThree() throws IOException {
    assertThat(failure(Map.of("BROKER_TLS_CLIENT_AUTH", "require")).getMessage())
        .contains("BROKER_TLS_CLIENT_AUTH needs HTTPS");
    Map<String, String> env = tls();
    env.put("BROKER_TLS_CLIENT_AUTH", "sometimes");
    assertThat(failure(env).getMessage())
        .contains("BROKER_TLS_CLIENT_AUTH must be one of none, request, require");
    env.put("BROKER_TLS_CLIENT_AUTH", "REQUIRE");
    env.put("BROKER_CLIENT_CERT_VALIDITY", "90d");
    BrokerConfig config = parse(env);
    assertThat(config.tls().clientAuth()).isEqualTo(ClientAuthMode.REQUIRE);
    assertThat(config.tls().clientCertValidity()).isEqualTo(Duration.ofDays(90));
    env.put("BROKER_CLIENT_CERT_VALIDITY", "20000d");
    assertThat(failure(env).getMessage()).contains("BROKER_CLIENT_CERT_VALIDITY");
  }

  @Test
  void adminTokensShorterThan32CharactersAreRefused() {
    ConfigException e = failure(Map.of("BROKER_ADMIN_TOKEN", "x7Qp9vL2mZ4tR8wK1nB6yH3d"));
    assertThat(e.problems())
        .singleElement()
        .asString()
        .startsWith("BROKER_ADMIN_TOKEN ")
        .contains("at least 32 characters")
        .doesNotContain("x7Qp9vL2");
  }

  @Test
  void longButPredictableAdminTokensAreRefusedWithoutEchoingThem() {
    String[] weak = {
      "a".repeat(48),
      "Password1Password1Password1Password1",
      "abcdefghijklmnopqrstuvwxyz0123456789",
      "0123456789abcdef0123456789abcdef0123",
      "admin-admin-admin-admin-admin-admin-admin",
      "qwertyqwertyqwertyqwertyqwertyqwerty12",
    };
    for (String token : weak) {
      assertThat(TokenStrength.estimatedBits(token)).as(token).isLessThan(TokenStrength.MIN_BITS);
      ConfigException e = failure(Map.of("BROKER_ADMIN_TOKEN", token));
      assertThat(e.problems())
          .as(token)
          .singleElement()
          .asString()
          .startsWith("BROKER_ADMIN_TOKEN ")
          .contains("too predictable")
          .contains("128 needed")
          .doesNotContain(token.substring(0, 12));
    }
  }

  @Test
  void randomAdminTokensPass() {
    Random random = new Random(20261124L);
    for (int i = 0; i < 500; i++) {
      byte[] bytes = new byte[32];
      random.nextBytes(bytes);
      String hex = HexFormat.of().formatHex(bytes); // openssl rand -hex 32
      String base64 =
          java.util.Base64.getEncoder().encodeToString(bytes); // openssl rand -base64 32
      String generated =
          "rb_" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      for (String token : new String[] {hex, base64, generated}) {
        assertThat(TokenStrength.estimatedBits(token)).as(token).isGreaterThan(140);
        assertThat(parse(Map.of("BROKER_ADMIN_TOKEN", token)).http().adminToken()).isPresent();
      }
    }
  }
}

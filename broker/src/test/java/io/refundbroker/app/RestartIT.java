package io.refundbroker.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.BrokerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run path with no configuration at all: embedded PostgreSQL under the data directory
 * (password-protected), ready, and a second start on the same directory keeps the data of the
 * first.
 */
class RestartIT {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dataDir;

  @Test
  void secondStartKeepsTheDataOfTheFirst() throws Exception {
    BrokerConfig config =
        BrokerConfig.fromEnvironment(
            Map.of(
                "BROKER_DATA_DIR", dataDir.toString(),
                "BROKER_HTTP_PORT", "0",
                "BROKER_HTTP_INSTANCES", "1"));

    String adminToken;
    try (Launcher first = Launcher.start(config)) {
      assertThat(get(first, "/health/ready", null).statusCode()).isEqualTo(200);
      adminToken = first.app().generatedAdminToken().orElseThrow();
      Path tokenFile = first.app().generatedAdminTokenFile().orElseThrow();
      assertThat(tokenFile).isEqualTo(dataDir.resolve("admin-token").toAbsolutePath());
      assertThat(Files.readString(tokenFile).trim()).isEqualTo(adminToken);
      assertThat(Files.getPosixFilePermissions(tokenFile))
          .as("readable by the broker's user only")
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));
      HttpResponse<String> created =
          send(
              first,
              HttpRequest.newBuilder()
                  .uri(uri(first, "/v1/admin/stores"))
                  .header("Authorization", "Bearer " + adminToken)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"storeId\":\"bodo-1\",\"name\":\"Bodø\",\"msn\":\"4455\",\"chainId\":\"acme\"}")));
      assertThat(created.statusCode()).isEqualTo(201);
    }

    // the embedded cluster the broker made: password files for its owner alone, no trust rule
    Path cluster = dataDir.resolve("postgres");
    for (String file : new String[] {"postgres.password", "refund_broker.password"}) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(cluster.resolve(file))))
          .as(file)
          .isEqualTo("rw-------");
    }
    assertThat(Files.readString(cluster.resolve("pg_hba.conf"))).doesNotContain("trust");

    try (Launcher second = Launcher.start(config)) {
      assertThat(second.app().generatedAdminToken()).isEmpty();
      assertThat(second.app().generatedAdminTokenFile()).isEmpty();
      HttpResponse<String> store = get(second, "/v1/admin/stores/bodo-1", adminToken);
      assertThat(store.statusCode()).isEqualTo(200);
      assertThat(store.body()).contains("\"name\":\"Bodø\"");
      assertThat(get(second, "/health/ready", null).body()).contains("\"status\":\"UP\"");
    }
  }

  private HttpResponse<String> get(Launcher launcher, String path, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder().uri(uri(launcher, path)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return send(launcher, request);
  }

  private HttpResponse<String> send(Launcher launcher, HttpRequest.Builder request)
      throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(Launcher launcher, String path) {
    return URI.create("http://127.0.0.1:" + launcher.app().httpPort() + path);
  }
}

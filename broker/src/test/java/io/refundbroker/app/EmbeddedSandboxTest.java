package io.refundbroker.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.BrokerConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class EmbeddedSandboxTest {

  @Test
  void itRunsOnSandboxPortAndTheBrokerIsPointedAtIt() throws Exception {
    Map<String, String> env =
        Map.of("SANDBOX_PORT", "0", "VIPPS_BASE_URL", "https://apitest.vipps.no");
    try (EmbeddedSandbox sandbox = EmbeddedSandbox.start(BrokerConfig.fromEnvironment(env))) {
      BrokerConfig pointed = BrokerConfig.fromEnvironment(sandbox.environment(env));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      sandbox.printHowToSeed(new PrintStream(out, true, StandardCharsets.UTF_8), true);
      HttpResponse<String> overview =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/sandbox/v1")).build(),
                  HttpResponse.BodyHandlers.ofString());

      assertThat(sandbox.baseUrl()).startsWith("http://127.0.0.1:");
      assertThat(pointed.vipps().baseUrl()).isEqualTo(URI.create(sandbox.baseUrl()));
      assertThat(overview.statusCode()).isEqualTo(200);
      assertThat(overview.body()).contains("POST /sandbox/v1/stores");
      assertThat(out.toString(StandardCharsets.UTF_8))
          .contains(sandbox.baseUrl() + "/sandbox/v1/stores")
          .contains(sandbox.baseUrl() + "/sandbox/v1/payments")
          .contains("your value is ignored");
    }
  }

  @Test
  void serveHasASandboxOption() {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).parseArgs("--sandbox");

    assertThat(serve.sandbox).isTrue();
    assertThat(new CommandLine(new ServeCommand()).getUsageMessage()).contains("--sandbox");
  }
}

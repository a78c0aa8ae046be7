package io.refundbroker.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServeCommandTest {

  @Test
  void badConfigurationExitsNonZeroNamingTheVariable() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        ServeCommand.runUntilStopped(
            Map.of("BROKER_HTTP_PORT", "http"),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(code).isEqualTo(ServeCommand.EXIT_CONFIG);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("Invalid configuration")
        .contains("BROKER_HTTP_PORT must be an integer");
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void plainHttpVaultOrVippsBeyondLoopbackExitsWithTwoNamingTheVariable() {
    for (String variable : List.of("VIPPS_BASE_URL", "VAULT_ADDR")) {
      // a second, unrelated problem keeps a build that would accept the URL from serving
      Map<String, String> env =
          Map.of(
              variable,
              "http://remote.example:8200",
              "VAULT_TOKEN",
              "hvs.test",
              "BROKER_HTTP_PORT",
              "http");
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code =
          ServeCommand.runUntilStopped(
              env,
              new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      assertThat(code).isEqualTo(2);
      assertThat(err.toString(StandardCharsets.UTF_8)).contains(variable + " must use https://");
    }
  }

  @Test
  void helpListsTheSubcommands() {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run("--help")).isZero();
    } finally {
      System.setOut(original);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("serve");
  }
}

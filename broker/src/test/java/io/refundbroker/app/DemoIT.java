package io.refundbroker.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.LedgerEntry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's run command: the demo shows a cross-store refund end to end. */
class DemoIT {
  @TempDir Path dataDir;

  @Test
  void theDemoRefundsStoreAsPaymentFromStoreBWithStoreAsKeys() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
    Map<String, String> env =
        Map.of(
            "BROKER_DATA_DIR", dataDir.toString(),
            "BROKER_HTTP_PORT", "0",
            "BROKER_HTTP_INSTANCES", "1",
            "SANDBOX_PORT", "0",
            "BROKER_SHUTDOWN_GRACE", "1s");
    try (DemoCommand.Running demo = DemoCommand.start(env, out)) {
      String text = captured.toString(StandardCharsets.UTF_8);
      assertThat(text)
          .contains("Oslo Sentrum: MSN 123456, keys proved with Vipps")
          .contains("Found in store oslo-sentrum (Oslo Sentrum); refundable NOK 499.00")
          .contains("store found: oslo-sentrum")
          .contains("answer:      201 SUCCEEDED")
          .contains("refund.requested")
          .contains("refund.succeeded")
          .contains("credentials version 1")
          .contains("verify: valid=true")
          .contains("curl -s http://127.0.0.1:" + demo.launcher().app().httpPort() + "/v1/refunds")
          .contains("console:  http://127.0.0.1:" + demo.launcher().app().httpPort() + "/console/")
          .contains("API docs: http://127.0.0.1:" + demo.launcher().app().httpPort() + "/docs/");
      List<LedgerEntry> ledger = demo.sandbox().sandbox().ledger();
      assertThat(ledger)
          .singleElement()
          .satisfies(
              entry -> {
                assertThat(entry.msn()).isEqualTo("123456");
                assertThat(entry.tokenMsn()).isEqualTo("123456");
                assertThat(entry.amount().value()).isEqualTo(15000);
                assertThat(text).contains("authorized with client_id " + entry.clientId());
              });
    }
  }
}

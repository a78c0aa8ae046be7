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
      assertThat(ledger).as("the same cross-store refund under options B, A and C").hasSize(3);
      LedgerEntry underB = ledger.get(0);
      assertThat(underB.msn()).isEqualTo("123456");
      assertThat(underB.tokenMsn()).isEqualTo("123456");
      assertThat(underB.partnerId()).isNull();
      assertThat(underB.amount().value()).isEqualTo(15000);
      assertThat(text)
          .contains(
              "authorized with client_id "
                  + underB.clientId()
                  + " (Oslo's own keys (option B), token of MSN 123456)");
      LedgerEntry underA = ledger.get(1);
      assertThat(underA.msn()).isEqualTo("123456");
      assertThat(underA.partnerId()).isEqualTo("pos-vendor");
      assertThat(underA.clientId()).isNotEqualTo(underB.clientId());
      assertThat(text)
          .contains(
              "authorized with client_id "
                  + underA.clientId()
                  + " (partner pos-vendor's keys, Oslo's MSN from the store record, token of"
                  + " partner pos-vendor acting for MSN 123456)");
      LedgerEntry underC = ledger.get(2);
      assertThat(underC.msn()).isEqualTo("777777");
      assertThat(underC.reference()).isEqualTo("T2-order-2001");
      assertThat(underC.partnerId()).isNull();
      assertThat(text)
          .contains("origin trondheim-stasjon (found by its prefix T2-)")
          .contains(
              "authorized with client_id " + underC.clientId() + " (the sales unit's own keys");
    }
  }
}

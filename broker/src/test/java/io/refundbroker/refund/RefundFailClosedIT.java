package io.refundbroker.refund;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.CredentialBackendKind;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.refundbroker.testing.vault.VaultDouble;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** When a part it depends on fails, the broker refuses before anything is written or sent. */
class RefundFailClosedIT {

  @Test
  void aSealedVaultGives503WithNoRefundRowAndNoVippsCall() {
    try (VaultDouble vault = VaultDouble.start();
        RefundWorld world =
            RefundWorld.start(
                b ->
                    CredentialBackendKind.VAULT
                        .configure(b, vault)
                        .env("CREDENTIALS_CACHE_TTL", "1m"))) {
      Shop origin = world.shop("sealed-origin", "acme", "600001");
      Shop till = world.shop("sealed-till", "acme", "600002");
      world.sale(origin, "sealed-order-1", 10000);
      assertThat(world.refund(till, "s-0", refundBody("sealed-order-1", 1000)).status())
          .isEqualTo(201);

      vault.seal();
      world.advance(Duration.ofMinutes(2));
      long rows = world.broker.database().queryLong("SELECT count(*) FROM refunds");
      long events = world.broker.database().queryLong("SELECT count(*) FROM audit_events");

      HttpResult refused = world.refund(till, "s-1", refundBody("sealed-order-1", 1000));
      assertProblem(refused, 503, "CREDENTIALS_UNAVAILABLE");
      assertThat(refused.text()).doesNotContain("Vault is sealed").doesNotContain("\"errors\"");
      assertThat(world.refundCalls("sealed-order-1")).as("no upstream call").isEqualTo(1);
      assertThat(world.broker.database().queryLong("SELECT count(*) FROM refunds")).isEqualTo(rows);
      assertThat(world.broker.database().queryLong("SELECT count(*) FROM audit_events"))
          .isEqualTo(events);
      HttpResult ready = world.broker.get("/health/ready", null);
      assertThat(ready.status()).isEqualTo(503);
      assertThat(ready.text()).contains("\"id\":\"credentials\",\"status\":\"DOWN\"");

      vault.unseal();
      assertThat(world.refund(till, "s-1", refundBody("sealed-order-1", 1000)).status())
          .as("the same key works once Vault is back, since nothing was kept")
          .isEqualTo(201);
      world.vipps.assertNoViolations();
    }
  }

  @Test
  void aFailedAuditAppendLeavesNoRefundAndMakesNoVippsCall() throws Exception {
    try (RefundWorld world = RefundWorld.start()) {
      Shop origin = world.shop("audit-origin", "acme", "600101");
      Shop till = world.shop("audit-till", "acme", "600102");
      world.sale(origin, "audit-order-1", 10000);
      try (Connection c = world.broker.database().ownerConnection();
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE FUNCTION fail_refund_audit() RETURNS trigger LANGUAGE plpgsql AS"
                + " $$ BEGIN RAISE EXCEPTION 'audit storage failed'; END $$");
        s.execute(
            "CREATE TRIGGER zz_fail_refund_audit BEFORE INSERT ON audit_entries FOR EACH ROW"
                + " WHEN (NEW.action = 'refund.requested') EXECUTE FUNCTION fail_refund_audit()");
      }

      HttpResult failed = world.refund(till, "a-1", refundBody("audit-order-1", 2500));
      assertProblem(failed, 500, "INTERNAL_ERROR");
      assertThat(failed.text()).doesNotContain("audit storage failed");
      assertThat(
              world
                  .broker
                  .database()
                  .queryLong("SELECT count(*) FROM refunds WHERE order_id = 'audit-order-1'"))
          .isZero();
      assertThat(
              world
                  .broker
                  .database()
                  .queryLong(
                      "SELECT count(*) FROM idempotency_records WHERE idempotency_key = 'a-1'"))
          .isZero();
      assertThat(world.refundCalls("audit-order-1")).isZero();
      assertThat(world.ledger()).noneMatch(e -> e.reference().equals("audit-order-1"));

      try (Connection c = world.broker.database().ownerConnection();
          Statement s = c.createStatement()) {
        s.execute("DROP TRIGGER zz_fail_refund_audit ON audit_entries");
      }
      assertThat(world.refund(till, "a-1", refundBody("audit-order-1", 2500)).status())
          .isEqualTo(201);
      assertThat(world.ledger().stream().filter(e -> e.reference().equals("audit-order-1")))
          .hasSize(1);
    }
  }
}

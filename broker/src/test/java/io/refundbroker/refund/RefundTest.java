package io.refundbroker.refund;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsApi;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/** A refund as written ahead, as its outcome leaves it, and as stores and auditors see it. */
class RefundTest {
  private static final Instant LATER = Refunds.NOW.plusSeconds(7).plusNanos(123_456_789);

  @Test
  void aRefundWrittenAheadIsPendingWithItsOwnIdAsVippsKey() {
    Refund refund = Refunds.pending();
    assertThat(refund.status()).isEqualTo(RefundStatus.PENDING);
    assertThat(refund.upstreamKey()).isEqualTo(refund.refundId().toString());
    assertThat(refund.idempotencyKey()).isEqualTo("idem-1");
    assertThat(refund.requestingClientId()).isEqualTo("cl_bergen");
    assertThat(refund.requestingStoreId()).isEqualTo("bergen");
    assertThat(refund.chainId()).isEqualTo("acme");
    assertThat(refund.originStoreId()).isEqualTo("oslo");
    assertThat(refund.msn()).as("the origin's MSN, not the keys'").isEqualTo("654321");
    assertThat(refund.api()).isEqualTo(VippsApi.ECOM);
    assertThat(refund.orderId()).isEqualTo("654321-order-1");
    assertThat(refund.amount()).isEqualTo(new Money(2500, "NOK"));
    assertThat(refund.reason()).isEqualTo("damaged");
    assertThat(refund.credentialsVersion()).isEqualTo(3);
    assertThat(refund.partnerId()).isNull();
    assertThat(refund.attempts()).isEqualTo(1);
    assertThat(refund.nextAttemptAt()).isEqualTo(Refunds.NOW.plusSeconds(30));
    assertThat(refund.lastAttemptAt()).isEqualTo(Refunds.NOW);
    assertThat(refund.createdAt()).isEqualTo(Refunds.NOW);
    assertThat(refund.updatedAt()).isEqualTo(Refunds.NOW);
    assertThat(refund.completedAt()).isNull();
    assertThat(refund.failureCode()).isNull();
    assertThat(refund.upstreamStatus()).isNull();
  }

  @Test
  void aRefundSentWithPartnerKeysRecordsThePartnerAndKeepsIt() {
    Refund refund = Refunds.pending(KeyHolder.partner("acme-psp"));
    assertThat(refund.partnerId()).isEqualTo("acme-psp");
    assertThat(refund.keyHolder()).isEqualTo(KeyHolder.partner("acme-psp"));
    assertThat(refund.keysJson())
        .isEqualTo(
            new JsonObject()
                .put("holder", "partner")
                .put("version", 3)
                .put("partnerId", "acme-psp"));
  }

  @Test
  void aRefundSentWithTheSalesUnitsKeysNamesItsOwnMsn() {
    Refund refund = Refunds.pending(KeyHolder.salesUnit("999999"));
    assertThat(refund.keyHolder()).isEqualTo(KeyHolder.salesUnit("654321"));
    assertThat(refund.keysJson())
        .isEqualTo(new JsonObject().put("holder", "salesunit").put("version", 3));
  }

  @Test
  void aFinalOutcomeCompletesTheRefundToTheMicrosecond() {
    Refund done =
        Refunds.pending().withOutcome(RefundStatus.SUCCEEDED, null, null, 200, null, LATER);
    Instant micros = LATER.truncatedTo(ChronoUnit.MICROS);
    assertThat(done.status()).isEqualTo(RefundStatus.SUCCEEDED);
    assertThat(done.updatedAt()).isEqualTo(micros);
    assertThat(done.completedAt()).isEqualTo(micros);
    assertThat(done.nextAttemptAt()).isNull();
    assertThat(done.upstreamStatus()).isEqualTo(200);
    assertThat(done.createdAt()).isEqualTo(Refunds.NOW);
    assertThat(done.amount()).isEqualTo(new Money(2500, "NOK"));
    assertThat(done.attempts()).isEqualTo(1);

    Refund failed =
        Refunds.pending()
            .withOutcome(RefundStatus.FAILED, "OTHER", "no", 400, LATER.plusSeconds(1), LATER);
    assertThat(failed.completedAt()).isEqualTo(micros);
    assertThat(failed.failureCode()).isEqualTo("OTHER");
    assertThat(failed.failureDetail()).isEqualTo("no");
  }

  @Test
  void anUnresolvedOutcomeLeavesTheRefundOpenForTheNextAttempt() {
    Instant next = LATER.plusSeconds(60);
    Refund unknown =
        Refunds.pending().withOutcome(RefundStatus.UNKNOWN, null, null, 503, next, LATER);
    assertThat(unknown.status()).isEqualTo(RefundStatus.UNKNOWN);
    assertThat(unknown.completedAt()).isNull();
    assertThat(unknown.nextAttemptAt()).isEqualTo(next.truncatedTo(ChronoUnit.MICROS));
    assertThat(unknown.updatedAt()).isEqualTo(LATER.truncatedTo(ChronoUnit.MICROS));
  }

  @Test
  void storesSeeCompletionAndFailureOnlyWhenThereIsOne() {
    Refund pending = Refunds.pending();
    JsonObject json = pending.toJson();
    assertThat(json.getString("refundId")).isEqualTo(pending.refundId().toString());
    assertThat(json.getString("status")).isEqualTo("PENDING");
    assertThat(json.getString("orderId")).isEqualTo("654321-order-1");
    assertThat(json.getString("originStoreId")).isEqualTo("oslo");
    assertThat(json.getString("requestingStoreId")).isEqualTo("bergen");
    assertThat(json.getJsonObject("amount"))
        .isEqualTo(new JsonObject().put("value", 2500L).put("currency", "NOK"));
    assertThat(json.getString("createdAt")).isEqualTo(Refunds.NOW.toString());
    assertThat(json.containsKey("completedAt")).isFalse();
    assertThat(json.containsKey("failure")).isFalse();

    JsonObject failed = Refunds.in(pending, RefundStatus.FAILED, "OTHER", "blocked", 400).toJson();
    assertThat(failed.getString("completedAt")).isNotNull();
    assertThat(failed.getJsonObject("failure"))
        .isEqualTo(new JsonObject().put("code", "OTHER").put("detail", "blocked"));
  }

  @Test
  void theAuditDetailsNameTheKeySetAndTheUpstreamAnswerOnlyWhenThereIsOne() {
    Refund pending = Refunds.pending();
    JsonObject details = pending.auditDetails();
    assertThat(details.getString("vippsIdempotencyKey")).isEqualTo(pending.upstreamKey());
    assertThat(details.getString("msn")).isEqualTo("654321");
    assertThat(details.getString("api")).isEqualTo("ecom");
    assertThat(details.getInteger("credentialsVersion")).isEqualTo(3);
    assertThat(details.getJsonObject("keys")).isEqualTo(pending.keysJson());
    assertThat(details.getInteger("attempts")).isEqualTo(1);
    assertThat(details.containsKey("upstreamStatus")).isFalse();
    assertThat(details.containsKey("failureCode")).isFalse();

    JsonObject failed =
        Refunds.in(pending, RefundStatus.FAILED, "OTHER", "blocked", 400).auditDetails();
    assertThat(failed.getInteger("upstreamStatus")).isEqualTo(400);
    assertThat(failed.getString("failureCode")).isEqualTo("OTHER");
    assertThat(failed.getString("failureDetail")).isEqualTo("blocked");
  }
}

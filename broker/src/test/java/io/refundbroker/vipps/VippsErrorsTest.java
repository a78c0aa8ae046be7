package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsErrors.Meaning;
import io.refundbroker.vipps.VippsErrors.Verdict;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class VippsErrorsTest {
  private static final String BASE =
      "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#";

  private static Buffer problem(String type, String title, int status) {
    return new JsonObject()
        .put("type", type)
        .put("title", title)
        .put("detail", "free text from upstream: s3cr3t-looking-text")
        .put("status", status)
        .put("traceId", "t-1")
        .toBuffer();
  }

  private static Buffer ecom(Object code, String group) {
    return new JsonArray()
        .add(
            new JsonObject()
                .put("errorGroup", group)
                .put("errorCode", code)
                .put("errorMessage", "free text from upstream: s3cr3t-looking-text"))
        .toBuffer();
  }

  @ParameterizedTest
  @CsvSource({
    "not-enough-refundable, 400, REJECTED, NOT_ENOUGH_REFUNDABLE",
    "payment-already-refunded, 400, REJECTED, NOT_ENOUGH_REFUNDABLE",
    "refund-period-expired, 400, REJECTED, REFUND_WINDOW_PASSED",
    "refund-idempotency-conflict, 409, REJECTED, IDEMPOTENCY_CONFLICT",
    "attempted-refund-before-reservation, 400, REJECTED, PAYMENT_NOT_CAPTURED",
    "reference-not-found, 404, REJECTED, REFERENCE_NOT_FOUND",
    "amount-invalid, 400, REJECTED, INVALID_REQUEST",
    "validation-error, 400, REJECTED, INVALID_REQUEST",
    "order-processing, 409, TRANSIENT, ",
    "idempotency-error, 400, AMBIGUOUS, ",
    "some-new-type, 400, REJECTED, OTHER",
    "some-new-type, 404, REJECTED, REFERENCE_NOT_FOUND",
    "some-new-type, 409, TRANSIENT, ",
    "internal-error, 500, TRANSIENT, "
  })
  void ePaymentProblemsAreReadByType(
      String type, int status, Meaning meaning, RejectReason reason) {
    Verdict verdict =
        VippsErrors.classify(VippsApi.EPAYMENT, status, problem(BASE + type, "whatever", status));

    assertThat(verdict.meaning()).isEqualTo(meaning);
    assertThat(verdict.reason()).isEqualTo(reason);
    assertThat(verdict.detail()).doesNotContain("s3cr3t-looking-text");
  }

  @Test
  void theTitleIsNeverUsedOnlyTheType() {
    Verdict byType =
        VippsErrors.classify(
            VippsApi.EPAYMENT,
            400,
            problem(BASE + "refund-period-expired", "Not enough refundable", 400));
    Verdict titleOnly =
        VippsErrors.classify(
            VippsApi.EPAYMENT,
            400,
            new JsonObject().put("title", "Not enough refundable").put("status", 400).toBuffer());

    assertThat(byType.reason()).isEqualTo(RejectReason.REFUND_WINDOW_PASSED);
    assertThat(titleOnly.meaning()).isEqualTo(Meaning.AMBIGUOUS);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#not-enough-refundable",
        "https://example.com/problems/not-enough-refundable",
        "https://example.com/problems/Not-Enough-Refundable/",
        "not-enough-refundable"
      })
  void theTypesLastSegmentIdentifiesIt(String type) {
    assertThat(VippsErrors.problemType(problem(type, "t", 400))).isEqualTo("not-enough-refundable");
  }

  @ParameterizedTest
  @CsvSource({
    "71, Payment, 400, REJECTED, NOT_ENOUGH_REFUNDABLE",
    "72, Payment, 400, REJECTED, PAYMENT_NOT_CAPTURED",
    "73, Payment, 400, REJECTED, PAYMENT_CANCELLED",
    "95, Payment, 400, REJECTED, REFUND_WINDOW_PASSED",
    "93, VippsError, 400, REJECTED, IDEMPOTENCY_CONFLICT",
    "35, Merchant, 404, REJECTED, REFERENCE_NOT_FOUND",
    "37, Merchant, 400, REJECTED, MERCHANT_BLOCKED",
    "92, VippsError, 400, AMBIGUOUS, ",
    "94, VippsError, 400, TRANSIENT, ",
    "98, VippsError, 400, TRANSIENT, ",
    "99, VippsError, 500, TRANSIENT, ",
    "transactionText, InvalidRequest, 400, REJECTED, INVALID_REQUEST",
    "42, Authentication, 400, REJECTED, BAD_CREDENTIALS",
    "12345, Payment, 400, REJECTED, OTHER"
  })
  void eComErrorsAreReadByErrorCode(
      String code, String group, int status, Meaning meaning, RejectReason reason) {
    Verdict verdict = VippsErrors.classify(VippsApi.ECOM, status, ecom(code, group));

    assertThat(verdict.meaning()).isEqualTo(meaning);
    assertThat(verdict.reason()).isEqualTo(reason);
    assertThat(verdict.detail()).doesNotContain("s3cr3t-looking-text");
  }

  @Test
  void numericECodesAreReadToo() {
    assertThat(VippsErrors.classify(VippsApi.ECOM, 400, ecom(71, "Payment")).reason())
        .isEqualTo(RejectReason.NOT_ENOUGH_REFUNDABLE);
  }

  @ParameterizedTest
  @CsvSource({
    "401, UNAUTHORIZED, ",
    "403, REJECTED, BAD_CREDENTIALS",
    "408, TRANSIENT, ",
    "423, TRANSIENT, ",
    "429, TRANSIENT, ",
    "500, TRANSIENT, ",
    "502, TRANSIENT, ",
    "503, TRANSIENT, ",
    "504, TRANSIENT, "
  })
  void statusesDecideWhateverTheBody(int status, Meaning meaning, RejectReason reason) {
    for (VippsApi api : VippsApi.values()) {
      Verdict verdict =
          VippsErrors.classify(api, status, problem(BASE + "not-enough-refundable", "t", status));
      assertThat(verdict.meaning()).isEqualTo(meaning);
      assertThat(verdict.reason()).isEqualTo(reason);
    }
  }

  @Test
  void aFourHundredWithoutAReadableVippsBodyIsNeverARejection() {
    for (VippsApi api : VippsApi.values()) {
      assertThat(VippsErrors.classify(api, 400, Buffer.buffer("<html>oops</html>")).meaning())
          .isEqualTo(Meaning.AMBIGUOUS);
      assertThat(VippsErrors.classify(api, 404, Buffer.buffer()).meaning())
          .isEqualTo(Meaning.AMBIGUOUS);
      assertThat(VippsErrors.classify(api, 400, null).meaning()).isEqualTo(Meaning.AMBIGUOUS);
      assertThat(VippsErrors.classify(api, 302, Buffer.buffer()).meaning())
          .isEqualTo(Meaning.AMBIGUOUS);
    }
  }

  @Test
  void azureGatewayErrorsAreDefinitive() {
    Buffer azure = new JsonObject().put("statusCode", 404).put("message", "Not found").toBuffer();

    Verdict verdict = VippsErrors.classify(VippsApi.EPAYMENT, 404, azure);

    assertThat(verdict.meaning()).isEqualTo(Meaning.REJECTED);
    assertThat(verdict.reason()).isEqualTo(RejectReason.OTHER);
  }
}

package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Schema validators of the contract are built once and keep giving the library's verdicts. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CachingContractTest {
  private Vertx vertx;
  private OpenAPIContract contract;
  private SchemaRepository cached;

  @BeforeAll
  void load() {
    vertx = Vertx.vertx();
    contract = Await.result(Api.loadContract(vertx));
    cached = CachingContract.of(contract).getSchemaRepository();
  }

  @AfterAll
  void close() {
    Await.result(vertx.close());
  }

  private Parameter idempotencyKey() {
    Operation refund = contract.operation("requestRefund");
    return refund.getParameters().stream()
        .filter(p -> p.getName().equals("Idempotency-Key"))
        .findFirst()
        .orElseThrow();
  }

  private JsonSchema refundBody() {
    return contract.operation("requestRefund").getRequestBody().getContent().values().stream()
        .findFirst()
        .orElseThrow()
        .getSchema();
  }

  @Test
  void theSameSchemaGetsTheSameValidatorAndAnotherSchemaAnother() {
    JsonSchema header = idempotencyKey().getSchema();
    Validator first = cached.validator(header);

    assertThat(cached.validator(header)).isSameAs(first);
    assertThat(cached.validator(refundBody())).isNotSameAs(first);
    assertThat(contract.getSchemaRepository().validator(header))
        .as("the library itself builds a new validator every time")
        .isNotSameAs(contract.getSchemaRepository().validator(header));
  }

  @Test
  void aCachedValidatorJudgesLikeAFreshOneRepeatedly() {
    JsonSchema body = refundBody();
    JsonObject valid =
        new JsonObject()
            .put("orderId", "order-1001")
            .put("amount", new JsonObject().put("value", 15000).put("currency", "NOK"))
            .put("reason", "Returned goods");
    JsonObject invalid = valid.copy().put("amount", new JsonObject().put("value", "lots"));
    Validator fresh = contract.getSchemaRepository().validator(body);

    for (int i = 0; i < 3; i++) {
      assertThat(cached.validator(body).validate(valid).getValid()).isTrue();
      assertThat(cached.validator(body).validate(invalid).getValid()).isFalse();
    }
    assertThat(fresh.validate(valid).getValid()).isTrue();
    assertThat(fresh.validate(invalid).getValid()).isFalse();
  }
}

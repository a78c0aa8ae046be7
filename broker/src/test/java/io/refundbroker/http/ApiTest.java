package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.testing.Await;
import io.vertx.core.Vertx;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract is the source of truth: a router is only built when every operation is bound. */
class ApiTest {
  private static Vertx vertx;
  private static OpenAPIContract contract;

  @BeforeAll
  static void load() {
    vertx = Vertx.vertx();
    contract = Await.result(Api.loadContract(vertx));
  }

  @AfterAll
  static void close() {
    Await.result(vertx.close());
  }

  private static Api api() {
    return new Api(vertx, contract, roles -> ctx -> ctx.next(), 1024, 1024, new UploadSlots(1));
  }

  @Test
  void aMissingHandlerStopsTheRouterFromBeingBuiltAndIsNamed() {
    Api api = api();
    List<Operation> operations = contract.operations();
    String left = "requestRefund";
    for (Operation op : operations) {
      if (!op.getOperationId().equals(left)) {
        api.operation(op.getOperationId(), ctx -> ctx.response().end());
      }
    }
    assertThatThrownBy(api::router)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("without a handler")
        .hasMessageContaining(left);
    api.operation(left, ctx -> ctx.response().end());
    assertThat(api.router()).isNotNull();
  }

  @Test
  void anOperationTheContractDoesNotHaveOrABindingTwiceIsRefused() {
    Api api = api();
    assertThatThrownBy(() -> api.operation("refundEverything", ctx -> {}))
        .hasMessageContaining("no operation refundEverything");
    api.operation("healthLive", ctx -> {});
    assertThatThrownBy(() -> api.operation("healthLive", ctx -> {}))
        .hasMessageContaining("bound twice");
  }

  @Test
  void everyOperationDeclaresItsRolesOrIsExplicitlyPublic() {
    for (Operation op : contract.operations()) {
      assertThat(Api.roles(op)).as(op.getOperationId()).isNotNull();
    }
    assertThat(Api.roles(contract.operation("requestRefund"))).containsExactly("STORE");
    assertThat(Api.roles(contract.operation("healthReady"))).isEmpty();
  }
}

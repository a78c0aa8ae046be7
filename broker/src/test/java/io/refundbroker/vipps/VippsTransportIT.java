package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.testing.Await;
import io.refundbroker.vipps.SendFailure.Kind;
import io.refundbroker.vipps.SendFailure.Stage;
import io.refundbroker.vipps.VippsTransport.Exchange;
import io.refundbroker.vipps.VippsTransport.Operation;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transport decides "may have reached Vipps" by where an attempt failed: a request that never
 * got a connection cannot have been applied; one that was handed to a connection may have been, so
 * a later "not enough refundable" may be the echo of our own refund and stays unknown.
 */
class VippsTransportIT {
  private static final String PATH = "/epayment/v1/payments/transport-ref-1/refund";
  private static final Buffer NOT_ENOUGH_REFUNDABLE =
      new JsonObject()
          .put(
              "type",
              "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#"
                  + "not-enough-refundable")
          .put("title", "Not enough refundable")
          .put("status", 400)
          .toBuffer();

  private Vertx vertx;
  private VippsTransport transport;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    if (transport != null) {
      transport.close();
    }
    Await.result(vertx.close());
  }

  private VippsTransport transport(int port) {
    VippsConfig config =
        BrokerConfig.fromEnvironment(
                Map.of(
                    "VIPPS_BASE_URL", "http://127.0.0.1:" + port,
                    "VIPPS_MAX_ATTEMPTS", "3",
                    "VIPPS_RETRY_BACKOFF", "1ms",
                    "VIPPS_READ_TIMEOUT", "2s"))
            .vipps();
    transport = new VippsTransport(vertx, config, new VippsMetrics(new SimpleMeterRegistry()));
    return transport;
  }

  private static Request refund() {
    return new Request(
        Operation.REFUND,
        VippsApi.EPAYMENT,
        EpaymentFlavour.INSTANCE,
        HttpMethod.POST,
        PATH,
        MultiMap.caseInsensitiveMultiMap().set("Content-Type", "application/json"),
        Buffer.buffer("{}"));
  }

  /** A server whose {@code n}th request (1-based) is handled by {@code handler}. */
  private int serve(BiConsumer<Integer, HttpServerRequest> handler) {
    AtomicInteger count = new AtomicInteger();
    HttpServer server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> req.body().onSuccess(b -> handler.accept(count.incrementAndGet(), req)));
    return Await.result(server.listen(0, "127.0.0.1")).actualPort();
  }

  private static void notEnoughRefundable(HttpServerRequest req) {
    req.response()
        .setStatusCode(400)
        .putHeader("Content-Type", "application/problem+json")
        .end(NOT_ENOUGH_REFUNDABLE);
  }

  @Test
  void attemptsThatNeverGotAConnectionCannotHaveReachedVipps() {
    HttpServer closed = vertx.createHttpServer().requestHandler(req -> req.response().end());
    int port = Await.result(closed.listen(0, "127.0.0.1")).actualPort();
    Await.result(closed.close());

    Exchange exchange = Await.result(transport(port).execute(refund(), null));

    assertThat(exchange.attempts()).isEqualTo(3);
    assertThat(exchange.failure().stage()).isEqualTo(Stage.CONNECT);
    assertThat(exchange.failure().kind()).isEqualTo(Kind.REFUSED);
    assertThat(exchange.earlierAmbiguous()).isFalse();
    assertThat(VippsOutcomes.refund(exchange).detail())
        .isEqualTo("no answer from Vipps after 3 attempt(s): connection refused");
  }

  @Test
  void aRequestTheServerReceivedButNeverAnsweredMayHaveBeenApplied() {
    int port =
        serve(
            (n, req) -> {
              if (n == 1) {
                req.connection().close();
              } else {
                notEnoughRefundable(req);
              }
            });

    Exchange exchange = Await.result(transport(port).execute(refund(), null));

    assertThat(exchange.attempts()).isEqualTo(2);
    assertThat(exchange.earlierAmbiguous()).isTrue();
    RefundOutcome outcome = VippsOutcomes.refund(exchange);
    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.UNKNOWN);
    assertThat(outcome.detail()).endsWith("an earlier attempt may have been applied");
  }

  @Test
  void theSameRefusalWithoutAnEarlierReceivedAttemptIsARejection() {
    int port = serve((n, req) -> notEnoughRefundable(req));

    Exchange exchange = Await.result(transport(port).execute(refund(), null));

    assertThat(exchange.attempts()).isEqualTo(1);
    assertThat(exchange.earlierAmbiguous()).isFalse();
    RefundOutcome outcome = VippsOutcomes.refund(exchange);
    assertThat(outcome.kind()).isEqualTo(RefundOutcome.Kind.REJECTED);
    assertThat(outcome.reason()).isEqualTo(RefundOutcome.RejectReason.NOT_ENOUGH_REFUNDABLE);
  }

  @Test
  void theLastAttemptsFailureIsReportedWithItsStage() {
    int port = serve((n, req) -> req.connection().close());

    Exchange exchange = Await.result(transport(port).execute(refund(), null));

    assertThat(exchange.attempts()).isEqualTo(3);
    assertThat(exchange.failure().stage()).isEqualTo(Stage.EXCHANGE);
    assertThat(exchange.failure().mayHaveReachedVipps()).isTrue();
    assertThat(exchange.earlierAmbiguous()).isTrue();
  }
}

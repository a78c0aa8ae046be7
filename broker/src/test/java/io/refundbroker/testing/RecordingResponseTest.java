package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link ResponseRecorder} sees every response as sent: chained, streamed, refused early. */
class RecordingResponseTest {
  private final List<Exchange> recorded = new CopyOnWriteArrayList<>();
  private Vertx vertx;
  private HttpServer server;
  private WebClient client;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router
        .get("/v1/me")
        .handler(
            ctx ->
                ctx.response()
                    .setStatusCode(200)
                    .putHeader("Content-Type", "application/json")
                    .end("{}"));
    router
        .get("/v1/audit/events")
        .handler(
            ctx -> {
              ctx.response().setChunked(true).putHeader("Content-Type", "application/x-ndjson");
              ctx.response().write("{\"seq\":");
              ctx.response().write(Buffer.buffer("1}\n"));
              ctx.response().end("{\"seq\":2}\n");
            });
    ResponseRecorder recorder = new ResponseRecorder(recorded::add, "test server");
    server =
        Await.result(
            vertx
                .createHttpServer()
                .requestHandler(recorder.around(router))
                .invalidRequestHandler(
                    recorder.around(req -> req.response().setStatusCode(400).end()))
                .listen(0, "127.0.0.1"));
    client = WebClient.create(vertx);
  }

  @AfterEach
  void stop() {
    Await.result(vertx.close());
  }

  @Test
  void aChainedResponseIsRecordedAndItsWrongBodyIsCaught() {
    Await.result(client.get(server.actualPort(), "127.0.0.1", "/v1/me?x=1").send());

    Exchange exchange = only();
    assertThat(exchange.method()).isEqualTo("GET");
    assertThat(exchange.path()).isEqualTo("/v1/me");
    assertThat(exchange.query()).isEqualTo("x=1");
    assertThat(exchange.status()).isEqualTo(200);
    assertThat(exchange.mediaType()).isEqualTo("application/json");
    assertThat(exchange.text()).isEqualTo("{}");
    assertThat(exchange.origin()).startsWith("test server on port " + server.actualPort());
    assertThat(ResponseContract.broker().violations(exchange))
        .as("getCaller's 200 requires clientId, name and role")
        .anySatisfy(v -> assertThat(v).contains("clientId"));
  }

  @Test
  void aStreamedBodyIsRecordedWhole() {
    Await.result(client.get(server.actualPort(), "127.0.0.1", "/v1/audit/events").send());

    Exchange exchange = only();
    assertThat(exchange.text()).isEqualTo("{\"seq\":1}\n{\"seq\":2}\n");
    assertThat(ResponseContract.broker().violations(exchange))
        .anySatisfy(v -> assertThat(v).startsWith("line 1").contains("hash"));
  }

  @Test
  void theRouterOwnAnswersAreRecordedToo() {
    Await.result(client.get(server.actualPort(), "127.0.0.1", "/nowhere").send());

    Exchange exchange = only();
    assertThat(exchange.status()).isEqualTo(404);
    assertThat(ResponseContract.broker().violations(exchange))
        .anySatisfy(v -> assertThat(v).contains("must be application/problem+json"));
  }

  @Test
  void anAnswerToARequestTheHttpLayerCouldNotParseIsRecorded() {
    HttpResult answer =
        RawHttp.exchange(
            server.actualPort(), "GET /v1/me HTTP/1.1\r\nHost: x\r\nBad\u0001: y", null);

    assertThat(answer.status()).isEqualTo(400);
    Exchange exchange = only();
    assertThat(exchange.status()).isEqualTo(400);
    assertThat(ResponseContract.broker().violations(exchange))
        .anySatisfy(v -> assertThat(v).contains("must be application/problem+json"));
  }

  private Exchange only() {
    Poll.until("a recorded exchange", Duration.ofSeconds(10), () -> !recorded.isEmpty());
    assertThat(recorded).hasSize(1);
    return recorded.get(0);
  }
}

package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A long answer keeps its connection alive with whitespace and stays one JSON document; a quick one
 * is an ordinary response; a failure after the 200 went out resets the connection. The answer is
 * completed by what the client has seen (no timing is assumed).
 */
class LongAnswerTest {
  private static final Duration INTERVAL = Duration.ofMillis(20);

  private Vertx vertx;
  private HttpServer server;
  private HttpClient client;
  private final AtomicReference<Promise<JsonObject>> answer = new AtomicReference<>();
  private final CompletableFuture<Throwable> routedFailure = new CompletableFuture<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    router
        .get("/long")
        .handler(
            ctx -> {
              Promise<JsonObject> promise = Promise.promise();
              answer.set(promise);
              LongAnswer.send(ctx, INTERVAL, promise.future());
            });
    router
        .get("/quick")
        .handler(ctx -> LongAnswer.send(ctx, INTERVAL, Future.succeededFuture(verdict())));
    router
        .get("/refused")
        .handler(
            ctx ->
                LongAnswer.send(ctx, INTERVAL, Future.failedFuture(new IllegalStateException("x"))))
        .failureHandler(
            ctx -> {
              routedFailure.complete(ctx.failure());
              ctx.response().setStatusCode(503).end();
            });
    server =
        vertx
            .createHttpServer()
            .requestHandler(router)
            .listen(0)
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    client = vertx.createHttpClient();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aLongAnswerSendsSpacesUntilItsJsonAndStaysOneDocument() throws Exception {
    CompletableFuture<String> body = new CompletableFuture<>();
    CompletableFuture<HttpClientResponse> head = new CompletableFuture<>();
    StringBuilder received = new StringBuilder();
    get(
            "/long",
            response -> {
              head.complete(response);
              response.handler(
                  chunk -> {
                    received.append(chunk.toString());
                    if (received.toString().isBlank() && received.length() >= 3) {
                      answer.get().complete(verdict());
                    }
                  });
              response.endHandler(end -> body.complete(received.toString()));
              response.exceptionHandler(body::completeExceptionally);
            })
        .onFailure(head::completeExceptionally);

    HttpClientResponse response = head.get(10, TimeUnit.SECONDS);
    String text = body.get(10, TimeUnit.SECONDS);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(text).startsWith("   ");
    assertThat(new JsonObject(text)).isEqualTo(verdict());
  }

  @Test
  void aQuickAnswerIsAnOrdinaryResponse() throws Exception {
    CompletableFuture<String> body = new CompletableFuture<>();
    CompletableFuture<HttpClientResponse> head = new CompletableFuture<>();
    get(
            "/quick",
            response -> {
              head.complete(response);
              response.body().onSuccess(b -> body.complete(b.toString()));
            })
        .onFailure(head::completeExceptionally);

    HttpClientResponse response = head.get(10, TimeUnit.SECONDS);

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Length")).isNotNull();
    assertThat(body.get(10, TimeUnit.SECONDS)).isEqualTo(verdict().encode());
  }

  @Test
  void aFailureBeforeTheFirstSpaceIsRoutedAsAFailure() throws Exception {
    CompletableFuture<Integer> status = new CompletableFuture<>();
    get("/refused", r -> status.complete(r.statusCode())).onFailure(status::completeExceptionally);

    assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo(503);
    assertThat(routedFailure.get(10, TimeUnit.SECONDS)).hasMessage("x");
  }

  @Test
  void aFailureAfterTheFirstSpaceResetsTheConnection() throws Exception {
    CompletableFuture<Throwable> broken = new CompletableFuture<>();
    StringBuilder received = new StringBuilder();
    get(
            "/long",
            response -> {
              response.handler(
                  chunk -> {
                    received.append(chunk.toString());
                    answer.get().tryFail(new IllegalStateException("database gone"));
                  });
              response.endHandler(end -> broken.complete(null));
              response.exceptionHandler(broken::complete);
            })
        .onFailure(broken::complete);

    assertThat(broken.get(10, TimeUnit.SECONDS))
        .as("the client sees a broken response, not an end")
        .isNotNull();
    assertThat(received.toString()).isBlank();
  }

  /**
   * Sends a GET and hands the response to {@code onHead} in the response's own callback: handlers
   * set one hop later (on another thread) can miss data already read.
   */
  private Future<HttpClientResponse> get(String path, Consumer<HttpClientResponse> onHead) {
    return client
        .request(HttpMethod.GET, server.actualPort(), "127.0.0.1", path)
        .compose(request -> request.send().onSuccess(onHead::accept));
  }

  private static JsonObject verdict() {
    return new JsonObject().put("valid", true).put("headSeq", 5_099_035L);
  }
}

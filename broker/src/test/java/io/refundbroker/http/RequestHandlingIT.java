package io.refundbroker.http;

import static io.refundbroker.testing.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.LogCapture;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RawHttp;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The order in which a request is handled: who it is from is settled from the head alone, before a
 * byte of the body is read, so an anonymous upload costs the broker next to nothing; a client that
 * hangs up is not an error; large uploads each take one of a few slots.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestHandlingIT {
  private static final long NINE_MB = 9L * 1024 * 1024;
  private static final String IMPORT = "POST /v1/admin/orders/import HTTP/1.1";
  private static final String CSV_HEADER = "storeId,orderId,amount,currency,capturedAt\n";
  private static final Duration ANSWER = Duration.ofSeconds(5);

  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.builder().env("BROKER_MAX_CONCURRENT_UPLOADS", "1").start();
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  private String admin() {
    return "Authorization: Bearer " + broker.adminToken();
  }

  /** Bytes the broker's HTTP server has read from its sockets so far (Vert.x's own counter). */
  private double serverBytesRead() {
    return broker
        .get("/metrics", null)
        .text()
        .lines()
        .filter(line -> line.startsWith("vertx_http_server_bytes_read_total "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anAnonymousUploadIsRefusedBeforeTheServerAsksForItsBody() {
    try (RawHttp http = RawHttp.connect(broker.port())) {
      http.sendHead(
          RawHttp.head(
              IMPORT,
              "Content-Type: text/plain",
              "Content-Length: " + NINE_MB,
              "Expect: 100-continue"));
      // A server that read bodies before authenticating would answer "100 Continue" here.
      HttpResult answer = http.readResponse(ANSWER);
      assertProblem(answer, 401, "UNAUTHORIZED");
      assertThat(answer.header("Connection")).isEqualTo("close");
      assertThat(http.bodyBytesSent()).isZero();
    }
  }

  @Test
  void anAnonymousUploadIsAnsweredFromItsHeadAndLittleOfItsBodyIsRead() {
    double before = serverBytesRead();
    try (RawHttp http = RawHttp.connect(broker.port())) {
      http.sendHead(
          RawHttp.head(
              IMPORT,
              "Authorization: Bearer rb_" + "x".repeat(43),
              "Content-Type: text/plain",
              "Content-Length: " + NINE_MB));
      // The answer comes before any of the body is sent ...
      assertProblem(http.readResponse(ANSWER), 401, "UNAUTHORIZED");
      // ... and then the connection stops taking it.
      http.sendBodyUntilRefused(NINE_MB, 64 * 1024, Duration.ofSeconds(20));
    }
    // Vert.x reports what a connection read as it goes (in steps of a few KiB) and the rest when
    // the connection closes, which it has: the broker closed it.
    double read = serverBytesRead() - before;
    assertThat(read).as("bytes the broker read of a 9 MB anonymous upload").isLessThan(1 << 20);
  }

  @Test
  void aClientThatHangsUpMidBodyIsNeitherAnErrorNorA200() {
    try (LogCapture logs = LogCapture.atTrace();
        RawHttp http = RawHttp.connect(broker.port())) {
      http.sendHead(
          RawHttp.head(
              IMPORT,
              admin(),
              "Content-Type: text/plain",
              "Content-Length: 100000",
              "X-Request-Id: hang-up-1",
              "Expect: 100-continue"));
      // Authenticated, a slot taken: the broker asks for the body and starts reading it.
      assertThat(http.readResponse(ANSWER).status()).isEqualTo(100);
      http.sendBody(CSV_HEADER.getBytes(StandardCharsets.UTF_8));
      http.close();
      String line =
          Poll.value(
              "the access-log line of the abandoned upload",
              Duration.ofSeconds(10),
              () ->
                  logs.text()
                      .lines()
                      .filter(l -> l.contains("io.refundbroker.access"))
                      .filter(l -> l.contains("requestId=hang-up-1"))
                      .findFirst()
                      .orElse(null));
      assertThat(line).contains("status=499").doesNotContain("status=200");
      assertThat(logs.text()).doesNotContain("ERROR ").doesNotContain("\tat ");
    }
  }

  @Test
  void largeUploadsTakeASlotEachAndAreRefusedWhenNoneIsFree() {
    try (RawHttp holder = RawHttp.connect(broker.port())) {
      holder.sendHead(
          RawHttp.head(
              IMPORT,
              admin(),
              "Content-Type: text/plain",
              "Content-Length: 1000",
              "Expect: 100-continue"));
      assertThat(holder.readResponse(ANSWER).status()).isEqualTo(100);

      HttpResult second = importCsv(CSV_HEADER);
      assertProblem(second, 503, "TOO_MANY_UPLOADS");
      assertThat(second.header("Retry-After")).isNotBlank();
      assertThat(second.json().getString("detail")).contains("BROKER_MAX_CONCURRENT_UPLOADS");
    }
    // The holder hung up: its slot comes back.
    Poll.until(
        "an import is accepted again",
        Duration.ofSeconds(10),
        () -> importCsv(CSV_HEADER).status() == 200);
  }

  @Test
  void anAnnouncedOversizeBodyIsRefusedBeforeItIsSent() {
    try (RawHttp http = RawHttp.connect(broker.port())) {
      http.sendHead(
          RawHttp.head(
              IMPORT,
              admin(),
              "Content-Type: text/plain",
              "Content-Length: " + (broker.config().http().maxImportBytes() + 1L),
              "Expect: 100-continue"));
      HttpResult answer = http.readResponse(ANSWER);
      assertProblem(answer, 413, "PAYLOAD_TOO_LARGE");
      assertThat(answer.header("Connection")).isEqualTo("close");
    }
  }

  @Test
  void aLargeFormBodyIsAnUnsupportedMediaTypeNotAnInternalError() {
    String form = "clientId=" + "a".repeat(65 * 1024) + "&clientSecret=x&subscriptionKey=y";
    HttpResult result =
        broker.send(
            HttpMethod.PUT,
            "/v1/admin/stores/oslo-1/credentials",
            broker.adminToken(),
            Buffer.buffer(form),
            Map.of("Content-Type", "application/x-www-form-urlencoded"));
    assertProblem(result, 415, "UNSUPPORTED_MEDIA_TYPE");
    assertThat(result.json().getString("detail")).contains("application/json");
  }

  @Test
  void aBodyInAnotherMediaTypeIsRefusedBeforeItIsRead() {
    HttpResult result =
        broker.send(
            HttpMethod.POST,
            "/v1/admin/stores",
            broker.adminToken(),
            Buffer.buffer("<store/>"),
            Map.of("Content-Type", "application/xml"));
    assertProblem(result, 415, "UNSUPPORTED_MEDIA_TYPE");
    HttpResult latin1 =
        broker.send(
            HttpMethod.POST,
            "/v1/admin/stores",
            broker.adminToken(),
            Buffer.buffer("{}"),
            Map.of("Content-Type", "application/json; charset=ISO-8859-1"));
    assertProblem(latin1, 415, "UNSUPPORTED_MEDIA_TYPE");
  }

  @Test
  void aRequestAnnouncingAnEmptyBodyIsServed() {
    // java.net.http sends "Content-Length: 0" with an empty GET; the body step must not wait for
    // it.
    HttpResult result =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head(
                "GET /v1/admin/stores HTTP/1.1", admin(), "Content-Length: 0", "Connection: close"),
            null);
    assertThat(result.status()).as(result.toString()).isEqualTo(200);
    HttpResult empty =
        RawHttp.exchange(
            broker.port(),
            RawHttp.head(
                "POST /v1/admin/stores HTTP/1.1",
                admin(),
                "Content-Type: application/json",
                "Content-Length: 0",
                "Connection: close"),
            null);
    assertProblem(empty, 400, empty.code());
  }

  private HttpResult importCsv(String csv) {
    return broker.send(
        HttpMethod.POST,
        "/v1/admin/orders/import",
        broker.adminToken(),
        Buffer.buffer(csv),
        Map.of("Content-Type", "text/plain"));
  }
}

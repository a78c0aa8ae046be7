package io.refundbroker.vipps;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.vipps.SendFailure.Kind;
import io.refundbroker.vipps.SendFailure.Stage;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.impl.NoStackTraceTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Whether a failed attempt may have reached Vipps is decided by where it failed and by the
 * failure's type — never by its message text.
 */
class SendFailureTest {

  /** Failures Vert.x and Netty raise, with messages that would fool a text match. */
  private static final List<Throwable> FAILURES =
      List.of(
          new ConnectException("Connection refused"),
          new io.netty.channel.ConnectTimeoutException("connection timed out after 1000 ms"),
          new NoStackTraceTimeoutException(
              "The timeout of 1000 ms has been exceeded when getting a connection to x:443"),
          new NoStackTraceTimeoutException(
              "The timeout period of 150ms has been exceeded while executing POST /refund"),
          new TimeoutException("getting a connection"),
          new HttpClosedException("Connection was closed"),
          new VertxException("Connection reset by peer"),
          new IOException("Broken pipe"));

  @Test
  void nothingThatFailedWhileGettingAConnectionCanHaveReachedVipps() {
    assertThat(FAILURES)
        .allSatisfy(
            f -> assertThat(SendFailure.of(Stage.CONNECT, f).mayHaveReachedVipps()).isFalse());
  }

  @Test
  void everythingThatFailedAfterTheRequestWasHandedToAConnectionMayHaveReachedVipps() {
    // Even a timeout whose message says "getting a connection", and even a ConnectException: once
    // the request was handed to a connection, the broker cannot know it was not received.
    assertThat(FAILURES)
        .allSatisfy(
            f -> assertThat(SendFailure.of(Stage.EXCHANGE, f).mayHaveReachedVipps()).isTrue());
  }

  @Test
  void theKindComesFromTheFailuresTypeNotItsMessage() {
    assertThat(SendFailure.of(Stage.CONNECT, new ConnectException("timed out")).kind())
        .isEqualTo(Kind.REFUSED);
    assertThat(SendFailure.of(Stage.CONNECT, new VertxException("timeout")).kind())
        .isEqualTo(Kind.OTHER);
    assertThat(SendFailure.of(Stage.EXCHANGE, new TimeoutException("refused")).kind())
        .isEqualTo(Kind.TIMEOUT);
    assertThat(
            SendFailure.of(Stage.CONNECT, new io.netty.channel.ConnectTimeoutException("x")).kind())
        .as("a connect timeout is a timeout, though it is a ConnectException")
        .isEqualTo(Kind.TIMEOUT);
    assertThat(
            SendFailure.of(Stage.EXCHANGE, io.netty.handler.timeout.ReadTimeoutException.INSTANCE)
                .kind())
        .isEqualTo(Kind.TIMEOUT);
    assertThat(SendFailure.of(Stage.EXCHANGE, new HttpClosedException("reset")).kind())
        .isEqualTo(Kind.CLOSED);
  }

  @Test
  void descriptionsAndMetricLabelsNeverCarryTheFailuresMessage() {
    String canary = "Bearer eyJ-canary-token";
    for (Throwable f :
        List.of(
            new ConnectException(canary),
            new TimeoutException(canary),
            new HttpClosedException(canary),
            new IllegalStateException(canary))) {
      SendFailure failure = SendFailure.of(Stage.EXCHANGE, f);
      assertThat(failure.describe()).doesNotContain("canary");
      assertThat(failure.metricResult()).isIn("timeout", "connection_error");
    }
    assertThat(SendFailure.of(Stage.EXCHANGE, new TimeoutException()).describe())
        .isEqualTo("timed out");
    assertThat(SendFailure.of(Stage.EXCHANGE, new TimeoutException()).metricResult())
        .isEqualTo("timeout");
    assertThat(SendFailure.of(Stage.CONNECT, new ConnectException()).describe())
        .isEqualTo("connection refused");
    assertThat(SendFailure.of(Stage.CONNECT, new ConnectException()).metricResult())
        .isEqualTo("connection_error");
    assertThat(SendFailure.of(Stage.EXCHANGE, new IllegalStateException()).describe())
        .isEqualTo("connection error (IllegalStateException)");
  }
}

package io.refundbroker.vipps;

import io.vertx.core.http.HttpClosedException;
import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

/**
 * Why one attempt got no answer from Vipps, and whether its request may have reached Vipps anyway.
 * The transport reports every failed attempt as one of these; the decision is made from <em>where
 * the attempt failed</em> (before or after a connection carried the request) and from the failure's
 * type, never from its message text.
 *
 * <ul>
 *   <li>{@link Stage#CONNECT}: no connection was had (refused, unreachable, or none free within the
 *       connect timeout): no byte of the request was written, so it cannot have reached Vipps and
 *       cannot have been applied.
 *   <li>{@link Stage#EXCHANGE}: the request was handed to a connection; a timeout, reset or close
 *       after that may have come after Vipps received (and applied) it.
 * </ul>
 *
 * @param stage where the attempt failed
 * @param kind what went wrong, for the detail and the metric label
 * @param type the failure's class (simple name), named in the detail of {@link Kind#OTHER}
 */
record SendFailure(Stage stage, Kind kind, String type) {

  /** Where an attempt failed. */
  enum Stage {
    /** Getting a connection for the request. */
    CONNECT,
    /** Sending the request or reading its answer. */
    EXCHANGE
  }

  /** What went wrong, as the failure's type says. */
  enum Kind {
    /** A connect, idle or read timeout. */
    TIMEOUT("timed out"),
    /** The peer refused or reset the connection attempt. */
    REFUSED("connection refused"),
    /** The connection closed before an answer came. */
    CLOSED("connection closed without an answer"),
    /** Any other I/O failure. */
    OTHER("connection error");

    private final String description;

    Kind(String description) {
      this.description = description;
    }
  }

  /** Classifies {@code failure}, which ended an attempt at {@code stage}. */
  static SendFailure of(Stage stage, Throwable failure) {
    return new SendFailure(stage, kindOf(failure), failure.getClass().getSimpleName());
  }

  private static Kind kindOf(Throwable failure) {
    if (failure instanceof TimeoutException
        || failure instanceof io.netty.channel.ConnectTimeoutException
        || failure instanceof io.netty.handler.timeout.TimeoutException) {
      return Kind.TIMEOUT;
    }
    if (failure instanceof ConnectException) {
      return Kind.REFUSED;
    }
    if (failure instanceof HttpClosedException) {
      return Kind.CLOSED;
    }
    return Kind.OTHER;
  }

  /** Whether the attempt's request may have reached Vipps (and so may have been applied). */
  boolean mayHaveReachedVipps() {
    return stage == Stage.EXCHANGE;
  }

  /** The {@code result} label of the {@code vipps.requests} meter. */
  String metricResult() {
    return kind == Kind.TIMEOUT ? "timeout" : "connection_error";
  }

  /** A short, secret-free description (never the exception's own message). */
  String describe() {
    return kind == Kind.OTHER ? kind.description + " (" + type + ")" : kind.description;
  }
}

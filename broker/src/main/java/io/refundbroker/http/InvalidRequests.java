package io.refundbroker.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers requests the HTTP layer could not parse (a request line longer than the server accepts,
 * oversized headers, control characters in a header, a broken request line) with a problem instead
 * of the HTTP layer's empty answer: 414 {@code URI_TOO_LONG}, 431 {@code HEADERS_TOO_LARGE}, 400
 * {@code MALFORMED_REQUEST}. Such a request never reaches the router; the server closes the
 * connection after the answer. One access-log line is written for it, as for routed requests.
 */
public final class InvalidRequests implements Handler<HttpServerRequest> {
  private static final Logger ACCESS = LoggerFactory.getLogger(AccessLog.LOGGER);

  @Override
  public void handle(HttpServerRequest request) {
    long started = System.nanoTime();
    String requestId = UUID.randomUUID().toString();
    ProblemException problem = problemFor(request.decoderResult().cause());
    request.response().putHeader(RequestIds.HEADER, requestId);
    Problems.write(request.response(), requestId, problem);
    ACCESS
        .atInfo()
        .setMessage("http")
        .addKeyValue("requestId", requestId)
        .addKeyValue("method", request.method() == null ? "-" : request.method().name())
        .addKeyValue("path", AccessLog.loggedPath(request.path()))
        .addKeyValue("status", problem.status())
        .addKeyValue("ms", (System.nanoTime() - started) / 1_000_000.0)
        .addKeyValue("client", "-")
        .log();
  }

  static ProblemException problemFor(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return uriTooLong();
    }
    if (cause instanceof TooLongHttpHeaderException) {
      return headersTooLarge();
    }
    return ProblemException.badRequest(
        "MALFORMED_REQUEST",
        "The request is not valid HTTP/1.1: a header or the request line contains a control"
            + " character, a broken escape or an invalid header.");
  }

  static ProblemException uriTooLong() {
    return new ProblemException(
        414,
        "URI_TOO_LONG",
        "URI too long",
        "The request line (method, path and query) is longer than the broker accepts; send"
            + " shorter ids or fewer query parameters.");
  }

  static ProblemException headersTooLarge() {
    return new ProblemException(
        431,
        "HEADERS_TOO_LARGE",
        "Request header fields too large",
        "The request headers are larger than the broker accepts.");
  }
}

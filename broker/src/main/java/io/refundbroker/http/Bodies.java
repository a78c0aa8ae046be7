package io.refundbroker.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * What the broker knows about a request body before reading it, and how a connection is let go when
 * the answer is sent before the body was read.
 *
 * <p>The body of every request is held back ({@link #holdBack}) until the operation's checks that
 * need only the head (authentication, role, content type, size, upload slots) have passed; only
 * then does the body handler read it. A refusal before that point is answered at once with {@code
 * Connection: close}; the connection then takes at most {@link #LINGER_BYTES} more body bytes (so a
 * client still sending can read the answer instead of a reset) and is closed.
 */
public final class Bodies {
  /** Body bytes read and discarded after an early answer before the connection is closed. */
  static final int LINGER_BYTES = 64 * 1024;

  /** How long a connection with an early answer may keep sending before it is closed. */
  static final long LINGER_MILLIS = 2_000;

  private Bodies() {}

  /** Whether the request announces a body (a positive Content-Length, chunked, or HTTP/2). */
  public static boolean expected(HttpServerRequest request) {
    if (request.version() == HttpVersion.HTTP_2) {
      return !request.isEnded();
    }
    if (request.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      return true;
    }
    return contentLength(request) > 0;
  }

  /** The announced Content-Length, or -1 when there is none (or it is not a number). */
  public static long contentLength(HttpServerRequest request) {
    String raw = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (raw == null || raw.isEmpty()) {
      return -1;
    }
    try {
      return Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Stops the body from being read until a handler asks for it (the body handler resumes it).
   * Without this, body chunks arriving while an asynchronous check runs would be dropped; with it,
   * the connection stops reading once a few chunks are queued, so an unauthenticated upload is not
   * read.
   */
  static void holdBack(HttpServerRequest request) {
    if (expected(request)) {
      request.pause();
    }
  }

  /** Whether an answer sent now leaves (part of) an announced body unread. */
  static boolean unread(HttpServerRequest request) {
    return expected(request) && !request.isEnded();
  }

  /**
   * After an answer that left the body unread: reads and discards at most {@link #LINGER_BYTES}
   * more for at most {@link #LINGER_MILLIS}, then closes the connection (at once when the body
   * ends).
   */
  static void discardThenClose(Vertx vertx, HttpServerRequest request) {
    Closer closer = new Closer(vertx, request);
    if (request.isEnded()) {
      closer.close();
      return;
    }
    closer.timer = vertx.setTimer(LINGER_MILLIS, id -> closer.close());
    try {
      request
          .exceptionHandler(failure -> closer.close())
          .handler(chunk -> closer.discarded(chunk.length()))
          .endHandler(end -> closer.close())
          .resume();
    } catch (IllegalStateException alreadyRead) {
      closer.close();
    }
  }

  /** Closes one connection once; runs on the request's event loop only. */
  private static final class Closer {
    private final Vertx vertx;
    private final HttpServerRequest request;
    private long timer = -1;
    private long discarded;
    private boolean closed;

    Closer(Vertx vertx, HttpServerRequest request) {
      this.vertx = vertx;
      this.request = request;
    }

    void discarded(int bytes) {
      discarded += bytes;
      if (discarded > LINGER_BYTES) {
        close();
      }
    }

    void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      if (request.version() == HttpVersion.HTTP_2) {
        // One stream of a shared connection: reset the stream, keep the connection.
        request.response().reset();
      } else {
        request.connection().close();
      }
    }
  }
}

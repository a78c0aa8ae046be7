package io.refundbroker.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A 200 JSON answer that may take longer than the server's idle timeout ({@link
 * HttpVerticle#IDLE_TIMEOUT}: a connection that carries no byte for that long is closed) — such as
 * {@code GET /v1/audit/verify} over millions of events. While the answer is not ready, every {@code
 * interval} after the first the response is committed as 200 {@code application/json} and a space
 * is sent: JSON allows whitespace before a value (RFC 8259, section 2), so the body stays one JSON
 * document and the connection stays open. An answer ready before the first interval is sent as
 * usual. A failure after the response was committed can no longer become a problem response: the
 * connection is reset (the client sees a broken response, never a wrong verdict) and the failure
 * logged.
 *
 * <p>Not thread-safe: use it on the request's context only.
 */
public final class LongAnswer {
  private static final Logger LOG = LoggerFactory.getLogger(LongAnswer.class);
  private static final Buffer SPACE = Buffer.buffer(" ");

  private final RoutingContext ctx;
  private final Vertx vertx;
  private final long timer;
  private boolean committed;
  private boolean done;

  private LongAnswer(RoutingContext ctx, Vertx vertx, Duration interval) {
    this.ctx = ctx;
    this.vertx = vertx;
    this.timer = vertx.setPeriodic(interval.toMillis(), id -> keepAlive());
  }

  /** {@link #send(RoutingContext, Duration, Future)} every quarter of the idle timeout. */
  public static void send(RoutingContext ctx, Future<JsonObject> answer) {
    send(ctx, HttpVerticle.IDLE_TIMEOUT.dividedBy(4), answer);
  }

  /**
   * Answers {@code ctx} with {@code answer}'s JSON when it completes, keeping the connection alive
   * every {@code interval} meanwhile; a failure before the first interval goes to {@code ctx.fail}.
   */
  public static void send(RoutingContext ctx, Duration interval, Future<JsonObject> answer) {
    LongAnswer pending = new LongAnswer(ctx, ctx.vertx(), interval);
    answer.onComplete(
        done -> {
          if (done.succeeded()) {
            pending.finish(done.result());
          } else {
            pending.fail(done.cause());
          }
        });
  }

  private void keepAlive() {
    if (done || ctx.response().ended() || ctx.response().closed()) {
      stop();
      return;
    }
    if (!committed) {
      committed = true;
      ctx.response()
          .setStatusCode(200)
          .setChunked(true)
          .putHeader("Content-Type", "application/json");
    }
    ctx.response().write(SPACE);
  }

  private void finish(JsonObject body) {
    stop();
    if (ctx.response().closed()) {
      return;
    }
    if (committed) {
      ctx.response().end(body.toBuffer());
    } else {
      Responses.ok(ctx, body);
    }
  }

  private void fail(Throwable failure) {
    stop();
    if (!committed) {
      ctx.fail(failure);
      return;
    }
    LOG.atError()
        .setMessage("a long answer failed after its 200 was sent; the connection is reset")
        .addKeyValue("requestId", RequestIds.of(ctx))
        .setCause(failure)
        .log();
    ctx.response().reset();
  }

  private void stop() {
    done = true;
    vertx.cancelTimer(timer);
  }
}

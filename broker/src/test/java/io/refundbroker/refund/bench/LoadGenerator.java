package io.refundbroker.refund.bench;

import io.refundbroker.testing.Await;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Drives HTTP load from ONE event loop of its own (Vert.x {@link WebClient}, HTTP/1.1 keep-alive,
 * no pipelining): either a closed loop of N clients that each send their next request when the
 * previous answer arrived, or an open loop that sends at a fixed rate whatever the answers do and
 * measures every latency from the moment the request was <em>due</em> (so a stalled server cannot
 * hide its backlog: no coordinated omission).
 */
final class LoadGenerator implements AutoCloseable {
  /** Where requests come from. */
  interface Source {
    /** Sends the next request now; null when there is nothing left to send. */
    Future<Answer> sendNext();
  }

  /**
   * What one request got: a status (0: no answer at all), and for an unexpected status the
   * problem's {@code code} and the body (read only when the status was not the expected one).
   */
  record Answer(int status, Supplier<String> body) {
    static Answer of(int status) {
      return new Answer(status, () -> null);
    }
  }

  /** An HTTP request's answer as a load {@link Answer}. */
  static Future<Answer> http(Future<HttpResponse<Buffer>> response) {
    return response.map(r -> new Answer(r.statusCode(), r::bodyAsString));
  }

  private final Vertx vertx;
  private final Context context;
  private final WebClient client;

  LoadGenerator(int maxConnectionsPerServer) {
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    this.context = vertx.getOrCreateContext();
    this.client =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setKeepAlive(true)
                .setPipelining(false)
                .setTcpNoDelay(true)
                .setConnectTimeout(5_000)
                .setIdleTimeout(0),
            new PoolOptions().setHttp1MaxSize(maxConnectionsPerServer));
  }

  WebClient client() {
    return client;
  }

  /** The generator's Vert.x (one event loop): sources that are not HTTP run on it too. */
  Vertx vertx() {
    return vertx;
  }

  /** Runs {@code task} on the generator's event loop and waits for the future it returns. */
  <T> T onLoop(Supplier<Future<T>> task, Duration limit) {
    Promise<T> done = Promise.promise();
    context.runOnContext(v -> task.get().onComplete(done));
    return Await.result(done.future(), limit);
  }

  /** A running phase: when its measured window began, and when its last answer arrived. */
  record Run(Future<Void> windowStarted, Future<Void> done) {}

  /**
   * A closed loop: {@code clients} concurrent senders for {@code warmup + measure}. Answers that
   * arrive during the warm-up go to {@code warm}, later ones to {@code measured}; when the time is
   * up (or the source is exhausted) no new request starts, and {@code done} completes once every
   * answer is in.
   */
  Run closedLoop(
      int clients,
      Duration warmup,
      Duration measure,
      PhaseStats warm,
      PhaseStats measured,
      Source source) {
    Promise<Void> started = Promise.promise();
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v ->
            new ClosedLoop(clients, warmup, measure, warm, measured, source, started, done)
                .start());
    return new Run(started.future(), done.future());
  }

  /**
   * An open loop: requests are due at {@code rate} per second for {@code measure}; each is sent
   * when due (checked every millisecond) and its latency counts from when it was due. When more
   * than {@code maxOutstanding} requests are unanswered the server is not keeping up: the phase
   * stops sending there and records when ({@link PhaseStats#gaveUpAfterNanos}).
   */
  Future<Void> openLoop(
      double rate, Duration measure, int maxOutstanding, PhaseStats stats, Source source) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(
        v -> new OpenLoop(rate, measure, maxOutstanding, stats, source, done).start());
    return done.future();
  }

  /** Blocks the calling (main) thread until {@code phase} is done. */
  static void await(Future<Void> phase, Duration limit) {
    Await.result(phase, limit);
  }

  private static void record(
      PhaseStats stats, long latency, boolean inWindow, AsyncResult<Answer> answer) {
    if (answer.failed()) {
      Throwable cause = answer.cause();
      stats.record(
          latency,
          inWindow,
          0,
          cause.getClass().getSimpleName(),
          String.valueOf(cause.getMessage()));
      return;
    }
    Answer response = answer.result();
    int status = response.status();
    if (status == stats.expectedStatus) {
      stats.record(latency, inWindow, status, null, null);
      return;
    }
    String body = response.body().get();
    String code = null;
    try {
      code = body == null ? null : new JsonObject(body).getString("code");
    } catch (RuntimeException e) {
      // not a problem document; the status alone classifies it
    }
    stats.record(latency, inWindow, status, code, body);
  }

  private final class ClosedLoop {
    private final int clients;
    private final long warmupNanos;
    private final long measureNanos;
    private final PhaseStats warm;
    private final PhaseStats measured;
    private final Source source;
    private final Promise<Void> started;
    private final Promise<Void> done;
    private long windowStart;
    private long end;
    private int running;
    private int inFlight;

    ClosedLoop(
        int clients,
        Duration warmup,
        Duration measure,
        PhaseStats warm,
        PhaseStats measured,
        Source source,
        Promise<Void> started,
        Promise<Void> done) {
      this.clients = clients;
      this.warmupNanos = warmup.toNanos();
      this.measureNanos = measure.toNanos();
      this.warm = warm;
      this.measured = measured;
      this.source = source;
      this.started = started;
      this.done = done;
    }

    void start() {
      long start = System.nanoTime();
      windowStart = start + warmupNanos;
      end = windowStart + measureNanos;
      measured.windowNanos = measureNanos;
      if (warmupNanos < 1_000_000) {
        started.complete();
      } else {
        vertx.setTimer(warmupNanos / 1_000_000, id -> started.tryComplete());
      }
      running = clients;
      for (int i = 0; i < clients; i++) {
        next();
      }
    }

    private void next() {
      long now = System.nanoTime();
      PhaseStats stats = now < windowStart && warm != null ? warm : measured;
      Future<Answer> sent = now >= end ? null : source.sendNext();
      if (sent == null) {
        if (--running == 0) {
          // a phase that ran out of requests early measured only until now
          measured.windowNanos = Math.min(end, System.nanoTime()) - windowStart;
          started.tryComplete();
          done.complete();
        }
        return;
      }
      stats.sent();
      inFlight++;
      measured.maxInFlight = Math.max(measured.maxInFlight, inFlight);
      sent.onComplete(
          answer -> {
            long finished = System.nanoTime();
            inFlight--;
            boolean inWindow = finished >= windowStart && finished <= end;
            record(
                finished < windowStart && warm != null ? warm : measured,
                finished - now,
                inWindow,
                answer);
            next();
          });
    }
  }

  private final class OpenLoop {
    private final double rate;
    private final long measureNanos;
    private final int maxOutstanding;
    private final PhaseStats stats;
    private final Source source;
    private final Promise<Void> done;
    private long start;
    private long end;
    private long scheduled;
    private long timer;
    private boolean stopped;
    private int inFlight;

    OpenLoop(
        double rate,
        Duration measure,
        int maxOutstanding,
        PhaseStats stats,
        Source source,
        Promise<Void> done) {
      this.rate = rate;
      this.measureNanos = measure.toNanos();
      this.maxOutstanding = maxOutstanding;
      this.stats = stats;
      this.source = source;
      this.done = done;
    }

    void start() {
      start = System.nanoTime();
      end = start + measureNanos;
      stats.windowNanos = measureNanos;
      timer = vertx.setPeriodic(1, id -> tick());
      tick();
    }

    private void tick() {
      if (stopped) {
        return;
      }
      long now = System.nanoTime();
      while (true) {
        long due = start + (long) (scheduled * 1e9 / rate);
        if (due >= end) {
          stop();
          return;
        }
        if (due > now) {
          return;
        }
        if (inFlight >= maxOutstanding) {
          stats.gaveUpAfterNanos = now - start;
          stats.windowNanos = now - start;
          end = now;
          stop();
          return;
        }
        Future<Answer> sent = source.sendNext();
        if (sent == null) {
          stop();
          return;
        }
        scheduled++;
        stats.sent();
        inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
        sent.onComplete(
            answer -> {
              long finished = System.nanoTime();
              inFlight--;
              record(stats, finished - due, finished <= end, answer);
              if (stopped && inFlight == 0) {
                done.tryComplete();
              }
            });
      }
    }

    private void stop() {
      stopped = true;
      vertx.cancelTimer(timer);
      if (inFlight == 0) {
        done.tryComplete();
      }
    }
  }

  @Override
  public void close() {
    client.close();
    Await.result(vertx.close(), Duration.ofSeconds(30));
  }
}

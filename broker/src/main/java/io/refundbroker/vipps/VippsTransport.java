package io.refundbroker.vipps;

import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.sabotage.Sabotage;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.SendFailure.Stage;
import io.refundbroker.vipps.VippsErrors.Dialect;
import io.refundbroker.vipps.VippsErrors.Meaning;
import io.refundbroker.vipps.VippsErrors.Verdict;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one Vipps call, possibly several times: HTTP, attempts and backoff, the one re-authorized
 * retry after a 401, ambiguity tracking, metrics and tracing. It knows nothing of API flavours
 * beyond the {@link Dialect} a request's errors are read in, and nothing of what a call means.
 *
 * <ul>
 *   <li><b>Retries</b>: no answer, and 408/423/425/429/5xx, are retried up to {@code
 *       VIPPS_MAX_ATTEMPTS} times with exponential backoff and jitter (a Vert.x timer, never a
 *       sleep), always with the same headers and the same body bytes.
 *   <li><b>May have reached Vipps</b>: an attempt without an answer counts as possibly received
 *       when it failed after a connection carried it ({@link SendFailure}); a 5xx counts too. Once
 *       one attempt may have been received, {@link Exchange#earlierAmbiguous()} stays set.
 *   <li><b>401</b>: the {@link Bearer}'s token is dropped and the call is made once more with a
 *       fresh one; that is not a retry (the gateway stopped the request).
 *   <li><b>Secrets</b>: with {@code VIPPS_TRACE_HTTP=true} every exchange is logged at TRACE with
 *       secret headers and token fields redacted ({@link VippsHeaders}).
 * </ul>
 *
 * <p>Thread-safety: it holds no mutable state of its own (the Vert.x HTTP client is thread-safe),
 * so one transport serves every verticle.
 */
final class VippsTransport {
  private static final Logger LOG = LoggerFactory.getLogger(VippsTransport.class);
  private static final long MAX_BACKOFF_MS = 30_000L;

  /** The Vipps operations, as metric labels. */
  enum Operation {
    TOKEN("token"),
    REFUND("refund"),
    GET_PAYMENT("get_payment"),
    EVENT_LOG("event_log"),
    DETAILS("details");

    private final String tag;

    Operation(String tag) {
      this.tag = tag;
    }
  }

  /**
   * One HTTP call to make, possibly several times.
   *
   * @param op the operation (metric label)
   * @param api the flavour (metric label; null for the access-token endpoint)
   * @param dialect how its error answers read
   * @param method the HTTP method
   * @param path the path below {@code VIPPS_BASE_URL}
   * @param headers every header but {@code Authorization}
   * @param body the body bytes (null for none), the same for every attempt
   */
  record Request(
      Operation op,
      VippsApi api,
      Dialect dialect,
      HttpMethod method,
      String path,
      MultiMap headers,
      Buffer body) {}

  /** An HTTP answer, read whole. */
  record Answer(int status, MultiMap headers, Buffer body) {}

  /** Where a call's access token comes from, and where a refused one goes. */
  interface Bearer {
    /**
     * The token to send.
     *
     * @return fails with a {@link TokenUnavailableException} when none can be had
     */
    Future<AccessToken> token();

    /** Vipps answered 401 to {@code token}. */
    void refused(AccessToken token);
  }

  /**
   * How a call ended after its attempts.
   *
   * @param answer the last answer (null when there was none)
   * @param verdict the reading of a non-2xx answer
   * @param failure why the last attempt got no answer
   * @param tokenFailure no access token could be had (the call was not sent)
   * @param attempts attempts made
   * @param earlierAmbiguous an earlier attempt may have reached Vipps and been applied
   */
  record Exchange(
      Answer answer,
      Verdict verdict,
      SendFailure failure,
      TokenUnavailableException tokenFailure,
      int attempts,
      boolean earlierAmbiguous) {

    boolean ok() {
      return answer != null && answer.status() / 100 == 2;
    }

    int status() {
      return answer == null ? 0 : answer.status();
    }
  }

  /**
   * One attempt's state: which attempt, whether re-authorized, whether one may have arrived, and
   * whether only attempts that cannot have arrived are retried.
   */
  private record Attempt(
      int number, boolean reauthorized, boolean ambiguous, boolean retryOnlyUnsent) {
    Attempt next(boolean mayHaveArrived) {
      return new Attempt(number + 1, reauthorized, ambiguous || mayHaveArrived, retryOnlyUnsent);
    }

    Attempt reauthorize() {
      return new Attempt(number, true, ambiguous, retryOnlyUnsent);
    }
  }

  /** An attempt's raw result: an answer, or why there was none. */
  private record Sent(Answer answer, SendFailure failure) {}

  private final Vertx vertx;
  private final VippsConfig config;
  private final VippsMetrics metrics;
  private final HttpClient http;
  private final String baseUrl;
  private final String userAgent;

  VippsTransport(Vertx vertx, VippsConfig config, VippsMetrics metrics) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = metrics;
    String base = config.baseUrl().toString();
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.userAgent = config.systemName() + "/" + config.systemVersion();
    this.http =
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setConnectTimeout(
                        (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
                    .setKeepAlive(true))
            .with(new PoolOptions().setHttp1MaxSize(64))
            .build();
  }

  /** The {@code Vipps-System-*} headers every call carries. */
  MultiMap systemHeaders() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    headers.set(VippsHeaders.SYSTEM_NAME, config.systemName());
    headers.set(VippsHeaders.SYSTEM_VERSION, config.systemVersion());
    headers.set(VippsHeaders.PLUGIN_NAME, config.pluginName());
    headers.set(VippsHeaders.PLUGIN_VERSION, config.pluginVersion());
    return headers;
  }

  /**
   * Makes {@code request}, retrying as described above.
   *
   * @param bearer the access token's source, or null for a call without one (the token endpoint)
   * @return never fails for upstream problems: the {@link Exchange} says how the call ended
   */
  Future<Exchange> execute(Request request, Bearer bearer) {
    return execute(request, bearer, false);
  }

  /**
   * Makes {@code request}; with {@code retryOnlyUnsent}, an attempt that may have reached Vipps (no
   * answer after the request went out, or a 429/5xx answer) is not retried.
   *
   * @param bearer the access token's source, or null for a call without one (the token endpoint)
   * @return never fails for upstream problems: the {@link Exchange} says how the call ended
   */
  Future<Exchange> execute(Request request, Bearer bearer, boolean retryOnlyUnsent) {
    return attempt(request, bearer, new Attempt(1, false, false, retryOnlyUnsent));
  }

  private Future<Exchange> attempt(Request request, Bearer bearer, Attempt attempt) {
    if (bearer == null) {
      return send(request, null).compose(sent -> settle(request, null, null, attempt, sent));
    }
    return bearer
        .token()
        .transform(
            token -> {
              if (token.failed()) {
                return Future.succeededFuture(tokenFailure(token.cause(), attempt));
              }
              return send(request, token.result())
                  .compose(sent -> settle(request, bearer, token.result(), attempt, sent));
            });
  }

  private static Exchange tokenFailure(Throwable cause, Attempt attempt) {
    TokenUnavailableException failure =
        cause instanceof TokenUnavailableException t
            ? t
            : new TokenUnavailableException(false, 0, "access token unavailable");
    return new Exchange(null, null, null, failure, attempt.number(), attempt.ambiguous());
  }

  /** What to do after an attempt: done, retry, or once more with a fresh token. */
  private Future<Exchange> settle(
      Request request, Bearer bearer, AccessToken token, Attempt attempt, Sent sent) {
    boolean attemptsLeft = attempt.number() < config.maxAttempts();
    if (sent.failure() != null) {
      boolean retry =
          attemptsLeft && !(attempt.retryOnlyUnsent() && sent.failure().mayHaveReachedVipps());
      return retry
          ? retry(request, bearer, attempt.next(sent.failure().mayHaveReachedVipps()))
          : Future.succeededFuture(
              new Exchange(
                  null, null, sent.failure(), null, attempt.number(), attempt.ambiguous()));
    }
    Answer answer = sent.answer();
    if (answer.status() / 100 == 2) {
      return Future.succeededFuture(
          new Exchange(answer, null, null, null, attempt.number(), attempt.ambiguous()));
    }
    Verdict verdict = VippsErrors.classify(request.dialect(), answer.status(), answer.body());
    if (verdict.meaning() == Meaning.UNAUTHORIZED && bearer != null && !attempt.reauthorized()) {
      bearer.refused(token);
      return attempt(request, bearer, attempt.reauthorize());
    }
    if (verdict.meaning() == Meaning.TRANSIENT && attemptsLeft && !attempt.retryOnlyUnsent()) {
      return retry(request, bearer, attempt.next(answer.status() >= 500));
    }
    return Future.succeededFuture(
        new Exchange(answer, verdict, null, null, attempt.number(), attempt.ambiguous()));
  }

  private Future<Exchange> retry(Request request, Bearer bearer, Attempt next) {
    metrics.retry(request.op().tag, request.api());
    if (Sabotage.FRESH_VIPPS_KEY_ON_RETRY.on()) {
      for (String name : new String[] {VippsHeaders.IDEMPOTENCY_KEY, VippsHeaders.REQUEST_ID}) {
        if (request.headers().contains(name)) {
          request.headers().set(name, "sabotage-" + java.util.UUID.randomUUID());
        }
      }
    }
    return vertx
        .timer(backoffMillis(next.number() - 1), TimeUnit.MILLISECONDS)
        .compose(fired -> attempt(request, bearer, next));
  }

  /** Exponential backoff with "equal jitter": half fixed, half random; at least 1 ms. */
  private long backoffMillis(int attempt) {
    long base = config.retryBackoff().toMillis();
    long exponential = Math.min(MAX_BACKOFF_MS, base << Math.min(attempt - 1, 20));
    long half = exponential / 2;
    long jitter = half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0;
    return Math.max(1, half + jitter);
  }

  /**
   * One attempt: get a connection ({@link Stage#CONNECT}), then send and read the answer ({@link
   * Stage#EXCHANGE}). Never fails: a failure becomes a {@link SendFailure} of its stage.
   */
  private Future<Sent> send(Request request, AccessToken token) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap().addAll(request.headers());
    headers.set("User-Agent", userAgent);
    if (token != null) {
      headers.set(VippsHeaders.AUTHORIZATION, "Bearer " + token.value().reveal());
    }
    RequestOptions options =
        new RequestOptions()
            .setMethod(request.method())
            .setAbsoluteURI(baseUrl + request.path())
            .setHeaders(headers)
            .setFollowRedirects(false)
            .setConnectTimeout(config.connectTimeout().toMillis())
            .setIdleTimeout(config.readTimeout().toMillis());
    Trace trace = new Trace(request, headers);
    return http.request(options)
        .transform(
            connected ->
                connected.succeeded()
                    ? exchange(connected.result(), request.body())
                    : Future.succeededFuture(
                        new Sent(null, SendFailure.of(Stage.CONNECT, connected.cause()))))
        .andThen(done -> trace.finished(done.result()));
  }

  private static Future<Sent> exchange(HttpClientRequest request, Buffer body) {
    Future<HttpClientResponse> response = body == null ? request.send() : request.send(body);
    return response
        .compose(r -> r.body().map(b -> new Sent(new Answer(r.statusCode(), r.headers(), b), null)))
        .otherwise(failure -> new Sent(null, SendFailure.of(Stage.EXCHANGE, failure)));
  }

  /** Metrics and (with {@code VIPPS_TRACE_HTTP}) TRACE lines of one attempt. */
  private final class Trace {
    private final Request request;
    private final boolean enabled;
    private final long started = System.nanoTime();

    Trace(Request request, MultiMap headers) {
      this.request = request;
      this.enabled = config.traceHttp() && LOG.isTraceEnabled();
      if (enabled) {
        LOG.trace(
            "vipps http > {} {} [{}] {}",
            request.method(),
            request.path(),
            VippsHeaders.describe(headers),
            VippsHeaders.describeBody(request.body(), false));
      }
    }

    void finished(Sent sent) {
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      String result =
          sent.answer() != null
              ? (sent.answer().status() / 100) + "xx"
              : sent.failure().metricResult();
      metrics.exchange(request.op().tag, request.api(), result, took);
      if (!enabled) {
        return;
      }
      if (sent.answer() != null) {
        LOG.trace(
            "vipps http < {} {} {} in {} ms [{}] {}",
            sent.answer().status(),
            request.method(),
            request.path(),
            took.toMillis(),
            VippsHeaders.describe(sent.answer().headers()),
            VippsHeaders.describeBody(sent.answer().body(), request.op() == Operation.TOKEN));
      } else {
        LOG.trace(
            "vipps http < no answer {} {} in {} ms: {}",
            request.method(),
            request.path(),
            took.toMillis(),
            sent.failure().describe());
      }
    }
  }

  /** Closes the HTTP client (in-flight calls fail). */
  void close() {
    http.close();
  }
}

package io.refundbroker.vipps;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.http.ProblemException;
import io.refundbroker.money.Money;
import io.refundbroker.vipps.RefundOutcome.Kind;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsErrors.Meaning;
import io.refundbroker.vipps.VippsErrors.Verdict;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.net.ConnectException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link VippsGateway} over HTTP, for production Vipps and the built-in sandbox alike.
 *
 * <ul>
 *   <li><b>Access tokens</b>: one per sales unit ({@link AccessTokenCache}), fetched with {@code
 *       POST /accesstoken/get}, reused until {@code VIPPS_TOKEN_REFRESH_MARGIN} (at most half the
 *       lifetime) before it expires, dropped on a 401 (then one more fetch and one retry) and on
 *       {@link #forgetToken}.
 *   <li><b>Retries</b>: connection errors, timeouts, 408/423/425/429 and 5xx are retried up to
 *       {@code VIPPS_MAX_ATTEMPTS} times with exponential backoff and jitter (a Vert.x timer, never
 *       a sleep), always with the same idempotency key and the same body bytes.
 *   <li><b>Outcomes</b>: 2xx is {@code APPLIED}; a definitive refusal (see {@link VippsErrors}) is
 *       {@code REJECTED}; everything else is {@code UNKNOWN}. A "not enough refundable" or
 *       idempotency conflict that follows an attempt Vipps may have received is {@code UNKNOWN}
 *       too: it may be the echo of our own earlier, applied attempt.
 *   <li><b>No access token</b>: Vipps refusing the keys is {@code REJECTED BAD_CREDENTIALS}; Vipps
 *       not answering the token endpoint is {@code UNKNOWN} with a "not sent" detail (a later
 *       lookup finds it not applied and the refund can be resent with the same key).
 *   <li><b>Refused before sending</b> ({@code REJECTED INVALID_REQUEST}, HTTP status 0): requests
 *       Vipps's specs do not allow — an eCom refund for an MSN that is not 5-6 digits (the eCom
 *       body's {@code merchantSerialNumber} is {@code ^\d{5,}$}, 5-6 long; such stores must use
 *       ePayment), an ePayment reference outside {@code [a-zA-Z0-9-]{8,50}} (refund it through
 *       eCom), an eCom refund below 100 øre or not in NOK, an idempotency key longer than the API
 *       allows (50 ePayment, 40 eCom).
 *   <li><b>Secrets</b>: keys and tokens are only put into request headers. With {@code
 *       VIPPS_TRACE_HTTP=true} every request and response is logged at TRACE with {@code
 *       client_id}, {@code client_secret}, {@code Ocp-Apim-Subscription-Key}, {@code Authorization}
 *       and the token's {@code access_token} redacted.
 * </ul>
 */
public final class VippsClient implements VippsGateway {
  private static final Logger LOG = LoggerFactory.getLogger(VippsClient.class);

  private static final Pattern MSN = Pattern.compile("[0-9]{4,7}");
  private static final Pattern ECOM_BODY_MSN = Pattern.compile("[0-9]{5,6}");
  private static final Pattern EPAYMENT_REFERENCE = Pattern.compile("[a-zA-Z0-9-]{8,50}");
  private static final Pattern ECOM_ORDER_ID = Pattern.compile("[a-zA-Z0-9-]{1,50}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7E]+");
  private static final long EPAYMENT_MAX_AMOUNT = 65_000_000L;
  private static final long ECOM_MIN_AMOUNT = 100L;
  private static final int ECOM_TEXT_MAX = 100;
  private static final int EPAYMENT_KEY_MAX = 50;
  private static final int ECOM_KEY_MAX = 40;
  private static final long MAX_BACKOFF_MS = 30_000L;
  private static final Set<RejectReason> MAYBE_OUR_OWN_ECHO =
      Set.of(RejectReason.NOT_ENOUGH_REFUNDABLE, RejectReason.IDEMPOTENCY_CONFLICT);

  /** The Vipps operations, as metric labels. */
  private enum Operation {
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

  /** One HTTP call to make, possibly several times. */
  private record Spec(
      Operation op,
      VippsApi api,
      StoreCredentials credentials,
      HttpMethod method,
      String path,
      MultiMap headers,
      Buffer body,
      boolean bearer) {}

  /**
   * How a call ended after its attempts.
   *
   * @param response the last answer (null when there was none)
   * @param verdict the reading of a non-2xx answer
   * @param failure the last transport failure (no answer)
   * @param tokenFailure no access token could be had (the call was not sent)
   * @param attempts attempts made
   * @param earlierAmbiguous an earlier attempt may have reached Vipps and been applied
   */
  private record Result(
      HttpResponse<Buffer> response,
      Verdict verdict,
      Throwable failure,
      TokenUnavailableException tokenFailure,
      int attempts,
      boolean earlierAmbiguous) {

    boolean ok() {
      return response != null && response.statusCode() / 100 == 2;
    }

    int status() {
      return response == null ? 0 : response.statusCode();
    }
  }

  private record PaymentKey(String msn, VippsApi api, String reference) {}

  private record CachedPayment(Future<PaymentSnapshot> snapshot, Instant expiresAt) {}

  private final Vertx vertx;
  private final VippsConfig config;
  private final Clock clock;
  private final WebClient http;
  private final String baseUrl;
  private final AccessTokenCache tokens;
  private final VippsMetrics metrics;
  private final Map<PaymentKey, CachedPayment> payments = new ConcurrentHashMap<>();

  /**
   * Creates the client; it opens no connection until the first call.
   *
   * @param vertx the Vert.x instance whose timers and HTTP client are used
   * @param config {@code VIPPS_*} settings (base URL, timeouts, retries, token margin, headers)
   * @param registry where the {@code vipps.*} meters go
   * @param clock decides token and payment-cache expiry
   */
  public VippsClient(Vertx vertx, VippsConfig config, MeterRegistry registry, Clock clock) {
    this.vertx = vertx;
    this.config = config;
    this.clock = clock;
    String base = config.baseUrl().toString();
    this.baseUrl = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.http =
        WebClient.create(
            vertx,
            new WebClientOptions()
                .setConnectTimeout(
                    (int) Math.min(Integer.MAX_VALUE, config.connectTimeout().toMillis()))
                .setKeepAlive(true)
                .setFollowRedirects(false)
                .setUserAgent(config.systemName() + "/" + config.systemVersion()),
            new PoolOptions().setHttp1MaxSize(64));
    this.tokens = new AccessTokenCache(this::fetchToken, clock);
    this.metrics = new VippsMetrics(registry, tokens::size);
  }

  // ---------------------------------------------------------------------------------- refunds

  @Override
  public Future<RefundOutcome> refund(RefundCall call) {
    RefundOutcome refused = refuseBeforeSending(call);
    if (refused != null) {
      return Future.succeededFuture(report(call, refused, 0));
    }
    Spec spec = call.api() == VippsApi.ECOM ? ecomRefund(call) : epaymentRefund(call);
    forgetPayment(call.credentials().msn(), call.api(), call.reference());
    return execute(spec)
        .map(result -> report(call, refundOutcome(result), result.attempts()))
        .otherwise(
            failure -> {
              LOG.error("unexpected failure while calling Vipps for a refund", failure);
              return report(
                  call, RefundOutcome.unknown("internal error while calling Vipps", 0), 0);
            })
        .andThen(done -> forgetPayment(call.credentials().msn(), call.api(), call.reference()));
  }

  private static RefundOutcome refuseBeforeSending(RefundCall call) {
    if (call.reference() == null || call.amount() == null || call.api() == null) {
      return invalid("a refund needs an API flavour, a reference and an amount");
    }
    StoreCredentials c = call.credentials();
    String key = call.idempotencyKey();
    if (!MSN.matcher(c.msn()).matches()) {
      return invalid("the store's MSN must be 4-7 digits");
    }
    int keyMax = call.api() == VippsApi.ECOM ? ECOM_KEY_MAX : EPAYMENT_KEY_MAX;
    if (key == null || key.length() > keyMax || !KEY.matcher(key).matches()) {
      return invalid(
          "the idempotency key must be 1-" + keyMax + " visible ASCII characters for this API");
    }
    Money amount = call.amount();
    if (call.api() == VippsApi.ECOM) {
      if (!ECOM_BODY_MSN.matcher(c.msn()).matches()) {
        return invalid(
            "eCom refunds need a 5-6 digit MSN (merchantInfo.merchantSerialNumber); switch this"
                + " store to the ePayment API");
      }
      if (!ECOM_ORDER_ID.matcher(call.reference()).matches()) {
        return invalid("the eCom orderId must be 1-50 characters of a-z, A-Z, 0-9 and '-'");
      }
      if (!"NOK".equals(amount.currency()) || amount.value() < ECOM_MIN_AMOUNT) {
        return invalid("eCom refunds are in NOK and at least 100 øre (1 NOK)");
      }
    } else {
      if (!EPAYMENT_REFERENCE.matcher(call.reference()).matches()) {
        return invalid(
            "the ePayment reference must be 8-50 characters of a-z, A-Z, 0-9 and '-'; a shorter"
                + " eCom orderId must be refunded through the eCom API");
      }
      if (amount.value() < 1 || amount.value() > EPAYMENT_MAX_AMOUNT) {
        return invalid("ePayment refunds must be between 1 and 65000000 minor units");
      }
    }
    return null;
  }

  private static RefundOutcome invalid(String detail) {
    return RefundOutcome.rejected(RejectReason.INVALID_REQUEST, "not sent: " + detail, 0);
  }

  private Spec epaymentRefund(RefundCall call) {
    StoreCredentials c = call.credentials();
    MultiMap headers = apiHeaders(c);
    headers.set(VippsHeaders.IDEMPOTENCY_KEY, call.idempotencyKey());
    headers.set("Content-Type", "application/json");
    Buffer body =
        new JsonObject()
            .put(
                "modificationAmount",
                new JsonObject()
                    .put("currency", call.amount().currency())
                    .put("value", call.amount().value()))
            .toBuffer();
    return new Spec(
        Operation.REFUND,
        VippsApi.EPAYMENT,
        c,
        HttpMethod.POST,
        "/epayment/v1/payments/" + call.reference() + "/refund",
        headers,
        body,
        true);
  }

  private Spec ecomRefund(RefundCall call) {
    StoreCredentials c = call.credentials();
    MultiMap headers = apiHeaders(c);
    headers.set(VippsHeaders.REQUEST_ID, call.idempotencyKey());
    headers.set("Content-Type", "application/json;charset=UTF-8");
    Buffer body =
        new JsonObject()
            .put("merchantInfo", new JsonObject().put("merchantSerialNumber", c.msn()))
            .put(
                "transaction",
                new JsonObject()
                    .put("amount", call.amount().value())
                    .put("transactionText", transactionText(call)))
            .toBuffer();
    return new Spec(
        Operation.REFUND,
        VippsApi.ECOM,
        c,
        HttpMethod.POST,
        "/ecomm/v2/payments/" + call.reference() + "/refund",
        headers,
        body,
        true);
  }

  /** The eCom text: the caller's, else a default; at most 100 characters, the same every retry. */
  private static String transactionText(RefundCall call) {
    String text = call.text();
    if (text == null || text.isBlank()) {
      text = "Refund for order " + call.reference();
    }
    text = text.strip();
    if (text.codePointCount(0, text.length()) > ECOM_TEXT_MAX) {
      text = text.substring(0, text.offsetByCodePoints(0, ECOM_TEXT_MAX));
    }
    return text;
  }

  private static RefundOutcome refundOutcome(Result result) {
    if (result.tokenFailure() != null) {
      TokenUnavailableException t = result.tokenFailure();
      return t.rejected()
          ? RefundOutcome.rejected(
              RejectReason.BAD_CREDENTIALS,
              "not sent: Vipps refused the store's keys when asked for an access token (HTTP "
                  + t.status()
                  + ")",
              t.status())
          : RefundOutcome.unknown(
              "not sent: no access token could be had from Vipps (" + t.getMessage() + ")", 0);
    }
    if (result.failure() != null) {
      return RefundOutcome.unknown(
          "no answer from Vipps after "
              + result.attempts()
              + " attempt(s): "
              + describe(result.failure()),
          0);
    }
    int status = result.status();
    if (result.ok()) {
      return isJsonObject(result.response().body())
          ? RefundOutcome.applied(status)
          : RefundOutcome.unknown(
              "Vipps answered HTTP " + status + " with an unreadable body", status);
    }
    Verdict verdict = result.verdict();
    return switch (verdict.meaning()) {
      case TRANSIENT ->
          RefundOutcome.unknown(
              verdict.detail() + " after " + result.attempts() + " attempt(s)", status);
      case AMBIGUOUS -> RefundOutcome.unknown(verdict.detail(), status);
      case UNAUTHORIZED ->
          RefundOutcome.rejected(
              RejectReason.BAD_CREDENTIALS,
              "Vipps refused a fresh access token for this sales unit (HTTP 401)",
              status);
      case REJECTED ->
          result.earlierAmbiguous() && MAYBE_OUR_OWN_ECHO.contains(verdict.reason())
              ? RefundOutcome.unknown(
                  verdict.detail() + "; an earlier attempt may have been applied", status)
              : RefundOutcome.rejected(verdict.reason(), verdict.detail(), status);
    };
  }

  private RefundOutcome report(RefundCall call, RefundOutcome outcome, int attempts) {
    metrics.refundOutcome(call.api(), outcome);
    var event =
        outcome.kind() == Kind.UNKNOWN
            ? LOG.atWarn()
            : outcome.kind() == Kind.REJECTED ? LOG.atInfo() : LOG.atDebug();
    event
        .setMessage("vipps refund " + outcome.kind().name().toLowerCase(java.util.Locale.ROOT))
        .addKeyValue("msn", call.credentials().msn())
        .addKeyValue("api", call.api() == null ? "none" : call.api().wireName())
        .addKeyValue("reference", call.reference())
        .addKeyValue("attempts", attempts)
        .addKeyValue("status", outcome.httpStatus())
        .addKeyValue("reason", outcome.reason())
        .addKeyValue("detail", outcome.detail())
        .log();
    return outcome;
  }

  // ------------------------------------------------------------------------------ reading

  @Override
  public Future<PaymentSnapshot> payment(
      StoreCredentials credentials, VippsApi api, String reference) {
    ProblemException bad = badReference(credentials, api, reference);
    if (bad != null) {
      return Future.failedFuture(bad);
    }
    Duration ttl = config.paymentCacheTtl();
    if (ttl.isZero() || ttl.isNegative()) {
      return fetchPayment(credentials, api, reference);
    }
    PaymentKey key = new PaymentKey(credentials.msn(), api, reference);
    Instant now = clock.instant();
    Promise<PaymentSnapshot> promise = Promise.promise();
    CachedPayment fresh = new CachedPayment(promise.future(), now.plus(ttl));
    CachedPayment current =
        payments.compute(
            key,
            (k, old) ->
                old != null && !old.snapshot().failed() && now.isBefore(old.expiresAt())
                    ? old
                    : fresh);
    if (current == fresh) {
      if (payments.size() > 10_000) {
        payments.values().removeIf(p -> !now.isBefore(p.expiresAt()));
      }
      fetchPayment(credentials, api, reference)
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  payments.remove(key, fresh);
                  promise.fail(ar.cause());
                } else {
                  promise.complete(ar.result());
                }
              });
    }
    return onCallerContext(current.snapshot());
  }

  /**
   * A shared future (one token fetch, one payment read) completes on the thread of whichever call
   * started it; this brings the continuation back to the caller's own context, so a verticle's
   * handlers keep running on its event loop.
   */
  private static <T> Future<T> onCallerContext(Future<T> shared) {
    Context context = Vertx.currentContext();
    if (context == null || shared.isComplete()) {
      return shared;
    }
    Promise<T> local = Promise.promise();
    shared.onComplete(
        done ->
            context.runOnContext(
                ignored -> {
                  if (done.succeeded()) {
                    local.complete(done.result());
                  } else {
                    local.fail(done.cause());
                  }
                }));
    return local.future();
  }

  private void forgetPayment(String msn, VippsApi api, String reference) {
    payments.remove(new PaymentKey(msn, api, reference));
  }

  private Future<PaymentSnapshot> fetchPayment(
      StoreCredentials credentials, VippsApi api, String reference) {
    Spec spec =
        api == VippsApi.ECOM
            ? readSpec(
                Operation.DETAILS, api, credentials, "/ecomm/v2/payments/" + reference + "/details")
            : readSpec(
                Operation.GET_PAYMENT, api, credentials, "/epayment/v1/payments/" + reference);
    return read(
        spec,
        credentials,
        reference,
        body ->
            api == VippsApi.ECOM
                ? ecomSnapshot(reference, body)
                : epaymentSnapshot(reference, body));
  }

  /**
   * Runs a read and parses its 2xx body.
   *
   * @return fails with {@link #readProblem} for error answers, 502 {@code VIPPS_BAD_RESPONSE} when
   *     the body cannot be parsed
   */
  private <T> Future<T> read(
      Spec spec, StoreCredentials credentials, String reference, Function<Buffer, T> parser) {
    return execute(spec)
        .compose(
            result -> {
              if (!result.ok()) {
                return Future.failedFuture(readProblem(result, credentials, reference));
              }
              try {
                return Future.succeededFuture(parser.apply(result.response().body()));
              } catch (RuntimeException e) {
                return Future.failedFuture(unreadable(result));
              }
            });
  }

  private static PaymentSnapshot epaymentSnapshot(String reference, Buffer body) {
    JsonObject aggregate = new JsonObject(body).getJsonObject("aggregate");
    return new PaymentSnapshot(
        reference,
        Money.fromJson(aggregate.getJsonObject("capturedAmount")),
        Money.fromJson(aggregate.getJsonObject("refundedAmount")),
        null);
  }

  private static PaymentSnapshot ecomSnapshot(String reference, Buffer body) {
    JsonObject details = new JsonObject(body);
    JsonObject summary = details.getJsonObject("transactionSummary");
    long captured = summary == null ? 0 : summary.getLong("capturedAmount");
    long refunded = summary == null ? 0 : summary.getLong("refundedAmount");
    Instant capturedAt = null;
    JsonArray log = details.getJsonArray("transactionLogHistory", new JsonArray());
    // The log is newest first: the last successful capture in it is the first one made.
    for (int i = 0; i < log.size(); i++) {
      JsonObject entry = log.getJsonObject(i);
      String op = entry.getString("operation", "");
      if ((op.equals("CAPTURE") || op.equals("SALE"))
          && Boolean.TRUE.equals(entry.getBoolean("operationSuccess"))) {
        Instant at = timestamp(entry.getString("timeStamp"));
        capturedAt = at != null ? at : capturedAt;
      }
    }
    return new PaymentSnapshot(
        reference, new Money(captured, "NOK"), new Money(refunded, "NOK"), capturedAt);
  }

  /** eCom timestamps are ISO-8601, sometimes without an offset (Vipps servers use UTC). */
  private static Instant timestamp(String text) {
    if (text == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException again) {
        return null;
      }
    }
  }

  @Override
  public Future<RefundLookup> lookupRefund(
      StoreCredentials credentials, VippsApi api, String reference, String idempotencyKey) {
    ProblemException bad = badReference(credentials, api, reference);
    if (bad != null) {
      return Future.failedFuture(bad);
    }
    Spec spec =
        api == VippsApi.ECOM
            ? readSpec(
                Operation.DETAILS, api, credentials, "/ecomm/v2/payments/" + reference + "/details")
            : readSpec(
                Operation.EVENT_LOG,
                api,
                credentials,
                "/epayment/v1/payments/" + reference + "/events");
    return read(
        spec,
        credentials,
        reference,
        body ->
            (api == VippsApi.ECOM
                    ? ecomRefundLogged(body, idempotencyKey)
                    : epaymentRefundLogged(body, idempotencyKey))
                ? RefundLookup.APPLIED
                : RefundLookup.NOT_APPLIED);
  }

  private static boolean epaymentRefundLogged(Buffer body, String key) {
    return logged(new JsonArray(body), "name", "REFUNDED", "success", "idempotencyKey", key);
  }

  private static boolean ecomRefundLogged(Buffer body, String key) {
    JsonArray log = new JsonObject(body).getJsonArray("transactionLogHistory", new JsonArray());
    return logged(log, "operation", "REFUND", "operationSuccess", "requestId", key);
  }

  /** Whether {@code entries} hold a successful {@code kind} entry with our idempotency key. */
  private static boolean logged(
      JsonArray entries,
      String kindField,
      String kind,
      String okField,
      String keyField,
      String key) {
    for (int i = 0; i < entries.size(); i++) {
      JsonObject entry = entries.getJsonObject(i);
      if (kind.equals(entry.getString(kindField))
          && Boolean.TRUE.equals(entry.getBoolean(okField))
          && key.equals(entry.getString(keyField))) {
        return true;
      }
    }
    return false;
  }

  private static ProblemException badReference(
      StoreCredentials credentials, VippsApi api, String reference) {
    Pattern pattern = api == VippsApi.ECOM ? ECOM_ORDER_ID : EPAYMENT_REFERENCE;
    if (reference == null || !pattern.matcher(reference).matches()) {
      return ProblemException.notFound(
          "ORDER_NOT_FOUND",
          "Vipps cannot know this reference: the "
              + api.wireName()
              + " API only accepts "
              + (api == VippsApi.ECOM ? "1-50" : "8-50")
              + " characters of a-z, A-Z, 0-9 and '-'");
    }
    if (!MSN.matcher(credentials.msn()).matches()) {
      return badGateway("VIPPS_CREDENTIALS_REJECTED", "the store's MSN must be 4-7 digits");
    }
    return null;
  }

  private static ProblemException readProblem(
      Result result, StoreCredentials credentials, String reference) {
    if (result.tokenFailure() != null) {
      return result.tokenFailure().rejected()
          ? credentialsRejected(credentials)
          : unavailable("no access token could be had from Vipps");
    }
    if (result.failure() != null) {
      return unavailable("no answer from Vipps: " + describe(result.failure()));
    }
    Verdict verdict = result.verdict();
    if (verdict.meaning() == Meaning.TRANSIENT) {
      return unavailable(verdict.detail());
    }
    if (verdict.meaning() == Meaning.UNAUTHORIZED
        || verdict.reason() == RejectReason.BAD_CREDENTIALS) {
      return credentialsRejected(credentials);
    }
    if (verdict.reason() == RejectReason.REFERENCE_NOT_FOUND) {
      return ProblemException.notFound(
          "ORDER_NOT_FOUND",
          "Vipps does not know reference "
              + reference
              + " for MSN "
              + credentials.msn()
              + " (check the origin store)");
    }
    return badGateway("VIPPS_ERROR", verdict.detail());
  }

  private static ProblemException credentialsRejected(StoreCredentials credentials) {
    return badGateway(
        "VIPPS_CREDENTIALS_REJECTED",
        "Vipps refused the stored API keys of MSN "
            + credentials.msn()
            + " (version "
            + credentials.version()
            + "); an admin must rotate them");
  }

  private static ProblemException unreadable(Result result) {
    return badGateway(
        "VIPPS_BAD_RESPONSE",
        "Vipps answered HTTP " + result.status() + " with an unreadable body");
  }

  private static ProblemException unavailable(String detail) {
    return ProblemException.unavailable(
        "VIPPS_UNAVAILABLE", "Vipps cannot be asked now: " + detail);
  }

  private static ProblemException badGateway(String code, String detail) {
    return new ProblemException(502, code, "Bad gateway", detail);
  }

  private Spec readSpec(Operation op, VippsApi api, StoreCredentials credentials, String path) {
    return new Spec(
        op, api, credentials, HttpMethod.GET, path, apiHeaders(credentials), null, true);
  }

  // ----------------------------------------------------------------------------- tokens

  @Override
  public Future<Void> verifyCredentials(StoreCredentials credentials) {
    if (!MSN.matcher(credentials.msn()).matches()) {
      return Future.failedFuture(
          ProblemException.unprocessable("CREDENTIALS_REJECTED", "the MSN must be 4-7 digits"));
    }
    return fetchToken(credentials)
        .<Void>mapEmpty()
        .recover(
            failure -> {
              if (failure instanceof TokenUnavailableException t && t.rejected()) {
                return Future.failedFuture(
                    ProblemException.unprocessable(
                        "CREDENTIALS_REJECTED",
                        "Vipps refused these keys for MSN "
                            + credentials.msn()
                            + " (HTTP "
                            + t.status()
                            + "): check client_id, client_secret and the subscription key"));
              }
              return Future.failedFuture(
                  unavailable("the keys could not be checked: " + failure.getMessage()));
            });
  }

  @Override
  public void forgetToken(String msn) {
    if (tokens.forget(msn)) {
      metrics.tokenDropped("rotation");
    }
  }

  /** Fetches a new token for {@code credentials} (bypassing the cache). */
  private Future<AccessToken> fetchToken(StoreCredentials c) {
    MultiMap headers = systemHeaders();
    headers.set(VippsHeaders.CLIENT_ID, c.clientId());
    headers.set(VippsHeaders.CLIENT_SECRET, c.clientSecret().reveal());
    headers.set(VippsHeaders.SUBSCRIPTION_KEY, c.subscriptionKey().reveal());
    headers.set(VippsHeaders.MSN, c.msn());
    Spec spec =
        new Spec(
            Operation.TOKEN, null, c, HttpMethod.POST, "/accesstoken/get", headers, null, false);
    Instant asked = clock.instant();
    return execute(spec)
        .compose(
            result -> {
              if (result.ok()) {
                AccessToken token = parseToken(result.response().body(), asked);
                if (token != null) {
                  metrics.tokenFetch("ok");
                  return Future.succeededFuture(token);
                }
                metrics.tokenFetch("unavailable");
                return Future.failedFuture(
                    new TokenUnavailableException(
                        false, result.status(), "unreadable access-token response"));
              }
              if (result.failure() != null) {
                metrics.tokenFetch("unavailable");
                return Future.failedFuture(
                    new TokenUnavailableException(false, 0, describe(result.failure())));
              }
              int status = result.status();
              boolean rejected = status == 400 || status == 401 || status == 403;
              metrics.tokenFetch(rejected ? "rejected" : "unavailable");
              return Future.failedFuture(
                  new TokenUnavailableException(
                      rejected, status, "access-token endpoint answered HTTP " + status));
            });
  }

  /** Reads the token response (all fields are strings in the spec; numbers are tolerated). */
  private AccessToken parseToken(Buffer body, Instant asked) {
    if (!(VippsErrors.parse(body) instanceof JsonObject json)) {
      return null;
    }
    if (!(json.getValue("access_token") instanceof String value) || value.isBlank()) {
      return null;
    }
    Object type = json.getValue("token_type");
    if (type != null && !"bearer".equalsIgnoreCase(String.valueOf(type))) {
      return null;
    }
    long lifetime = seconds(json.getValue("expires_in"));
    if (lifetime <= 0) {
      long expiresOn = seconds(json.getValue("expires_on"));
      lifetime = expiresOn > 0 ? expiresOn - asked.getEpochSecond() : -1;
    }
    if (lifetime <= 0) {
      return null;
    }
    Duration life = Duration.ofSeconds(lifetime);
    Duration margin = config.tokenRefreshMargin();
    if (margin.compareTo(life.dividedBy(2)) > 0) {
      margin = life.dividedBy(2);
    }
    Instant expiresAt = asked.plus(life);
    return new AccessToken(Secret.of(value), expiresAt, expiresAt.minus(margin));
  }

  private static long seconds(Object value) {
    if (value instanceof Number n) {
      return n.longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }

  // ----------------------------------------------------------------------------- transport

  private MultiMap systemHeaders() {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    headers.set(VippsHeaders.SYSTEM_NAME, config.systemName());
    headers.set(VippsHeaders.SYSTEM_VERSION, config.systemVersion());
    headers.set(VippsHeaders.PLUGIN_NAME, config.pluginName());
    headers.set(VippsHeaders.PLUGIN_VERSION, config.pluginVersion());
    return headers;
  }

  private MultiMap apiHeaders(StoreCredentials c) {
    MultiMap headers = systemHeaders();
    headers.set(VippsHeaders.SUBSCRIPTION_KEY, c.subscriptionKey().reveal());
    headers.set(VippsHeaders.MSN, c.msn());
    return headers;
  }

  private Future<Result> execute(Spec spec) {
    return attempt(spec, 1, false, false);
  }

  private Future<Result> attempt(Spec spec, int attempt, boolean reauthorized, boolean ambiguous) {
    Future<AccessToken> token =
        spec.bearer()
            ? onCallerContext(tokens.get(spec.credentials()))
            : Future.succeededFuture(null);
    return token.transform(
        tokenResult -> {
          if (tokenResult.failed()) {
            TokenUnavailableException failure =
                tokenResult.cause() instanceof TokenUnavailableException t
                    ? t
                    : new TokenUnavailableException(false, 0, "access token unavailable");
            return Future.succeededFuture(
                new Result(null, null, null, failure, attempt, ambiguous));
          }
          AccessToken accessToken = tokenResult.result();
          return send(spec, accessToken)
              .transform(
                  sent -> {
                    if (sent.failed()) {
                      boolean mayHaveArrived = !isConnectFailure(sent.cause());
                      if (attempt < config.maxAttempts()) {
                        return retry(spec, attempt, reauthorized, ambiguous || mayHaveArrived);
                      }
                      return Future.succeededFuture(
                          new Result(null, null, sent.cause(), null, attempt, ambiguous));
                    }
                    HttpResponse<Buffer> response = sent.result();
                    if (response.statusCode() / 100 == 2) {
                      return Future.succeededFuture(
                          new Result(response, null, null, null, attempt, ambiguous));
                    }
                    Verdict verdict =
                        VippsErrors.classify(spec.api(), response.statusCode(), response.body());
                    if (verdict.meaning() == Meaning.UNAUTHORIZED
                        && spec.bearer()
                        && !reauthorized) {
                      tokens.invalidate(spec.credentials(), accessToken);
                      metrics.tokenDropped("unauthorized");
                      // A refused token is not a retry: the gateway stopped the request.
                      return attempt(spec, attempt, true, ambiguous);
                    }
                    if (verdict.meaning() == Meaning.TRANSIENT && attempt < config.maxAttempts()) {
                      return retry(
                          spec, attempt, reauthorized, ambiguous || response.statusCode() >= 500);
                    }
                    return Future.succeededFuture(
                        new Result(response, verdict, null, null, attempt, ambiguous));
                  });
        });
  }

  private Future<Result> retry(Spec spec, int attempt, boolean reauthorized, boolean ambiguous) {
    metrics.retry(spec.op().tag, spec.api());
    return vertx
        .timer(backoffMillis(attempt), TimeUnit.MILLISECONDS)
        .compose(fired -> attempt(spec, attempt + 1, reauthorized, ambiguous));
  }

  /** Exponential backoff with "equal jitter": half fixed, half random; at least 1 ms. */
  private long backoffMillis(int attempt) {
    long base = config.retryBackoff().toMillis();
    long exponential = Math.min(MAX_BACKOFF_MS, base << Math.min(attempt - 1, 20));
    long half = exponential / 2;
    long jitter = half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0;
    return Math.max(1, half + jitter);
  }

  private Future<HttpResponse<Buffer>> send(Spec spec, AccessToken token) {
    HttpRequest<Buffer> request =
        http.requestAbs(spec.method(), baseUrl + spec.path())
            .connectTimeout(config.connectTimeout().toMillis())
            .idleTimeout(config.readTimeout().toMillis())
            .putHeaders(spec.headers());
    if (token != null) {
      request.putHeader(VippsHeaders.AUTHORIZATION, "Bearer " + token.value().reveal());
    }
    boolean trace = config.traceHttp() && LOG.isTraceEnabled();
    if (trace) {
      LOG.trace(
          "vipps http > {} {} [{}] {}",
          spec.method(),
          spec.path(),
          VippsHeaders.describe(request.headers()),
          VippsHeaders.describeBody(spec.body(), false));
    }
    long started = System.nanoTime();
    Future<HttpResponse<Buffer>> response =
        spec.body() == null ? request.send() : request.sendBuffer(spec.body());
    return response.andThen(
        done -> {
          Duration took = Duration.ofNanos(System.nanoTime() - started);
          String result =
              done.succeeded()
                  ? (done.result().statusCode() / 100) + "xx"
                  : isTimeout(done.cause()) ? "timeout" : "connection_error";
          metrics.exchange(spec.op().tag, spec.api(), result, took);
          if (trace) {
            if (done.succeeded()) {
              LOG.trace(
                  "vipps http < {} {} {} in {} ms [{}] {}",
                  done.result().statusCode(),
                  spec.method(),
                  spec.path(),
                  took.toMillis(),
                  VippsHeaders.describe(done.result().headers()),
                  VippsHeaders.describeBody(done.result().body(), spec.op() == Operation.TOKEN));
            } else {
              LOG.trace(
                  "vipps http < no answer {} {} in {} ms: {}",
                  spec.method(),
                  spec.path(),
                  took.toMillis(),
                  describe(done.cause()));
            }
          }
        });
  }

  /** Connection refused or never obtained: the request cannot have reached Vipps. */
  private static boolean isConnectFailure(Throwable failure) {
    if (failure instanceof ConnectException) {
      return true;
    }
    String message = failure.getMessage();
    return isTimeout(failure) && message != null && message.contains("getting a connection");
  }

  private static boolean isTimeout(Throwable failure) {
    return failure instanceof TimeoutException
        || failure.getClass().getSimpleName().contains("Timeout");
  }

  /** A short, secret-free description of a transport failure. */
  private static String describe(Throwable failure) {
    if (isTimeout(failure)) {
      return "timed out";
    }
    if (failure instanceof ConnectException) {
      return "connection refused";
    }
    if (failure instanceof HttpClosedException) {
      return "connection closed without an answer";
    }
    return "connection error (" + failure.getClass().getSimpleName() + ")";
  }

  private static boolean isJsonObject(Buffer body) {
    return VippsErrors.parse(body) instanceof JsonObject;
  }

  /** Closes the HTTP client (in-flight calls fail). */
  public void close() {
    http.close();
  }
}

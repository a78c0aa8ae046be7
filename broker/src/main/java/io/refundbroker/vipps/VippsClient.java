package io.refundbroker.vipps;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsKeys;
import io.refundbroker.vipps.RefundOutcome.Kind;
import io.refundbroker.vipps.RefundOutcome.RejectReason;
import io.refundbroker.vipps.VippsTransport.Exchange;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Clock;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link VippsGateway} over HTTP, for production Vipps and the built-in sandbox alike. It puts the
 * parts together: the {@link Flavour} of the call's API builds the request and reads the answer,
 * {@link VippsTransport} makes it (attempts, backoff, metrics, tracing), {@link AccessTokens}
 * supplies the key set's token, {@link PaymentCache} keeps payment reads, {@link VippsOutcomes}
 * says what a refund's exchange means.
 *
 * <ul>
 *   <li><b>Outcomes</b>: see {@link VippsOutcomes}. Reads fail with a typed {@link VippsFailure}.
 *   <li><b>Refused before sending</b> ({@code REJECTED INVALID_REQUEST}, HTTP status 0): requests
 *       Vipps's specs do not allow — an MSN that is not 4-7 digits, an idempotency key longer than
 *       the API allows (50 ePayment, 40 eCom), and each flavour's own rules ({@link
 *       Flavour#refusal}).
 *   <li><b>Secrets</b>: keys and tokens are only put into request headers.
 * </ul>
 *
 * <p>Thread-safety: one client serves every verticle; its shared state is in {@link AccessTokens}
 * and {@link PaymentCache}, each thread-safe on its own.
 */
public final class VippsClient implements VippsGateway {
  private static final Logger LOG = LoggerFactory.getLogger(VippsClient.class);

  private static final Pattern MSN = Pattern.compile("[0-9]{4,7}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7E]+");

  private final VippsTransport transport;
  private final AccessTokens tokens;
  private final PaymentCache payments;
  private final VippsMetrics metrics;

  /**
   * Creates the client; it opens no connection until the first call.
   *
   * @param vertx the Vert.x instance whose timers and HTTP client are used
   * @param config {@code VIPPS_*} settings (base URL, timeouts, retries, token margin, headers)
   * @param registry where the {@code vipps.*} meters go
   * @param clock decides token and payment-cache expiry
   */
  public VippsClient(Vertx vertx, VippsConfig config, MeterRegistry registry, Clock clock) {
    this.metrics = new VippsMetrics(registry);
    this.transport = new VippsTransport(vertx, config, metrics);
    this.tokens = new AccessTokens(transport, config, metrics, clock);
    this.payments = new PaymentCache(config.paymentCacheTtl(), clock);
  }

  // ---------------------------------------------------------------------------------- refunds

  @Override
  public Future<RefundOutcome> refund(RefundCall call) {
    RefundOutcome refused = refuseBeforeSending(call);
    if (refused != null) {
      return Future.succeededFuture(report(call, refused, 0));
    }
    KeysInUse keys = call.keys();
    Request request = Flavour.of(keys.api()).refund(call, apiHeaders(keys));
    payments.forget(keys.msn(), keys.api(), call.reference());
    return transport
        .execute(request, tokens.bearerFor(keys.keys()), call.retryOnlyUnsent())
        .map(exchange -> report(call, VippsOutcomes.refund(exchange), exchange.attempts()))
        .otherwise(
            failure -> {
              LOG.error("unexpected failure while calling Vipps for a refund", failure);
              return report(
                  call, RefundOutcome.unknown("internal error while calling Vipps", 0), 0);
            })
        .andThen(done -> payments.forget(keys.msn(), keys.api(), call.reference()));
  }

  private static RefundOutcome refuseBeforeSending(RefundCall call) {
    if (call.reference() == null || call.amount() == null || call.api() == null) {
      return invalid("a refund needs an API flavour, a reference and an amount");
    }
    if (!MSN.matcher(call.keys().msn()).matches()) {
      return invalid("the store's MSN must be 4-7 digits");
    }
    Flavour flavour = Flavour.of(call.api());
    String key = call.idempotencyKey();
    int keyMax = flavour.idempotencyKeyMax();
    if (key == null || key.length() > keyMax || !KEY.matcher(key).matches()) {
      return invalid(
          "the idempotency key must be 1-" + keyMax + " visible ASCII characters for this API");
    }
    String refusal = flavour.refusal(call);
    return refusal == null ? null : invalid(refusal);
  }

  private static RefundOutcome invalid(String detail) {
    return RefundOutcome.rejected(RejectReason.INVALID_REQUEST, "not sent: " + detail, 0);
  }

  private RefundOutcome report(RefundCall call, RefundOutcome outcome, int attempts) {
    metrics.refundOutcome(call.api(), outcome);
    var event =
        outcome.kind() == Kind.UNKNOWN
            ? LOG.atWarn()
            : outcome.kind() == Kind.REJECTED ? LOG.atInfo() : LOG.atDebug();
    event
        .setMessage("vipps refund " + outcome.kind().name().toLowerCase(Locale.ROOT))
        .addKeyValue("msn", call.keys().msn())
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
  public Future<PaymentSnapshot> payment(KeysInUse keys, String reference) {
    Flavour flavour = Flavour.of(keys.api());
    VippsFailure bad = badReference(keys, flavour, reference);
    if (bad != null) {
      return Future.failedFuture(bad);
    }
    return payments.get(
        keys.msn(),
        keys.api(),
        reference,
        () ->
            read(
                flavour.paymentRead(reference, apiHeaders(keys)),
                keys,
                body -> flavour.payment(reference, body)));
  }

  @Override
  public Future<RefundLookup> lookupRefund(
      KeysInUse keys, String reference, String idempotencyKey) {
    Flavour flavour = Flavour.of(keys.api());
    VippsFailure bad = badReference(keys, flavour, reference);
    if (bad != null) {
      return Future.failedFuture(bad);
    }
    return read(
        flavour.refundLogRead(reference, apiHeaders(keys)),
        keys,
        body ->
            flavour.refundLogged(body, idempotencyKey)
                ? RefundLookup.APPLIED
                : RefundLookup.NOT_APPLIED);
  }

  /**
   * Makes a read and parses its 2xx body.
   *
   * @return fails with a {@link VippsFailure} ({@link VippsOutcomes#readFailure}; {@code
   *     BAD_RESPONSE} when the body cannot be parsed)
   */
  private <T> Future<T> read(Request request, KeysInUse keys, Function<Buffer, T> parser) {
    return transport
        .execute(request, tokens.bearerFor(keys.keys()))
        .compose(
            exchange -> {
              if (!exchange.ok()) {
                return Future.failedFuture(VippsOutcomes.readFailure(exchange));
              }
              try {
                return Future.succeededFuture(parser.apply(exchange.answer().body()));
              } catch (RuntimeException e) {
                return Future.failedFuture(unreadable(exchange));
              }
            });
  }

  private static VippsFailure unreadable(Exchange exchange) {
    return new VippsFailure(
        VippsFailure.Kind.BAD_RESPONSE,
        exchange.status(),
        "Vipps answered HTTP " + exchange.status() + " with an unreadable body");
  }

  private static VippsFailure badReference(KeysInUse keys, Flavour flavour, String reference) {
    if (reference == null || !flavour.acceptsReference(reference)) {
      return new VippsFailure(
          VippsFailure.Kind.REFERENCE_UNKNOWABLE,
          0,
          "Vipps cannot know this reference: the "
              + flavour.api().wireName()
              + " API only accepts "
              + flavour.referenceLength()
              + " characters of a-z, A-Z, 0-9 and '-'");
    }
    if (!MSN.matcher(keys.msn()).matches()) {
      return new VippsFailure(VippsFailure.Kind.MSN_INVALID, 0, "the MSN must be 4-7 digits");
    }
    return null;
  }

  private MultiMap apiHeaders(KeysInUse keys) {
    MultiMap headers = transport.systemHeaders();
    headers.set(VippsHeaders.SUBSCRIPTION_KEY, keys.keys().subscriptionKey().reveal());
    headers.set(VippsHeaders.MSN, keys.msn());
    return headers;
  }

  // ----------------------------------------------------------------------------- tokens

  @Override
  public Future<Void> verifyCredentials(VippsKeys keys) {
    if (keys.holder().tokenMsn().filter(msn -> !MSN.matcher(msn).matches()).isPresent()) {
      return Future.failedFuture(
          new VippsFailure(VippsFailure.Kind.MSN_INVALID, 0, "the MSN must be 4-7 digits"));
    }
    return tokens
        .fetch(keys)
        .<Void>mapEmpty()
        .recover(failure -> Future.failedFuture(VippsOutcomes.keyCheckFailure(failure)));
  }

  @Override
  public void forgetTokens(KeyHolder holder) {
    tokens.forget(holder);
  }

  @Override
  public void forgetAllTokens() {
    tokens.forgetAll();
  }

  /** Closes the HTTP client (in-flight calls fail). */
  public void close() {
    transport.close();
  }
}

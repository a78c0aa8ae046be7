package io.refundbroker.sandbox;

import io.refundbroker.config.Secret;
import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The sandbox's Vipps: sales units, tokens, payments and refunds with Vipps's rules, answering in
 * Vipps's formats (ePayment {@code application/problem+json}, eCom error arrays, Azure gateway
 * errors for 401/429). All state is guarded by this object's lock.
 *
 * <p>Rules, as the specs and notes describe them:
 *
 * <ul>
 *   <li>A token works only with the subscription key of the store that fetched it, and only for
 *       that store's MSN (another MSN in the header or eCom body is a 401).
 *   <li>A payment is identified by (MSN, reference): another store's keys get "reference not found"
 *       (ePayment 404) / errorCode 35 (eCom 404). eCom cannot touch ePayment payments; ePayment can
 *       refund eCom ones.
 *   <li>Refunds: at most captured − refunded; within 365 days of the reservation (ePayment FAQ) or
 *       of the capture (eCom spec); at most {@code refundCallsPerMinute} refund calls per (MSN,
 *       reference) per minute (429); an idempotency key with the same body replays the stored
 *       answer, with another body it is a conflict (ePayment 409 refund-idempotency-conflict, eCom
 *       400 errorCode 93).
 *   <li>eCom quirks: {@code merchantSerialNumber} sent as a JSON number, or a non-integer amount,
 *       is an HTTP 500 (errorCode 99), as Vipps documents.
 * </ul>
 */
final class SandboxVipps {
  /** Base of the ePayment problem types the sandbox answers with. */
  static final String PROBLEM_BASE =
      "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#";

  private static final String JSON = "application/json";
  private static final String JSON_UTF8 = "application/json;charset=UTF-8";
  private static final String PROBLEM = "application/problem+json";
  private static final Duration REFUND_WINDOW = Duration.ofDays(365);
  private static final Pattern EPAYMENT_REFERENCE = Pattern.compile("[a-zA-Z0-9-]{8,50}");
  private static final Pattern ECOM_ORDER_ID = Pattern.compile("[a-zA-Z0-9-]{1,50}");
  private static final Set<String> CURRENCIES = Set.of("NOK", "DKK", "EUR");

  /** A prepared HTTP answer. */
  record Answer(int status, String contentType, Buffer body) {
    static Answer json(int status, String contentType, Object json) {
      Buffer body =
          json instanceof JsonArray array
              ? array.toBuffer()
              : json instanceof JsonObject object ? object.toBuffer() : Buffer.buffer();
      return new Answer(status, contentType, body);
    }
  }

  private record IssuedToken(
      String msn, String clientId, Secret subscriptionKey, Instant expiresAt) {}

  private record PaymentKey(String msn, String reference) {}

  private record Event(
      String name, long amount, Instant at, String key, String transactionId, String text) {}

  private record Stored(JsonObject request, Answer answer) {}

  private static final class PaymentState {
    private final SandboxPayment seed;
    private final String pspReference;
    private final List<Event> events = new ArrayList<>();
    private final Map<String, Stored> epaymentKeys = new HashMap<>();
    private final Map<String, Stored> ecomKeys = new HashMap<>();
    private long refunded;

    PaymentState(SandboxPayment seed, String pspReference) {
      this.seed = seed;
      this.pspReference = pspReference;
    }

    long captured() {
      return seed.captured().value();
    }

    String currency() {
      return seed.captured().currency();
    }
  }

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, SandboxStore> storesByMsn = new HashMap<>();
  private final Map<String, SandboxStore> storesByClientId = new HashMap<>();
  private final Map<String, IssuedToken> tokens = new HashMap<>();
  private final Map<PaymentKey, PaymentState> payments = new HashMap<>();
  private final Map<PaymentKey, Deque<Instant>> refundCalls = new HashMap<>();
  private final List<LedgerEntry> ledger = new ArrayList<>();
  private Duration tokenLifetime;
  private int refundCallsPerMinute;

  SandboxVipps(Clock clock, Duration tokenLifetime, int refundCallsPerMinute) {
    this.clock = clock;
    this.tokenLifetime = tokenLifetime;
    this.refundCallsPerMinute = refundCallsPerMinute;
  }

  // ------------------------------------------------------------------------- seeding & reading

  synchronized void registerStore(SandboxStore store) {
    SandboxStore previous = storesByMsn.put(store.msn(), store);
    if (previous != null) {
      storesByClientId.remove(previous.clientId());
    }
    SandboxStore sameClient = storesByClientId.put(store.clientId(), store);
    if (sameClient != null && !sameClient.msn().equals(store.msn())) {
      storesByMsn.remove(sameClient.msn());
    }
  }

  synchronized List<SandboxStore> stores() {
    return List.copyOf(storesByMsn.values());
  }

  synchronized PaymentView seedPayment(SandboxPayment payment) {
    PaymentState state = new PaymentState(payment, digits(10));
    state.events.add(
        new Event(
            "CREATED",
            payment.captured().value(),
            payment.createdAt(),
            null,
            digits(10),
            text(payment)));
    state.events.add(
        new Event(
            "AUTHORIZED",
            payment.captured().value(),
            payment.createdAt(),
            null,
            digits(10),
            text(payment)));
    if (payment.captured().value() > 0) {
      state.events.add(
          new Event(
              "CAPTURED",
              payment.captured().value(),
              payment.capturedAt(),
              null,
              digits(10),
              text(payment)));
    }
    payments.put(new PaymentKey(payment.msn(), payment.reference()), state);
    return view(state);
  }

  private static String text(SandboxPayment payment) {
    return "Payment for order " + payment.reference();
  }

  synchronized Optional<PaymentView> payment(String msn, String reference) {
    return Optional.ofNullable(payments.get(new PaymentKey(msn, reference)))
        .map(SandboxVipps::view);
  }

  private static PaymentView view(PaymentState state) {
    SandboxPayment seed = state.seed;
    return new PaymentView(
        seed.msn(),
        seed.reference(),
        seed.api(),
        seed.captured(),
        new Money(state.refunded, state.currency()),
        seed.createdAt(),
        seed.capturedAt());
  }

  synchronized List<LedgerEntry> ledger() {
    return List.copyOf(ledger);
  }

  synchronized List<String> issuedTokens() {
    return List.copyOf(tokens.keySet());
  }

  synchronized void revokeTokens() {
    tokens.clear();
  }

  synchronized void tokenLifetime(Duration lifetime) {
    if (lifetime.getSeconds() < 1) {
      throw new IllegalArgumentException("token lifetime must be at least one second");
    }
    this.tokenLifetime = lifetime;
  }

  synchronized Duration tokenLifetime() {
    return tokenLifetime;
  }

  synchronized void refundCallsPerMinute(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("refund calls per minute must not be negative");
    }
    this.refundCallsPerMinute = limit;
    refundCalls.clear();
  }

  synchronized int refundCallsPerMinute() {
    return refundCallsPerMinute;
  }

  synchronized void reset() {
    storesByMsn.clear();
    storesByClientId.clear();
    tokens.clear();
    payments.clear();
    refundCalls.clear();
    ledger.clear();
  }

  // ------------------------------------------------------------------------------ access token

  synchronized Answer issueToken(MultiMap headers) {
    String clientId = headers.get(VippsHeaders.CLIENT_ID);
    String secret = headers.get(VippsHeaders.CLIENT_SECRET);
    String subscriptionKey = headers.get(VippsHeaders.SUBSCRIPTION_KEY);
    if (clientId == null || secret == null || subscriptionKey == null) {
      return azure(
          400, "client_id, client_secret and Ocp-Apim-Subscription-Key headers are required");
    }
    SandboxStore store = storesByClientId.get(clientId);
    if (store == null
        || !same(store.clientSecret(), secret)
        || !same(store.subscriptionKey(), subscriptionKey)) {
      return azure(401, "Access denied: invalid client_id, client_secret or subscription key");
    }
    String msn = headers.get(VippsHeaders.MSN);
    if (msn != null && !msn.equals(store.msn())) {
      return azure(401, "Access denied: the keys do not belong to Merchant-Serial-Number " + msn);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expires = now.plus(tokenLifetime);
    String token = newToken(store, now, expires);
    tokens.put(
        token, new IssuedToken(store.msn(), store.clientId(), store.subscriptionKey(), expires));
    tokens.values().removeIf(t -> !t.expiresAt().isAfter(now));
    JsonObject body =
        new JsonObject()
            .put("token_type", "Bearer")
            .put("expires_in", String.valueOf(tokenLifetime.getSeconds()))
            .put("ext_expires_in", "0")
            .put("expires_on", String.valueOf(expires.getEpochSecond()))
            .put("not_before", String.valueOf(now.getEpochSecond()))
            .put("resource", "00000002-0000-0000-c000-000000000000")
            .put("access_token", token);
    return Answer.json(200, JSON_UTF8, body);
  }

  private String newToken(SandboxStore store, Instant now, Instant expires) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = "{\"typ\":\"JWT\",\"alg\":\"none\",\"kid\":\"refund-broker-sandbox\"}";
    String payload =
        new JsonObject()
            .put("iss", "refund-broker-sandbox")
            .put("msn", store.msn())
            .put("iat", now.getEpochSecond())
            .put("exp", expires.getEpochSecond())
            .put("jti", UUID.randomUUID().toString())
            .encode();
    byte[] signature = new byte[32];
    random.nextBytes(signature);
    return b64.encodeToString(header.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(signature);
  }

  private static boolean same(Secret expected, String given) {
    return MessageDigest.isEqual(
        expected.reveal().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  /** The token's holder, or null when the request is not authorized for {@code msn}. */
  private IssuedToken authorize(MultiMap headers) {
    String authorization = headers.get(VippsHeaders.AUTHORIZATION);
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return null;
    }
    IssuedToken token = tokens.get(authorization.substring("Bearer ".length()).trim());
    if (token == null || !clock.instant().isBefore(token.expiresAt())) {
      return null;
    }
    String subscriptionKey = headers.get(VippsHeaders.SUBSCRIPTION_KEY);
    if (subscriptionKey == null || !same(token.subscriptionKey(), subscriptionKey)) {
      return null;
    }
    String msn = headers.get(VippsHeaders.MSN);
    if (msn != null && !msn.equals(token.msn())) {
      return null;
    }
    return token;
  }

  private static Answer unauthorized() {
    return azure(
        401,
        "Access denied due to invalid or expired access token, subscription key or"
            + " Merchant-Serial-Number");
  }

  // ------------------------------------------------------------------------------- ePayment

  synchronized Answer epaymentRefund(String reference, MultiMap headers, Buffer raw) {
    IssuedToken token = authorize(headers);
    if (token == null) {
      return unauthorized();
    }
    Answer invalid = epaymentCommon(reference, headers);
    if (invalid != null) {
      return invalid;
    }
    String key = headers.get(VippsHeaders.IDEMPOTENCY_KEY);
    if (key == null || key.isBlank()) {
      return problem(
          400,
          "missing-required-parameter",
          "Missing required parameter",
          "The parameter Idempotency-Key is required");
    }
    if (key.length() > 50) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "Idempotency-Key must be at most 50 characters");
    }
    PaymentKey paymentKey = new PaymentKey(token.msn(), reference);
    if (rateLimited(paymentKey)) {
      return tooManyRequests();
    }
    JsonObject body = object(raw);
    JsonObject amount =
        body != null && body.getValue("modificationAmount") instanceof JsonObject a ? a : null;
    if (amount == null) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "The body must be a JSON object with modificationAmount");
    }
    Object rawValue = amount.getValue("value");
    if (!(rawValue instanceof Integer || rawValue instanceof Long)) {
      return problem(
          400,
          "amount-invalid",
          "Amount invalid",
          "The amount is invalid. Amounts must be integers in minor units");
    }
    long value = ((Number) rawValue).longValue();
    String currency = amount.getValue("currency") instanceof String c ? c : null;
    if (currency == null || !CURRENCIES.contains(currency) || value < 0 || value > 65_000_000L) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "modificationAmount needs a currency (NOK, DKK, EUR) and a value of 0-65000000");
    }
    PaymentState state = payments.get(paymentKey);
    if (state == null) {
      return referenceNotFound(reference, token.msn());
    }
    Stored stored = state.epaymentKeys.get(key);
    if (stored != null) {
      return stored.request().equals(body)
          ? stored.answer()
          : problem(
              409,
              "refund-idempotency-conflict",
              "Refund idempotency conflict",
              "The request in an idempotent retry must be identical to the previous request(s)");
    }
    if (!currency.equals(state.currency())) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "The currency must be the payment's currency");
    }
    if (value < 1) {
      return problem(400, "amount-too-small", "Amount too small", "The amount is too small");
    }
    Instant now = clock.instant();
    if (now.isAfter(state.seed.createdAt().plus(REFUND_WINDOW))) {
      return problem(
          400,
          "refund-period-expired",
          "Refund period expired",
          "Payments can only be refunded within 365 days of the reservation");
    }
    if (state.captured() == 0) {
      return problem(
          400,
          "attempted-refund-before-reservation",
          "Attempted refund before reservation",
          "Cannot refund a payment that is not captured");
    }
    if (state.refunded >= state.captured()) {
      return problem(
          400,
          "payment-already-refunded",
          "Payment already refunded",
          "Cannot refund a payment that has already been refunded");
    }
    if (value > state.captured() - state.refunded) {
      return problem(
          400,
          "not-enough-refundable",
          "Not enough refundable",
          "Cannot refund more than the available amount");
    }
    apply(state, VippsApi.EPAYMENT, value, key, token, null, now);
    JsonObject response =
        new JsonObject()
            .put("amount", amount(value, currency))
            .put("state", "AUTHORIZED")
            .put("aggregate", aggregate(state))
            .put("pspReference", state.pspReference)
            .put("reference", reference);
    Answer answer = Answer.json(200, JSON, response);
    state.epaymentKeys.put(key, new Stored(body, answer));
    return answer;
  }

  synchronized Answer epaymentPayment(String reference, MultiMap headers) {
    Found found = epaymentFind(reference, headers);
    if (found.error() != null) {
      return found.error();
    }
    PaymentState state = found.state();
    JsonObject body =
        new JsonObject()
            .put("aggregate", aggregate(state))
            .put("amount", amount(state.captured(), state.currency()))
            .put("state", "AUTHORIZED")
            .put("paymentMethod", new JsonObject().put("type", "WALLET"))
            .put("profile", new JsonObject())
            .put("pspReference", state.pspReference)
            .put("reference", reference);
    return Answer.json(200, JSON, body);
  }

  synchronized Answer epaymentEvents(String reference, MultiMap headers) {
    Found found = epaymentFind(reference, headers);
    if (found.error() != null) {
      return found.error();
    }
    PaymentState state = found.state();
    JsonArray events = new JsonArray();
    for (Event event : state.events) {
      events.add(
          new JsonObject()
              .put("reference", reference)
              .put("pspReference", state.pspReference)
              .put("name", event.name())
              .put("amount", amount(event.amount(), state.currency()))
              .put("timestamp", event.at().toString())
              .put("idempotencyKey", event.key())
              .put("success", true));
    }
    return Answer.json(200, JSON, events);
  }

  /** A payment an ePayment read may see, or the answer that refuses the read. */
  private record Found(PaymentState state, Answer error) {}

  private Found epaymentFind(String reference, MultiMap headers) {
    IssuedToken token = authorize(headers);
    if (token == null) {
      return new Found(null, unauthorized());
    }
    Answer invalid = epaymentCommon(reference, headers);
    if (invalid != null) {
      return new Found(null, invalid);
    }
    PaymentState state = payments.get(new PaymentKey(token.msn(), reference));
    return state == null
        ? new Found(null, referenceNotFound(reference, token.msn()))
        : new Found(state, null);
  }

  /** Checks shared by every ePayment endpoint: the MSN header and the reference's form. */
  private static Answer epaymentCommon(String reference, MultiMap headers) {
    if (headers.get(VippsHeaders.MSN) == null) {
      return problem(
          400,
          "missing-required-parameter",
          "Missing required parameter",
          "The parameter Merchant-Serial-Number is required");
    }
    if (!EPAYMENT_REFERENCE.matcher(reference).matches()) {
      return problem(
          400,
          "validation-error",
          "Validation error",
          "reference must be 8-50 characters of a-z, A-Z, 0-9 and '-'");
    }
    return null;
  }

  private static Answer referenceNotFound(String reference, String msn) {
    return problem(
        404,
        "reference-not-found",
        "Reference not found",
        "The reference " + reference + " does not exist for MSN " + msn);
  }

  private static JsonObject aggregate(PaymentState state) {
    String currency = state.currency();
    return new JsonObject()
        .put("authorizedAmount", amount(state.captured(), currency))
        .put("cancelledAmount", amount(0, currency))
        .put("capturedAmount", amount(state.captured(), currency))
        .put("refundedAmount", amount(state.refunded, currency));
  }

  private static JsonObject amount(long value, String currency) {
    return new JsonObject().put("currency", currency).put("value", value);
  }

  // ----------------------------------------------------------------------------------- eCom

  synchronized Answer ecomRefund(String orderId, MultiMap headers, Buffer raw) {
    IssuedToken token = authorize(headers);
    if (token == null) {
      return unauthorized();
    }
    String requestId = headers.get(VippsHeaders.REQUEST_ID);
    if (requestId == null || requestId.isBlank() || requestId.length() > 40) {
      return ecomError(
          400,
          "InvalidRequest",
          "X-Request-Id",
          "X-Request-Id is required and must be at most 40 characters");
    }
    if (!ECOM_ORDER_ID.matcher(orderId).matches()) {
      return ecomError(
          400,
          "InvalidRequest",
          "orderId",
          "orderId must be 1-50 characters of a-z, A-Z, 0-9 and '-'");
    }
    PaymentKey paymentKey = new PaymentKey(token.msn(), orderId);
    if (rateLimited(paymentKey)) {
      return tooManyRequests();
    }
    JsonObject body = object(raw);
    if (body == null) {
      return ecomError(400, "InvalidRequest", "body", "The body must be a JSON object");
    }
    JsonObject merchantInfo =
        body.getValue("merchantInfo") instanceof JsonObject m ? m : new JsonObject();
    JsonObject transaction =
        body.getValue("transaction") instanceof JsonObject t ? t : new JsonObject();
    Object msn = merchantInfo.getValue("merchantSerialNumber");
    Object rawAmount = transaction.getValue("amount");
    if ((msn != null && !(msn instanceof String))
        || (rawAmount != null && !(rawAmount instanceof Integer || rawAmount instanceof Long))) {
      // Vipps documents these two as unvalidated: they end as internal errors.
      return ecomError(500, "VippsError", "99", "Internal error");
    }
    if (msn == null) {
      return ecomError(
          400,
          "InvalidRequest",
          "merchantSerialNumber",
          "merchantInfo.merchantSerialNumber is required");
    }
    if (!msn.equals(token.msn())) {
      return unauthorized();
    }
    String text = transaction.getValue("transactionText") instanceof String s ? s : null;
    if (text == null || text.isBlank() || text.length() > 100) {
      return ecomError(
          400,
          "InvalidRequest",
          "transactionText",
          "transaction.transactionText is required (at most 100 characters)");
    }
    if (rawAmount == null || ((Number) rawAmount).longValue() < 100) {
      return ecomError(
          400, "InvalidRequest", "amount", "transaction.amount is required and at least 100 øre");
    }
    long value = ((Number) rawAmount).longValue();
    PaymentState state = payments.get(paymentKey);
    if (state == null || state.seed.api() != VippsApi.ECOM) {
      return ecomNotFound(orderId, token.msn());
    }
    Stored stored = state.ecomKeys.get(requestId);
    if (stored != null) {
      return stored.request().equals(body)
          ? stored.answer()
          : ecomError(
              400,
              "Payment",
              "93",
              "The refund request must be identical to the previous request(s) in an idempotent"
                  + " retry");
    }
    Instant now = clock.instant();
    if (now.isAfter(state.seed.capturedAt().plus(REFUND_WINDOW))) {
      return ecomError(400, "Payment", "95", "Refund older than 365 days");
    }
    if (state.captured() == 0) {
      return ecomError(400, "Payment", "72", "Cannot refund a reserved order; cancel it instead");
    }
    if (value > state.captured() - state.refunded) {
      return ecomError(
          400, "Payment", "71", "Cannot refund a higher amount than the captured amount");
    }
    Event event = apply(state, VippsApi.ECOM, value, requestId, token, text, now);
    JsonObject response =
        new JsonObject()
            .put("orderId", orderId)
            .put(
                "transaction",
                new JsonObject()
                    .put("amount", value)
                    .put("transactionText", text)
                    .put("status", "Refund")
                    .put("transactionId", event.transactionId())
                    .put("timeStamp", event.at().toString()))
            .put("transactionSummary", summary(state));
    Answer answer = Answer.json(200, JSON_UTF8, response);
    state.ecomKeys.put(requestId, new Stored(body, answer));
    return answer;
  }

  synchronized Answer ecomDetails(String orderId, MultiMap headers) {
    IssuedToken token = authorize(headers);
    if (token == null) {
      return unauthorized();
    }
    PaymentState state = payments.get(new PaymentKey(token.msn(), orderId));
    if (state == null || state.seed.api() != VippsApi.ECOM) {
      return ecomNotFound(orderId, token.msn());
    }
    JsonArray log = new JsonArray();
    for (int i = state.events.size() - 1; i >= 0; i--) {
      Event event = state.events.get(i);
      JsonObject entry =
          new JsonObject()
              .put("amount", event.amount())
              .put("operation", ecomOperation(event.name()))
              .put("operationSuccess", true)
              .put("timeStamp", event.at().toString())
              .put("transactionId", event.transactionId())
              .put("transactionText", event.text() == null ? "Refund" : event.text());
      if (event.key() != null) {
        entry.put("requestId", event.key());
      }
      log.add(entry);
    }
    JsonObject body =
        new JsonObject()
            .put("orderId", orderId)
            .put("transactionSummary", summary(state))
            .put("transactionLogHistory", log);
    return Answer.json(200, JSON_UTF8, body);
  }

  private static String ecomOperation(String eventName) {
    return switch (eventName) {
      case "CREATED" -> "INITIATE";
      case "AUTHORIZED" -> "RESERVE";
      case "CAPTURED" -> "CAPTURE";
      case "REFUNDED" -> "REFUND";
      default -> eventName;
    };
  }

  private static JsonObject summary(PaymentState state) {
    return new JsonObject()
        .put("capturedAmount", state.captured())
        .put("remainingAmountToCapture", 0)
        .put("refundedAmount", state.refunded)
        .put("remainingAmountToRefund", state.captured() - state.refunded);
  }

  private static Answer ecomNotFound(String orderId, String msn) {
    return ecomError(
        404, "Merchant", "35", "orderId " + orderId + " does not exist for MSN " + msn);
  }

  // ------------------------------------------------------------------------------- shared

  private Event apply(
      PaymentState state,
      VippsApi api,
      long value,
      String key,
      IssuedToken token,
      String text,
      Instant now) {
    state.refunded += value;
    Event event =
        new Event("REFUNDED", value, now, key, digits(10), text == null ? "Refund" : text);
    state.events.add(event);
    ledger.add(
        new LedgerEntry(
            state.seed.msn(),
            state.seed.reference(),
            api,
            new Money(value, state.currency()),
            key,
            token.clientId(),
            token.msn(),
            now));
    return event;
  }

  private boolean rateLimited(PaymentKey key) {
    if (refundCallsPerMinute == 0) {
      return false;
    }
    Instant now = clock.instant();
    Deque<Instant> calls = refundCalls.computeIfAbsent(key, k -> new ArrayDeque<>());
    while (!calls.isEmpty() && !calls.peekFirst().isAfter(now.minusSeconds(60))) {
      calls.pollFirst();
    }
    if (calls.size() >= refundCallsPerMinute) {
      return true;
    }
    calls.addLast(now);
    return false;
  }

  private static Answer tooManyRequests() {
    return azure(429, "Rate limit is exceeded. Try again in 60 seconds.");
  }

  /** The answer a STATUS fault gives, in the format of the endpoint it hits. */
  static Answer faultAnswer(String path, int status) {
    if (status == 429 || path.startsWith("/accesstoken/")) {
      return azure(status, status == 429 ? "Rate limit is exceeded." : "Server error");
    }
    if (path.startsWith("/ecomm/")) {
      return ecomError(status, "VippsError", "99", "Internal error");
    }
    return problem(status, "internal-error", "Internal error", "Internal error (injected fault)");
  }

  static Answer notFound() {
    return azure(404, "Resource not found");
  }

  private static Answer problem(int status, String type, String title, String detail) {
    JsonObject body =
        new JsonObject()
            .put("type", PROBLEM_BASE + type)
            .put("title", title)
            .put("detail", detail)
            .put("status", status)
            .put("traceId", UUID.randomUUID().toString());
    return Answer.json(status, PROBLEM, body);
  }

  private static Answer ecomError(int status, String group, String code, String message) {
    JsonArray body =
        new JsonArray()
            .add(
                new JsonObject()
                    .put("errorGroup", group)
                    .put("errorCode", code)
                    .put("errorMessage", message)
                    .put("contextId", UUID.randomUUID().toString()));
    return Answer.json(status, JSON_UTF8, body);
  }

  private static Answer azure(int status, String message) {
    return Answer.json(
        status, JSON, new JsonObject().put("statusCode", status).put("message", message));
  }

  private static JsonObject object(Buffer raw) {
    if (raw == null || raw.length() == 0) {
      return null;
    }
    try {
      return new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }

  private String digits(int count) {
    StringBuilder out = new StringBuilder(count);
    out.append(1 + random.nextInt(9));
    while (out.length() < count) {
      out.append(random.nextInt(10));
    }
    return out.toString();
  }
}

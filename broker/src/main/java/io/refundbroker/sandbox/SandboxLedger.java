package io.refundbroker.sandbox;

import io.refundbroker.money.Money;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.sandbox.SandboxTokens.IssuedToken;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The sandbox's payments and what was done to them: each payment's events, the answers stored per
 * idempotency key (per API: an ePayment key and an eCom request id never meet), the per-payment
 * refund-call limit, and the ledger of applied refunds. Both API flavours' rules act on it; it
 * holds no flavour rule itself.
 *
 * <p>Thread-safety: none of its own; it is only used under {@link SandboxVipps}'s lock.
 */
final class SandboxLedger {
  /** How long after the reservation (ePayment) / capture (eCom) a payment can be refunded. */
  static final Duration REFUND_WINDOW = Duration.ofDays(365);

  /** One event in a payment's history (its log, in both flavours' formats). */
  record Event(
      String name, long amount, Instant at, String key, String transactionId, String text) {}

  /** An earlier refund request with an idempotency key, and the answer it got. */
  record Stored(JsonObject request, SandboxAnswer answer) {}

  private record PaymentKey(String msn, String reference) {}

  private record StoredKey(VippsApi api, String key) {}

  /** A payment's state. */
  static final class Payment {
    private final SandboxPayment seed;
    private final String pspReference;
    private final List<Event> events = new ArrayList<>();
    private final Map<StoredKey, Stored> stored = new HashMap<>();
    private long refunded;

    private Payment(SandboxPayment seed, String pspReference) {
      this.seed = seed;
      this.pspReference = pspReference;
    }

    SandboxPayment seed() {
      return seed;
    }

    String pspReference() {
      return pspReference;
    }

    List<Event> events() {
      return List.copyOf(events);
    }

    long captured() {
      return seed.captured().value();
    }

    long refunded() {
      return refunded;
    }

    String currency() {
      return seed.captured().currency();
    }

    /** The earlier request with idempotency key {@code key} through {@code api}, or null. */
    Stored stored(VippsApi api, String key) {
      return stored.get(new StoredKey(api, key));
    }

    /** Keeps {@code answer} for replays of {@code request} with {@code key} through {@code api}. */
    void store(VippsApi api, String key, JsonObject request, SandboxAnswer answer) {
      stored.put(new StoredKey(api, key), new Stored(request, answer));
    }
  }

  private final Clock clock;
  private final SecureRandom random;
  private final Map<PaymentKey, Payment> payments = new HashMap<>();
  private final Map<PaymentKey, Deque<Instant>> refundCalls = new HashMap<>();
  private final List<LedgerEntry> ledger = new ArrayList<>();
  private int refundCallsPerMinute;

  SandboxLedger(Clock clock, SecureRandom random, int refundCallsPerMinute) {
    this.clock = clock;
    this.random = random;
    this.refundCallsPerMinute = refundCallsPerMinute;
  }

  PaymentView seed(SandboxPayment payment) {
    Payment state = new Payment(payment, digits(10));
    long amount = payment.captured().value();
    String text = "Payment for order " + payment.reference();
    state.events.add(new Event("CREATED", amount, payment.createdAt(), null, digits(10), text));
    state.events.add(new Event("AUTHORIZED", amount, payment.createdAt(), null, digits(10), text));
    if (amount > 0) {
      state.events.add(new Event("CAPTURED", amount, payment.capturedAt(), null, digits(10), text));
    }
    payments.put(new PaymentKey(payment.msn(), payment.reference()), state);
    return view(state);
  }

  /** The payment {@code reference} of sales unit {@code msn}, or null. */
  Payment find(String msn, String reference) {
    return payments.get(new PaymentKey(msn, reference));
  }

  Optional<PaymentView> view(String msn, String reference) {
    return Optional.ofNullable(find(msn, reference)).map(SandboxLedger::view);
  }

  private static PaymentView view(Payment state) {
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

  /** The sandbox clock's now. */
  Instant now() {
    return clock.instant();
  }

  List<LedgerEntry> entries() {
    return List.copyOf(ledger);
  }

  void refundCallsPerMinute(int limit) {
    if (limit < 0) {
      throw new IllegalArgumentException("refund calls per minute must not be negative");
    }
    this.refundCallsPerMinute = limit;
    refundCalls.clear();
  }

  int refundCallsPerMinute() {
    return refundCallsPerMinute;
  }

  void reset() {
    payments.clear();
    refundCalls.clear();
    ledger.clear();
  }

  /**
   * Counts a refund call on payment {@code reference} of {@code msn}.
   *
   * @return whether it is over the per-minute limit (then it is not counted)
   */
  boolean rateLimited(String msn, String reference) {
    if (refundCallsPerMinute == 0) {
      return false;
    }
    Instant now = clock.instant();
    Deque<Instant> calls =
        refundCalls.computeIfAbsent(new PaymentKey(msn, reference), k -> new ArrayDeque<>());
    while (!calls.isEmpty() && !calls.peekFirst().isAfter(now.minusSeconds(60))) {
      calls.pollFirst();
    }
    if (calls.size() >= refundCallsPerMinute) {
      return true;
    }
    calls.addLast(now);
    return false;
  }

  /** Refunds {@code value} of the payment: its event, its total and a ledger entry. */
  Event apply(
      Payment state,
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
            now,
            token.partnerId()));
    return event;
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

package io.refundbroker.money;

import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.Set;

/**
 * An amount in minor units (øre, cent) of an ISO currency Vipps supports. Never a double.
 *
 * @param value minor units, ≥ 0
 * @param currency {@code NOK}, {@code DKK} or {@code EUR}
 */
public record Money(long value, String currency) {
  public static final Set<String> CURRENCIES = Set.of("NOK", "DKK", "EUR");

  public Money {
    Objects.requireNonNull(currency, "currency");
    if (value < 0) {
      throw new IllegalArgumentException("money must not be negative");
    }
    if (!CURRENCIES.contains(currency)) {
      throw new IllegalArgumentException("unsupported currency " + currency);
    }
  }

  /** Reads {@code {"value": 1000, "currency": "NOK"}} (already schema-validated). */
  public static Money fromJson(JsonObject json) {
    return new Money(json.getLong("value"), json.getString("currency"));
  }

  public JsonObject toJson() {
    return new JsonObject().put("value", value).put("currency", currency);
  }

  public Money plus(Money other) {
    requireSameCurrency(other);
    return new Money(Math.addExact(value, other.value), currency);
  }

  public Money minus(Money other) {
    requireSameCurrency(other);
    return new Money(Math.max(0, value - other.value), currency);
  }

  public boolean exceeds(Money other) {
    requireSameCurrency(other);
    return value > other.value;
  }

  private void requireSameCurrency(Money other) {
    if (!currency.equals(other.currency)) {
      throw new IllegalArgumentException(
          "currency mismatch: " + currency + " vs " + other.currency);
    }
  }

  @Override
  public String toString() {
    return String.format("%s %d.%02d", currency, value / 100, value % 100);
  }
}

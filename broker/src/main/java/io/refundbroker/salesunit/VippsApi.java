package io.refundbroker.salesunit;

import java.util.Locale;

/** Which Vipps MobilePay API a store's payments are refunded through. */
public enum VippsApi {
  /** ePayment API v1 ({@code /epayment/v1/…}, {@code Idempotency-Key}); the default. */
  EPAYMENT,
  /** eCom API v2 ({@code /ecomm/v2/…}, {@code X-Request-Id}); Vipps only, legacy integrations. */
  ECOM;

  /** The wire name used in the broker's API and database ({@code epayment}, {@code ecom}). */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static VippsApi fromWireName(String name) {
    return valueOf(name.toUpperCase(Locale.ROOT));
  }
}

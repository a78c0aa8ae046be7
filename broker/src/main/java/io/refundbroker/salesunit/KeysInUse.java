package io.refundbroker.salesunit;

import java.util.Objects;

/**
 * The key set a Vipps call uses: which sales unit it acts for (sent as {@code
 * Merchant-Serial-Number}), through which API flavour, authenticated with which keys. With a sales
 * unit's own keys the MSN is the keys' own; with a partner's keys (option A) it is the origin
 * store's MSN while the keys, and so the token, are the partner's.
 *
 * @param msn the sales unit the call acts for
 * @param api the API flavour its payments are refunded through
 * @param keys the keys that authenticate the call
 */
public record KeysInUse(String msn, VippsApi api, VippsKeys keys) {

  public KeysInUse {
    Objects.requireNonNull(msn, "msn");
    Objects.requireNonNull(keys, "keys");
  }

  @Override
  public String toString() {
    return "KeysInUse[msn=" + msn + ", api=" + api + ", keys=" + keys + "]";
  }
}

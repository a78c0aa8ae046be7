package io.refundbroker.salesunit;

import java.util.Objects;
import java.util.Optional;

/**
 * Whose Vipps API keys a key set is. Today only a sales unit's own keys; a partner's keys (option
 * A, one token for many MSNs) become another kind of holder here, not new branches in the Vipps
 * client. A holder is part of a key set's identity, so the access-token cache keys on it, never on
 * an MSN.
 */
public sealed interface KeyHolder {

  /** The {@code Merchant-Serial-Number} an access-token request with these keys names, if any. */
  Optional<String> tokenMsn();

  /** Short, secret-free words for logs and problem details, e.g. {@code MSN 123456}. */
  String describe();

  /** The own keys of the sales unit {@code msn}. */
  static KeyHolder salesUnit(String msn) {
    return new SalesUnit(msn);
  }

  /**
   * A sales unit's own keys: they act for that MSN only, and its token request names it.
   *
   * @param msn the sales unit's Merchant-Serial-Number
   */
  record SalesUnit(String msn) implements KeyHolder {
    public SalesUnit {
      Objects.requireNonNull(msn, "msn");
    }

    @Override
    public Optional<String> tokenMsn() {
      return Optional.of(msn);
    }

    @Override
    public String describe() {
      return "MSN " + msn;
    }
  }
}

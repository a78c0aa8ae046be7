package io.refundbroker.salesunit;

import java.util.Objects;
import java.util.Optional;

/**
 * Whose Vipps API keys a key set is: a sales unit's own keys (option B, and option C where several
 * stores share one sales unit) or a partner's keys (option A: one token acting for many MSNs, the
 * MSN sent per call). A holder is part of a key set's identity, so the access-token cache keys on
 * it, never on an MSN.
 */
public sealed interface KeyHolder {

  /** The {@code Merchant-Serial-Number} an access-token request with these keys names, if any. */
  Optional<String> tokenMsn();

  /** Short, secret-free words for logs and problem details, e.g. {@code MSN 123456}. */
  String describe();

  /**
   * A stable, secret-free name of this holder, unique across kinds: {@code salesunit:<msn>} or
   * {@code partner:<partnerId>} (used in change notifications and records).
   */
  String key();

  /** The own keys of the sales unit {@code msn}. */
  static KeyHolder salesUnit(String msn) {
    return new SalesUnit(msn);
  }

  /** The keys of partner {@code partnerId}. */
  static KeyHolder partner(String partnerId) {
    return new Partner(partnerId);
  }

  /**
   * The holder named by {@link #key()}.
   *
   * @throws IllegalArgumentException for anything else
   */
  static KeyHolder fromKey(String key) {
    if (key != null && key.startsWith("salesunit:")) {
      return salesUnit(key.substring("salesunit:".length()));
    }
    if (key != null && key.startsWith("partner:")) {
      return partner(key.substring("partner:".length()));
    }
    throw new IllegalArgumentException("not a key holder: " + key);
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

    @Override
    public String key() {
      return "salesunit:" + msn;
    }
  }

  /**
   * A partner's keys (option A): one key set, and one access token, for every MSN the partner is
   * linked to at Vipps. The token request names no MSN; each API call names the MSN it acts for.
   *
   * @param partnerId the broker's name for the partner (an identifier, not a secret)
   */
  record Partner(String partnerId) implements KeyHolder {
    public Partner {
      Objects.requireNonNull(partnerId, "partnerId");
    }

    @Override
    public Optional<String> tokenMsn() {
      return Optional.empty();
    }

    @Override
    public String describe() {
      return "partner " + partnerId;
    }

    @Override
    public String key() {
      return "partner:" + partnerId;
    }
  }
}

package io.refundbroker.vipps;

/**
 * Why a Vipps read or a key check failed, as a type the caller maps to its own answer (the Vipps
 * client raises no HTTP problems). The message is a short, secret-free detail of our own, never
 * upstream free text.
 */
public final class VippsFailure extends RuntimeException {

  /** What went wrong. */
  public enum Kind {
    /** The reference cannot be a payment of this API flavour at all (nothing was sent). */
    REFERENCE_UNKNOWABLE,
    /** The sales unit's MSN is not of a form Vipps accepts (nothing was sent). */
    MSN_INVALID,
    /** Vipps refused the keys (the token endpoint, or the API with a fresh token). */
    KEYS_REJECTED,
    /** Vipps does not know the reference for this MSN. */
    REFERENCE_NOT_FOUND,
    /** Vipps could not be asked now: no answer, a transient error, or no access token. */
    UNAVAILABLE,
    /** Vipps answered 2xx with a body that could not be read. */
    BAD_RESPONSE,
    /** Any other refusal by Vipps. */
    OTHER
  }

  private final Kind kind;
  private final int httpStatus;

  VippsFailure(Kind kind, int httpStatus, String detail) {
    super(detail, null, false, false);
    this.kind = kind;
    this.httpStatus = httpStatus;
  }

  /** What went wrong. */
  public Kind kind() {
    return kind;
  }

  /** Vipps's HTTP status (0 when there was no answer or nothing was sent). */
  public int httpStatus() {
    return httpStatus;
  }

  /** Our short, secret-free description (the same as {@link #getMessage()}). */
  public String detail() {
    return getMessage();
  }
}

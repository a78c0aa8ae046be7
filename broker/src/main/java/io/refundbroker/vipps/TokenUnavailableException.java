package io.refundbroker.vipps;

/**
 * No access token could be had for a sales unit: either Vipps refused the keys ({@link
 * #rejected()}, definitive) or Vipps could not be asked (transient). The message never holds a
 * secret.
 */
final class TokenUnavailableException extends RuntimeException {
  private final boolean rejected;
  private final int status;

  TokenUnavailableException(boolean rejected, int status, String detail) {
    super(detail, null, false, false);
    this.rejected = rejected;
    this.status = status;
  }

  /** Whether Vipps refused the keys (as opposed to not answering). */
  boolean rejected() {
    return rejected;
  }

  /** The token endpoint's HTTP status (0 when there was no answer). */
  int status() {
    return status;
  }
}

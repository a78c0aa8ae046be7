package io.refundbroker.credential;

import io.refundbroker.error.ProblemException;
import io.refundbroker.vipps.VippsFailure;

/**
 * What a failed proof of new keys (an access-token fetch with them) means for the admin who sent
 * them: keys Vipps refuses, or an MSN it cannot take, are 422 {@code CREDENTIALS_REJECTED}; Vipps
 * not answering is 503 {@code VIPPS_UNAVAILABLE} (nothing is written either way).
 */
public final class VippsKeyProblems {
  private VippsKeyProblems() {}

  /**
   * The problem for {@code failure}, a check of keys for {@code msn}; anything but a {@link
   * VippsFailure} is returned as it is.
   */
  public static Throwable of(Throwable failure, String msn) {
    if (!(failure instanceof VippsFailure vipps)) {
      return failure;
    }
    return switch (vipps.kind()) {
      case MSN_INVALID ->
          ProblemException.unprocessable("CREDENTIALS_REJECTED", "the MSN must be 4-7 digits");
      case KEYS_REJECTED ->
          ProblemException.unprocessable(
              "CREDENTIALS_REJECTED",
              "Vipps refused these keys for MSN "
                  + msn
                  + " (HTTP "
                  + vipps.httpStatus()
                  + "): check client_id, client_secret and the subscription key");
      default ->
          ProblemException.unavailable(
              "VIPPS_UNAVAILABLE",
              "Vipps cannot be asked now: the keys could not be checked: " + vipps.detail());
    };
  }
}

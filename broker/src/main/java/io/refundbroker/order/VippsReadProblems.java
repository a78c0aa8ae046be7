package io.refundbroker.order;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.error.ProblemException;
import io.refundbroker.vipps.VippsFailure;

/**
 * What a failed Vipps payment read means for the caller of an order or refund operation: Vipps not
 * knowing the reference is the order not being found (404 {@code ORDER_NOT_FOUND}); keys Vipps
 * refuses or an MSN it cannot take are a 502 {@code VIPPS_CREDENTIALS_REJECTED} an admin must fix;
 * Vipps not answering is a 503 {@code VIPPS_UNAVAILABLE}; any other answer a 502.
 */
public final class VippsReadProblems {
  private VippsReadProblems() {}

  /**
   * The problem for {@code failure}, a read of {@code reference} with the origin store's {@code
   * keys}; anything but a {@link VippsFailure} is returned as it is.
   */
  public static Throwable of(Throwable failure, StoreCredentials keys, String reference) {
    if (!(failure instanceof VippsFailure vipps)) {
      return failure;
    }
    return switch (vipps.kind()) {
      case REFERENCE_UNKNOWABLE -> ProblemException.notFound("ORDER_NOT_FOUND", vipps.detail());
      case REFERENCE_NOT_FOUND ->
          ProblemException.notFound(
              "ORDER_NOT_FOUND",
              "Vipps does not know reference "
                  + reference
                  + " for MSN "
                  + keys.msn()
                  + " (check the origin store)");
      case MSN_INVALID ->
          badGateway("VIPPS_CREDENTIALS_REJECTED", "the store's MSN must be 4-7 digits");
      case KEYS_REJECTED ->
          badGateway(
              "VIPPS_CREDENTIALS_REJECTED",
              "Vipps refused the stored API keys of MSN "
                  + keys.msn()
                  + " (version "
                  + keys.version()
                  + "); an admin must rotate them");
      case UNAVAILABLE ->
          ProblemException.unavailable(
              "VIPPS_UNAVAILABLE", "Vipps cannot be asked now: " + vipps.detail());
      case BAD_RESPONSE -> badGateway("VIPPS_BAD_RESPONSE", vipps.detail());
      case OTHER -> badGateway("VIPPS_ERROR", vipps.detail());
    };
  }

  private static ProblemException badGateway(String code, String detail) {
    return new ProblemException(502, code, "Bad gateway", detail);
  }
}

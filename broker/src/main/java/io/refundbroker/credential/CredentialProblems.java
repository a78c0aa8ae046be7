package io.refundbroker.credential;

import io.refundbroker.error.ProblemException;
import io.refundbroker.salesunit.KeyHolder;

/** The problems the credential store answers with, in one place so the codes stay stable. */
public final class CredentialProblems {
  private CredentialProblems() {}

  /** 503: the backend cannot be used right now and no unexpired cached copy exists. */
  public static ProblemException unavailable(String why) {
    return ProblemException.unavailable(
        "CREDENTIALS_UNAVAILABLE",
        "The credential store is unavailable (" + why + "); nothing was changed. Try again later.");
  }

  /** 409: no keys were ever stored for the holder. */
  public static ProblemException missing(KeyHolder holder) {
    return ProblemException.conflict(
        "CREDENTIALS_MISSING",
        "No Vipps API keys are stored for "
            + holder.describe()
            + "; an admin must set them with PUT "
            + endpoint(holder)
            + ".");
  }

  /** 404: the version does not exist (or is no longer retained). */
  public static ProblemException versionNotFound(KeyHolder holder, int version) {
    return ProblemException.notFound(
        "CREDENTIALS_VERSION_NOT_FOUND",
        "Version "
            + version
            + " of the keys of "
            + holder.describe()
            + " does not exist or is no longer retained; see GET "
            + endpoint(holder)
            + " for the versions that are.");
  }

  /** 409: a concurrent rotation won the check-and-set. */
  public static ProblemException conflict(KeyHolder holder) {
    return ProblemException.conflict(
        "CREDENTIALS_CONFLICT",
        "The keys of "
            + holder.describe()
            + " were changed by another rotation while this one ran; nothing was written. Read"
            + " GET "
            + endpoint(holder)
            + " and try again if still needed.");
  }

  private static String endpoint(KeyHolder holder) {
    return holder instanceof KeyHolder.Partner partner
        ? "/v1/admin/partners/" + partner.partnerId() + "/credentials"
        : "/v1/admin/stores/{storeId}/credentials";
  }
}

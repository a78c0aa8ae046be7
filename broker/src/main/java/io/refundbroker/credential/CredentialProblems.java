package io.refundbroker.credential;

import io.refundbroker.error.ProblemException;

/** The problems the credential store answers with, in one place so the codes stay stable. */
public final class CredentialProblems {
  private CredentialProblems() {}

  /** 503: the backend cannot be used right now and no unexpired cached copy exists. */
  public static ProblemException unavailable(String why) {
    return ProblemException.unavailable(
        "CREDENTIALS_UNAVAILABLE",
        "The credential store is unavailable (" + why + "); nothing was changed. Try again later.");
  }

  /** 409: no keys were ever stored for the sales unit. */
  public static ProblemException missing(String msn) {
    return ProblemException.conflict(
        "CREDENTIALS_MISSING",
        "No Vipps API keys are stored for MSN "
            + msn
            + "; an admin must set them with PUT /v1/admin/stores/{storeId}/credentials.");
  }

  /** 404: the version does not exist (or is no longer retained). */
  public static ProblemException versionNotFound(String msn, int version) {
    return ProblemException.notFound(
        "CREDENTIALS_VERSION_NOT_FOUND",
        "Version "
            + version
            + " of the keys of MSN "
            + msn
            + " does not exist or is no longer retained; see GET"
            + " /v1/admin/stores/{storeId}/credentials for the versions that are.");
  }

  /** 409: a concurrent rotation won the check-and-set. */
  public static ProblemException conflict(String msn) {
    return ProblemException.conflict(
        "CREDENTIALS_CONFLICT",
        "The keys of MSN "
            + msn
            + " were changed by another rotation while this one ran; nothing was written. Read"
            + " GET /v1/admin/stores/{storeId}/credentials and try again if still needed.");
  }
}

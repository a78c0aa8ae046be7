package io.refundbroker.credential;

import java.time.Instant;
import java.util.Objects;

/**
 * Bookkeeping stored with a new credential version (never a secret): who wrote it and when, whether
 * Vipps accepted the keys before they were stored, and which version a rollback restored.
 *
 * @param rotatedBy the admin client id (or system component) that wrote the version
 * @param rotatedAt when
 * @param validatedAt when Vipps issued an access token for these keys; null when not proved
 * @param restoredVersion for a rollback, the old version whose data was copied; otherwise null
 */
public record RotationInfo(
    String rotatedBy, Instant rotatedAt, Instant validatedAt, Integer restoredVersion) {

  public RotationInfo {
    Objects.requireNonNull(rotatedBy, "rotatedBy");
    Objects.requireNonNull(rotatedAt, "rotatedAt");
  }
}

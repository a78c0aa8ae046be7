package io.refundbroker.credential;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * Metadata of one stored credential version: what an admin may see (no secret, not even the client
 * id).
 *
 * @param version the version number (1, 2, …)
 * @param createdAt when it was written
 * @param rotatedBy who wrote it; null when the store does not know (e.g. written outside the
 *     broker)
 * @param validatedAt when Vipps accepted the keys before they were stored; null if not proved
 * @param restoredVersion the version whose data a rollback copied, or null
 * @param deleted true when the backend no longer serves this version (deleted or destroyed)
 */
public record CredentialVersion(
    int version,
    Instant createdAt,
    String rotatedBy,
    Instant validatedAt,
    Integer restoredVersion,
    boolean deleted) {

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("version", version)
            .put("validated", validatedAt != null)
            .put("deleted", deleted);
    if (createdAt != null) {
      json.put("createdAt", createdAt.toString());
    }
    if (rotatedBy != null) {
      json.put("rotatedBy", rotatedBy);
    }
    if (validatedAt != null) {
      json.put("validatedAt", validatedAt.toString());
    }
    if (restoredVersion != null) {
      json.put("restoredVersion", restoredVersion);
    }
    return json;
  }
}

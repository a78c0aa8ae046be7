package io.refundbroker.credential;

import io.refundbroker.store.Store;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/**
 * How old a store's current Vipps keys are (never the keys themselves).
 *
 * @param current the current version's metadata; null when the store has no keys yet
 * @param age since the current version was written; null without keys or a creation time
 * @param stale true when {@code age} exceeds {@code CREDENTIALS_MAX_AGE}
 */
public record CredentialAge(Store store, CredentialVersion current, Duration age, boolean stale) {

  /** The age of {@code history}'s current version at {@code now}. */
  static CredentialAge of(Store store, CredentialHistory history, Instant now, Duration maxAge) {
    CredentialVersion current = history.find(history.currentVersion()).orElse(null);
    if (current == null || current.createdAt() == null) {
      return new CredentialAge(store, current, null, false);
    }
    Duration age = Duration.between(current.createdAt(), now);
    if (age.isNegative()) {
      age = Duration.ZERO;
    }
    return new CredentialAge(store, current, age, age.compareTo(maxAge) > 0);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("storeId", store.storeId())
            .put("msn", store.msn())
            .put("currentVersion", current == null ? 0 : current.version())
            .put("stale", stale);
    if (current != null) {
      json.put("validated", current.validatedAt() != null);
      if (current.createdAt() != null) {
        json.put("createdAt", current.createdAt().toString());
      }
      if (current.rotatedBy() != null) {
        json.put("rotatedBy", current.rotatedBy());
      }
    }
    if (age != null) {
      json.put("ageSeconds", age.toSeconds());
    }
    return json;
  }
}

package io.refundbroker.sandbox;

import io.refundbroker.config.Secret;
import java.util.Objects;

/**
 * A sales unit the sandbox knows, with the keys it accepts for the access-token endpoint.
 *
 * @param msn Merchant-Serial-Number
 * @param clientId {@code client_id}
 * @param clientSecret {@code client_secret}
 * @param subscriptionKey {@code Ocp-Apim-Subscription-Key}
 */
public record SandboxStore(
    String msn, String clientId, Secret clientSecret, Secret subscriptionKey) {

  public SandboxStore {
    Objects.requireNonNull(msn, "msn");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(subscriptionKey, "subscriptionKey");
    if (!msn.matches("[0-9]{4,7}")) {
      throw new IllegalArgumentException("msn must be 4-7 digits");
    }
    if (clientId.isBlank()) {
      throw new IllegalArgumentException("clientId must not be blank");
    }
  }
}

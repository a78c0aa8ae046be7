package io.refundbroker.sandbox;

import io.refundbroker.config.Secret;
import java.util.Objects;
import java.util.Set;

/**
 * A partner the sandbox knows (option A of Vipps's POS FAQ): one key set whose access token acts
 * for every linked MSN, named per call in {@code Merchant-Serial-Number}.
 *
 * @param partnerId the partner's name (for the ledger)
 * @param clientId {@code client_id}
 * @param clientSecret {@code client_secret}
 * @param subscriptionKey {@code Ocp-Apim-Subscription-Key}
 * @param msns the sales units the partner may act for
 */
public record SandboxPartner(
    String partnerId,
    String clientId,
    Secret clientSecret,
    Secret subscriptionKey,
    Set<String> msns) {

  public SandboxPartner {
    Objects.requireNonNull(partnerId, "partnerId");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(subscriptionKey, "subscriptionKey");
    msns = Set.copyOf(msns);
    if (partnerId.isBlank() || clientId.isBlank()) {
      throw new IllegalArgumentException("partnerId and clientId must not be blank");
    }
    for (String msn : msns) {
      if (!msn.matches("[0-9]{4,7}")) {
        throw new IllegalArgumentException("every msn must be 4-7 digits");
      }
    }
  }
}

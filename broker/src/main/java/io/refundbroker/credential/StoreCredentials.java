package io.refundbroker.credential;

import io.refundbroker.config.Secret;
import java.util.Objects;

/**
 * One version of a sales unit's Vipps API keys, as read from the credential store. The secrets are
 * {@link Secret}s, so {@code toString()} (and any log line built from it) never shows them.
 *
 * @param msn the sales unit (Merchant-Serial-Number) the keys belong to
 * @param version the credential store's version number of this key set (1, 2, …)
 * @param clientId Vipps {@code client_id} (not secret, but not logged either)
 * @param clientSecret Vipps {@code client_secret}
 * @param subscriptionKey Vipps {@code Ocp-Apim-Subscription-Key}
 */
public record StoreCredentials(
    String msn, int version, String clientId, Secret clientSecret, Secret subscriptionKey) {

  public StoreCredentials {
    Objects.requireNonNull(msn, "msn");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(subscriptionKey, "subscriptionKey");
  }

  @Override
  public String toString() {
    return "StoreCredentials[msn=" + msn + ", version=" + version + ", secrets=[redacted]]";
  }
}

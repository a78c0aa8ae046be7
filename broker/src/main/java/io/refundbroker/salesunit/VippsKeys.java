package io.refundbroker.salesunit;

import io.refundbroker.config.Secret;
import java.util.Objects;

/**
 * One version of one holder's Vipps API keys: what an access token is fetched with. Two calls with
 * equal {@code VippsKeys} may share a token; rotated keys (another version or other secrets) never
 * meet an old token. The secrets are {@link Secret}s and {@link #toString()} shows none of them.
 *
 * @param holder whose keys these are
 * @param version the credential store's version of this key set (1, 2, …)
 * @param clientId Vipps {@code client_id} (not secret, but not logged either)
 * @param clientSecret Vipps {@code client_secret}
 * @param subscriptionKey Vipps {@code Ocp-Apim-Subscription-Key}
 */
public record VippsKeys(
    KeyHolder holder, int version, String clientId, Secret clientSecret, Secret subscriptionKey) {

  public VippsKeys {
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(subscriptionKey, "subscriptionKey");
  }

  @Override
  public String toString() {
    return "VippsKeys[" + holder.describe() + ", version=" + version + ", secrets=[redacted]]";
  }
}

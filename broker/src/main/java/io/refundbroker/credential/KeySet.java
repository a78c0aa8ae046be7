package io.refundbroker.credential;

import io.refundbroker.config.Secret;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsKeys;
import java.util.Objects;

/**
 * The three values that make up a sales unit's Vipps API keys, before they have a version. The
 * secrets are {@link Secret}s and {@link #toString()} shows none of the values.
 *
 * @param clientId Vipps {@code client_id}
 * @param clientSecret Vipps {@code client_secret}
 * @param subscriptionKey Vipps {@code Ocp-Apim-Subscription-Key}
 */
public record KeySet(String clientId, Secret clientSecret, Secret subscriptionKey) {

  public KeySet {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(clientSecret, "clientSecret");
    Objects.requireNonNull(subscriptionKey, "subscriptionKey");
  }

  /** These keys as version {@code version} of {@code msn}. */
  public StoreCredentials as(String msn, int version) {
    return new StoreCredentials(msn, version, clientId, clientSecret, subscriptionKey);
  }

  /** These keys as version {@code version} of {@code holder}'s keys. */
  public VippsKeys as(KeyHolder holder, int version) {
    return new VippsKeys(holder, version, clientId, clientSecret, subscriptionKey);
  }

  /** The key set of stored credentials. */
  public static KeySet of(StoreCredentials credentials) {
    return new KeySet(
        credentials.clientId(), credentials.clientSecret(), credentials.subscriptionKey());
  }

  /** The key set of stored keys. */
  public static KeySet of(VippsKeys keys) {
    return new KeySet(keys.clientId(), keys.clientSecret(), keys.subscriptionKey());
  }

  @Override
  public String toString() {
    return "KeySet[redacted]";
  }
}

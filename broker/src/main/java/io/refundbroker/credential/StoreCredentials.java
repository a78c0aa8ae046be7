package io.refundbroker.credential;

import io.refundbroker.config.Secret;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.salesunit.VippsApi;
import io.refundbroker.salesunit.VippsKeys;
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

  /**
   * A sales unit's own keys as read from the credential store.
   *
   * @throws IllegalArgumentException when {@code keys} are not a sales unit's own
   */
  public static StoreCredentials of(VippsKeys keys) {
    if (!(keys.holder() instanceof KeyHolder.SalesUnit unit)) {
      throw new IllegalArgumentException("not a sales unit's keys: " + keys.holder().describe());
    }
    return new StoreCredentials(
        unit.msn(), keys.version(), keys.clientId(), keys.clientSecret(), keys.subscriptionKey());
  }

  /** These keys as the sales unit's own key set (what an access token is fetched with). */
  public VippsKeys vippsKeys() {
    return new VippsKeys(
        KeyHolder.salesUnit(msn), version, clientId, clientSecret, subscriptionKey);
  }

  /** These keys used for a call on their own sales unit's payments through {@code api}. */
  public KeysInUse inUse(VippsApi api) {
    return new KeysInUse(msn, api, vippsKeys());
  }

  @Override
  public String toString() {
    return "StoreCredentials[msn=" + msn + ", version=" + version + ", secrets=[redacted]]";
  }
}

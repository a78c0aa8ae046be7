package io.refundbroker.caller;

import io.refundbroker.error.ProblemException;

/**
 * The authenticated API client behind a request. {@code storeId} and {@code chainId} are set for
 * (and only for) {@link Role#STORE} clients.
 */
public record Principal(String clientId, String name, Role role, String storeId, String chainId) {

  /** The store a STORE client acts for. */
  public String requireStore() {
    if (role != Role.STORE || storeId == null) {
      throw ProblemException.forbidden("Only a store's token can do this.");
    }
    return storeId;
  }
}

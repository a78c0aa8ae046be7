package io.refundbroker.caller;

/**
 * Who caused an audited change: an API client (its id, role and, for store clients, store) or the
 * broker itself ({@link #system(String)}, e.g. the reconciler).
 */
public record Actor(String clientId, String role, String storeId) {

  /** The broker acting on its own (start-up, reconciler); {@code component} names the part. */
  public static Actor system(String component) {
    return new Actor(component, "SYSTEM", null);
  }
}

package io.refundbroker.caller;

/**
 * Who asked (the authenticated principal) and under which request id. Passed to services; {@code
 * http.Callers} reads it from a request.
 */
public record Caller(Principal principal, String requestId) {

  /** The actor recorded in audit events. */
  public Actor actor() {
    return new Actor(principal.clientId(), principal.role().name(), principal.storeId());
  }
}

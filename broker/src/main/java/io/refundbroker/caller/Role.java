package io.refundbroker.caller;

/** What a bearer token may do. A {@code STORE} token is bound to exactly one store. */
public enum Role {
  STORE,
  ADMIN,
  AUDITOR
}

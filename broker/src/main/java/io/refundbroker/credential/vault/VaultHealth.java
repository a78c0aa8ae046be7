package io.refundbroker.credential.vault;

import io.vertx.core.json.JsonObject;

/**
 * What {@code GET sys/health} (asked with Vault's default status codes) says about the node the
 * broker talks to: 200 active, 429 standby, 472 disaster-recovery secondary, 473 performance
 * standby, 474 standby that cannot reach the active node, 501 not initialised, 503 sealed, 530
 * removed from its cluster (developer.hashicorp.com, api-docs/system/health). The body's flags are
 * read first, so a load balancer that rewrites the code does not mislead it.
 *
 * @param status the HTTP status of the answer
 */
record VaultHealth(int status, State state) {

  /** The node's state, and whether a client may expect reads to work there. */
  enum State {
    ACTIVE("an active node", true),
    STANDBY("a standby, forwarding requests to the active node", true),
    PERFORMANCE_STANDBY("a performance standby", true),
    DR_SECONDARY("a disaster-recovery (DR) secondary, which serves no client requests", false),
    STANDBY_UNHEALTHY("a standby that cannot reach the active node", false),
    SEALED("sealed", false),
    UNINITIALIZED("not initialised", false),
    REMOVED("removed from its cluster", false),
    UNKNOWN("in a state the broker does not know", false);

    private final String text;
    private final boolean mayServeReads;

    State(String text, boolean mayServeReads) {
      this.text = text;
      this.mayServeReads = mayServeReads;
    }
  }

  /**
   * Reads an answer of {@code sys/health}.
   *
   * @param body the JSON body, or null when there was none (HEAD, or a code the driver refuses)
   */
  static VaultHealth of(int status, JsonObject body) {
    JsonObject b = body == null ? new JsonObject() : body;
    State state;
    if (Boolean.FALSE.equals(b.getBoolean("initialized")) || status == 501) {
      state = State.UNINITIALIZED;
    } else if (Boolean.TRUE.equals(b.getBoolean("sealed")) || status == 503) {
      state = State.SEALED;
    } else if (b.getString("replication_dr_mode", "").contains("secondary") || status == 472) {
      state = State.DR_SECONDARY;
    } else if (status == 474) {
      state = State.STANDBY_UNHEALTHY;
    } else if (status == 530) {
      state = State.REMOVED;
    } else if (Boolean.TRUE.equals(b.getBoolean("performance_standby")) || status == 473) {
      state = State.PERFORMANCE_STANDBY;
    } else if (Boolean.TRUE.equals(b.getBoolean("standby")) || status == 429) {
      state = State.STANDBY;
    } else if (status == 200) {
      state = State.ACTIVE;
    } else {
      state = State.UNKNOWN;
    }
    return new VaultHealth(status, state);
  }

  /** Whether credential reads may work on this node (they are then probed). */
  boolean mayServeReads() {
    return state.mayServeReads;
  }

  /** E.g. {@code Vault is a performance standby (sys/health 473)}. */
  String describe() {
    return "Vault is " + state.text + " (sys/health " + status + ")";
  }

  /** The failure a non-serving state means for a call ({@link VaultFailure} kinds). */
  VaultFailure failure() {
    VaultFailure.Kind kind =
        switch (state) {
          case SEALED -> VaultFailure.Kind.SEALED;
          case UNINITIALIZED -> VaultFailure.Kind.UNINITIALIZED;
          case DR_SECONDARY -> VaultFailure.Kind.DR_SECONDARY;
          default -> VaultFailure.Kind.UNREACHABLE;
        };
    return new VaultFailure(kind, status, "GET", "sys/health", describe());
  }
}

package io.refundbroker.credential.vault;

import java.util.Locale;

/**
 * A Vault call that did not succeed, classified. It carries the HTTP method and the Vault path
 * (never a body or a token) so operators can see which capability is missing; the backend turns it
 * into a problem for the API caller without these internals.
 */
final class VaultFailure extends RuntimeException {

  /** What went wrong, as far as the broker must react differently. */
  enum Kind {
    /** 404: no such key or version (or deleted). */
    NOT_FOUND,
    /** 400: check-and-set mismatch. */
    CAS_MISMATCH,
    /** 403 {@code permission denied}: the token's policy lacks a capability. */
    DENIED,
    /** 403 {@code invalid token}: expired or revoked token. */
    INVALID_TOKEN,
    /**
     * No request was sent: the broker's token ({@code VAULT_TOKEN}, {@code VAULT_TOKEN_FILE}) has
     * expired or was refused, and there is no new one yet.
     */
    NO_TOKEN,
    /** 400 on login: wrong role id or secret id. */
    LOGIN_REJECTED,
    /** 503 {@code Vault is sealed}. */
    SEALED,
    /** {@code sys/health} 501: Vault is not initialised. */
    UNINITIALIZED,
    /**
     * {@code sys/health} 472, or 400 {@code path disabled in replication DR secondary mode}: a
     * disaster-recovery secondary, which serves no client requests.
     */
    DR_SECONDARY,
    /** 429: rate-limit quota. */
    THROTTLED,
    /** Connection refused, timeout, other 5xx or 412. */
    UNREACHABLE,
    /** Any other answer the broker does not expect. */
    UNEXPECTED
  }

  private final Kind kind;
  private final int status;
  private final String method;
  private final String path;
  private final String state;

  VaultFailure(Kind kind, int status, String method, String path) {
    this(kind, status, method, path, null);
  }

  /**
   * @param state what {@code sys/health} said Vault is (e.g. "Vault is sealed (sys/health 503)"),
   *     for readiness; null when the failure is not about Vault's state
   */
  VaultFailure(Kind kind, int status, String method, String path, String state) {
    super(kind + " (HTTP " + status + ") on " + method + " " + path, null, false, false);
    this.kind = kind;
    this.status = status;
    this.method = method;
    this.path = path;
    this.state = state;
  }

  /** What {@code sys/health} said Vault is, or null. */
  String state() {
    return state;
  }

  /** Classifies an error response by its status and the text of its {@code errors}. */
  static VaultFailure of(int status, String body, String method, String path) {
    String text = body == null ? "" : body.toLowerCase(Locale.ROOT);
    Kind kind;
    if (status == 404) {
      kind = Kind.NOT_FOUND;
    } else if (status == 403 && text.contains("invalid token")) {
      kind = Kind.INVALID_TOKEN;
    } else if (status == 403) {
      kind = Kind.DENIED;
    } else if (status == 400 && text.contains("check-and-set")) {
      kind = Kind.CAS_MISMATCH;
    } else if (status == 400 && text.contains("dr secondary mode")) {
      kind = Kind.DR_SECONDARY;
    } else if (status == 400 && text.contains("invalid role or secret id")) {
      kind = Kind.LOGIN_REJECTED;
    } else if (status == 503) {
      kind = text.contains("sealed") || text.isEmpty() ? Kind.SEALED : Kind.UNREACHABLE;
    } else if (status == 429) {
      kind = Kind.THROTTLED;
    } else if (status == 0 || status >= 500 || status == 412) {
      kind = Kind.UNREACHABLE;
    } else {
      kind = Kind.UNEXPECTED;
    }
    return new VaultFailure(kind, status, method, path);
  }

  Kind kind() {
    return kind;
  }

  int status() {
    return status;
  }

  String method() {
    return method;
  }

  String path() {
    return path;
  }
}

package io.refundbroker.auth;

import io.refundbroker.caller.Principal;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;

/**
 * {@code Authorization: Bearer <token>}: every request looks its token up (by hash) in the
 * database, so a revoked token stops working at once. One 401 message for a malformed, unknown or
 * revoked token, so it reveals nothing.
 */
final class BearerAuth {
  private static final String PREFIX = "bearer ";
  private final ClientService clients;

  BearerAuth(ClientService clients) {
    this.clients = clients;
  }

  /**
   * The principal holding the token in {@code header} (an {@code Authorization} value).
   *
   * @return fails with 401 when the scheme is not Bearer or the token is unknown or revoked
   */
  Future<Principal> authenticate(String header) {
    if (!header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      return Future.failedFuture(
          ProblemException.unauthorized("Use the Bearer scheme: 'Authorization: Bearer <token>'."));
    }
    String token = header.substring(PREFIX.length()).trim();
    if (!Tokens.plausible(token)) {
      return Future.failedFuture(unknownToken());
    }
    return clients
        .authenticate(token)
        .compose(
            principal ->
                principal == null
                    ? Future.failedFuture(unknownToken())
                    : Future.succeededFuture(principal));
  }

  private static ProblemException unknownToken() {
    return ProblemException.unauthorized(
        "The API token is unknown or has been revoked. Ask an admin for a new one.");
  }
}

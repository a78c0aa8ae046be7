package io.refundbroker.auth;

import io.refundbroker.http.Authenticator;
import io.refundbroker.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code Authorization: Bearer <token>} authentication. Every request looks its token up (by hash)
 * in the database, so a revoked token stops working at once. 401 when the token is missing,
 * malformed, unknown or revoked (one message for all, so it reveals nothing); 403 when the token is
 * valid but its role is not among the operation's {@code x-roles}.
 */
public final class BearerAuth implements Authenticator {
  private static final String PREFIX = "bearer ";
  private final ClientService clients;

  public BearerAuth(ClientService clients) {
    this.clients = clients;
  }

  @Override
  public Handler<RoutingContext> requireAnyOf(Set<String> roleNames) {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (String name : roleNames) {
      roles.add(Role.valueOf(name));
    }
    String allowed = roles.stream().map(Enum::name).sorted().collect(Collectors.joining(" or "));
    return ctx -> authenticate(ctx, roles, allowed);
  }

  private void authenticate(RoutingContext ctx, Set<Role> roles, String allowed) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || header.isBlank()) {
      ctx.fail(
          ProblemException.unauthorized(
              "This operation needs an API token: send 'Authorization: Bearer <token>'."));
      return;
    }
    if (!header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      ctx.fail(
          ProblemException.unauthorized("Use the Bearer scheme: 'Authorization: Bearer <token>'."));
      return;
    }
    String token = header.substring(PREFIX.length()).trim();
    if (!Tokens.plausible(token)) {
      ctx.fail(unknownToken());
      return;
    }
    clients
        .authenticate(token)
        .onSuccess(
            principal -> {
              if (principal == null) {
                ctx.fail(unknownToken());
              } else if (!roles.contains(principal.role())) {
                ctx.fail(
                    ProblemException.forbidden(
                        "This operation needs a "
                            + allowed
                            + " token; this token has role "
                            + principal.role().name().toUpperCase(Locale.ROOT)
                            + "."));
              } else {
                ctx.put(Principal.KEY, principal);
                ctx.next();
              }
            })
        .onFailure(ctx::fail);
  }

  private static ProblemException unknownToken() {
    return ProblemException.unauthorized(
        "The API token is unknown or has been revoked. Ask an admin for a new one.");
  }
}

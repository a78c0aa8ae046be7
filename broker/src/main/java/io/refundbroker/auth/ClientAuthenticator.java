package io.refundbroker.auth;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.config.BrokerConfig.ClientAuthMode;
import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Authenticator;
import io.refundbroker.http.Callers;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds the client behind a request — by its bearer token or by the client certificate it presented
 * in the TLS handshake — and checks its role against the operation's {@code x-roles}. Either way
 * the result is the same {@link Principal} (client, role, store).
 *
 * <p>Which means count ({@code BROKER_TLS_CLIENT_AUTH}): with {@code none} only tokens; with {@code
 * request} a token when an {@code Authorization} header is sent, else the certificate; with {@code
 * require} only the certificate (the handshake already refused clients without one, and an {@code
 * Authorization} header is refused rather than silently ignored). 401 when no valid credential is
 * presented, 403 when the client's role is not allowed.
 */
public final class ClientAuthenticator implements Authenticator {
  /** The 401 code for a bearer token sent where only certificates are accepted. */
  public static final String TOKEN_NOT_ACCEPTED = "TOKEN_NOT_ACCEPTED";

  private final BearerAuth tokens;
  private final CertificateAuth certificates;
  private final ClientAuthMode mode;
  private final AuthorizationRefusals refusals;

  public ClientAuthenticator(ClientService clients, ClientAuthMode mode) {
    this(clients, mode, null);
  }

  /** Counts refusals in {@code registry} (none when null) and logs them. */
  public ClientAuthenticator(ClientService clients, ClientAuthMode mode, MeterRegistry registry) {
    this.tokens = new BearerAuth(clients);
    this.certificates = new CertificateAuth(clients);
    this.mode = mode;
    this.refusals = new AuthorizationRefusals(registry);
  }

  @Override
  public Handler<RoutingContext> requireAnyOf(Set<String> roleNames) {
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (String name : roleNames) {
      roles.add(Role.valueOf(name));
    }
    String allowed = roles.stream().map(Enum::name).sorted().collect(Collectors.joining(" or "));
    return ctx ->
        identify(ctx)
            .onSuccess(principal -> authorize(ctx, principal, roles, allowed))
            .onFailure(failure -> refuse(ctx, failure, null));
  }

  private Future<Principal> identify(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    boolean hasToken = header != null && !header.isBlank();
    if (hasToken && mode == ClientAuthMode.REQUIRE) {
      return Future.failedFuture(
          new ProblemException(
              401,
              TOKEN_NOT_ACCEPTED,
              "Unauthorized",
              "This broker identifies clients by their certificates only"
                  + " (BROKER_TLS_CLIENT_AUTH=require); send the request without an"
                  + " Authorization header."));
    }
    if (hasToken) {
      return tokens.authenticate(header);
    }
    X509Certificate certificate =
        mode == ClientAuthMode.NONE ? null : CertificateAuth.presented(ctx.request());
    if (certificate != null) {
      return certificates.authenticate(certificate);
    }
    return Future.failedFuture(
        ProblemException.unauthorized(
            mode == ClientAuthMode.NONE
                ? "This operation needs an API token: send 'Authorization: Bearer <token>'."
                : "This operation needs an API token ('Authorization: Bearer <token>') or a"
                    + " client certificate issued by this broker."));
  }

  private void refuse(RoutingContext ctx, Throwable failure, Principal who) {
    refusals.record(ctx, failure, who);
    ctx.fail(failure);
  }

  private void authorize(RoutingContext ctx, Principal principal, Set<Role> roles, String allowed) {
    ProblemException refusal = refusal(principal, roles, allowed);
    if (refusal != null) {
      refuse(ctx, refusal, principal);
      return;
    }
    Callers.attach(ctx, principal);
    ctx.next();
  }

  /**
   * The 403 for {@code principal} when its role is not among {@code roles} ({@code allowed} in
   * words); null when it may go on.
   */
  static ProblemException refusal(Principal principal, Set<Role> roles, String allowed) {
    if (roles.contains(principal.role())) {
      return null;
    }
    return ProblemException.forbidden(
        "This operation needs a "
            + allowed
            + " client; this client has role "
            + principal.role().name().toUpperCase(Locale.ROOT)
            + ".");
  }
}

package io.refundbroker.auth;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.auth.certificate.ClientCa;
import io.refundbroker.config.BrokerConfig.ClientAuthMode;
import io.refundbroker.http.Api;
import io.refundbroker.http.Authenticator;
import io.refundbroker.http.Feature;
import io.vertx.sqlclient.Pool;
import java.time.Duration;

/**
 * The API-client feature: issuing, enrolling and revoking clients, the caller's own view ({@code
 * GET /v1/me}) and the authenticator every request passes (bearer token or client certificate).
 */
public final class ClientFeature implements Feature {
  private final ClientService service;

  private ClientFeature(ClientService service) {
    this.service = service;
  }

  /**
   * @param certificateValidity how long an enrolled client's certificate is valid
   */
  public static ClientFeature create(
      Pool pool, AuditLog audit, ClientCa ca, Duration certificateValidity) {
    return new ClientFeature(
        new ClientService(pool, new ClientRepository(), audit, ca, certificateValidity));
  }

  public ClientService service() {
    return service;
  }

  /**
   * Authenticates requests as {@code mode} asks (tokens, certificates or both), counting refusals
   * in {@code registry}.
   */
  public Authenticator authenticator(ClientAuthMode mode, MeterRegistry registry) {
    return new ClientAuthenticator(service, mode, registry);
  }

  @Override
  public void mount(Api api) {
    new ClientRoutes(service).mount(api);
    new CallerRoutes().mount(api);
  }
}

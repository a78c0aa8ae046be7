package io.refundbroker.auth;

import io.refundbroker.audit.AuditEvent;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.auth.certificate.CertificateAuthority;
import io.refundbroker.auth.certificate.CertificateRequest;
import io.refundbroker.auth.certificate.ClientCa;
import io.refundbroker.auth.certificate.IssuedCertificate;
import io.refundbroker.caller.Actor;
import io.refundbroker.caller.Caller;
import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.config.Secret;
import io.refundbroker.db.Transactions;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues, lists, revokes and authenticates API clients, by bearer token or by a client certificate
 * from the broker's CA. Every change is audited.
 */
public final class ClientService {
  private static final Logger LOG = LoggerFactory.getLogger(ClientService.class);
  static final String BOOTSTRAP_NAME = "bootstrap-admin";

  private final Pool pool;
  private final ClientRepository clients;
  private final AuditLog audit;
  private final ClientCa ca;
  private final Duration certificateValidity;

  /**
   * @param ca issues client certificates from the tills' requests
   * @param certificateValidity how long an issued certificate is valid ({@code
   *     BROKER_CLIENT_CERT_VALIDITY})
   */
  public ClientService(
      Pool pool,
      ClientRepository clients,
      AuditLog audit,
      ClientCa ca,
      Duration certificateValidity) {
    this.pool = pool;
    this.clients = clients;
    this.audit = audit;
    this.ca = ca;
    this.certificateValidity = certificateValidity;
  }

  /** A newly issued client and its token (the only time the token is available). */
  public record Issued(ApiClient client, String token) {}

  /** A newly enrolled client and the certificate issued from its request. */
  public record Enrolled(ApiClient client, IssuedCertificate certificate) {}

  /**
   * Issues a client with a fresh 256-bit token.
   *
   * @return the client and token; fails with a 400 problem when {@code storeId} does not fit the
   *     role, 422 {@code STORE_NOT_FOUND} when the store does not exist
   */
  public Future<Issued> issue(Caller caller, String name, Role role, String storeId) {
    ProblemException misfit = storeMisfit(role, storeId);
    if (misfit != null) {
      return Future.failedFuture(misfit);
    }
    String token = Tokens.newToken();
    String clientId = Tokens.newClientId();
    return Transactions.run(
        pool,
        tx ->
            chainOf(tx, storeId)
                .compose(
                    chainId ->
                        insertIssued(tx, caller, clientId, name, role, storeId, token, chainId)));
  }

  /** In {@code tx}: the client row holding {@code token}'s hash, and its audit event. */
  private Future<Issued> insertIssued(
      SqlConnection tx,
      Caller caller,
      String clientId,
      String name,
      Role role,
      String storeId,
      String token,
      String chainId) {
    return clients
        .insert(
            tx, clientId, name, role, storeId, Tokens.hash(token), caller.principal().clientId())
        .compose(
            client ->
                audit.record(
                    tx,
                    caller,
                    AuditEvent.success(
                        "client.issued", "client", clientId, chainId, describe(client)),
                    new Issued(client, token)));
  }

  /**
   * Enrols a client from a PKCS#10 request made on the till: the broker's CA checks the request and
   * issues a certificate naming a new client id; the broker records its fingerprint. No token is
   * issued. The request's private key never reaches the broker.
   *
   * @return the client and its certificate; fails with a 400 problem when {@code storeId} does not
   *     fit the role or the request is unreadable ({@code CSR_INVALID}), has a weak key ({@code
   *     CSR_WEAK_KEY}) or a bad signature ({@code CSR_BAD_SIGNATURE}); 422 {@code STORE_NOT_FOUND};
   *     503 {@code CREDENTIALS_UNAVAILABLE} when the CA cannot be loaded
   */
  public Future<Enrolled> enrol(
      Caller caller, String name, Role role, String storeId, String csrPem) {
    ProblemException misfit = storeMisfit(role, storeId);
    if (misfit != null) {
      return Future.failedFuture(misfit);
    }
    return ca.get().compose(authority -> enrolWith(authority, caller, name, role, storeId, csrPem));
  }

  private Future<Enrolled> enrolWith(
      CertificateAuthority authority,
      Caller caller,
      String name,
      Role role,
      String storeId,
      String csrPem) {
    return authority
        .check(csrPem)
        .compose(
            request ->
                Transactions.run(
                    pool,
                    tx -> recordEnrolment(tx, caller, name, role, storeId, authority, request)));
  }

  /** In {@code tx}: the store's chain, the certificate, the client row, the audit event. */
  private Future<Enrolled> recordEnrolment(
      SqlConnection tx,
      Caller caller,
      String name,
      Role role,
      String storeId,
      CertificateAuthority authority,
      CertificateRequest request) {
    String clientId = Tokens.newClientId();
    Future<String> chain = chainOf(tx, storeId);
    Future<IssuedCertificate> issued =
        chain.compose(
            found -> authority.issue(request, clientId, role.name(), storeId, certificateValidity));
    Future<ApiClient> client =
        issued.compose(
            certificate ->
                clients.insertWithCertificate(
                    tx, clientId, name, role, storeId, certificate, caller.principal().clientId()));
    return client.compose(
        inserted ->
            audit.record(
                tx,
                caller,
                AuditEvent.success(
                    "client.issued",
                    "client",
                    clientId,
                    chain.result(),
                    describe(inserted).put("key", request.keyDescription())),
                new Enrolled(inserted, issued.result())));
  }

  /** The broker CA's certificate (PEM); fails with 503 when the CA cannot be loaded. */
  public Future<String> caCertificate() {
    return ca.get().map(CertificateAuthority::certificatePem);
  }

  public Future<List<ApiClient>> list() {
    return clients.list(pool);
  }

  /**
   * Revokes a client. Revoking an already revoked client is a no-op.
   *
   * @return fails with 404 {@code CLIENT_NOT_FOUND}, or 409 {@code LAST_ADMIN} when this would
   *     leave no active admin
   */
  public Future<Void> revoke(Caller caller, String clientId) {
    return Transactions.run(
        pool,
        tx ->
            clients
                .lockClients(tx)
                .compose(locked -> clients.find(tx, clientId))
                .compose(existing -> revokeExisting(tx, caller, clientId, existing)));
  }

  /** An active client is revoked (unless it is the last admin); a revoked one is left alone. */
  private Future<Void> revokeExisting(
      SqlConnection tx, Caller caller, String clientId, ApiClient existing) {
    if (existing == null) {
      return Future.failedFuture(
          ProblemException.notFound("CLIENT_NOT_FOUND", "No client has id " + clientId + "."));
    }
    if (existing.revokedAt() != null) {
      return Future.succeededFuture();
    }
    return guardLastAdmin(tx, existing).compose(ok -> revokeAndAudit(tx, caller, existing));
  }

  /**
   * Looks up the active client holding {@code token}.
   *
   * @return the principal, or null when the token is unknown or revoked
   */
  public Future<Principal> authenticate(String token) {
    return clients.findActiveByTokenHash(pool, Tokens.hash(token));
  }

  /**
   * Looks up the active, unexpired client holding the certificate whose DER encoding has this
   * SHA-256 fingerprint. Read from the database on every request, like a token, so a revocation on
   * any instance applies to the next request.
   *
   * @return the principal, or null when the certificate is unknown, revoked or expired
   */
  public Future<Principal> authenticateCertificate(byte[] fingerprint) {
    return clients.findActiveByCertificate(pool, fingerprint);
  }

  /**
   * Makes sure an admin can log in on a fresh installation: when no active admin exists, creates
   * one with {@code configured} (BROKER_ADMIN_TOKEN) or a generated token. A generated token is
   * handed to {@code deliver} before the admin is committed, so a token that cannot be delivered
   * (e.g. its file cannot be written) leaves no admin behind and the next start tries again.
   *
   * @return the generated token; empty when none was generated
   */
  public Future<Optional<String>> bootstrapAdmin(
      Optional<Secret> configured, Function<String, Future<Void>> deliver) {
    return Transactions.run(
        pool,
        tx ->
            clients
                .lockClients(tx)
                .compose(locked -> clients.countActiveAdmins(tx))
                .compose(admins -> bootstrapIfNone(tx, admins, configured, deliver)));
  }

  /** With no active admin: one holding the configured token, or a generated one delivered. */
  private Future<Optional<String>> bootstrapIfNone(
      SqlConnection tx,
      long admins,
      Optional<Secret> configured,
      Function<String, Future<Void>> deliver) {
    if (admins > 0) {
      return warnIfIgnored(tx, configured).map(v -> Optional.<String>empty());
    }
    String token = configured.map(Secret::reveal).orElseGet(Tokens::newToken);
    Future<Void> created = createBootstrapAdmin(tx, token);
    if (configured.isPresent()) {
      return created.map(v -> Optional.<String>empty());
    }
    return created.compose(v -> deliver.apply(token)).map(delivered -> Optional.of(token));
  }

  private Future<Void> createBootstrapAdmin(SqlConnection tx, String token) {
    String clientId = Tokens.newClientId();
    Actor system = Actor.system("bootstrap");
    return clients
        .insert(tx, clientId, BOOTSTRAP_NAME, Role.ADMIN, null, Tokens.hash(token), "system")
        .compose(
            client ->
                audit.record(
                    tx,
                    system,
                    null,
                    AuditEvent.success(
                        "client.bootstrapped", "client", clientId, null, describe(client)),
                    client))
        .onSuccess(
            event ->
                LOG.atInfo()
                    .setMessage("created the first admin client")
                    .addKeyValue("clientId", clientId)
                    .log())
        .mapEmpty();
  }

  private Future<Void> warnIfIgnored(SqlConnection tx, Optional<Secret> configured) {
    if (configured.isEmpty()) {
      return Future.succeededFuture();
    }
    return clients
        .findActiveByTokenHash(tx, Tokens.hash(configured.get().reveal()))
        .map(
            principal -> {
              if (principal == null) {
                LOG.warn(
                    "BROKER_ADMIN_TOKEN is ignored: admin clients already exist and this token is"
                        + " not one of them (it only seeds the first admin)");
              }
              return null;
            });
  }

  /** A 400 problem when {@code storeId} does not fit {@code role}, else null. */
  static ProblemException storeMisfit(Role role, String storeId) {
    if (role == Role.STORE && storeId == null) {
      return ProblemException.badRequest(
          "STORE_ID_REQUIRED", "A STORE client must name its store: add \"storeId\".");
    }
    if (role != Role.STORE && storeId != null) {
      return ProblemException.badRequest(
          "STORE_ID_NOT_ALLOWED",
          "Only STORE clients are bound to a store; remove \"storeId\" for role " + role + ".");
    }
    return null;
  }

  private Future<String> chainOf(SqlConnection tx, String storeId) {
    if (storeId == null) {
      return Future.succeededFuture(null);
    }
    return clients
        .storeChain(tx, storeId)
        .compose(
            chainId ->
                chainId != null
                    ? Future.succeededFuture(chainId)
                    : Future.failedFuture(
                        ProblemException.unprocessable(
                            "STORE_NOT_FOUND",
                            "No store has storeId '"
                                + storeId
                                + "'; create it first with POST /v1/admin/stores.")));
  }

  private Future<Void> guardLastAdmin(SqlConnection tx, ApiClient client) {
    if (client.role() != Role.ADMIN) {
      return Future.succeededFuture();
    }
    return clients
        .countActiveAdmins(tx)
        .compose(
            admins ->
                admins > 1
                    ? Future.succeededFuture()
                    : Future.failedFuture(
                        ProblemException.conflict(
                            "LAST_ADMIN",
                            "This is the last active admin client; issue another admin before"
                                + " revoking it.")));
  }

  private Future<Void> revokeAndAudit(SqlConnection tx, Caller caller, ApiClient existing) {
    return clients
        .revoke(tx, existing.clientId(), caller.principal().clientId())
        .compose(revoked -> auditRevoked(tx, caller, revoked));
  }

  private Future<Void> auditRevoked(SqlConnection tx, Caller caller, ApiClient revoked) {
    return chainOf(tx, revoked.storeId())
        .compose(
            chainId ->
                audit.record(
                    tx,
                    caller,
                    AuditEvent.success(
                        "client.revoked", "client", revoked.clientId(), chainId, describe(revoked)),
                    null));
  }

  private static JsonObject describe(ApiClient client) {
    JsonObject details =
        new JsonObject().put("name", client.name()).put("role", client.role().name());
    if (client.storeId() != null) {
      details.put("storeId", client.storeId());
    }
    if (client.certificate() != null) {
      details
          .put("authentication", "certificate")
          .put("certificateSerial", client.certificate().serialHex())
          .put("certificateNotAfter", client.certificate().notAfter().toString());
    }
    return details;
  }
}

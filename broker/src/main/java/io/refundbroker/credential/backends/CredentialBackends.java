package io.refundbroker.credential.backends;

import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.audit.AuditLog;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.credential.CredentialBackend;
import io.refundbroker.credential.Credentials;
import io.refundbroker.credential.local.LocalCredentialBackend;
import io.refundbroker.credential.vault.VaultCredentialBackend;
import io.refundbroker.credential.vault.VaultSession;
import io.refundbroker.db.Database;
import io.refundbroker.store.StoreService;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the credential feature on the backend that {@code CREDENTIALS_BACKEND} names: Vault (KV v2
 * through {@link VaultSession}) or the local envelope-encrypted table. The one door from outside to
 * the backends: {@code credential} itself sees only {@link CredentialBackend}, and nothing outside
 * {@code credential} touches a backend, the key-encryption key or an envelope.
 */
public final class CredentialBackends {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialBackends.class);

  private CredentialBackends() {}

  /**
   * Opens the configured backend and starts the credential feature on it ({@link
   * Credentials#start}).
   *
   * @return the feature; fails when the backend cannot be opened (unusable key file or TLS
   *     settings); a Vault that is down at start does not fail it (readiness reports it)
   */
  public static Future<Credentials> start(
      Vertx vertx,
      BrokerConfig config,
      Database database,
      AuditLog audit,
      StoreService stores,
      VippsGateway vipps,
      MeterRegistry registry,
      Clock clock) {
    return Credentials.start(
        vertx,
        config,
        database,
        open(vertx, config, database),
        audit,
        stores,
        vipps,
        registry,
        clock);
  }

  private static Future<CredentialBackend> open(
      Vertx vertx, BrokerConfig config, Database database) {
    if (config.credentials().backend() == BrokerConfig.CredentialsBackend.VAULT) {
      warnIfVaultIsNotVerified(config.vault());
      return VaultSession.start(vertx, config.vault())
          .map(session -> new VaultCredentialBackend(session, config.vault()));
    }
    return LocalCredentialBackend.open(vertx, database.pool(), config.credentials().localKeyFile())
        .map(local -> local);
  }

  /** Said at every start, so a development setting cannot slip into production unnoticed. */
  private static void warnIfVaultIsNotVerified(BrokerConfig.VaultConfig vault) {
    if (vault.skipVerify()) {
      LOG.atWarn()
          .setMessage(
              "VAULT_SKIP_VERIFY=true: Vault's TLS certificate and host name are not checked, so"
                  + " whoever can intercept the connection receives the broker's Vault token and"
                  + " every store's keys. For development only; set VAULT_CACERT instead")
          .addKeyValue("vaultAddr", vault.address().map(Object::toString).orElse(""))
          .log();
    }
  }
}

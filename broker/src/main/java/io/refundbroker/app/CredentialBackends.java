package io.refundbroker.app;

import io.refundbroker.config.BrokerConfig;
import io.refundbroker.credential.CredentialBackend;
import io.refundbroker.credential.local.LocalCredentialBackend;
import io.refundbroker.credential.vault.VaultCredentialBackend;
import io.refundbroker.credential.vault.VaultSession;
import io.refundbroker.db.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the credential backend that {@code CREDENTIALS_BACKEND} names: Vault (KV v2 through {@link
 * VaultSession}) or the local envelope-encrypted table. The credential feature sees only {@link
 * CredentialBackend}.
 */
final class CredentialBackends {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialBackends.class);

  private CredentialBackends() {}

  /**
   * @return the opened backend; fails when it cannot be opened (unusable key file or TLS settings);
   *     a Vault that is down at start does not fail it (readiness reports it)
   */
  static Future<CredentialBackend> open(Vertx vertx, BrokerConfig config, Database database) {
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

package io.refundbroker.credential.vault;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.audit.signing.CheckpointSignature;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.vault.VaultDouble;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Vault session on its own: token renewal and re-login at the max TTL (driven through {@link
 * VaultSession#renewNow()} and the double's clock instead of waiting for the timer), and checkpoint
 * signing through Transit, verified with the JDK.
 */
class VaultSessionIT {
  private Vertx vertx;
  private VaultDouble vault;
  private VaultSession session;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    vault = VaultDouble.start();
  }

  @AfterEach
  void stop() {
    if (session != null) {
      Await.result(session.close());
    }
    Await.result(vertx.close());
    assertThat(vault.specViolations()).isEmpty();
    vault.close();
  }

  private VaultSession open() {
    return open(Map.of("VAULT_ROLE_ID", vault.roleId(), "VAULT_SECRET_ID", vault.secretId()));
  }

  private VaultSession open(Map<String, String> credentials) {
    Map<String, String> env = new java.util.HashMap<>(credentials);
    env.put("CREDENTIALS_BACKEND", "vault");
    env.put("VAULT_ADDR", vault.address());
    env.put("VAULT_TIMEOUT", "2s");
    BrokerConfig config = BrokerConfig.fromEnvironment(env);
    session = Await.result(VaultSession.start(vertx, config.vault()));
    return session;
  }

  @Test
  void aGivenTokenIsNotRenewedAgainOnceVaultCapsItsRenewal() {
    // vault token create -ttl=60s -explicit-max-ttl=100s
    String token =
        vault.issueToken(Duration.ofSeconds(60), Duration.ofSeconds(100), "default", "broker");
    open(Map.of("VAULT_TOKEN", token));
    // looked up and usable (a cold first call may have timed out at start)
    Await.result(session.checkHealth());

    vault.advance(Duration.ofSeconds(30));
    Await.result(session.renewNow());
    vault.advance(Duration.ofSeconds(40));
    // 70 s in: Vault caps the renewal at the explicit max (30 s left instead of 60)
    Await.result(session.renewNow());
    long renewals = vault.count(r -> r.path().equals("auth/token/renew-self"));
    assertThat(renewals).isEqualTo(2);
    assertThat(vault.count(r -> r.path().equals("auth/token/renew-self") && r.status() == 200))
        .isEqualTo(2);

    // further renewal rounds (what the timer would do ever more often) send nothing
    for (int i = 0; i < 5; i++) {
      Await.result(session.renewNow());
    }
    assertThat(vault.count(r -> r.path().equals("auth/token/renew-self")))
        .as("no renewal after the capped one")
        .isEqualTo(renewals);
    assertThat(vault.logins()).isZero();
  }

  @Test
  void renewsWhileTheTokenCanGrowAndLogsInAgainAtItsMaxTtl() {
    vault.tokenTtl(Duration.ofSeconds(60), Duration.ofSeconds(130));
    open();
    assertThat(vault.logins()).isEqualTo(1);

    vault.advance(Duration.ofSeconds(40));
    Await.result(session.renewNow());
    assertThat(vault.count(r -> r.path().equals("auth/token/renew-self") && r.status() == 200))
        .isEqualTo(1);
    assertThat(vault.logins()).as("a full renewal needs no login").isEqualTo(1);

    // 80 s after login (token still valid until 100 s) only 50 s of the 130 s max TTL are left:
    // Vault caps the renewal below the token's TTL, so the session logs in again
    vault.advance(Duration.ofSeconds(40));
    Await.result(session.renewNow());
    assertThat(vault.count(r -> r.path().equals("auth/token/renew-self") && r.status() == 200))
        .as("the capped renewal itself succeeded")
        .isEqualTo(2);
    assertThat(vault.logins()).as("capped renewal → new login").isEqualTo(2);

    // the new token works
    Await.result(session.checkHealth());
  }

  @Test
  void renewalOfAnExpiredTokenFallsBackToLogin() {
    open();
    vault.expireAllTokens();
    Await.result(session.renewNow());
    assertThat(vault.logins()).isEqualTo(2);
  }

  @Test
  void transitSignatureVerifiesWithThePublishedKey() throws Exception {
    open();
    VaultTransitSigner signer =
        new VaultTransitSigner(session, VaultDouble.TRANSIT_MOUNT, VaultDouble.TRANSIT_KEY);
    byte[] message = "checkpoint seq=42 hash=abc".getBytes(StandardCharsets.UTF_8);
    CheckpointSignature signed = Await.result(signer.sign(message));
    byte[] signature = signed.signature();
    assertThat(signed.keyVersion()).isEqualTo("1");
    String pem = Await.result(signer.currentKey()).publicKey().pem();
    assertThat(signature).hasSize(64);
    assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----");
    assertThat(signer.keyId()).isEqualTo("vault-transit:" + VaultDouble.TRANSIT_KEY);

    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    PublicKey key =
        KeyFactory.getInstance("Ed25519")
            .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(base64)));
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key);
    verifier.update(message);
    assertThat(verifier.verify(signature)).isTrue();

    verifier.initVerify(key);
    verifier.update("checkpoint seq=43 hash=abc".getBytes(StandardCharsets.UTF_8));
    assertThat(verifier.verify(signature)).as("a different message must not verify").isFalse();
    assertThat(vault.count(r -> r.path().startsWith("transit/sign/") && r.status() == 200))
        .isEqualTo(1);
  }

  @Test
  void transitSigningFailsWhenThePolicyLacksIt() {
    vault.addPolicy(
        "kv-only",
        """
        path "refund-broker/data/salesunits/*" { capabilities = ["create", "read", "update"] }
        """);
    vault.appRolePolicies("default", "kv-only");
    open();
    VaultTransitSigner signer =
        new VaultTransitSigner(session, VaultDouble.TRANSIT_MOUNT, VaultDouble.TRANSIT_KEY);
    Throwable failure = Await.failure(signer.sign(new byte[] {1, 2, 3}));
    assertThat(failure).isInstanceOf(VaultFailure.class);
    assertThat(((VaultFailure) failure).kind()).isEqualTo(VaultFailure.Kind.DENIED);
    assertThat(((VaultFailure) failure).path()).isEqualTo("transit/sign/refund-broker-audit");
  }
}

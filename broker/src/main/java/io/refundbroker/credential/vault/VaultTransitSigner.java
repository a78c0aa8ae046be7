package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.refundbroker.audit.CheckpointSigner;
import io.vertx.core.Future;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Signs audit checkpoints with an Ed25519 key held by Vault Transit ({@code VAULT_TRANSIT_MOUNT},
 * {@code VAULT_TRANSIT_KEY}); the private key never leaves Vault. {@code POST <mount>/sign/<key>}
 * with the base64 message returns {@code vault:v<n>:<base64 signature>}; {@code GET
 * <mount>/keys/<key>} returns the raw 32-byte public keys per version, which this class wraps as a
 * SubjectPublicKeyInfo PEM. Driver 6.2.1 cannot reach Transit through its KV v2 instance, so these
 * calls use the engine-v1 instance with literal paths.
 *
 * <p>The broker's policy grants exactly {@code update} on the sign path and {@code read} on the key
 * path (see {@code vault-config/broker.hcl}).
 */
public final class VaultTransitSigner implements CheckpointSigner {
  /** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), followed by the 32 raw bytes. */
  private static final byte[] ED25519_SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  private final VaultSession session;
  private final String signPath;
  private final String keyPath;
  private final String keyName;

  public VaultTransitSigner(VaultSession session, String transitMount, String keyName) {
    this.session = session;
    this.keyName = keyName;
    this.signPath = transitMount + "/sign/" + keyName;
    this.keyPath = transitMount + "/keys/" + keyName;
  }

  @Override
  public String keyId() {
    return "vault-transit:" + keyName;
  }

  /**
   * Signs {@code message} with the key's latest version.
   *
   * @return the 64-byte Ed25519 signature; fails when Vault cannot sign (unreachable, sealed,
   *     denied) or answers with something that is not a Transit signature
   */
  @Override
  public Future<byte[]> sign(byte[] message) {
    String input = Base64.getEncoder().encodeToString(message);
    return session.call(
        "POST",
        signPath,
        c -> {
          Map<String, Object> body = new HashMap<>();
          body.put("input", input);
          LogicalResponse response = c.raw().logical().write(signPath, body);
          VaultSession.check(response.getRestResponse(), "POST", signPath);
          String signature = response.getData().get("signature");
          if (signature == null || !signature.startsWith("vault:v")) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "POST", signPath);
          }
          byte[] raw =
              Base64.getDecoder().decode(signature.substring(signature.indexOf(':', 6) + 1));
          if (raw.length != 64) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "POST", signPath);
          }
          return raw;
        });
  }

  /**
   * The public key of the latest key version.
   *
   * @return a PEM {@code PUBLIC KEY}; fails when Vault cannot be read or the key is not ed25519
   */
  @Override
  public Future<String> publicKeyPem() {
    return session.call(
        "GET",
        keyPath,
        c -> {
          LogicalResponse response = c.raw().logical().read(keyPath);
          VaultSession.check(response.getRestResponse(), "GET", keyPath);
          JsonObject data = response.getDataObject();
          if (data == null || !"ed25519".equals(data.getString("type", ""))) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", keyPath);
          }
          int latest = data.getInt("latest_version", 1);
          JsonValue keys = data.get("keys");
          JsonValue version =
              keys == null || !keys.isObject() ? null : keys.asObject().get("" + latest);
          if (version == null || !version.isObject()) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", keyPath);
          }
          byte[] raw = Base64.getDecoder().decode(version.asObject().getString("public_key", ""));
          if (raw.length != 32) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", keyPath);
          }
          byte[] der = new byte[ED25519_SPKI_PREFIX.length + raw.length];
          System.arraycopy(ED25519_SPKI_PREFIX, 0, der, 0, ED25519_SPKI_PREFIX.length);
          System.arraycopy(raw, 0, der, ED25519_SPKI_PREFIX.length, raw.length);
          return "-----BEGIN PUBLIC KEY-----\n"
              + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
              + "\n-----END PUBLIC KEY-----\n";
        });
  }
}

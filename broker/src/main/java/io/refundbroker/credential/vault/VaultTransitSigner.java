package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.refundbroker.audit.signing.CheckpointKey;
import io.refundbroker.audit.signing.CheckpointSignature;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.audit.signing.Ed25519PublicKey;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Signs audit checkpoints with an Ed25519 key held by Vault Transit ({@code VAULT_TRANSIT_MOUNT},
 * {@code VAULT_TRANSIT_KEY}); the private key never leaves Vault. {@code POST <mount>/sign/<key>}
 * with the base64 message returns {@code vault:v<n>:<base64 signature>}: the {@code n} is recorded
 * as the checkpoint's key version. {@code GET <mount>/keys/<key>} returns the raw 32-byte public
 * key of every version; all of them are published, so checkpoints signed before a rotation (by hand
 * or by the key's {@code auto_rotate_period}) still verify. Driver 6.2.1 cannot reach Transit
 * through its KV v2 instance, so these calls use the engine-v1 instance with literal paths.
 *
 * <p>The broker's policy grants exactly {@code update} on the sign path and {@code read} on the key
 * path (see {@code vault-config/broker.hcl}); rotating the key is an operator's job in Vault.
 */
public final class VaultTransitSigner implements CheckpointSigner {
  private static final Pattern SIGNATURE = Pattern.compile("vault:v([1-9][0-9]{0,9}):(.+)");

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
   * @return the 64-byte Ed25519 signature and the version ({@code n} of {@code vault:vn:}); fails
   *     when Vault cannot sign (unreachable, sealed, denied) or answers with something that is not
   *     a Transit signature
   */
  @Override
  public Future<CheckpointSignature> sign(byte[] message) {
    String input = Base64.getEncoder().encodeToString(message);
    return session.call(
        "POST",
        signPath,
        c -> {
          Map<String, Object> body = new HashMap<>();
          body.put("input", input);
          LogicalResponse response = c.raw().logical().write(signPath, body);
          VaultSession.check(response.getRestResponse(), "POST", signPath);
          return parseSignature(response.getData().get("signature"), response.getData());
        });
  }

  private CheckpointSignature parseSignature(String signature, Map<String, String> data) {
    Matcher matcher = signature == null ? null : SIGNATURE.matcher(signature);
    if (matcher == null || !matcher.matches()) {
      throw unexpected("POST", signPath);
    }
    String version = matcher.group(1);
    String reported = data.get("key_version");
    if (reported != null && !reported.equals(version)) {
      throw unexpected("POST", signPath);
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(matcher.group(2));
    } catch (IllegalArgumentException e) {
      throw unexpected("POST", signPath);
    }
    if (raw.length != 64) {
      throw unexpected("POST", signPath);
    }
    return new CheckpointSignature(version, raw);
  }

  /**
   * The public key of every version Vault still has, oldest first.
   *
   * @return the keys; fails when Vault cannot be read or the key is not ed25519
   */
  @Override
  public Future<List<CheckpointKey>> publicKeys() {
    return session.call(
        "GET",
        keyPath,
        c -> {
          LogicalResponse response = c.raw().logical().read(keyPath);
          VaultSession.check(response.getRestResponse(), "GET", keyPath);
          JsonObject data = response.getDataObject();
          if (data == null || !"ed25519".equals(data.getString("type", ""))) {
            throw unexpected("GET", keyPath);
          }
          JsonValue keys = data.get("keys");
          if (keys == null || !keys.isObject()) {
            throw unexpected("GET", keyPath);
          }
          List<CheckpointKey> versions = new ArrayList<>();
          for (JsonObject.Member member : keys.asObject()) {
            versions.add(version(member));
          }
          if (versions.isEmpty()) {
            throw unexpected("GET", keyPath);
          }
          versions.sort(Comparator.comparingLong(k -> Long.parseLong(k.keyVersion())));
          return versions;
        });
  }

  private CheckpointKey version(JsonObject.Member member) {
    String number = member.getName();
    if (!number.matches("[1-9][0-9]{0,9}") || !member.getValue().isObject()) {
      throw unexpected("GET", keyPath);
    }
    try {
      byte[] raw =
          Base64.getDecoder().decode(member.getValue().asObject().getString("public_key", ""));
      return new CheckpointKey(keyId(), number, Ed25519PublicKey.fromRaw(raw));
    } catch (IllegalArgumentException e) {
      throw unexpected("GET", keyPath);
    }
  }

  private static VaultFailure unexpected(String method, String path) {
    return new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, method, path);
  }
}

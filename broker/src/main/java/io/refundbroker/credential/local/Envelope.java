package io.refundbroker.credential.local;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM envelope encryption for one credential version: a random data key encrypts the
 * plaintext, the KEK wraps the data key. Both carry the same additional authenticated data, which
 * binds the ciphertext to its MSN and version. Each blob is {@code nonce(12) || ciphertext+tag}.
 */
final class Envelope {
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** The stored form of one version. */
  record Sealed(byte[] wrappedKey, byte[] ciphertext) {}

  private Envelope() {}

  static Sealed seal(KeyEncryptionKey kek, String msn, int version, byte[] plaintext) {
    byte[] dataKey = new byte[32];
    RANDOM.nextBytes(dataKey);
    try {
      byte[] aad = aad(msn, version);
      byte[] ciphertext = encrypt(new SecretKeySpec(dataKey, "AES"), plaintext, aad);
      byte[] wrapped = encrypt(kek.key(), dataKey, aad);
      return new Sealed(wrapped, ciphertext);
    } finally {
      Arrays.fill(dataKey, (byte) 0);
    }
  }

  /**
   * Decrypts a version.
   *
   * @throws GeneralSecurityException when the KEK is wrong or the row was altered or moved to
   *     another MSN or version
   */
  static byte[] open(KeyEncryptionKey kek, String msn, int version, Sealed sealed)
      throws GeneralSecurityException {
    byte[] aad = aad(msn, version);
    byte[] dataKey = decrypt(kek.key(), sealed.wrappedKey(), aad);
    try {
      return decrypt(new SecretKeySpec(dataKey, "AES"), sealed.ciphertext(), aad);
    } finally {
      Arrays.fill(dataKey, (byte) 0);
    }
  }

  private static byte[] aad(String msn, int version) {
    return ("refund-broker/credentials/v1|" + msn + "|" + version).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] encrypt(SecretKey key, byte[] plaintext, byte[] aad) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(aad);
      byte[] body = cipher.doFinal(plaintext);
      byte[] out = new byte[NONCE_BYTES + body.length];
      System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
      System.arraycopy(body, 0, out, NONCE_BYTES, body.length);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM unavailable", e);
    }
  }

  private static byte[] decrypt(SecretKey key, byte[] blob, byte[] aad)
      throws GeneralSecurityException {
    if (blob.length <= NONCE_BYTES) {
      throw new GeneralSecurityException("ciphertext too short");
    }
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, blob, 0, NONCE_BYTES));
    cipher.updateAAD(aad);
    return cipher.doFinal(blob, NONCE_BYTES, blob.length - NONCE_BYTES);
  }
}

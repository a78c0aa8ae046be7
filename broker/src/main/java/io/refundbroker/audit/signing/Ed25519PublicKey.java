package io.refundbroker.audit.signing;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * An Ed25519 public key that checks checkpoint signatures. Pure computation (no I/O, about 0.1 ms
 * per check), safe to share between threads. Its PEM form is a {@code PUBLIC KEY}
 * (SubjectPublicKeyInfo) block, as {@code openssl pkey -pubout} writes it.
 */
public final class Ed25519PublicKey {
  private final Ed25519PublicKeyParameters key;
  private final String pem;
  private final String fingerprint;

  Ed25519PublicKey(Ed25519PublicKeyParameters key) {
    this.key = key;
    try {
      byte[] der = SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(key).getEncoded();
      StringWriter text = new StringWriter();
      try (PemWriter writer = new PemWriter(text)) {
        writer.writeObject(new PemObject("PUBLIC KEY", der));
      }
      this.pem = text.toString();
      this.fingerprint = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  /**
   * Reads a PEM {@code PUBLIC KEY} block.
   *
   * @throws IllegalArgumentException when the text holds no Ed25519 public key
   */
  public static Ed25519PublicKey fromPem(String pemText) {
    try (PEMParser parser = new PEMParser(new StringReader(pemText))) {
      Object object = parser.readObject();
      if (!(object instanceof SubjectPublicKeyInfo info)) {
        throw new IllegalArgumentException("no PEM 'PUBLIC KEY' block found");
      }
      AsymmetricKeyParameter parameters = PublicKeyFactory.createKey(info);
      if (!(parameters instanceof Ed25519PublicKeyParameters ed25519)) {
        throw new IllegalArgumentException("the public key is not an Ed25519 key");
      }
      return new Ed25519PublicKey(ed25519);
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("not a PEM Ed25519 public key: " + e.getMessage(), e);
    }
  }

  /**
   * The key whose raw 32-byte encoding (RFC 8032) is {@code raw}, as Vault Transit publishes it.
   *
   * @throws IllegalArgumentException when {@code raw} is not 32 bytes
   */
  public static Ed25519PublicKey fromRaw(byte[] raw) {
    if (raw == null || raw.length != Ed25519PublicKeyParameters.KEY_SIZE) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes");
    }
    return new Ed25519PublicKey(new Ed25519PublicKeyParameters(raw, 0));
  }

  /**
   * Reads every PEM {@code PUBLIC KEY} block of {@code pemText}, in order (text between the blocks,
   * such as comment lines, is skipped).
   *
   * @throws IllegalArgumentException when a block is not an Ed25519 public key
   */
  public static List<Ed25519PublicKey> allFromPem(String pemText) {
    List<Ed25519PublicKey> keys = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pemText))) {
      Object object;
      while ((object = parser.readObject()) != null) {
        if (!(object instanceof SubjectPublicKeyInfo info)
            || !(PublicKeyFactory.createKey(info) instanceof Ed25519PublicKeyParameters ed25519)) {
          throw new IllegalArgumentException("a PEM block is not an Ed25519 public key");
        }
        keys.add(new Ed25519PublicKey(ed25519));
      }
      return keys;
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("not PEM Ed25519 public keys: " + e.getMessage(), e);
    }
  }

  /** True when {@code signature} is this key's Ed25519 signature of {@code message}. */
  public boolean verifies(byte[] message, byte[] signature) {
    if (signature == null || signature.length != Ed25519PublicKeyParameters.KEY_SIZE * 2) {
      return false;
    }
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, key);
    verifier.update(message, 0, message.length);
    return verifier.verifySignature(signature);
  }

  /** The PEM {@code PUBLIC KEY} block. */
  public String pem() {
    return pem;
  }

  /** SHA-256 of the SubjectPublicKeyInfo DER, in hex (what {@code openssl} fingerprints hash). */
  public String fingerprint() {
    return fingerprint;
  }

  /** Same key (same SubjectPublicKeyInfo). */
  @Override
  public boolean equals(Object other) {
    return other instanceof Ed25519PublicKey k && fingerprint.equals(k.fingerprint);
  }

  @Override
  public int hashCode() {
    return fingerprint.hashCode();
  }

  @Override
  public String toString() {
    return "Ed25519PublicKey[" + fingerprint.substring(0, 16) + "]";
  }
}

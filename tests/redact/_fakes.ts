/**
 * Fake credentials for the redaction tests, built by concatenation at run
 * time so that the repository itself holds nothing a scanner would flag.
 * None of them is, or ever was, a live credential.
 *
 * @module
 */

const join = (...parts: string[]): string => parts.join("");

/** A 40-character random-looking secret (letters, digits, '/', '+'). */
const brokerSecret = join("q7Vw2ZbN", "k9Xr4TdM", "p1Ls8HcY", "f3Gj6RnB", "u0Ke5WaQ");
const brokerKeyId = join("P", "K", "Z7Q3M4K2P6R8T5V1W9");

/** Fake credentials, one of each kind the scanner knows. */
export const fakes = {
  awsKey: join("AK", "IA", "Z7Q3M4K2P6R8T5V1"),
  awsSessionKey: join("AS", "IA", "Q2W8E4R6T1Y9U3I5"),
  vaultToken: join("hv", "s.", "CAESIJ7kq2Zp9Xw4Lm8Rt3Vb6Nc1Yd5Hf0Gs"),
  vaultBatchToken: join("hv", "b.", "AAAAAQJ7kq2Zp9Xw4Lm8Rt3Vb6Nc1Yd5Hf0Gs"),
  vaultLegacyToken: join("s", ".", "Zp9Xw4Lm8Rt3Vb6Nc1Yd5Hf0"),
  privateKey: join(
    "-----BEGIN ",
    "RSA PRIVATE KEY-----\n",
    "MIIEowIBAAKCAQEA7kq2Zp9Xw4Lm8Rt3Vb6Nc1Yd5Hf0GsQ2W8E4R6T1Y9U3I5\n",
    "Lm8Rt3Vb6Nc1Yd5Hf0GsQ2W8E4R6T1Y9U3I5==\n",
    "-----END ",
    "RSA PRIVATE KEY-----",
  ),
  brokerKeyId,
  brokerSecret,
  brokerEnv: join(
    "APCA_API_KEY_ID=",
    brokerKeyId,
    "\nAPCA_API_SECRET=",
    brokerSecret,
    "\n",
  ),
  connectionString: join("postgres://app:", "T4v9-Qm2x", "Lp7Z", "@db.internal:5432/app"),
  randomSecret: join("b8Fq2LzX", "9mWc4RtK", "1vYp"),
};
